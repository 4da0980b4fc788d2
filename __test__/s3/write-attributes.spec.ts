/**
 * Per-write attributes, store write defaults, multipart tuning and presigned URLs on both S3
 * backends (DESIGN §8 "Writes", "Python configs"), checked on a real server (moto: it keeps
 * content headers, storage classes and server-side encryption and reports them on HeadObject).
 * Every write path is covered: one PUT, a streamed PUT, a multipart upload, writeAtomic,
 * openAtomic, and copies (both modes) and moves.
 */
import test, { type ExecutionContext } from 'ava';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { Capability, S3ArrowBackend, S3Backend, Store, type WriteOptions } from '../../src/index';
import { adminClient, createBucket, startServer, type S3Server } from '../support/s3-servers';

const MiB = 1024 * 1024;
const BACKENDS = [
  ['s3', S3Backend],
  ['s3-arrow', S3ArrowBackend],
] as const;
type Kind = (typeof BACKENDS)[number][0];

let server: Promise<S3Server> | undefined;
const moto = () => (server ??= startServer('moto'));
test.after.always(async () => {
  if (server) await (await server).stop();
});

interface Lane {
  store: Store;
  bucket: string;
  client: S3Client;
  head(key: string): Promise<HeadObjectCommandOutput>;
}

/** A store of `kind` on a fresh bucket of moto, with `options` added to the backend's. */
async function lane(t: ExecutionContext, kind: Kind, options: Record<string, unknown> = {}, bucket?: string): Promise<Lane> {
  const srv = await moto();
  bucket ??= await createBucket(srv, 'rs-attrs');
  const Backend = BACKENDS.find(([k]) => k === kind)![1];
  const store = new Store(new Backend({ bucket, key: srv.accessKey, secret: srv.secretKey, endpoint_url: srv.endpoint, ...options }));
  const client = adminClient(srv);
  t.teardown(async () => {
    client.destroy();
    await store.close();
  });
  return { store, bucket, client, head: (key) => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })) };
}

const ATTRS = {
  contentType: 'text/csv; charset=utf-8',
  cacheControl: 'public, max-age=60',
  contentDisposition: 'attachment; filename="report.csv"',
  contentEncoding: 'gzip',
  storageClass: 'STANDARD_IA',
} satisfies WriteOptions;

/** What HeadObject says of the attributes, in WriteOptions' names. */
function attributesOf(h: HeadObjectCommandOutput): Record<string, unknown> {
  return {
    contentType: h.ContentType,
    cacheControl: h.CacheControl,
    contentDisposition: h.ContentDisposition,
    contentEncoding: h.ContentEncoding,
    storageClass: h.StorageClass ?? 'STANDARD',
  };
}

const chunks = (data: Buffer, size = 1 * MiB) => Readable.from((function* () {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
})());

/** Each write path once: key → how it was written. */
function writePaths(store: Store, body: Buffer, big: Buffer, options: WriteOptions): Record<string, () => Promise<unknown>> {
  return {
    'buffer.csv': () => store.write('buffer.csv', body, options),
    'stream.csv': () => store.write('stream.csv', chunks(body), options),
    'multipart.csv': () => store.write('multipart.csv', chunks(big), options),
    'atomic.csv': () => store.writeAtomic('atomic.csv', body, options),
    'open-atomic.csv': () =>
      store.openAtomic('open-atomic.csv', options, async (w) => {
        w.write(big.subarray(0, 7 * MiB));
        w.write(big.subarray(7 * MiB));
      }),
  };
}

