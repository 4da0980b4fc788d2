/**
 * The S3 server dies and comes back mid-operation (issue 8). s3s-fs keeps its data in a
 * directory, so it is killed with SIGKILL while a streamed read, a PUT or a multipart upload
 * is under way and started again on the same port and directory.
 *
 * - Transient outage (shorter than the retry policy's backoffs): the call ends with the right
 *   content (compared by SHA-256) and no multipart upload is left open.
 * - Persistent outage (the server stays down until the call gives up): BackendUnavailable
 *   within the policy's bounds; once the server is back, nothing at the target key and no
 *   open multipart upload.
 *
 * Each test has a server of its own: a kill must not hit the other tests of this file.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { S3Backend } from '../../src/backends/s3';
import { S3ArrowBackend } from '../../src/backends/s3-arrow';
import { BackendUnavailable, Store } from '../../src/index';
import { assertNoSecret } from '../support/sentinel';
import { createBucket, startServer, type S3Server } from '../support/s3-servers';

const MiB = 1024 * 1024;
/** Room for an outage of a few seconds: backoffs 0.25, 0.5, 1, 2, 2, … s. */
const TRANSIENT_RETRY = { max_attempts: 10, backoff_base: 0.25, backoff_max: 2, jitter: 0 };
/** Gives up within about a second of backoffs per request. */
const PERSISTENT_RETRY = { max_attempts: 3, backoff_base: 0.1, backoff_max: 0.4, jitter: 0 };
/** How long the server stays down in the transient case (then it takes a moment to start). */
const OUTAGE_MS = 400;

const BACKENDS = { s3: S3Backend, 's3-arrow': S3ArrowBackend } as const;
type BackendName = keyof typeof BACKENDS;

function payload(size: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i + 4 <= size; i += 4) buf.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
  return buf;
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Yields `data` in 1 MiB chunks and calls `midway` once after `after` bytes. */
async function* source(data: Buffer, after: number, midway: () => Promise<void>): AsyncGenerator<Buffer> {
  let fired = false;
  for (let off = 0; off < data.length; off += MiB) {
    yield data.subarray(off, Math.min(data.length, off + MiB));
    if (!fired && off + MiB >= after) {
      fired = true;
      await midway();
    }
  }
}

/** s3s-fs keeps multipart uploads as `.upload*` files in its root (it has no ListMultipartUploads). */
function openUploads(s: S3Server): string[] {
  return readdirSync(s.root!).filter((n) => n.startsWith('.upload'));
}

interface Op {
  name: string;
  prepare?: (store: Store) => Promise<void>;
  /** Runs the operation and calls `outage` once while it is under way; returns what was read or written. */
  run: (store: Store, outage: () => Promise<void>) => Promise<Buffer>;
  expected: Buffer;
  /** The key a failed write must not leave behind. */
  target?: string;
  /** The operation has a multipart upload open when the server dies. */
  multipart?: boolean;
}

/** A streamed write of `data` whose source has the server die after `after` bytes; it reads the result back. */
function writeOp(name: string, target: string, data: Buffer, after: number, multipart = false): Op {
  return {
    name,
    run: async (store, outage) => {
      await store.write(target, source(data, after, outage));
      return store.readBytes(target);
    },
    expected: data,
    target,
    multipart,
  };
}

const BIG = payload(80 * MiB + 5, 1);
const MULTI = payload(24 * MiB + 3, 2);
const SINGLE = payload(4 * MiB + 1, 3);

const OPS: Op[] = [
  {
    // 80 MiB: s3 streams one GET body, s3-arrow fetches 16 MiB windows; the server dies after the first chunk.
    name: 'streamed read',
    prepare: async (store) => void (await store.write('big.bin', BIG)),
    run: async (store, outage) => {
      const parts: Buffer[] = [];
      for await (const chunk of await store.read('big.bin')) {
        parts.push(chunk as Buffer);
        if (parts.length === 1) await outage();
      }
      return Buffer.concat(parts);
    },
    expected: BIG,
  },
  // Below the part size: one PUT, sent after the source ends, while the server is down.
  writeOp('PUT', 'single.bin', SINGLE, 2 * MiB),
  // 24 MiB in 8 MiB parts: the server dies after 10 MiB, with the first part on its way.
  writeOp('multipart upload', 'multi.bin', MULTI, 10 * MiB, true),
];

