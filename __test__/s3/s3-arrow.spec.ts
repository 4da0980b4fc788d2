import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AbortError, AlreadyExists, BackendUnavailable, Capability, NativeObjectStore, Registry, RegistryConfig, S3ArrowBackend, S3Backend, Store } from '../../src/index';
import { FaultProxy } from '../support/fault-proxy';
import { adminClient, createBucket, startServer, startTlsProxy } from '../support/s3-servers';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures');

test("a registry config file with type 's3-pyarrow' loads and works on s3-arrow", async (t) => {
  const s = await startServer('s3s-fs');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const env = { RS_BUCKET: bucket, RS_KEY: s.accessKey, RS_SECRET: s.secretKey, RS_ENDPOINT: s.endpoint };
  const config = await RegistryConfig.fromFile(path.join(fixtures, 'registry-s3-pyarrow.yaml'), { resolveEnv: true, env });
  const registry = new Registry(config);
  const store = registry.getStore('raw');
  const backend = store.backend as S3ArrowBackend;
  t.true(backend instanceof S3ArrowBackend);
  t.is(backend.name, 's3-arrow');
  t.is(backend.retry.maxAttempts, 2);
  t.false(backend.capabilities.has(Capability.ATOMIC_MOVE));
  t.true(backend.capabilities.has(Capability.USER_METADATA));
  await store.write('day1.csv', 'a,b\n1,2\n', { metadata: { source: 'sensor' } });
  t.is(await store.readText('day1.csv'), 'a,b\n1,2\n');
  t.deepEqual((await store.getFileInfo('day1.csv')).metadata, { source: 'sensor' });
  const listed: string[] = [];
  for await (const f of store.listFiles('')) listed.push(f.path);
  t.deepEqual(listed, ['day1.csv']);
  // The same objects are visible to the plain s3 backend.
  const plain = new Store(new S3Backend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint }));
  t.is(await plain.readText('raw/day1.csv'), 'a,b\n1,2\n');
  await plain.close();
  t.true(store.unwrap(S3Client) instanceof S3Client);
  t.true(store.unwrap(NativeObjectStore) instanceof NativeObjectStore);
  await registry.close();
  await t.throwsAsync(store.readText('day1.csv'), { instanceOf: BackendUnavailable, message: /closed/ });
  await t.throwsAsync(store.write('x', 'y'), { instanceOf: BackendUnavailable, message: /closed/ });
});

test('unknown options are refused naming the type', (t) => {
  t.throws(() => new Registry({ backends: { b: { type: 's3-arrow', options: { bucket: 'b', nope: 1 } } }, stores: { s: { backend: 'b' } } }).getStore('s'), {
    message: /Unknown option 'nope' for backend type 's3-arrow'/,
  });
});

test('without key/secret both paths use the SDK default provider chain (env)', async (t) => {
  const s = await startServer('s3s-fs');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.AWS_ACCESS_KEY_ID = s.accessKey;
  process.env.AWS_SECRET_ACCESS_KEY = s.secretKey;
  t.teardown(() => {
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  });
  const store = new Store(new S3ArrowBackend({ bucket, endpoint_url: s.endpoint, region_name: s.region }));
  await store.write('c.txt', 'chain'); // native PUT
  t.is(await store.readText('c.txt'), 'chain'); // native GET
  t.true(await store.isFile('c.txt')); // SDK HEAD
  await store.close();
});

test('tls_ca_bundle applies to both paths; without it TLS verification fails', async (t) => {
  const s = await startServer('s3s-fs');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const proxy = await startTlsProxy(s);
  t.teardown(() => proxy.stop());
  const opts = { bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: proxy.endpoint, retry: { max_attempts: 1 } };
  const store = new Store(new S3ArrowBackend({ ...opts, tls_ca_bundle: proxy.caFile }));
  await store.write('tls.txt', 'secure'); // native
  t.is(await store.readText('tls.txt'), 'secure'); // native
  t.true(await store.exists('tls.txt')); // SDK
  await store.close();
  const saved = ['AWS_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE'].map((k) => [k, process.env[k]] as const);
  for (const [k] of saved) delete process.env[k];
  t.teardown(() => {
    for (const [k, v] of saved) if (v !== undefined) process.env[k] = v;
  });
  const untrusted = new Store(new S3ArrowBackend(opts));
  await t.throwsAsync(untrusted.readBytes('tls.txt'), { instanceOf: BackendUnavailable });
  await t.throwsAsync(untrusted.write('n.txt', 'x'), { instanceOf: BackendUnavailable });
  await untrusted.close();
});