for (const [kind] of BACKENDS) {
  test.serial(`${kind}: every write path stores the write's attributes; reads give the bytes as written; getFileInfo reports the content type`, async (t) => {
    t.timeout(300_000);
    const { store, head } = await lane(t, kind, { part_size: 5 * MiB, multipart_threshold: 5 * MiB });
    t.true(store.supports(Capability.WRITE_ATTRIBUTES));
    const body = gzipSync('a,b\n1,2\n');
    const big = Buffer.alloc(12 * MiB, 3);
    const paths = writePaths(store, body, big, ATTRS);
    for (const [key, write] of Object.entries(paths)) {
      await write();
      t.deepEqual(attributesOf(await head(key)), ATTRS, key);
      t.is((await store.getFileInfo(key)).contentType, ATTRS.contentType, key);
    }
    // Content-Encoding is the object's label: neither path decodes on read.
    t.deepEqual(await store.readBytes('buffer.csv'), body);
    t.deepEqual(await store.readRange('stream.csv', { offset: 0, length: 3 }), body.subarray(0, 3));
    t.true((await head('multipart.csv')).ETag!.includes('-'), 'a multipart upload');
    t.true((await store.readBytes('open-atomic.csv')).equals(big));
  });

  test.serial(`${kind}: copies and moves keep the source's attributes and metadata, in both modes`, async (t) => {
    const { store, head } = await lane(t, kind);
    const attrs = { ...ATTRS, storageClass: 'ONEZONE_IA' };
    await store.write('src.csv', 'x', { ...attrs, metadata: { owner: 'ana' } });
    await store.write('existing.csv', 'old');
    await store.copy('src.csv', 'created.csv');
    await store.copy('src.csv', 'existing.csv', { overwrite: true });
    await store.move('created.csv', 'moved.csv');
    for (const key of ['existing.csv', 'moved.csv']) {
      const h = await head(key);
      t.deepEqual(attributesOf(h), attrs, key);
      t.deepEqual(h.Metadata, { owner: 'ana' }, key);
    }
    t.false(await store.exists('created.csv'));
  });

  test.serial(`${kind}: client_options.s3_additional_kwargs apply to every write path and copy; a write's own attributes win`, async (t) => {
    t.timeout(300_000);
    const defaults = {
      ServerSideEncryption: 'AES256',
      StorageClass: 'STANDARD_IA',
      ContentType: 'text/plain',
      CacheControl: 'no-cache',
    };
    const { store, head } = await lane(t, kind, { client_options: { s3_additional_kwargs: defaults }, part_size: 5 * MiB });
    const big = Buffer.alloc(12 * MiB, 5);
    const expectDefaults = { contentType: 'text/plain', cacheControl: 'no-cache', contentDisposition: undefined, contentEncoding: undefined, storageClass: 'STANDARD_IA' };
    for (const [key, write] of Object.entries(writePaths(store, Buffer.from('d'), big, {}))) {
      await write();
      const h = await head(key);
      t.is(h.ServerSideEncryption, 'AES256', key);
      t.deepEqual(attributesOf(h), expectDefaults, key);
    }
    const own = { contentType: 'application/json', storageClass: 'ONEZONE_IA' };
    for (const [key, write] of Object.entries(writePaths(store.child('own'), Buffer.from('{}'), big, own))) {
      await write();
      const h = await head(`own/${key}`);
      t.is(h.ServerSideEncryption, 'AES256', key);
      t.deepEqual(attributesOf(h), { ...expectDefaults, ...own }, key);
    }
    await store.copy('own/buffer.csv', 'copied.csv');
    await store.copy('own/buffer.csv', 'buffer.csv', { overwrite: true });
    for (const key of ['copied.csv', 'buffer.csv']) {
      const h = await head(key);
      t.is(h.ServerSideEncryption, 'AES256', key);
      // A copy keeps the source's content headers; the store's storage class is what it names for every write.
      t.deepEqual(attributesOf(h), { ...expectDefaults, contentType: 'application/json' }, key);
    }
  });

  test.serial(`${kind}: multipart tuning: part_size and multipart_threshold decide one PUT or how many parts`, async (t) => {
    t.timeout(300_000);
    const srv = await moto();
    const bucket = await createBucket(srv, 'rs-attrs');
    const data = Buffer.alloc(12 * MiB, 9);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, '-2'], // 8 MiB parts
      [{ part_size: 5 * MiB, multipart_threshold: 5 * MiB, upload_concurrency: 1 }, '-3'],
      [{ partSize: 6 * MiB, uploadConcurrency: 2 }, '-2'],
      [{ multipart_threshold: 16 * MiB }, ''], // one PUT
      [{ part_size: 16 * MiB }, ''], // one part is one PUT
    ];
    for (const [i, [options, suffix]] of cases.entries()) {
      const { store, head } = await lane(t, kind, options, bucket);
      await store.write(`t${i}.bin`, chunks(data), { overwrite: true });
      const etag = (await head(`t${i}.bin`)).ETag!.replace(/"/g, '');
      t.is(/-\d+$/.exec(etag)?.[0] ?? '', suffix, JSON.stringify(options));
      // Buffer.equals: ava's deepEqual of 12 MiB takes minutes.
      t.true((await store.readBytes(`t${i}.bin`)).equals(data));
    }
  });

  test.serial(`${kind}: presigned GET and PUT URLs work with plain fetch`, async (t) => {
    const { store, head } = await lane(t, kind);
    t.true(store.supports(Capability.PRESIGN));
    await store.write('dir/hello.txt', 'hello presigned');
    const get = await store.presign('dir/hello.txt', { expiresIn: 300 });
    t.false(get.includes((await moto()).secretKey), 'no secret in the URL');
    const res = await fetch(get);
    t.is(res.status, 200);
    t.is(await res.text(), 'hello presigned');

    const put = await store.presign('dir/uploaded.bin', { method: 'PUT', expiresIn: 60 });
    const sent = await fetch(put, { method: 'PUT', body: new Uint8Array([1, 2, 3]) });
    t.is(sent.status, 200);
    t.deepEqual(await store.readBytes('dir/uploaded.bin'), Buffer.from([1, 2, 3]));
    // A store's root is part of the key the URL names.
    const child = store.child('dir');
    t.is(await (await fetch(await child.presign('hello.txt'))).text(), 'hello presigned');
    // What fetch stored without a Content-Type is the server's default: the same a write here
    // without contentType reports (one content-type rule).
    await store.write('untyped.bin', 'x');
    t.is((await store.getFileInfo('untyped.bin')).contentType, (await head('dir/uploaded.bin')).ContentType);

    await t.throwsAsync(store.presign('x', { method: 'DELETE' as 'GET' }), { instanceOf: TypeError, message: /'method' must be 'GET' or 'PUT'/ });
    await t.throwsAsync(store.presign('x', { expiresIn: 0 }), { instanceOf: RangeError, message: /'expiresIn' must be a whole number of seconds from 1 to 604800/ });
    await t.throwsAsync(store.presign('x', { expiresIn: 7 * 86400 + 1 }), { instanceOf: RangeError });
    await t.throwsAsync(store.presign('x', { expiresIn: '60' as unknown as number }), { instanceOf: TypeError, message: /got a string/ });
    await t.throwsAsync(store.presign(''), { message: /root/ });
  });
}

