import test from 'ava';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { adminClient, createBucket, startServer, startTlsProxy, type S3Server } from '../support/s3-servers';
import { Agent } from 'node:https';
import { connect as netConnect } from 'node:net';
import { readFileSync } from 'node:fs';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const servers: S3Server[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

for (const kind of ['s3s-fs', 'moto'] as const) {
  test(`${kind}: starts, takes a bucket, stores and lists objects`, async (t) => {
    const server = await startServer(kind);
    servers.push(server);
    const bucket = await createBucket(server);
    const client = adminClient(server);
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b.txt', Body: 'hello' }));
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b.txt' }));
      t.is(await got.Body!.transformToString(), 'hello');
      const list = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'a/' }));
      t.deepEqual(list.Contents?.map((o) => o.Key), ['a/b.txt']);
    } finally {
      client.destroy();
    }
  });
}

test('s3s-fs rejects a wrong secret (SigV4 is checked)', async (t) => {
  const server = await startServer('s3s-fs');
  servers.push(server);
  const bucket = await createBucket(server);
  const client = adminClient({ ...server, secretKey: 'wrong' });
  try {
    const err = await t.throwsAsync(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' })));
    t.regex(String(err?.name), /SignatureDoesNotMatch|AccessDenied/);
  } finally {
    client.destroy();
  }
});

test('s3s-fs killed and restarted keeps its port and its data; while down its port refuses', async (t) => {
  const server = await startServer('s3s-fs');
  servers.push(server);
  const bucket = await createBucket(server);
  const client = adminClient(server, server.endpoint, { maxAttempts: 1 });
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept.txt', Body: 'survives' }));
    await server.kill!();
    await t.throwsAsync(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' })));
    // The client's kept-alive socket may see a reset first; a new connection is refused.
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = netConnect(Number(new URL(server.endpoint).port), '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(undefined)));
      socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code));
    });
    t.is(refused, 'ECONNREFUSED');
    await server.restart!();
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' }));
    t.is(await got.Body!.transformToString(), 'survives');
    // A restart of a running server kills it first.
    await server.restart!();
    t.is(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' }))).Body!.transformToString(), 'survives');
  } finally {
    client.destroy();
  }
});

test('TLS proxy in front of s3s-fs serves with its self-signed CA', async (t) => {
  const server = await startServer('s3s-fs');
  servers.push(server);
  const proxy = await startTlsProxy(server);
  try {
    const bucket = await createBucket(server);
    const client = adminClient(server, proxy.endpoint, {
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(proxy.caFile) }) }),
    });
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'tls.txt', Body: 'secure' }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'tls.txt' }));
    t.is(await got.Body!.transformToString(), 'secure');
    client.destroy();
  } finally {
    await proxy.stop();
  }
});
