// The ceiling client: plain HTTP/1.1 on keep-alive sockets, doing nothing with a GET body but
// count it and sending PUT bodies from memory (streamed PUTs too: the file is loaded before
// timing). Against nginx (options.via = 'nginx': the same bytes served from tmpfs) it gives
// the raw-HTTP ceiling; against the S3 server (via = 's3', presigned URLs made before timing)
// the ceiling of the server itself. For Parquet and datasets it GETs the byte ranges of the
// selected column chunks (`op.chunks`), all at once, and nothing else: the wire limit of a
// reader that fetches exactly what it needs.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { presigner } from './presign.mjs';

export async function open(t) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const bodies = new Map();
  const signer = t.via === 's3' ? presigner(t) : undefined;
  const url = (method, key) => signer?.url(method, key) ?? `${t.httpBase}/${t.bucket}/${key}`;
  const send = async (method, key, body, range, extra) => {
    const target = await url(method, key);
    return new Promise((resolve, reject) => {
      const headers = { ...(body ? { 'content-length': body.length } : range ? { range: `bytes=${range[0]}-${range[0] + range[1] - 1}` } : {}), ...extra };
      const req = request(target, { method, agent, headers }, (res) => {
        let n = 0;
        res.on('data', (c) => (n += c.length));
        res.on('end', () => {
          if (res.statusCode >= 300) reject(new Error(`${method} ${key}: HTTP ${res.statusCode}`));
          else resolve(method === 'HEAD' ? Number(res.headers['content-length']) : n);
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  };
  const methods = { get: 'GET', put: 'PUT', putCreate: 'PUT', putFile: 'PUT', head: 'HEAD', exists: 'HEAD' };
  /** The chunks' bytes, fetched at once; answers `op.expect` (the rows) when every byte came. */
  const chunks = async (op) => {
    const gets = op.chunks.flatMap(({ key, ranges }) => ranges.map((r) => send('GET', key, undefined, r)));
    const got = (await Promise.all(gets)).reduce((a, b) => a + b, 0);
    const want = op.chunks.reduce((n, c) => n + c.ranges.reduce((m, [, len]) => m + len, 0), 0);
    return got === want ? op.expect : got;
  };
  return {
    async prepare(ops) {
      for (const op of ops) {
        for (const c of op.chunks ?? []) await url('GET', c.key);
        if (op.kind === 'putFile' && !bodies.has(op.source)) bodies.set(op.source, readFileSync(op.source));
        if (methods[op.kind]) await url(methods[op.kind], op.key);
      }
    },
    get: ({ key }) => send('GET', key),
    put: async ({ key }, body) => void (await send('PUT', key, body)),
    // Create-only: the condition travels as an (unsigned) header next to the presigned URL.
    putCreate: async ({ key }, body) => void (await send('PUT', key, body, undefined, { 'if-none-match': '*' })),
    putFile: async ({ key, source }) => void (await send('PUT', key, bodies.get(source) ?? readFileSync(source))),
    head: ({ key }) => send('HEAD', key),
    exists: async ({ key }) => (await send('HEAD', key)) >= 0,
    parquet: chunks,
    dataset: chunks,
    close: () => {
      agent.destroy();
      signer?.close();
    },
  };
}
