// Load: 2,000 concurrent small operations on one store finish without socket exhaustion
// or errors, and leave no socket behind (issue 8), on both S3 backends.
import { readdirSync, readlinkSync } from 'node:fs';
import test from 'ava';
import { S3Backend } from '../../src/backends/s3';
import { S3ArrowBackend } from '../../src/backends/s3-arrow';
import { Store } from '../../src/index';
import { createBucket, startServer, type S3Server } from '../support/s3-servers';

let server: Promise<S3Server> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

const openFds = () => readdirSync('/proc/self/fd').length;
const rssMiB = () => Math.round(process.memoryUsage().rss / 2 ** 20);

/** Sockets this process holds, the addon's included (the servers run in other processes). */
function openSockets(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

for (const [name, Backend] of [['s3', S3Backend], ['s3-arrow', S3ArrowBackend]] as const) {
  test.serial(`${name} › 2,000 concurrent small writes and reads on one store all succeed`, async (t) => {
    server ??= startServer('s3s-fs');
    const s = await server;
    const bucket = await createBucket(s);
    const baseline = openSockets();
    const start = { rss: rssMiB(), fds: openFds() };
    const store = new Store(new Backend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region }));
    try {
      const n = 2000;
      const body = (i: number) => Buffer.from(`object ${i} `.repeat(64));
      let peak = 0;
      const sampler = setInterval(() => (peak = Math.max(peak, openSockets())), 20);
      t.teardown(() => clearInterval(sampler));
      const started = Date.now();
      const writes = await Promise.allSettled(Array.from({ length: n }, (_, i) => store.write(`load/${i % 50}/${i}.txt`, body(i))));
      const writeErrors = writes.filter((r) => r.status === 'rejected');
      t.is(writeErrors.length, 0, String((writeErrors[0] as PromiseRejectedResult | undefined)?.reason));
      const reads = await Promise.allSettled(Array.from({ length: n }, (_, i) => store.readBytes(`load/${i % 50}/${i}.txt`)));
      const bad = reads.filter((r, i) => r.status === 'rejected' || !r.value.equals(body(i)));
      t.is(bad.length, 0);
      clearInterval(sampler);
      t.log(
        `${2 * n} operations in ${Date.now() - started} ms; sockets: ${baseline} before, at most ${peak} during, ${openSockets()} at the end; ` +
          `RSS ${start.rss} → ${rssMiB()} MiB, open fds ${start.fds} → ${openFds()}`,
      );
      // Bounded by max_sockets (M, default 256), not by the number of operations: the SDK's
      // agent holds about M; the native path has at most M requests in flight, and up to M
      // more connections on their way back to the idle pool (hyper has no cap on the total).
      // Unbounded, the native path opened a socket per operation (2,264 here).
      const m = 256;
      t.true(peak <= baseline + 3 * m, `${peak} sockets open at once`);
    } finally {
      await store.close();
    }
    // The native runtime drops its pool's connections on its own threads: wait for them (a
    // loaded machine may take a while), failing only if they never go.
    for (let i = 0; i < 200 && openSockets() > baseline; i++) await new Promise((r) => setTimeout(r, 50));
    t.true(openSockets() <= baseline, `${openSockets()} sockets open after close, ${baseline} before the store`);
    t.log(`after close(): ${openSockets()} sockets, ${openFds()} open fds, RSS ${rssMiB()} MiB`);
  });
}
