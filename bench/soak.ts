/**
 * Soak: mixed operations (write, read, range read, list, copy, move, delete, exists,
 * aborted reads) on one S3 store for N minutes against a real server on 127.0.0.1,
 * reporting RSS and open file descriptors at the start, every minute, and at the end.
 * Not part of the default test run:
 *
 *   node --expose-gc --import tsx bench/soak.ts --minutes 10 [--backend s3|s3-arrow] [--server s3s-fs|moto]
 */
import { readdirSync } from 'node:fs';
import { Registry, type Store } from '../src/index';
import { createBucket, startServer, type ServerKind } from '../__test__/support/s3-servers';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const minutes = Number(arg('minutes', '10'));
const backendType = arg('backend', 's3');
const serverKind = arg('server', 's3s-fs') as ServerKind;
const CONCURRENCY = 32;

const fds = () => readdirSync('/proc/self/fd').length;
const rssMiB = () => Math.round(process.memoryUsage().rss / 1048576);

async function worker(store: Store, id: number, until: number, counts: Record<string, number>) {
  let i = 0;
  while (Date.now() < until) {
    const key = `soak/${id}/${i % 20}.bin`;
    const body = Buffer.alloc(1024 + ((i * 7919) % 65536), i & 0xff);
    const op = i % 9;
    try {
      if (op <= 1) await store.write(key, body, { overwrite: true });
      else if (op === 2) await store.readBytes(key).catch(() => undefined);
      else if (op === 3) await store.readRange(key, { offset: 100, length: 500 }).catch(() => undefined);
      else if (op === 4) for await (const _ of store.listFiles(`soak/${id}`));
      else if (op === 5) await store.copy(key, `${key}.copy`, { overwrite: true }).catch(() => undefined);
      else if (op === 6) await store.move(`${key}.copy`, `${key}.moved`, { overwrite: true }).catch(() => undefined);
      else if (op === 7) await store.delete(`${key}.moved`, { missingOk: true });
      else {
        const ac = new AbortController();
        const read = store.readBytes(key, { signal: ac.signal }).catch(() => undefined);
        ac.abort();
        await read;
      }
      counts.ok++;
    } catch (err) {
      counts.errors++;
      if (counts.errors <= 5) console.error(`op ${op} on ${key}: ${(err as Error).message}`);
    }
    i++;
  }
}

async function main() {
  const server = await startServer(serverKind);
  try {
    const bucket = await createBucket(server);
    const registry = new Registry({
      backends: {
        s3: {
          type: backendType,
          options: { bucket, key: server.accessKey, secret: server.secretKey, endpoint_url: server.endpoint, region_name: server.region },
        },
      },
      stores: { soak: { backend: 's3' } },
    });
    const store = registry.getStore('soak');
    const counts = { ok: 0, errors: 0 };
    // Warm up first so the baseline includes the client's steady state (sockets, caches).
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, id) => worker(store, id, Date.now() + 5000, counts)));
    const start = { rss: rssMiB(), fds: fds() };
    console.log(`start: rss ${start.rss} MiB, fds ${start.fds} (${backendType} on ${serverKind}, ${CONCURRENCY} workers, ${minutes} min)`);
    const until = Date.now() + minutes * 60_000;
    const samples: Array<{ rss: number; fds: number }> = [];
    const ticker = setInterval(() => {
      const now = { rss: rssMiB(), fds: fds() };
      samples.push(now);
      console.log(`  ${new Date().toISOString()} ops ${counts.ok} errors ${counts.errors} rss ${now.rss} MiB fds ${now.fds}`);
    }, 60_000);
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, id) => worker(store, id, until, counts)));
    clearInterval(ticker);
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 1000));
    const end = { rss: rssMiB(), fds: fds() };
    console.log(`end:   rss ${end.rss} MiB, fds ${end.fds}; ${counts.ok} operations, ${counts.errors} errors`);
    const all = [start, ...samples, end];
    console.log(`range: rss ${Math.min(...all.map((x) => x.rss))}–${Math.max(...all.map((x) => x.rss))} MiB, fds ${Math.min(...all.map((x) => x.fds))}–${Math.max(...all.map((x) => x.fds))}`);
    await registry.close();
    // Connection pools (the SDK's and, for s3-arrow, the native one) grow to their working size
    // during the first minutes, so flat means: no higher at the end than the early peak.
    const early = [start, ...samples.slice(0, 3)];
    const peak = { rss: Math.max(...early.map((x) => x.rss)), fds: Math.max(...early.map((x) => x.fds)) };
    const flat = end.fds <= peak.fds + 4 && end.rss <= peak.rss * 1.5 + 50;
    console.log(`verdict: ${counts.errors === 0 && flat ? 'flat, no errors' : 'NOT flat or errors'} (early peak: rss ${peak.rss} MiB, fds ${peak.fds})`);
    if (counts.errors > 0 || !flat) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

void main();
