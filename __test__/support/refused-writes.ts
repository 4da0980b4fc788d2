/**
 * Child process of integrity.spec.ts: in-memory writes the server refuses early (a wrong
 * secret; create-only onto an existing key), so that a crash (an unhandled 'error' event on a
 * socket) kills this process, not the test worker. Prints the error names seen, as JSON.
 */
import { S3ArrowBackend, S3Backend, Store } from '../../src/index';

const o = JSON.parse(process.env.RS_CHILD ?? '{}') as {
  kind: 's3' | 's3-arrow';
  bucket: string;
  key: string;
  secret: string;
  endpoint: string;
  region: string;
  size: number;
  rounds: number;
};
const B = o.kind === 's3' ? S3Backend : S3ArrowBackend;
const options = { bucket: o.bucket, key: o.key, endpoint_url: o.endpoint, region_name: o.region, retry: { max_attempts: 2, backoff_base: 0.01, jitter: 0 } };
async function main(): Promise<void> {
  const good = new Store(new B({ ...options, secret: o.secret }));
  const wrong = new Store(new B({ ...options, secret: `${o.secret}-wrong` }));
  const body = Buffer.alloc(o.size, 7);
  await good.write('exists.bin', body);
  const seen: string[] = [];
  for (let round = 0; round < o.rounds; round++) {
    for (const [store, key] of [
      [wrong, `w${round}.bin`],
      [good, 'exists.bin'],
    ] as const) {
      try {
        await store.write(key, body);
        seen.push('ok');
      } catch (err) {
        seen.push((err as Error).name);
      }
    }
  }
  // A socket error after the answer (EPIPE on a body the server stopped reading) comes late.
  await new Promise((r) => setTimeout(r, 1000));
  await good.close();
  await wrong.close();
  console.log(JSON.stringify(seen));
}

void main();
