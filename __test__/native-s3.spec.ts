/**
 * The native S3 data path as JavaScript sees it: coded errors (sync and async), write answers
 * and write options, presigned URLs, create-only semantics, stalls — against s3s-fs (the
 * project's default test server) and tiny misbehaving servers on 127.0.0.1.
 */
import test from 'ava';
import { createServer, type Server, type Socket } from 'node:net';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { loadNativeBinding, nativeErrorFields } from '../src/native';
import { AlreadyExists, BackendUnavailable, NativeObjectStore, NotFound } from '../src/index';
import { adminClient, createBucket, startServer, type S3Server } from './support/s3-servers';

let server: S3Server;
test.before(async () => {
  server = await startServer('s3s-fs');
});
test.after.always(async () => {
  await server?.stop();
});

function store(bucket: string, extra: Record<string, unknown> = {}): NativeObjectStore {
  return NativeObjectStore.s3({
    bucket,
    endpoint: server.endpoint,
    region: server.region,
    accessKeyId: server.accessKey,
    secretAccessKey: server.secretKey,
    retry: { maxAttempts: 2, backoffBase: 0.01, jitter: 0 },
    ...extra,
  });
}

/** A store on a server that never answers. */
function silentStore(endpoint: string, extra: Record<string, unknown>): NativeObjectStore {
  return NativeObjectStore.s3({ bucket: 'bkt', endpoint, accessKeyId: 'k', secretAccessKey: 's', ...extra });
}

