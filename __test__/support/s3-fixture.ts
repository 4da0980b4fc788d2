/**
 * Conformance targets for the `s3` backend: one server per spec file (started on first
 * use, stopped when the file's tests end), a fresh bucket per test.
 */
import test from 'ava';
import { S3Backend, type S3BackendOptions } from '../../src/backends/s3';
import { Store } from '../../src/index';
import type { Fixture } from '../conformance/suite';
import { createBucket, startServer, type S3Server, type ServerKind } from './s3-servers';

/** Retries stay on (3 attempts) but with short backoffs so error-path probes stay fast. */
export const FAST_RETRY = { max_attempts: 3, backoff_base: 0.02, jitter: 0 };

export function s3Fixture(
  kind: ServerKind,
  extra: Record<string, unknown> = {},
  Backend: new (options: S3BackendOptions) => S3Backend = S3Backend,
): () => Promise<Fixture> {
  let server: Promise<S3Server> | undefined;
  test.after.always(async () => {
    if (server) await (await server).stop();
  });
  return async () => {
    server ??= startServer(kind);
    const s = await server;
    const bucket = await createBucket(s);
    const backend = new Backend({
      bucket,
      key: s.accessKey,
      secret: s.secretKey,
      endpoint_url: s.endpoint,
      region_name: s.region,
      retry: FAST_RETRY,
      ...extra,
    });
    const store = new Store(backend);
    return { store, cleanup: () => store.close() };
  };
}