async function serverAndStore(kind: BackendName, retry: Record<string, unknown>): Promise<{ s: S3Server; store: Store }> {
  const s = await startServer('s3s-fs');
  if (!s.root || !s.kill || !s.restart) {
    await s.stop();
    throw new Error('these tests need an s3s-fs started by this process (not one shared through REMOTE_STORE_S3S_ENDPOINT)');
  }
  const bucket = await createBucket(s);
  const store = new Store(new BACKENDS[kind]({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region, retry }));
  return { s, store };
}

/** Kills the server once, when `fire` is called; starts it again `restartAfterMs` later, or never. */
function outage(s: S3Server, restartAfterMs?: number) {
  const o = {
    killedAt: 0,
    back: undefined as Promise<void> | undefined,
    fire: async () => {
      await s.kill!();
      o.killedAt = Date.now();
      if (restartAfterMs === undefined) return;
      o.back = new Promise((r) => setTimeout(r, restartAfterMs)).then(() => s.restart!());
      o.back.catch(() => undefined); // awaited by the test, unless the operation fails first
    },
  };
  return o;
}

for (const kind of Object.keys(BACKENDS) as BackendName[]) {
  for (const op of OPS) {
    test(`${kind} › ${op.name}: the server restarts within the retry policy → the right content`, async (t) => {
      const { s, store } = await serverAndStore(kind, TRANSIENT_RETRY);
      const down = outage(s, OUTAGE_MS);
      try {
        await op.prepare?.(store);
        const got = await op.run(store, down.fire);
        t.truthy(down.back, 'the server was never killed');
        await down.back;
        t.log(`done ${Date.now() - down.killedAt} ms after the kill`);
        t.is(got.length, op.expected.length);
        t.is(sha(got), sha(op.expected));
        t.deepEqual(openUploads(s), []);
      } finally {
        await down.back?.catch(() => undefined);
        await store.close();
        await s.stop();
      }
    });

    test(`${kind} › ${op.name}: the server stays down → BackendUnavailable within the policy, nothing left behind`, async (t) => {
      const { s, store } = await serverAndStore(kind, PERSISTENT_RETRY);
      const down = outage(s);
      try {
        await op.prepare?.(store);
        const err = await t.throwsAsync(op.run(store, down.fire));
        const elapsed = Date.now() - down.killedAt;
        t.true(down.killedAt > 0, 'the server was never killed');
        t.true(err instanceof BackendUnavailable, `expected BackendUnavailable, got ${err?.name}: ${err?.message}`);
        assertNoSecret(t, err);
        t.log(`${err?.name} ${elapsed} ms after the kill: ${err?.message}`);
        await s.restart!();
        if (op.target) t.false(await store.exists(op.target), `${op.target} exists after a failed write`);
        // The abort could not reach the dead server; close() (or a later write) makes it.
        if (op.multipart) t.not(openUploads(s).length, 0, 'expected the upload to outlive the outage until close()');
        await store.close();
        t.deepEqual(openUploads(s), [], 'a multipart upload was left open');
      } finally {
        await store.close();
        await s.stop();
      }
    });
  }
}

for (const kind of Object.keys(BACKENDS) as BackendName[]) {
  test(`${kind} › an upload whose abort never reaches the server is named in a warning at close()`, async (t) => {
    const { s, store } = await serverAndStore(kind, PERSISTENT_RETRY);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      // Named per backend: both tests run at once in this process and see each other's warnings.
      const key = `lost-${kind}.bin`;
      await t.throwsAsync(store.write(key, source(MULTI, 10 * MiB, () => s.kill!())), { instanceOf: BackendUnavailable });
      await store.close();
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      const left = warnings.filter((w) => (w as NodeJS.ErrnoException).code === 'REMOTE_STORE_UPLOAD_LEFT_OPEN' && w.message.includes(`'${key}'`));
      t.is(left.length, 1);
      t.regex(left[0]?.message ?? '', /lifecycle rule/);
      assertNoSecret(t, left[0]);
    } finally {
      process.off('warning', onWarning);
      await store.close();
      await s.stop();
    }
  });
}