/** A TCP server that accepts and then never answers. */
async function silentServer(): Promise<{ endpoint: string; close: () => void }> {
  const sockets: Socket[] = [];
  const srv: Server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

test('sync errors carry a stable code, not a "Kind: message" text', (t) => {
  const b = loadNativeBinding();
  const e = t.throws(() => b.NativeObjectStore.s3({ bucket: '' }));
  t.is(nativeErrorFields(e)?.code, 'InvalidArgument');
  t.regex(e!.message, /bucket/);
  t.notRegex(e!.message, /^InvalidArgument:/);
  const mapped = t.throws(() => NativeObjectStore.s3({ bucket: '' }), { instanceOf: TypeError });
  t.is(nativeErrorFields(mapped?.cause)?.code, 'InvalidArgument');
  const bad = t.throws(() => b.NativeObjectStore.s3({ bucket: 'b', accessKeyId: 'AKIDSENTINEL' }));
  t.is(nativeErrorFields(bad)?.code, 'InvalidArgument');
  t.notRegex(bad!.message, /AKIDSENTINEL/, 'an option error names the option, not its value');
});

test('a write to a missing bucket says so, with status and S3 code as fields and the URL only in detail', async (t) => {
  // s3s-fs creates a missing bucket's folder on write: moto answers as S3 does.
  const moto = await startServer('moto');
  t.teardown(() => moto.stop());
  const s = NativeObjectStore.s3({
    bucket: 'no-such-bucket-here',
    endpoint: moto.endpoint,
    accessKeyId: moto.accessKey,
    secretAccessKey: moto.secretKey,
    retry: { maxAttempts: 1 },
  });
  const e = await t.throwsAsync(s.put('dir/k.txt', 'x'), { instanceOf: NotFound });
  const f = nativeErrorFields(e.cause)!;
  t.is(f.code, 'BucketNotFound');
  t.is(f.status, 404);
  t.is(f.s3Code, 'NoSuchBucket');
  t.regex(e.message, /^bucket not found: 'dir\/k\.txt'/);
  t.notRegex(e.message, /http:|no-such-bucket-here|<|\n|object not found/);
  t.regex(f.detail ?? '', /no-such-bucket-here/);
  const missing = await t.throwsAsync(store(await createBucket(server)).get('nope'), { instanceOf: NotFound });
  t.is(nativeErrorFields(missing.cause)?.status, 404);
});

test('writes answer from the server (no HEAD) and store their content headers and metadata', async (t) => {
  const bucket = await createBucket(server);
  const s = store(bucket, { writeDefaults: { cacheControl: 'max-age=60', contentType: 'application/x-default' } });
  const put = await s.put('a/data.csv', 'a,b\n1,2\n', { contentType: 'text/csv', metadata: { team: 'native' } });
  t.is(put.size, 8);
  const admin = adminClient(server);
  t.teardown(() => admin.destroy());
  const h = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a/data.csv' }));
  t.is(put.etag, h.ETag);
  t.is(h.ContentType, 'text/csv');
  t.is(h.CacheControl, 'max-age=60', 'the store default applies where the write names none');
  t.deepEqual(h.Metadata, { team: 'native' });
});

test('create-only onto an existing key is AlreadyExists, also with identical bytes', async (t) => {
  const s = store(await createBucket(server));
  const body = Buffer.alloc(5 * 1024 * 1024, 7);
  await s.put('k.bin', body, { mode: 'create' });
  for (let i = 0; i < 5; i++) {
    const e = await t.throwsAsync(s.put('k.bin', body, { mode: 'create' }), { instanceOf: AlreadyExists });
    t.is(nativeErrorFields(e.cause)?.code, 'AlreadyExists');
  }
});

test('presigned GET and PUT URLs work without credentials', async (t) => {
  const s = store(await createBucket(server));
  await s.put('p/obj.txt', 'hello');
  const get = await s.presign('p/obj.txt', 'GET', 60);
  t.is(await (await fetch(get)).text(), 'hello');
  const put = await s.presign('p/up.txt', 'PUT', 60);
  t.is((await fetch(put, { method: 'PUT', body: 'via url' })).status, 200);
  t.is((await s.get('p/up.txt')).toString(), 'via url');
  await t.throwsAsync(s.presign('p/obj.txt', 'DELETE' as 'GET', 60), { instanceOf: TypeError });
});

test('a stalled server ends by the read timeout; attempts are a field', async (t) => {
  const silent = await silentServer();
  t.teardown(silent.close);
  const s = silentStore(silent.endpoint, { readTimeout: 0.2, retry: { maxAttempts: 2, backoffBase: 0.01, jitter: 0 } });
  const e = await t.throwsAsync(s.get('stalled.bin'), { instanceOf: BackendUnavailable });
  const f = nativeErrorFields(e.cause)!;
  t.is(f.code, 'Timeout');
  t.is(f.attempts, 2);
  const w = await t.throwsAsync(s.put('w.bin', Buffer.alloc(1 << 20)), { instanceOf: BackendUnavailable });
  t.is(nativeErrorFields(w.cause)?.code, 'Timeout');
});

test('the deadline bounds the whole operation, every retry included', async (t) => {
  const silent = await silentServer();
  t.teardown(silent.close);
  const s = silentStore(silent.endpoint, { readTimeout: 30, deadline: 0.3, retry: { maxAttempts: 50 } });
  const e = await t.throwsAsync(s.get('stalled.bin'), { instanceOf: BackendUnavailable });
  t.is(nativeErrorFields(e.cause)?.code, 'Timeout');
  t.regex(e.message, /deadline/);
});

test('keys with control characters and odd slashes keep their exact bytes', async (t) => {
  const bucket = await createBucket(server);
  const s = store(bucket);
  const admin = adminClient(server);
  t.teardown(() => admin.destroy());
  for (const key of ['ctl/a\u0001b', 'ctl/tab\there', 'ctl/pct%41 #?&=+']) {
    await s.put(key, key);
    t.is((await s.get(key)).toString(), key);
    const h = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    t.is(h.ContentLength, Buffer.byteLength(key), 'the SDK finds the object under the same key');
  }
});

test('an upload may reuse its chunk buffer once write() resolves (small and large chunks)', async (t) => {
  const s = store(await createBucket(server));
  for (const size of [4096, 2 * 1024 * 1024]) {
    const up = s.createUpload(`reuse/${size}.bin`, { partSize: 5 * 1024 * 1024 });
    const buf = Buffer.alloc(size);
    const expected: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      buf.fill(i + 1);
      expected.push(Buffer.from(buf));
      await up.write(buf);
    }
    await up.finish();
    t.true((await s.get(`reuse/${size}.bin`)).equals(Buffer.concat(expected)), `chunks of ${size} bytes`);
  }
});
