// Peer: Apache OpenDAL's Node binding (0.47.11: later Linux builds need glibc 2.38). Streams
// go through op.writer with 8 MiB chunks (multipart parts; without `chunk` every write()
// would become a part of its own).
import { createReadStream } from 'node:fs';
import { Operator } from 'opendal';

export async function open(t) {
  const op = new Operator('s3', {
    bucket: t.bucket,
    endpoint: t.endpoint,
    region: t.region,
    access_key_id: t.accessKey,
    secret_access_key: t.secretKey,
    root: '/',
  });
  return {
    get: async ({ key }) => (await op.read(key)).length,
    put: ({ key }, body) => op.write(key, body),
    async putFile({ key, source }) {
      const w = await op.writer(key, { chunk: 8n << 20n });
      for await (const chunk of createReadStream(source, { highWaterMark: 1 << 20 })) await w.write(chunk);
      await w.close();
    },
    head: async ({ key }) => Number((await op.stat(key)).contentLength),
    exists: ({ key }) => op.isExist(key),
    list: async ({ key }) => (await op.list(key, { recursive: true })).filter((e) => !e.path().endsWith('/')).length,
    copy: ({ key, dst }) => op.copy(key, dst),
  };
}