const MiB = 1024 * 1024;

test('moto: a plain streamed write whose source throws after 20 MiB leaves no object and no multipart upload', async (t) => {
  const s = await startServer('moto');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const store = new Store(new S3ArrowBackend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region }));
  t.teardown(() => store.close());
  async function* failing() {
    for (let i = 0; i < 20; i++) yield Buffer.alloc(MiB, i);
    throw new Error('source broke after 20 MiB');
  }
  await t.throwsAsync(store.write('big.bin', failing()), { message: /source broke after 20 MiB/ });
  const admin = adminClient(s);
  try {
    t.is((await admin.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount ?? 0, 0);
    t.deepEqual((await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [], []);
  } finally {
    admin.destroy();
  }
});

test('moto: a 20 MiB streamed (multipart) write keeps its metadata; an aborted one leaves nothing', async (t) => {
  const s = await startServer('moto');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const store = new Store(new S3ArrowBackend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region }));
  t.teardown(() => store.close());
  const data = Buffer.alloc(20 * MiB + 123, 7);
  data[20 * MiB] = 9;
  const r = await store.write('m.bin', Readable.from([data.subarray(0, 7 * MiB), data.subarray(7 * MiB)]), { metadata: { kind: 'multipart' } });
  t.is(r.size, data.length);
  t.deepEqual((await store.getFileInfo('m.bin')).metadata, { kind: 'multipart' });
  t.true((await store.readBytes('m.bin')).equals(data));
  await store.copy('m.bin', 'm2.bin');
  t.deepEqual((await store.getFileInfo('m2.bin')).metadata, { kind: 'multipart' });
  const ac = new AbortController();
  async function* slow() {
    for (let i = 0; i < 40; i++) {
      if (i === 20) ac.abort();
      yield Buffer.alloc(MiB, i);
    }
  }
  await t.throwsAsync(store.write('aborted.bin', slow(), { signal: ac.signal }), { instanceOf: AbortError });
  t.false(await store.exists('aborted.bin'));
  const admin = adminClient(s);
  try {
    t.deepEqual((await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [], []);
  } finally {
    admin.destroy();
  }
});

