/**
 * The native data path runs off the JS thread: a timer ticking every 1 ms keeps running during
 * 512 MiB transfers through s3-arrow (against s3s-fs) — a transfer done on the JS thread would
 * let it run not once. How late the ticks are is printed, not asserted: delays are bench figures
 * (bench/ reports the max event-loop delay per cell), and a busy CI machine delays timers anyway.
 */
import test from 'ava';
import { Readable } from 'node:stream';
import { S3ArrowBackend } from '../../src/backends/s3-arrow';
import { Store } from '../../src/index';
import { createBucket, startServer, type S3Server } from '../support/s3-servers';

const SIZE = 512 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;

let server: S3Server | undefined;
let store: Store;
test.before(async () => {
  server = await startServer('s3s-fs');
  const bucket = await createBucket(server);
  store = new Store(
    new S3ArrowBackend({ bucket, key: server.accessKey, secret: server.secretKey, endpoint_url: server.endpoint, region_name: server.region }),
  );
  // Warm-up outside the measurement: loading the addon and the SDK is a one-time,
  // synchronous cost (tens of ms), not part of a transfer.
  await store.write('warm.txt', 'x');
  await store.readBytes('warm.txt');
});
test.after.always(async () => {
  await store?.close();
  await server?.stop();
});

/** Runs `fn` while a 1 ms interval counts its ticks and how late each one fires. */
async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; maxDelayMs: number; ticks: number; seconds: number }> {
  let last = performance.now();
  let maxDelayMs = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxDelayMs = Math.max(maxDelayMs, now - last - 1);
    last = now;
    ticks++;
  }, 1);
  const start = performance.now();
  try {
    const result = await fn();
    return { result, maxDelayMs, ticks, seconds: (performance.now() - start) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

function source(): Readable {
  // One reused chunk with a position-dependent first byte, so the read-back can be checked.
  const chunk = Buffer.alloc(CHUNK, 0x61);
  let sent = 0;
  return Readable.from(
    (function* () {
      while (sent < SIZE) {
        const c = Buffer.from(chunk.subarray(0, Math.min(CHUNK, SIZE - sent)));
        c[0] = (sent / CHUNK) & 0xff;
        sent += c.length;
        yield c;
      }
    })(),
  );
}

const mib = (s: number) => `${(SIZE / 2 ** 20 / s).toFixed(0)} MiB/s`;

test.serial('a 512 MiB streamed write does not block the event loop', async (t) => {
  t.timeout(600_000);
  const m = await measure(() => store.write('big.bin', source(), { overwrite: true }));
  t.is(m.result.size, SIZE);
  t.log(`write 512 MiB (stream, multipart): max event-loop delay ${m.maxDelayMs.toFixed(1)} ms over ${m.ticks} ticks, ${m.seconds.toFixed(1)} s (${mib(m.seconds)})`);
  t.true(m.ticks > 0, 'the timer never ran during the transfer: the JS thread was held throughout');
});

test.serial('a 512 MiB read does not block the event loop', async (t) => {
  t.timeout(600_000);
  const m = await measure(() => store.readBytes('big.bin'));
  const buf = m.result;
  t.is(buf.length, SIZE);
  t.is(buf[CHUNK * 7], 7);
  t.is(buf[SIZE - 1], 0x61);
  t.log(`read 512 MiB (readBytes, parallel ranged GETs): max event-loop delay ${m.maxDelayMs.toFixed(1)} ms over ${m.ticks} ticks, ${m.seconds.toFixed(1)} s (${mib(m.seconds)})`);
  t.true(m.ticks > 0, 'the timer never ran during the transfer: the JS thread was held throughout');
});

test.serial('a 512 MiB in-memory write does not block the event loop', async (t) => {
  t.timeout(600_000);
  const body = Buffer.alloc(SIZE, 0x62);
  const m = await measure(() => store.write('big2.bin', body, { overwrite: true }));
  t.is(m.result.size, SIZE);
  t.log(`write 512 MiB (one Buffer): max event-loop delay ${m.maxDelayMs.toFixed(1)} ms over ${m.ticks} ticks, ${m.seconds.toFixed(1)} s (${mib(m.seconds)})`);
  t.true(m.ticks > 0, 'the timer never ran during the transfer: the JS thread was held throughout');
  const rss = process.memoryUsage().rss / 2 ** 20;
  t.log(`RSS after the transfers: ${rss.toFixed(0)} MiB`);
});

test.serial('read of 512 MiB streams in bounded windows (event loop free, content checked)', async (t) => {
  t.timeout(600_000);
  const before = process.memoryUsage();
  let peakExternal = 0;
  const m = await measure(async () => {
    let n = 0;
    let firstBytesOk = true;
    for await (const chunk of await store.read('big.bin')) {
      const c = chunk as Buffer;
      if (n % CHUNK === 0 && c[0] !== ((n / CHUNK) & 0xff)) firstBytesOk = false;
      n += c.length;
      peakExternal = Math.max(peakExternal, process.memoryUsage().arrayBuffers);
    }
    return { n, firstBytesOk };
  });
  t.is(m.result.n, SIZE);
  t.true(m.result.firstBytesOk);
  t.log(
    `read 512 MiB (stream, 16 MiB windows): max event-loop delay ${m.maxDelayMs.toFixed(1)} ms, ${m.seconds.toFixed(1)} s (${mib(m.seconds)}); ` +
      `peak arrayBuffers ${(peakExternal / 2 ** 20).toFixed(0)} MiB (before: ${(before.arrayBuffers / 2 ** 20).toFixed(0)} MiB)`,
  );
  t.true(m.ticks > 0, 'the timer never ran during the transfer: the JS thread was held throughout');
});