// moto takes any signature; versitygw and s3s-fs check it, so these prove the URLs are signed right.
for (const kind of ['versitygw', 's3s-fs'] as const) {
  test.serial(`presigned URLs of both backends pass a server that checks signatures, and a URL changed after signing fails (${kind})`, async (t) => {
    const srv = await startServer(kind);
    t.teardown(() => srv.stop());
    const bucket = await createBucket(srv, 'rs-presign');
    for (const [name, Backend] of BACKENDS) {
      const store = new Store(new Backend({ bucket, key: srv.accessKey, secret: srv.secretKey, endpoint_url: srv.endpoint, region_name: srv.region }));
      t.teardown(() => store.close());
      const put = await store.presign(`${name}/in.bin`, { method: 'PUT', expiresIn: 120 });
      t.is((await fetch(put, { method: 'PUT', body: new Uint8Array([4, 5, 6]) })).status, 200, `${name} PUT`);
      t.deepEqual(await store.readBytes(`${name}/in.bin`), Buffer.from([4, 5, 6]));
      const get = await store.presign(`${name}/in.bin`);
      const res = await fetch(get);
      t.is(res.status, 200, `${name} GET`);
      t.deepEqual(Buffer.from(await res.arrayBuffer()), Buffer.from([4, 5, 6]));
      // The signature covers the key and the method.
      t.is((await fetch(get.replace('/in.bin?', '/other.bin?'))).status, 403, `${name}: another key`);
      t.is((await fetch(get, { method: 'PUT', body: new Uint8Array([0]) })).status, 403, `${name}: another method`);
    }
  });
}

