// Presigned URLs for the peers that speak plain HTTP (the raw client, hyparquet, parquet-wasm),
// made before timing (prepare) and cached: signing is not what they are measured on.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const COMMANDS = { GET: GetObjectCommand, PUT: PutObjectCommand, HEAD: HeadObjectCommand };

export function presigner(t) {
  const client = new S3Client({ endpoint: t.endpoint, region: t.region, forcePathStyle: true, credentials: { accessKeyId: t.accessKey, secretAccessKey: t.secretKey } });
  const urls = new Map();
  return {
    async url(method, key) {
      const id = `${method} ${key}`;
      if (!urls.has(id)) urls.set(id, await getSignedUrl(client, new COMMANDS[method]({ Bucket: t.bucket, Key: key }), { expiresIn: 3600 }));
      return urls.get(id);
    },
    close: () => client.destroy(),
  };
}
