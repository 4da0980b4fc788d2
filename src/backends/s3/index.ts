/**
 * The public face of the S3 wing: the two backend types as compositions of one backend
 * (backend.ts) with a data path, and their registry factories.
 */
import type { Backend } from '../../backend';
import type { RetryPolicy } from '../../retry';
import { S3Backend, type S3Composition } from './backend';
import { nativeDataPath } from './native-data-path';
import { s3FactoryOptions, type S3BackendOptions } from './options';

export { S3Backend, type S3Composition } from './backend';
export { S3_OPTION_NAMES, s3FactoryOptions, type S3BackendOptions } from './options';
export { normalizeEndpoint, resolveCaBundle } from './connection';
export { isServerError } from './errors';
export { abortStreamOn } from './abort';
export type { _S3IsBackend } from './backend';

/** Options of {@link S3ArrowBackend}: exactly those of {@link S3Backend}. */
export type S3ArrowBackendOptions = S3BackendOptions;

const NATIVE_COMPOSITION: S3Composition = { name: 's3-arrow', label: 'S3ArrowBackend', dataPath: nativeDataPath };

/**
 * The `s3-arrow` backend: the S3 backend composed with the native data path. Reads, ranged
 * reads, writes and copies run in Rust on object_store; list, head, exists and delete on the
 * AWS SDK client. Both clients get the same endpoint, region, credentials (static, or the
 * SDK's default provider chain feeding the native refreshable-credential hook), CA bundle and
 * retry policy. `unwrap(NativeObjectStore)` gives the native data-path handle.
 */
export class S3ArrowBackend extends S3Backend {
  constructor(options: S3ArrowBackendOptions) {
    super(options, NATIVE_COMPOSITION);
  }
}

/** Compile-time check. */
export type _S3ArrowIsBackend = S3ArrowBackend extends Backend ? true : never;

/**
 * The registry factory of type `s3`: refuses unknown options (naming them), takes the
 * backend's `retry` from the config entry when the options do not carry one.
 * Register with `Registry.registerBackend('s3', createS3Backend)`.
 */
export function createS3Backend(options: Record<string, unknown>, context: { name?: string; retry?: RetryPolicy } = {}): S3Backend {
  return new S3Backend(s3FactoryOptions('s3', options, context));
}

/** The registry factory of type `s3-arrow` (alias `s3-pyarrow`): the options of `s3`. */
export function createS3ArrowBackend(options: Record<string, unknown>, context: { name?: string; retry?: RetryPolicy } = {}): S3ArrowBackend {
  return new S3ArrowBackend(s3FactoryOptions('s3-arrow', options, context));
}