test.serial('one content-type rule: a write without contentType reports the same type on s3 and s3-arrow, on every write path', async (t) => {
  t.timeout(300_000);
  const srv = await moto();
  const bucket = await createBucket(srv, 'rs-attrs');
  const s3 = await lane(t, 's3', { part_size: 5 * MiB, multipart_threshold: 5 * MiB }, bucket);
  const arrow = await lane(t, 's3-arrow', { part_size: 5 * MiB, multipart_threshold: 5 * MiB }, bucket);
  const big = Buffer.alloc(12 * MiB, 1);
  const types: Record<string, Array<string | undefined>> = {};
  for (const l of [s3, arrow]) {
    for (const [key, write] of Object.entries(writePaths(l.store.child(l === s3 ? 's3' : 'arrow'), Buffer.from('x'), big, {}))) {
      await write();
      (types[key] ??= []).push((await l.store.getFileInfo(`${l === s3 ? 's3' : 'arrow'}/${key}`)).contentType);
    }
  }
  for (const [key, [a, b]] of Object.entries(types)) t.is(a, b, key);
  // Neither backend invents a type: what the server reports for an object PUT without one.
  t.is(new Set(Object.values(types).flat()).size, 1);
});

test.serial('write attributes and multipart options are validated: the error names the option, never the value', async (t) => {
  const srv = await moto();
  const bucket = await createBucket(srv, 'rs-attrs');
  const { store } = await lane(t, 's3', {}, bucket);
  const SECRET = 'sentinel-value-not-to-show';
  const bad: Array<[WriteOptions, RegExp]> = [
    [{ contentType: `text/plain\r\nx-amz-acl: public-read ${SECRET}` }, /write: option 'contentType' must be a header value/],
    [{ cacheControl: '' }, /option 'cacheControl' must be a header value/],
    [{ contentDisposition: `é ${SECRET}` }, /option 'contentDisposition' must be a header value/],
    [{ contentEncoding: 7 as unknown as string }, /option 'contentEncoding' must be a string, got a number/],
    [{ storageClass: `standard ${SECRET}` }, /option 'storageClass' must be a storage class name/],
  ];
  for (const [options, message] of bad) {
    const err = await t.throwsAsync(store.write('bad.txt', 'x', options), { instanceOf: TypeError, message });
    t.false(err!.message.includes(SECRET));
  }
  t.false(await store.exists('bad.txt'));
  const base = { bucket, key: srv.accessKey, secret: srv.secretKey, endpoint_url: srv.endpoint };
  const badOptions: Array<[Record<string, unknown>, RegExp]> = [
    [{ part_size: 4 * MiB }, /s3 option 'part_size' must be a whole number of bytes from 5242880 to 5368709120/],
    [{ part_size: `${SECRET}` }, /s3 option 'part_size' must be .*got a string/],
    [{ upload_concurrency: 0 }, /s3 option 'upload_concurrency' must be a whole number from 1 to 1000/],
    [{ uploadConcurrency: 1.5 }, /s3 option 'upload_concurrency'/],
    [{ multipart_threshold: -1 }, /s3 option 'multipart_threshold' must be a whole number of bytes from 0 to 5368709120/],
  ];
  for (const [Backend] of [[S3Backend], [S3ArrowBackend]] as const) {
    for (const [options, message] of badOptions) {
      const err = t.throws(() => new Backend({ ...base, ...options }), { message });
      t.false(err!.message.includes(SECRET));
    }
  }
});
