// Peer: @aws-sdk/client-s3 used directly, as its documentation shows (default client settings):
// GetObject + transformToByteArray, PutObject for in-memory bodies up to 8 MiB (create-only:
// with IfNoneMatch: '*'), @aws-sdk/lib-storage Upload for streams and larger Buffers (the
// SDK's own way to send large bodies: concurrent multipart parts), HeadObject,
// ListObjectsV2 pages, CopyObject.
import { createReadStream } from 'node:fs';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NotFound,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export async function open(t) {
  const client = new S3Client({
    endpoint: t.endpoint,
    region: t.region,
    forcePathStyle: true,
    credentials: { accessKeyId: t.accessKey, secretAccessKey: t.secretKey },
  });
  const Bucket = t.bucket;
  return {
    async get({ key }) {
      const out = await client.send(new GetObjectCommand({ Bucket, Key: key }));
      return (await out.Body.transformToByteArray()).length;
    },
    async put({ key }, body) {
      if (body.length > 8 << 20) await new Upload({ client, params: { Bucket, Key: key, Body: body } }).done();
      else await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body }));
    },
    async putCreate({ key }, body) {
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, IfNoneMatch: '*' }));
    },
    async putFile({ key, source }) {
      await new Upload({ client, params: { Bucket, Key: key, Body: createReadStream(source, { highWaterMark: 1 << 20 }) } }).done();
    },
    async head({ key }) {
      return (await client.send(new HeadObjectCommand({ Bucket, Key: key }))).ContentLength;
    },
    async exists({ key }) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return true;
      } catch (err) {
        if (err instanceof NotFound) return false;
        throw err;
      }
    },
    async list({ key }) {
      let n = 0;
      for await (const page of paginateListObjectsV2({ client }, { Bucket, Prefix: key })) n += page.KeyCount ?? 0;
      return n;
    },
    async copy({ key, dst }) {
      await client.send(new CopyObjectCommand({ Bucket, Key: dst, CopySource: `${Bucket}/${key}` }));
    },
    close: () => client.destroy(),
  };
}
