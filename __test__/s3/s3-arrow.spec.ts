import test from 'ava';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { BackendUnavailable, Capability, NativeObjectStore, Registry, RegistryConfig, S3ArrowBackend, S3Backend, Store } from '../../src/index';
import { createBucket, startServer, startTlsProxy } from '../support/s3-servers';

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
