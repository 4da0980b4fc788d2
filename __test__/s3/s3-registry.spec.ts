import test from 'ava';
import { S3Client } from '@aws-sdk/client-s3';
import { BackendUnavailable, Registry, S3Backend } from '../../src/index';
import { createBucket, startServer } from '../support/s3-servers';

test("Registry builds type 's3' lazily from snake_case config and closes it", async (t) => {
  const s = await startServer('s3s-fs');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const registry = new Registry({
    backends: {
      s3: {
        type: 's3',
        options: { bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region },
        retry: { max_attempts: 2, backoff_base: 0.01 },
      },
    },
    stores: { data: { backend: 's3', root_path: 'data' } },
  });
  const store = registry.getStore('data');
  const result = await store.write('report.csv', Buffer.from('col1,col2\n1,2\n'));
  t.is(result.path, 'report.csv');
  t.is(await store.readText('report.csv'), 'col1,col2\n1,2\n');
  t.true(store.unwrap(S3Client) instanceof S3Client);
  const backend = store.backend as S3Backend;
  t.true(backend instanceof S3Backend);
  t.is(backend.retry.maxAttempts, 2);
  t.is(store.nativePath('report.csv'), `${bucket}/data/report.csv`);
  await registry.close();
  await t.throwsAsync(store.exists('report.csv'), { instanceOf: BackendUnavailable });
});

test('credentials nested in client_options survive the registry wrapping them in Secret', async (t) => {
  const s = await startServer('s3s-fs');
  t.teardown(() => s.stop());
  const bucket = await createBucket(s);
  const registry = new Registry({
    backends: {
      s3: {
        type: 's3',
        options: {
          bucket,
          endpoint_url: s.endpoint,
          client_options: { credentials: { accessKeyId: s.accessKey, secretAccessKey: s.secretKey } },
        },
      },
    },
    stores: { data: { backend: 's3' } },
  });
  const store = registry.getStore('data');
  await store.write('x.txt', 'ok');
  t.is(await store.readText('x.txt'), 'ok');
  await registry.close();
});
