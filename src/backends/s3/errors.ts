/**
 * SDK errors → our error classes, in one place for every request of the wing (control path,
 * SDK data path, the native path's SDK probes). Decided by the SDK's error name, the HTTP
 * status and the system error code; the TLS case is the one the SDK only reports in text.
 */
import {
  AbortError,
  AlreadyExists,
  BackendUnavailable,
  isAbortError,
  NotFound,
  PermissionDenied,
  RemoteStoreError,
} from '../../errors';
import { nativeErrorFields } from '../../native';

/** The fields of an SDK (or socket) error this module looks at. */
export interface ErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: { statusCode?: number };
}

/** What an error message names besides the key. */
export interface ErrorContext {
  backend: string;
  bucket: string;
  endpointUrl: string | undefined;
}

/** The SDK error a mapped error carries as its cause. */
export function sdkCause(err: unknown): ErrorShape | undefined {
  return (err as RemoteStoreError | undefined)?.cause as ErrorShape | undefined;
}

/** A 5xx answer (after retries), on the SDK or the native path. */
export function isServerError(err: unknown): boolean {
  const cause = sdkCause(err);
  const status = cause?.$metadata?.httpStatusCode ?? nativeErrorFields(cause)?.status;
  return err instanceof BackendUnavailable && status !== undefined && status >= 500;
}

/** A connection that broke mid-request: the server closed or reset it. */
export function isBrokenConnection(err: unknown): boolean {
  const code = sdkCause(err)?.code;
  return err instanceof BackendUnavailable && (code === 'EPIPE' || code === 'ECONNRESET');
}

const DENIED = ['AccessDenied', 'Forbidden', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AllAccessDisabled'];
const UNREACHABLE_SYS = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EPIPE', 'ENETUNREACH'];
const UNAVAILABLE = ['TimeoutError', 'RequestTimeout', 'ServiceUnavailable', 'SlowDown', 'InternalError', 'ThrottlingException'];

/**
 * Drops the raw HTTP exchange from an SDK error before it becomes a cause: `$response.body` is
 * the socket's response, and through it the request, whose headers hold the session token and
 * the signature (`util.inspect(err, { showHidden: true })` showed them). The SDK pins
 * `$response` to the error (neither writable nor configurable), so its body is cleared in
 * place; the SDK has read the error out of it by then. Status, reason and headers stay.
 * Called where every SDK request's error passes (`SdkClient.send`).
 */
export function withoutExchange(err: unknown): void {
  const r = (err as { $response?: { body?: unknown } } | undefined)?.$response;
  if (r !== null && typeof r === 'object' && r.body !== undefined && !Object.isFrozen(r)) r.body = undefined;
}

/** SDK error → our error classes. The SDK error is kept as `cause`. */
export function mapS3Error(err: unknown, key: string, ctx: ErrorContext, what = 'S3 operation'): RemoteStoreError {
  if (err instanceof RemoteStoreError) return err;
  const details = { path: key, backend: ctx.backend, cause: err };
  if (isAbortError(err)) return new AbortError(`Operation aborted: '${key}'`, details);
  const e = (err ?? {}) as ErrorShape;
  const code = e.name ?? e.Code ?? '';
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const sysCode = e.code ?? '';
  const msg = e.message ? `: ${e.message}` : '';
  if (code === 'NoSuchBucket') return new NotFound(`Bucket not found: '${ctx.bucket}' (path '${key}')`, details);
  if (code === 'NoSuchKey' || code === 'NoSuchUpload' || code === 'NotFound' || status === 404) return new NotFound(`Not found: '${key}'`, details);
  if (code === 'PreconditionFailed' || code === 'ConditionalRequestConflict' || status === 412) {
    return new AlreadyExists(`File already exists: '${key}'`, details);
  }
  if (DENIED.includes(code) || status === 403 || status === 401) {
    return new PermissionDenied(`Permission denied for '${key}' (${code || status})`, details);
  }
  if (UNREACHABLE_SYS.includes(sysCode) || UNAVAILABLE.includes(code) || (status !== undefined && (status >= 500 || status === 429))) {
    return new BackendUnavailable(`S3 endpoint unavailable for '${key}' (${code || sysCode || status})${msg}`, details);
  }
  if (/certificate|self[- ]signed|SSL|TLS|UNABLE_TO_VERIFY|DEPTH_ZERO/i.test(`${sysCode} ${e.message ?? ''}`)) {
    return new BackendUnavailable(
      `TLS verification failed talking to ${ctx.endpointUrl ?? 'S3'} for '${key}'${msg}. ` +
        'Set tls_ca_bundle (or AWS_CA_BUNDLE) to the CA certificate that signed the server certificate.',
      details,
    );
  }
  return new RemoteStoreError(`${what} failed on '${key}' (${code || sysCode || status || 'error'})${msg}`, details);
}
