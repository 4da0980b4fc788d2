// Peer: this project (the built package), backend `s3` or `s3-arrow` (options.type), through a
// Registry as users configure it. Writes pass overwrite: true, the semantics of a plain PUT;
// putCreate passes overwrite: false (a create-only, conditional PUT).
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';

export const lib = createRequire(import.meta.url)('../../index.js');

/** A store of backend `type` on the target, through a Registry as users configure it. */
export function openStore(t, type) {
  const registry = new lib.Registry({
    backends: { b: { type, options: { bucket: t.bucket, key: t.accessKey, secret: t.secretKey, endpoint_url: t.endpoint, region_name: t.region } } },
    stores: { s: { backend: 'b' } },
  });
  return { registry, store: registry.getStore('s') };
}

export async function open(t) {
  const { registry, store } = openStore(t, t.type);
  return {
    get: async ({ key }) => (await store.readBytes(key)).length,
    put: ({ key }, body) => store.write(key, body, { overwrite: true }),
    putCreate: ({ key }, body) => store.write(key, body, { overwrite: false }),
    putFile: ({ key, source }) => store.write(key, createReadStream(source, { highWaterMark: 1 << 20 }), { overwrite: true }),
    head: async ({ key }) => (await store.getFileInfo(key)).size,
    exists: ({ key }) => store.exists(key),
    async list({ key }) {
      let n = 0;
      for await (const _ of store.listFiles(key, { recursive: true })) n++;
      return n;
    },
    copy: ({ key, dst }) => store.copy(key, dst, { overwrite: true }),
    close: () => registry.close(),
  };
}