test('moto: an unread fs.ReadStream is uploaded by the addon: the stream reads nothing and is closed; create-only still refuses', async (t) => {
  const s = await startServer('moto');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const store = new Store(new S3ArrowBackend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region }));
  t.teardown(() => store.close());
  const dir = mkdtempSync(path.join(tmpdir(), 'rs-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'src.bin');
  const data = randomBytes(20 * MiB + 5);
  writeFileSync(file, data);
  const stream = createReadStream(file, { start: 3 });
  const r = await store.write('f.bin', stream, { metadata: { from: 'file' } });
  t.is(r.size, data.length - 3);
  t.is(stream.bytesRead, 0, 'Node read nothing: the addon read the file');
  t.true(stream.destroyed);
  t.true((await store.readBytes('f.bin')).equals(data.subarray(3)));
  t.deepEqual((await store.getFileInfo('f.bin')).metadata, { from: 'file' });
  await t.throwsAsync(store.write('f.bin', createReadStream(file), { overwrite: false }), { instanceOf: AlreadyExists });
  t.true((await store.readBytes('f.bin')).equals(data.subarray(3)), 'the refused write changed nothing');
  const admin = adminClient(s);
  try {
    t.deepEqual((await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [], []);
  } finally {
    admin.destroy();
  }
});

test('a refreshing credential provider (client_options.credentials) feeds both paths and is asked again before expiry', async (t) => {
  const s = await startServer('s3s-fs');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  let calls = 0;
  const provider = async () => {
    calls++;
    // Expires within the 5-minute refresh window: every use asks again.
    return { accessKeyId: s.accessKey, secretAccessKey: s.secretKey, expiration: new Date(Date.now() + 60_000) };
  };
  const store = new Store(new S3ArrowBackend({ bucket, endpoint_url: s.endpoint, region_name: s.region, client_options: { credentials: provider } }));
  t.teardown(() => store.close());
  await store.write('r.txt', 'one'); // native PUT (+ SDK HEAD for the result)
  const after1 = calls;
  t.true(after1 >= 1);
  // The native handle alone (no SDK request in between) asks the provider again.
  t.is((await store.unwrap(NativeObjectStore).get('r.txt')).toString(), 'one');
  t.true(calls > after1, `provider calls: ${calls}`);
});

test('read of a large object streams in windows and fails (never mixes versions) when the object is replaced mid-read', async (t) => {
  const s = await startServer('s3s-fs');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const store = new Store(new S3ArrowBackend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region }));
  t.teardown(() => store.close());
  const data = Buffer.alloc(80 * MiB + 5);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i / 4096) & 0xff;
  await store.write('w.bin', data);
  const parts: Buffer[] = [];
  for await (const c of await store.read('w.bin')) parts.push(c as Buffer);
  t.true(Buffer.concat(parts).equals(data));
  // Replace it after the first chunk: a later window sees another ETag.
  const stream = await store.read('w.bin');
  let replaced = false;
  const err = await t.throwsAsync(async () => {
    for await (const _ of stream) {
      if (!replaced) {
        replaced = true;
        await store.write('w.bin', Buffer.alloc(80 * MiB + 5, 1), { overwrite: true });
      }
    }
  });
  t.regex(String(err?.message), /replaced while it was being read|Precondition|changed/i);
});

test('destroying a windowed read stream cancels its read-ahead: no request starts afterwards', async (t) => {
  const s = await startServer('s3s-fs');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const proxy = await FaultProxy.start(s.endpoint);
  t.teardown(() => proxy.stop());
  const store = new Store(new S3ArrowBackend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: proxy.url, region_name: s.region }));
  t.teardown(() => store.close());
  await store.write('w.bin', Buffer.alloc(80 * MiB + 5, 3));
  // Hold every window after the first one in the proxy, so the read-ahead is in flight when the stream goes.
  proxy.inject({ method: 'GET', match: (_url, req) => !/^bytes=0-/.test(req.headers.range ?? ''), fault: { kind: 'stall', ms: 1500 }, times: Infinity });
  proxy.resetStats();
  const stream = await store.read('w.bin');
  const first = await new Promise<Buffer>((resolve, reject) => stream.once('data', resolve).once('error', reject));
  t.true(first.length > 0);
  stream.destroy();
  const atDestroy = [...proxy.stats.log];
  t.true(proxy.stats.faults >= 1, `no window was held in flight: ${atDestroy.join(', ')}`);
  // Long enough for held windows to be released and, without cancellation, HEAD-checked.
  await new Promise((r) => setTimeout(r, 3000));
  t.deepEqual(proxy.stats.log, atDestroy, 'requests after the stream was destroyed');
});

test('an endpoint given only in client_options reaches the native path too', async (t) => {
  const s = await startServer('s3s-fs');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const store = new Store(
    new S3ArrowBackend({ bucket, key: s.accessKey, secret: s.secretKey, region_name: s.region, client_options: { endpoint: s.endpoint, forcePathStyle: true } }),
  );
  t.teardown(() => store.close());
  t.is(store.unwrap(NativeObjectStore).kind, 's3');
  await store.write('e.txt', 'via client_options'); // native
  t.is(await store.readText('e.txt'), 'via client_options'); // native
  t.true(await store.isFile('e.txt')); // SDK
});
