// Peak RSS of the `s3` backend's readBytes of one large object (default 1 GiB) from s3s-fs
// (issue 18: 2.1 GiB for 1 GiB when the chunks were gathered and concatenated at the end; one
// allocation of the Content-Length should peak near 1x). The read runs in a child process of
// its own, so its peak (getrusage maxrss) is the read's alone, not the upload's.
// Usage: node --import=tsx bench/s3-readbytes-rss.ts [--size-mib 1024]
import { fork } from 'node:child_process';
import { Readable } from 'node:stream';
import { S3Backend, Store } from '../src/index';
import { createBucket, startServer } from '../__test__/support/s3-servers';

const MiB = 1024 * 1024;

async function child(): Promise<void> {
  const o = JSON.parse(process.env.RS_BENCH ?? '{}') as { bucket: string; endpoint: string; key: string; secret: string; region: string };
  const store = new Store(new S3Backend({ bucket: o.bucket, endpoint_url: o.endpoint, key: o.key, secret: o.secret, region_name: o.region }));
  const before = process.memoryUsage().rss;
  const started = Date.now();
  const buf = await store.readBytes('big.bin');
  const ms = Date.now() - started;
  const peak = process.resourceUsage().maxRSS * 1024;
  await store.close();
  process.send?.({ size: buf.length, before, peak, ms });
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--size-mib');
  const sizeMiB = i >= 0 ? Number(process.argv[i + 1]) : 1024;
  const server = await startServer('s3s-fs');
  try {
    const bucket = await createBucket(server);
    const store = new Store(new S3Backend({ bucket, endpoint_url: server.endpoint, key: server.accessKey, secret: server.secretKey, region_name: server.region }));
    const piece = Buffer.alloc(8 * MiB, 7);
    await store.write('big.bin', Readable.from((function* () { for (let n = 0; n < sizeMiB / 8; n++) yield piece; })()));
    await store.close();
    const env = { ...process.env, RS_BENCH: JSON.stringify({ bucket, endpoint: server.endpoint, key: server.accessKey, secret: server.secretKey, region: server.region }) };
    const result = await new Promise<{ size: number; before: number; peak: number; ms: number }>((resolve, reject) => {
      const c = fork(new URL(import.meta.url).pathname, ['--child'], { env, execArgv: ['--import=tsx'] });
      c.once('message', (m) => resolve(m as { size: number; before: number; peak: number; ms: number }));
      c.once('exit', (code) => code !== 0 && reject(new Error(`child exited ${code}`)));
    });
    const f = (b: number) => `${(b / MiB).toFixed(0)} MiB`;
    console.log(
      `s3 readBytes of ${f(result.size)}: RSS ${f(result.before)} before, peak ${f(result.peak)} ` +
        `(${(result.peak / result.size).toFixed(2)}x the object) in ${result.ms} ms`,
    );
  } finally {
    await server.stop();
  }
}

if (process.argv.includes('--child')) void child();
else void main();
