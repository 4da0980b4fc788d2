/**
 * The error hierarchy. Every failure a backend meets is turned into one of these
 * classes at the backend boundary: no SDK, Rust or `fs` error escapes; the original
 * is kept as `.cause` for debugging.
 *
 * Messages name the offending path; they never contain a credential (options that
 * hold secrets are wrapped in {@link Secret}, whose string form is `***`).
 */

export type ErrorCode =
  | 'REMOTE_STORE_ERROR'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'INVALID_PATH'
  | 'CAPABILITY_NOT_SUPPORTED'
  | 'DIRECTORY_NOT_EMPTY'
  | 'BACKEND_UNAVAILABLE'
  | 'INVALID_FORMAT'
  | 'ABORTED';

export interface ErrorDetails {
  /** The store-relative (or backend-relative) path the error is about. */
  path?: string;
  /** The backend's name, e.g. `'local'` or `'s3'`. */
  backend?: string;
  /** The underlying error, kept for debugging. */
  cause?: unknown;
}

/** Base class of every error this library raises for storage problems. */
export class RemoteStoreError extends Error {
  readonly code: ErrorCode = 'REMOTE_STORE_ERROR';
  path: string | undefined;
  readonly backend: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.path = details.path;
    this.backend = details.backend;
  }

  /**
   * Re-addresses the error to `path` (the Store turns backend keys into store-relative paths):
   * the field, and the message (and the stack's copy of it) where it names the old path the
   * way every message of this library names a path, {@link quote}d.
   */
  rebase(path: string): void {
    const old = this.path;
    if (old === undefined || old === path) return;
    const before = this.message;
    this.message = before.split(quote(old)).join(quote(path));
    if (this.stack?.includes(before)) this.stack = this.stack.replace(before, () => this.message);
    this.path = path;
  }

  /** A JSON form without the cause: the cause may be an SDK object full of request detail. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, path: this.path, backend: this.backend };
  }
}

/** The file or folder does not exist. */
export class NotFound extends RemoteStoreError {
  override readonly code = 'NOT_FOUND';
}

/** The destination exists and `overwrite` is false. */
export class AlreadyExists extends RemoteStoreError {
  override readonly code = 'ALREADY_EXISTS';
}

/** Credentials or access rules refused the operation. */
export class PermissionDenied extends RemoteStoreError {
  override readonly code = 'PERMISSION_DENIED';
}

/** A malformed path, a path of the wrong kind (file vs folder), or the root used as a file. */
export class InvalidPath extends RemoteStoreError {
  override readonly code = 'INVALID_PATH';
}

/** A folder that has content was deleted without `recursive`. */
export class DirectoryNotEmpty extends RemoteStoreError {
  override readonly code = 'DIRECTORY_NOT_EMPTY';
}

/** The backend cannot be reached, timed out, keeps failing, or was closed. */
export class BackendUnavailable extends RemoteStoreError {
  override readonly code = 'BACKEND_UNAVAILABLE';
}

/** The backend lacks the capability a method or option needs. */
export class CapabilityNotSupported extends RemoteStoreError {
  override readonly code = 'CAPABILITY_NOT_SUPPORTED';
  /** The capability's value string, e.g. `'glob'`, or `'unwrap'`. */
  readonly capability: string;

  constructor(message: string, details: ErrorDetails & { capability: string }) {
    super(message, details);
    this.capability = details.capability;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), capability: this.capability };
  }
}

/** A file's content is not in the format asked for (not a Parquet file, a corrupt page). */
export class InvalidFormat extends RemoteStoreError {
  override readonly code = 'INVALID_FORMAT';
}

/** The operation was cancelled through its `AbortSignal`. Its `name` is `'AbortError'` like the DOM's. */
export class AbortError extends RemoteStoreError {
  override readonly code = 'ABORTED';
  constructor(message = 'The operation was aborted', details: ErrorDetails = {}) {
    super(message, details);
    this.name = 'AbortError';
  }
}

/** Throws {@link AbortError} when `signal` has fired. Call before each unit of I/O. */
export function throwIfAborted(signal: AbortSignal | undefined, path?: string, backend?: string): void {
  if (signal?.aborted) throw abortError(signal, path, backend);
}

/** The error of an operation on `path` whose signal fired, with the signal's reason as cause. */
export function abortError(signal: AbortSignal, path?: string, backend?: string): AbortError {
  return new AbortError(path === undefined ? 'Operation aborted' : `Operation aborted: ${quote(path)}`, { path, backend, cause: signal.reason });
}

/** True for an abort, whatever layer raised it (ours, Node's streams, the AWS SDK). */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { code?: string }).code === 'ABORT_ERR');
}

/** Formats a path for messages: quoted so an empty path is still visible. */
export function quote(path: string): string {
  return `'${path}'`;
}
