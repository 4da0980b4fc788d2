/**
 * Create-only writes racing for one key, judged on versitygw: its conditional PutObject and
 * CompleteMultipartUpload are atomic, so exactly one writer may win and every other one must be
 * told AlreadyExists. (s3s-fs and moto check `If-None-Match` and then write: two writers can both
 * win there, which proves nothing about this package.)
 */
import test from 'ava';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { S3Backend } from '../../src/backends/s3';
import { S3ArrowBackend } from '../../src/backends/s3-arrow';
import { AlreadyExists, Store } from '../../src/index';
import { adminClient, createBucket, startServer, type S3Server } from '../support/s3-servers';

const MiB = 1024 * 1024;
const WRITERS = 16;

let server: Promise<S3Server> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

const BACKENDS = { s3: S3Backend, 's3-arrow': S3ArrowBackend } as const;

/** Writer i's bytes: every byte says who wrote it. */
const bytesOf = (i: number, size: number) => Buffer.alloc(size, i + 1);

const SHAPES = {
  'one PUT from a buffer': { size: 64 * 1024, content: (b: Buffer) => b },
  // Larger than one part on both data paths: a multipart upload whose completion is conditional.
  'a streamed multipart upload': { size: 9 * MiB + 17, content: (b: Buffer) => Readable.from([b.subarray(0, 4 * MiB), b.subarray(4 * MiB)]) },
} as const;

for (const [kind, Backend] of Object.entries(BACKENDS)) {
  for (const [shape, { size, content }] of Object.entries(SHAPES)) {
    test.serial(`${kind} › ${WRITERS} create-only writers of one key as ${shape}: one wins, the others are AlreadyExists, nothing left open`, async (t) => {
      server ??= startServer('versitygw');
      const s = await server;
      const bucket = await createBucket(s, 'rs-race');
      const store = new Store(new Backend({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: s.endpoint, region_name: s.region }));
      const admin = adminClient(s);
      try {
        const outcomes = await Promise.allSettled(Array.from({ length: WRITERS }, (_, i) => store.write('race.bin', content(bytesOf(i, size)))));
        const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        const reasons = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
        t.is(won.length, 1, `winners: ${won.join(', ')}`);
        t.is(reasons.length, WRITERS - 1);
        for (const r of reasons) t.true(r instanceof AlreadyExists, `${r?.name}: ${r?.message}`);
        t.deepEqual(await store.readBytes('race.bin'), bytesOf(won[0]!, size), 'the object holds the winner’s bytes');
        const open = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
        t.is(open.Uploads?.length ?? 0, 0, 'the losers’ multipart uploads are aborted');
      } finally {
        admin.destroy();
        await store.close();
      }
    });
  }
}
