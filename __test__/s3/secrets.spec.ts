/**
 * Secrets stay out of logs (issue 8). The S3 server's secret carries the sentinel; with the
 * AWS SDK logging to the console, a representative run of operations — failing ones
 * included — must not put it in any captured log line (console.*, process.stdout/stderr,
 * process.emitWarning), nor in what the stores, backends, registries and errors show.
 *
 * One test at a time: the capture replaces the console of the whole process.
 */
import test from 'ava';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { NativeObjectStore, PermissionDenied, Registry, RegistryConfig, RemoteStoreError, Secret, Store } from '../../src/index';
import { assertNoSecret, assertNoSecretIn, captureLogs, SECRET_SENTINEL } from '../support/sentinel';
import { createBucket, startServer, type S3Server } from '../support/s3-servers';

let server: Promise<S3Server> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

const MiB = 1024 * 1024;

for (const type of ['s3', 's3-arrow'] as const) {
  test.serial(`${type}: no log line, inspect() or JSON shows the credential, whatever succeeds or fails`, async (t) => {
    server ??= startServer('s3s-fs');
    const s = await server;
    t.true(s.secretKey.includes(SECRET_SENTINEL), 'the server secret carries the sentinel');
    const bucket = await createBucket(s);
    const options = {
      bucket,
      key: s.accessKey,
      secret: s.secretKey,
      endpoint_url: s.endpoint,
      region_name: s.region,
      retry: { max_attempts: 2, backoff_base: 0.01, jitter: 0 },
      client_options: { logger: console },
    };
    const registry = new Registry({
      backends: {
        ok: { type, options },
        wrongSecret: { type, options: { ...options, secret: `${SECRET_SENTINEL}-wrong` } },
        down: { type, options: { ...options, endpoint_url: 'http://127.0.0.1:9' } },
        noBucket: { type, options: { ...options, bucket: `${bucket}-missing` } },
      },
      stores: { ok: { backend: 'ok', root_path: 'data' }, wrong: { backend: 'wrongSecret' }, down: { backend: 'down' }, missing: { backend: 'noBucket' } },
    });
    const errors: unknown[] = [];
    const fails = async (work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (err) {
        errors.push(err);
        return;
      }
      t.fail('expected a failure');
    };
    const capture = captureLogs();
    try {
      const store = registry.getStore('ok');
      await store.write('a.txt', 'alpha', { metadata: { owner: 'me' } });
      await store.write('big.bin', Readable.from([Buffer.alloc(9 * MiB, 1), Buffer.alloc(MiB, 2)]));
      await store.readBytes('a.txt');
      for await (const _ of await store.read('big.bin'));
      await store.readRange('big.bin', { offset: 5, length: 10 });
      for await (const _ of store.listFiles('', { recursive: true }));
      await store.getFileInfo('a.txt');
      await store.copy('a.txt', 'b.txt');
      await store.move('b.txt', 'c.txt');
      await store.openAtomic('d.txt', {}, (w) => void w.end('delta'));
      await store.delete('c.txt');
      await store.ping();
      await fails(() => store.readBytes('missing.txt'));
      await fails(() => store.write('a.txt', 'again'));
      await fails(() => store.write('e.bin', Readable.from((async function* () {
        yield Buffer.alloc(9 * MiB);
        throw new Error('source failed');
      })())));
      const ac = new AbortController();
      ac.abort();
      await fails(() => store.readBytes('a.txt', { signal: ac.signal }));
      await fails(() => registry.getStore('wrong').readBytes('a.txt'));
      await fails(() => registry.getStore('wrong').write('w.txt', 'w'));
      await fails(() => registry.getStore('down').exists('a.txt'));
      await fails(() => registry.getStore('down').write('x.txt', 'x'));
      await fails(() => registry.getStore('missing').ping());
      await fails(async () => new Registry({ backends: { b: { type, options: { ...options, max_sockets: -1 } } }, stores: { s: { backend: 'b' } } }).getStore('s'));
      // An unknown key is warned about (process.emitWarning), next to a credential.
      RegistryConfig.fromObject({ backends: { b: { type, options: { ...options }, typo: 1 } } });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      const shown: unknown[] = [store, store.backend, registry, registry.config, store.unwrap(S3Client)];
      if (type === 's3-arrow') shown.push(store.unwrap(NativeObjectStore));
      for (const value of [...shown, ...errors]) assertNoSecret(t, value);
      t.is(errors.length, 10);
      t.true(errors.every((e) => e instanceof Error));
    } finally {
      capture.restore();
      await registry.close();
    }
    // The capture saw the SDK's log lines and the warning: it was listening.
    t.true(capture.lines.some((l) => l.includes('HeadObjectCommand')), 'no SDK log line was captured');
    t.true(capture.lines.some((l) => l.includes("unknown key 'typo'")), 'no warning was captured');
    t.log(`${capture.lines.length} log lines captured, ${errors.length} errors checked`);
    assertNoSecretIn(t, capture.lines);
  });
}

test.serial('a Secret stays masked in console output, template strings and format specifiers', async (t) => {
  const secret = new Secret(`${SECRET_SENTINEL}-direct`);
  const capture = captureLogs();
  try {
    console.log(secret, { secret }, `${secret}`, String(secret));
    console.error('%s %o %O %j', secret, secret, { nested: { secret } }, { secret });
    process.stderr.write(`${secret}\n`);
    process.emitWarning(`about ${secret}`);
    await new Promise((r) => setImmediate(r));
  } finally {
    capture.restore();
  }
  t.true(capture.lines.length >= 3);
  t.log(capture.lines.join('\n').slice(0, 500));
  assertNoSecretIn(t, capture.lines);
  t.is(inspect(secret), "Secret('***')");
});

let versitygw: Promise<S3Server> | undefined;
test.after.always(async () => {
  if (versitygw) await (await versitygw).stop();
});

for (const type of ['s3', 's3-arrow'] as const) {
  // versitygw checks session tokens (s3s-fs and moto ignore them) and answers a bad one 400 InvalidToken.
  test.serial(`${type}: a refused session token is PermissionDenied, and the error hides the token even from showHidden`, async (t) => {
    versitygw ??= startServer('versitygw');
    const s = await versitygw;
    const bucket = await createBucket(s, 'rs-token');
    const token = `${SECRET_SENTINEL}-token`;
    const registry = new Registry({
      backends: { b: { type, options: { bucket, key: s.accessKey, secret: s.secretKey, token, endpoint_url: s.endpoint, region_name: s.region, retry: { max_attempts: 1 } } } },
      stores: { s: { backend: 'b' } },
    });
    try {
      const store = registry.getStore('s');
      // A HEAD's answer has no body to name the error code: its 400 stays a generic error.
      for (const [work, refused] of [
        [() => store.readBytes('x.bin'), PermissionDenied],
        [() => store.write('x.bin', 'x', { overwrite: true }), PermissionDenied],
        [() => store.getFileInfo('x.bin'), RemoteStoreError],
      ] as const) {
        const err = await t.throwsAsync(work, { instanceOf: refused });
        assertNoSecret(t, err);
        // The SDK keeps the raw exchange (request headers included) on its error, hidden.
        assertNoSecretIn(t, [inspect(err, { depth: 12, showHidden: true })]);
      }
    } finally {
      await registry.close();
    }
  });
}
