/**
 * What a write sends (issue 14, DESIGN §8 "Writes"): the WriteResult comes from the PUT or
 * CompleteMultipartUpload answer, so no HEAD follows a write on either S3 backend, and the SDK
 * path adds no checksum of its own to a PUT (checksums only where S3 requires one). And what a
 * HEAD sends: stored checksums are asked for only where they are shown. Observed through the
 * fault proxy's request log in front of moto; no fault is injected.
 */
import test from 'ava';
import { Readable } from 'node:stream';
import { S3ArrowBackend, S3Backend, Store } from '../../src/index';
import { FaultProxy } from '../support/fault-proxy';
import { createBucket, startServer, type S3Server } from '../support/s3-servers';

const MiB = 1024 * 1024;
let server: Promise<S3Server> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

async function setup(Backend: typeof S3Backend) {
  server ??= startServer('moto');
  const s = await server;
  const bucket = await createBucket(s);
  const proxy = await FaultProxy.start(s.endpoint);
  const store = new Store(new Backend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: proxy.url, region_name: s.region }));
  // A rule that never fires, to see each request's headers.
  const headers: Array<{ method: string; headers: Record<string, unknown> }> = [];
  proxy.inject({
    fault: { kind: 'reset-request', afterBytes: 0 },
    times: Infinity,
    match: (_url, req) => {
      headers.push({ method: req.method ?? '', headers: req.headers });
      return false;
    },
  });
  return { store, proxy, headers, done: async () => (await store.close(), await proxy.stop()) };
}

function* chunks(size: number): Generator<Buffer> {
  for (let done = 0; done < size; done += MiB) yield Buffer.alloc(Math.min(MiB, size - done), done / MiB);
}

for (const [name, Backend] of [['s3', S3Backend], ['s3-arrow', S3ArrowBackend]] as const) {
  test.serial(`${name}: a write answers from its own request — no HEAD after it, etag as getFileInfo reports it`, async (t) => {
    const x = await setup(Backend);
    try {
      const cases = [
        { what: 'buffer, overwrite', run: () => x.store.write('w/a.bin', Buffer.alloc(4096, 1), { overwrite: true }) },
        { what: 'buffer, create-only', run: () => x.store.write('w/b.bin', Buffer.alloc(4096, 2), { overwrite: false }) },
        { what: 'stream, multipart', run: () => x.store.write('w/c.bin', Readable.from(chunks(12 * MiB), { objectMode: false })) },
      ];
      for (const c of cases) {
        x.proxy.resetStats();
        const result = await c.run();
        const log = [...x.proxy.stats.log];
        // A create-only stream may HEAD its target before the first byte (to fail before reading its source).
        const firstWrite = log.findIndex((r) => /^(PUT|POST) /.test(r));
        t.false(log.slice(firstWrite).some((r) => r.startsWith('HEAD ')), `${c.what}: ${log.join(', ')}`);
        t.regex(log.at(-1)!, /^(PUT|POST) /, `${c.what}: the write's own request comes last`);
        t.is(result.lastModified, undefined, c.what);
        const info = await x.store.getFileInfo(result.path);
        t.is(info.size, result.size, c.what);
        t.is(result.etag, info.etag, c.what);
      }
    } finally {
      await x.done();
    }
  });
}

test.serial('s3: a PUT carries no checksum the SDK computed (checksums only where S3 requires one), and its body is not hashed for the signature', async (t) => {
  const x = await setup(S3Backend);
  try {
    x.headers.length = 0;
    await x.store.write('c/a.bin', Buffer.alloc(64 * 1024, 3));
    await x.store.write('c/b.bin', Readable.from(chunks(12 * MiB), { objectMode: false }));
    const writes = x.headers.filter((h) => h.method === 'PUT' || h.method === 'POST');
    const sent = writes.flatMap((h) => Object.keys(h.headers)).filter((k) => k.startsWith('x-amz-checksum-') || k === 'x-amz-sdk-checksum-algorithm');
    t.deepEqual(sent, []);
    t.true(writes.length >= 5, 'the writes went through the proxy');
    // As on the native path: SigV4 over plain HTTP would hash every body with SHA-256 on the JS thread.
    const puts = writes.filter((h) => h.method === 'PUT');
    t.deepEqual(new Set(puts.map((h) => h.headers['x-amz-content-sha256'])), new Set(['UNSIGNED-PAYLOAD']));
  } finally {
    await x.done();
  }
});

for (const [name, Backend] of [['s3', S3Backend], ['s3-arrow', S3ArrowBackend]] as const) {
  test.serial(`${name}: a Buffer above the multipart threshold goes up as a multipart upload, create-only included, and reads back whole`, async (t) => {
    const x = await setup(Backend);
    try {
      const body = Buffer.concat([...chunks(20 * MiB)]);
      x.proxy.resetStats();
      const result = await x.store.write('m/big.bin', body, { overwrite: false });
      const log = [...x.proxy.stats.log];
      t.is(result.size, body.length);
      t.true(log.some((r) => /^POST .*\?uploads/.test(r)), log.join(', '));
      t.true(log.filter((r) => /^PUT .*partNumber=/.test(r)).length >= 3, `8 MiB parts: ${log.join(', ')}`);
      t.regex(log.at(-1)!, /^POST .*uploadId=/, 'the completion comes last: no HEAD after it');
      t.true((await x.store.readBytes('m/big.bin')).equals(body));
      // Create-only: the completion is conditional, so an existing key refuses the second write.
      await t.throwsAsync(x.store.write('m/big.bin', Buffer.alloc(20 * MiB, 9), { overwrite: false }), { name: 'AlreadyExists' });
      t.true((await x.store.readBytes('m/big.bin')).equals(body), 'the first write stands');
      // A Buffer up to the threshold stays one PUT.
      x.proxy.resetStats();
      await x.store.write('m/small.bin', Buffer.alloc(MiB, 1));
      t.deepEqual(x.proxy.stats.log.map((r) => r.split(' ')[0]), ['PUT']);
    } finally {
      await x.done();
    }
  });
}

for (const [name, Backend] of [['s3', S3Backend], ['s3-arrow', S3ArrowBackend]] as const) {
  test.serial(`${name}: only getFileInfo asks for stored checksums; existence probes send a plain HEAD`, async (t) => {
    const x = await setup(Backend);
    try {
      await x.store.write('h/a.bin', Buffer.alloc(4096, 1));
      const heads = async (run: () => Promise<unknown>) => {
        x.headers.length = 0;
        await run();
        const sent = x.headers.filter((r) => r.method === 'HEAD');
        t.true(sent.length > 0);
        return sent.map((r) => r.headers['x-amz-checksum-mode']);
      };
      t.deepEqual(await heads(() => x.store.getFileInfo('h/a.bin')), ['ENABLED']);
      for (const [what, run] of [
        ['exists', () => x.store.exists('h/a.bin')],
        ['isFile', () => x.store.isFile('h/a.bin')],
        ['create-only write', () => x.store.write('h/b.bin', Readable.from(chunks(9 * MiB)), { overwrite: false })],
        ['delete', () => x.store.delete('h/a.bin')],
      ] as const) {
        t.deepEqual(await heads(run), [undefined], what);
      }
    } finally {
      await x.done();
    }
  });
}
