// Load: 2,000 concurrent small operations on one store finish without socket exhaustion
// or errors, and leave no socket behind (issue 8).
import test from 'ava';
import { S3Backend } from '../../src/backends/s3';
import { Store } from '../../src/index';
import { createBucket, startServer, type S3Server } from '../support/s3-servers';

let server: Promise<S3Server> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

function openSockets(): number {
  // Sockets held by this process (the servers run in other processes).
  return (process as unknown as { _getActiveHandles(): Array<{ constructor: { name: string } }> })
    ._getActiveHandles()
    .filter((h) => h.constructor.name === 'Socket').length;
}

test('s3 › 2,000 concurrent small writes and reads on one store all succeed', async (t) => {
  server ??= startServer('s3s-fs');
  const s = await server;
  const bucket = await createBucket(s);
  const baseline = openSockets();
  const store = new Store(new S3Backend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region }));
  try {
    const n = 2000;
    const body = (i: number) => Buffer.from(`object ${i} `.repeat(64));
    const started = Date.now();
    const writes = await Promise.allSettled(Array.from({ length: n }, (_, i) => store.write(`load/${i % 50}/${i}.txt`, body(i))));
    const writeErrors = writes.filter((r) => r.status === 'rejected');
    t.is(writeErrors.length, 0, String((writeErrors[0] as PromiseRejectedResult | undefined)?.reason));
    const reads = await Promise.allSettled(Array.from({ length: n }, (_, i) => store.readBytes(`load/${i % 50}/${i}.txt`)));
    const bad = reads.filter((r, i) => r.status === 'rejected' || !r.value.equals(body(i)));
    t.is(bad.length, 0);
    t.log(`${2 * n} operations in ${Date.now() - started} ms; sockets open now: ${openSockets()}`);
  } finally {
    await store.close();
  }
  await new Promise((r) => setTimeout(r, 100));
  t.true(openSockets() <= baseline, `${openSockets()} sockets open after close, ${baseline} before the store`);
});
