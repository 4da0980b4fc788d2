/**
 * `client_options.anon` (s3fs's unsigned requests, for public buckets) is honoured on both S3
 * backends and both paths: every request that reaches the server carries no signature. A proxy in
 * front of moto (which serves unsigned requests by the bucket's ACL, as S3 does) records what arrives.
 */
import test from 'ava';
import { PutBucketAclCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3Backend } from '../../src/backends/s3';
import { S3ArrowBackend } from '../../src/backends/s3-arrow';
import { Store } from '../../src/index';
import { FaultProxy } from '../support/fault-proxy';
import { adminClient, createBucket, startServer, type S3Server } from '../support/s3-servers';

let server: Promise<S3Server> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

const BACKENDS = { s3: S3Backend, 's3-arrow': S3ArrowBackend } as const;

for (const [kind, Backend] of Object.entries(BACKENDS)) {
  test(`${kind} › client_options.anon: reads, writes and listings go unsigned`, async (t) => {
    server ??= startServer('moto');
    const s = await server;
    const bucket = await createBucket(s, 'rs-anon');
    const admin = adminClient(s);
    // A public bucket: moto answers unsigned requests as S3 does, by the bucket's and objects' ACLs.
    await admin.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read-write' }));
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/a.txt', Body: 'open data', ACL: 'public-read' }));
    admin.destroy();
    const proxy = await FaultProxy.start(s.endpoint);
    const signed: string[] = [];
    let seen = 0;
    // A rule that never fires: it only looks at every request on its way through.
    proxy.inject({
      times: Infinity,
      fault: { kind: 'status', status: 500 },
      match: (url, req) => {
        seen++;
        if (req.headers.authorization !== undefined || /X-Amz-Signature=/i.test(url)) signed.push(`${req.method} ${url}`);
        return false;
      },
    });
    const store = new Store(new Backend({ bucket, endpoint_url: proxy.url, region_name: s.region, client_options: { anon: true } }));
    try {
      t.is(await store.readText('public/a.txt'), 'open data');
      t.true(await store.exists('public/a.txt'));
      await store.write('public/b.bin', Buffer.alloc(1024, 1), { overwrite: true });
      t.deepEqual(await store.readBytes('public/b.bin'), Buffer.alloc(1024, 1));
      const names: string[] = [];
      for await (const f of store.listFiles('public')) names.push(f.name);
      t.deepEqual(names.sort(), ['a.txt', 'b.bin']);
      t.true(seen >= 5, `${seen} requests seen`);
      t.deepEqual(signed, [], 'requests that carried a signature');
    } finally {
      await store.close();
      await proxy.stop();
    }
  });
}

test('client_options.anon with a key and secret is refused, naming both', (t) => {
  const err = t.throws(() => new S3Backend({ bucket: 'b', key: 'k', secret: 's', client_options: { anon: true } }), { instanceOf: TypeError });
  t.regex(err!.message, /'key'\/'secret' and client_options\.anon/);
});
