/**
 * The native (Rust, object_store) data path: a typed wrapper over the napi-rs addon in
 * `native/`. Every call runs on the addon's tokio runtime; the JS thread only schedules it.
 *
 * - Buffers returned by `get`/`getRange`/`getRanges` are views over Rust memory (no copy).
 * - Buffers passed in are lent to Rust until the call settles (no copy; do not change them meanwhile).
 * - Each call takes `{signal}`; aborting cancels the native work and rejects with `AbortError`.
 * - Native failures become this library's error classes (`NotFound`, `AlreadyExists`, …) with
 *   `.path`, `.backend` and the native error (its `code`, `status`, `s3Code`, `attempts`,
 *   `detail`) as `.cause`. {@link mapNativeError} is the one mapping from native codes to classes.
 *
 * The addon's own types come from its generated declarations (`native/binding.d.ts`).
 */
import { Readable } from 'node:stream';
import type * as Raw from '../native/binding';
import {
  AbortError,
  AlreadyExists,
  BackendUnavailable,
  DirectoryNotEmpty,
  InvalidFormat,
  InvalidPath,
  NotFound,
  PermissionDenied,
  RemoteStoreError,
  throwIfAborted,
} from './errors';
import { appendFile, Gatherer } from './content';
import { describe } from './retry';
import { Secret, revealSecret } from './secret';

/** The addon module. */
export type Binding = typeof Raw;
export type RawStore = Raw.NativeObjectStore;
export type NativeCancelToken = Raw.CancelToken;
export type RawScanOptions = Raw.ScanOptions;
export type RawFilterValue = Raw.FilterValue;
export type RawParquetScan = Raw.ParquetScanHandle;
export type RawParquetSummary = Raw.ParquetSummary;
/** A Parquet object read through JavaScript (the addon's `JsByteSource`, its callbacks typed). */
export interface RawByteSource {
  path: string;
  suffix(n: number): Promise<{ data: Buffer; size: number; etag?: string; version?: string }>;
  ranges(ranges: { offset: number; length: number }[]): Promise<Buffer[]>;
}
export type RawHostTypes = Raw.HostTypeOptions;
/** The objects of a store read through JavaScript, by path (the addon's `JsFiles`, its callbacks typed). */
export interface RawFiles {
  suffix(req: { path: string; n: number }): Promise<{ data: Buffer; size: number; etag?: string; version?: string }>;
  ranges(req: { path: string; ranges: { offset: number; length: number }[] }): Promise<Buffer[]>;
}
/* Datasets (src/arrow/dataset.ts): the binding's dataset scans and partitioned encoder. */
export type RawDatasetOptions = Raw.DatasetOptions;
export type RawDatasetScan = Raw.DatasetScanHandle;
export type RawDatasetStore = Raw.NativeObjectStore;
export type RawEncodedChunk = Raw.EncodedChunk;
export type DatasetBinding = Binding;
export type RawArrowBatch = Raw.ArrowBatch;
export type NativeTuning = Raw.TuningOptions;
export type NativeWriteDefaults = Raw.WriteDefaults;
export type NativePutResult = Raw.PutResult;
export type NativeByteRange = Raw.ByteRange;


let binding: Binding | undefined;
let loadError: unknown;

/** Loads the addon once; a missing or broken build becomes `BackendUnavailable`. */
export function loadNativeBinding(): Binding {
  if (binding) return binding;
  if (loadError === undefined) {
    try {
      // dist/native.js and src/native.ts both sit one level below the package root.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      binding = require('../native/binding.js') as Binding;
      return binding;
    } catch (err) {
      loadError = err;
    }
  }
  // The loader (native/binding.js) says which platform lacks a binary and what to do.
  throw new BackendUnavailable(`The native addon could not be loaded: ${(loadError as Error)?.message ?? loadError}`, {
    backend: 'native',
    cause: loadError,
  });
}

/** True when the native addon loads on this machine. */
export function nativeAvailable(): boolean {
  try {
    loadNativeBinding();
    return true;
  } catch {
    return false;
  }
}

/** The `code` of every native error (Rust `ErrorKind::as_str`). */
export type NativeErrorCode =
  | 'NotFound'
  | 'BucketNotFound'
  | 'AlreadyExists'
  | 'PermissionDenied'
  | 'DirectoryNotEmpty'
  | 'Precondition'
  | 'Unavailable'
  | 'Timeout'
  | 'Aborted'
  | 'InvalidInput'
  | 'InvalidArgument'
  | 'InvalidData'
  | 'Other';

/** What a native rejection carries besides its one-line message. */
export interface NativeErrorFields {
  code: NativeErrorCode;
  /** The key as passed in (empty for store-level errors). */
  path?: string;
  /** HTTP status of the server's last answer. */
  status?: number;
  /** The server's error code, e.g. `NoSuchBucket`, `SlowDown`, `PreconditionFailed`. */
  s3Code?: string;
  /** HTTP attempts of the failing request (the retry policy is applied once, natively). */
  attempts?: number;
  /** Method, URL, server message, transport error chain (credentials redacted). */
  detail?: string;
}

/** The native fields of `err` (a native rejection), or undefined for other errors. */
export function nativeErrorFields(err: unknown): NativeErrorFields | undefined {
  const e = err as Partial<NativeErrorFields> | undefined;
  return typeof e?.code === 'string' && e instanceof Error ? (e as NativeErrorFields) : undefined;
}

/**
 * Maps a native rejection to our classes: NotFound, BucketNotFound → NotFound (a missing bucket
 * is NotFound on the SDK path and in ping() too, as in the Python library); AlreadyExists →
 * AlreadyExists; PermissionDenied → PermissionDenied; Unavailable, Timeout → BackendUnavailable;
 * InvalidInput (a key) → InvalidPath; InvalidArgument (an option or argument) → TypeError;
 * InvalidData → InvalidFormat; Aborted (or a fired signal) → AbortError; Precondition, Other →
 * RemoteStoreError. The native error is the `.cause`.
 */
export function mapNativeError(err: unknown, path: string | undefined, backend: string, signal?: AbortSignal): Error {
  if (err instanceof RemoteStoreError) return err;
  const e = nativeErrorFields(err);
  const p = e?.path ? e.path : path;
  const message = (err as Error)?.message ?? String(err);
  const details = { path: p, backend, cause: err };
  if (signal?.aborted || e?.code === 'Aborted') {
    return new AbortError(`Operation aborted: '${p ?? ''}'`, { ...details, cause: signal?.reason ?? err });
  }
  switch (e?.code) {
    case 'NotFound':
    case 'BucketNotFound':
      return new NotFound(message, details);
    case 'AlreadyExists':
      return new AlreadyExists(message, details);
    case 'PermissionDenied':
      return new PermissionDenied(message, details);
    case 'DirectoryNotEmpty':
      return new DirectoryNotEmpty(message, details);
    case 'Unavailable':
    case 'Timeout':
      return new BackendUnavailable(message, details);
    case 'InvalidInput':
      return new InvalidPath(message, details);
    case 'InvalidArgument':
      return new TypeError(message, { cause: err });
    case 'InvalidData':
      return new InvalidFormat(message, details);
    default:
      return new RemoteStoreError(message, details);
  }
}

export interface NativeCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Expiry: a Date or milliseconds since the epoch. */
  expiration?: Date | number;
}

/**
 * Options of {@link NativeObjectStore.s3}: the addon's `S3StoreOptions` (see
 * `native/binding.d.ts`) with secrets as {@link Secret} allowed,
 * credentials expiring at a Date, and the name used in errors.
 */
export type NativeS3Options = Omit<Raw.S3StoreOptions, 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'credentials'> & {
  accessKeyId?: string | Secret;
  secretAccessKey?: string | Secret;
  sessionToken?: string | Secret;
  /** Refreshable credentials (e.g. the AWS SDK's provider chain); called again before expiry. */
  credentials?: () => Promise<NativeCredentials>;
  /** Name used in errors' `.backend` (default 's3-arrow'). */
  backendName?: string;
};

export interface NativeSignalOptions {
  signal?: AbortSignal;
}

/** Options of one write: mode ('create' is atomic: `If-None-Match: *`), metadata, content headers. */
export type NativePutOptions = Raw.WriteOptions & NativeSignalOptions & { mode?: 'overwrite' | 'create' };
export type NativeUploadOptions = NativePutOptions & {
  /** This upload's part size in bytes (at least 5 MiB; the store's `partSize` otherwise). */
  partSize?: number;
  /** Parts in flight for this upload (the store's `uploadConcurrency` otherwise). */
  concurrency?: number;
};

export interface NativeHeadResult {
  size: number;
  lastModified: Date;
  etag?: string;
  version?: string;
}

function toBuffer(data: Uint8Array | string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** Without a signal, calls share one token that is never cancelled (no object per call). */
let neverCancelled: NativeCancelToken | undefined;


/** A streaming upload. Await each `write` (backpressure); `finish` commits, `abort` discards. */
export class NativeUpload {
  #raw: Raw.NativeUpload;
  #path: string;
  #backend: string;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  /** Small chunks copied here until a piece is full. */
  #gatherer = new Gatherer();
  /** The error a native write failed with: later writes fail with it too (the upload is aborted). */
  #failed: Error | undefined;

  /** @internal */
  constructor(raw: Raw.NativeUpload, token: NativeCancelToken, path: string, backend: string, signal: AbortSignal | undefined) {
    this.#raw = raw;
    this.#path = path;
    this.#backend = backend;
    this.#signal = signal;
    if (signal) {
      this.#onAbort = () => token.cancel();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get bytesWritten(): number {
    return this.#raw.bytesWritten + this.#gatherer.held;
  }

  /** Resolves when the chunk is taken (copied: the caller may reuse its buffer then). */
  async write(chunk: Uint8Array | string): Promise<void> {
    this.#throwIfUnusable();
    for (const piece of this.#gatherer.add(toBuffer(chunk))) await this.#send(piece);
  }

  /**
   * Appends bytes `start`..`end` (inclusive; Infinity: to its end) of the local file `file`,
   * which the addon reads a part at a time: they never pass through JS. `onBytes` follows each
   * part. Resolves with the bytes appended; undefined, with nothing appended, when the file
   * cannot be opened (the caller then reads it another way, and meets the error there).
   */
  async writeFile(file: string, start: number, end: number, onBytes?: (bytes: number) => void): Promise<number | undefined> {
    this.#throwIfUnusable();
    await this.#flush();
    const writer = {
      attachFile: (path: string) => this.#raw.attachFile(path),
      writeFileRange: (offset: number, max: number) => {
        this.#throwIfUnusable();
        return this.#native(() => this.#raw.writeFileRange(offset, max));
      },
    };
    return appendFile(writer, file, start, end, onBytes);
  }

  async finish(): Promise<NativePutResult> {
    try {
      await this.#flush();
      return await this.#raw.finish();
    } catch (err) {
      throw mapNativeError(err, this.#path, this.#backend, this.#signal);
    } finally {
      this.#detach();
    }
  }

  async abort(): Promise<void> {
    this.#detach();
    this.#gatherer.take();
    try {
      await this.#raw.abort();
    } catch (err) {
      throw mapNativeError(err, this.#path, this.#backend);
    }
  }

  /** Sends what was gathered; the piece now belongs to Rust, the next one is a new allocation. */
  async #flush(): Promise<void> {
    const piece = this.#gatherer.take();
    if (piece) await this.#send(piece);
  }

  #send(data: Buffer): Promise<void> {
    return this.#native(() => this.#raw.write(data));
  }

  /** A native write; its failure fails the upload (later writes fail with the same error). */
  async #native<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      this.#detach();
      throw (this.#failed = mapNativeError(err, this.#path, this.#backend, this.#signal));
    }
  }

  #throwIfUnusable(): void {
    if (this.#failed) throw this.#failed;
    if (this.#signal?.aborted) {
      throw new AbortError(`Operation aborted: '${this.#path}'`, { path: this.#path, backend: this.#backend, cause: this.#signal.reason });
    }
  }

  #detach(): void {
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
  }
}

/**
 * The string options of the native S3 store, checked here: the addon's own conversion error
 * quotes the value it was given (a secret in the wrong option would be shown).
 */
const S3_STRING_OPTIONS = ['bucket', 'endpoint', 'region', 'caCertPath', 'copyIfNotExists', 'rangedReads'] as const satisfies ReadonlyArray<
  keyof Raw.S3StoreOptions
>;
const WRITE_DEFAULT_STRING_OPTIONS = [
  'serverSideEncryption',
  'sseKmsKeyId',
  'acl',
  'storageClass',
  'contentType',
  'cacheControl',
  'contentDisposition',
  'contentEncoding',
] as const satisfies ReadonlyArray<keyof Raw.WriteDefaults>;

function checkStringOptions(where: string, options: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) {
    const v = options[name];
    if (v !== undefined && v !== null && typeof v !== 'string') throw new TypeError(`${where}: option '${name}' must be a string, got ${describe(v)}`);
  }
}

/** The native data-path store (S3 via object_store, or a local directory). */
export class NativeObjectStore {
  readonly #raw: RawStore;
  readonly #binding: Binding;
  /** Name used as `.backend` in errors. */
  readonly backendName: string;

  private constructor(b: Binding, raw: RawStore, backendName: string) {
    this.#binding = b;
    this.#raw = raw;
    this.backendName = backendName;
  }

  /** An S3 (or S3-compatible) store. No network I/O here. */
  static s3(options: NativeS3Options): NativeObjectStore {
    const b = loadNativeBinding();
    const backend = options.backendName ?? 's3-arrow';
    const { credentials, accessKeyId, secretAccessKey, sessionToken, backendName: _name, ...rest } = options;
    checkStringOptions('NativeObjectStore.s3', rest as Record<string, unknown>, S3_STRING_OPTIONS);
    checkStringOptions('NativeObjectStore.s3: writeDefaults', (rest.writeDefaults ?? {}) as Record<string, unknown>, WRITE_DEFAULT_STRING_OPTIONS);
    const raw: Raw.S3StoreOptions = {
      ...rest,
      accessKeyId: revealSecret(accessKeyId),
      secretAccessKey: revealSecret(secretAccessKey),
      sessionToken: revealSecret(sessionToken),
    };
    if (credentials) {
      raw.credentials = async () => {
        const c = await credentials();
        const exp = c.expiration instanceof Date ? c.expiration.getTime() : c.expiration;
        return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: exp };
      };
    }
    try {
      return new NativeObjectStore(b, b.NativeObjectStore.s3(raw), backend);
    } catch (err) {
      throw mapNativeError(err, undefined, backend);
    }
  }

  /** A store over a local directory (created when missing). */
  static local(rootDir: string, tuning?: NativeTuning): NativeObjectStore {
    const b = loadNativeBinding();
    try {
      return new NativeObjectStore(b, b.NativeObjectStore.local(rootDir, tuning ?? null), 'native-local');
    } catch (err) {
      throw mapNativeError(err, undefined, 'native-local');
    }
  }

  /** An in-memory store (for tests). */
  static memory(): NativeObjectStore {
    const b = loadNativeBinding();
    return new NativeObjectStore(b, b.NativeObjectStore.memory(), 'native-memory');
  }

  /** 's3' | 'local' | 'memory' */
  get kind(): string {
    return this.#raw.kind;
  }

  #call<T>(path: string, signal: AbortSignal | undefined, fn: (token: NativeCancelToken) => Promise<T>): Promise<T> {
    return nativeCall(this.#binding, path, this.backendName, signal, fn);
  }

  /**
   * Lets go of the store: calls under way finish, later ones fail with `BackendUnavailable`,
   * and its connections close with the last call instead of whenever the GC collects it.
   */
  close(): void {
    this.#raw.close();
  }

  /**
   * A read whose signal fired before its result reached JavaScript ends in AbortError, even
   * when the addon had finished (a busy JS thread can lag behind a fast local read): the
   * caller no longer wants the bytes. A write's result stands instead: the write happened.
   */
  async #read<T>(path: string, signal: AbortSignal | undefined, fn: (token: NativeCancelToken) => Promise<T>): Promise<T> {
    const result = await this.#call(path, signal, fn);
    if (signal?.aborted) throw new AbortError(`Operation aborted: '${path}'`, { path, backend: this.backendName, cause: signal.reason });
    return result;
  }

  /** @internal The addon's own store object, for the Arrow/Parquet layer. */
  rawStore(): RawStore {
    return this.#raw;
  }

  /** The whole object, as one Buffer over native memory. */
  get(path: string, options: NativeSignalOptions = {}): Promise<Buffer> {
    return this.#read(path, options.signal, (t) => this.#raw.get(path, t));
  }

  /** `length` bytes from `offset` (fewer at the end of the object; omitted: to the end; past the end: empty). */
  getRange(path: string, offset: number, length?: number, options: NativeSignalOptions = {}): Promise<Buffer> {
    return this.#read(path, options.signal, (t) => this.#raw.getRange(path, offset, length ?? null, t));
  }

  /** Many ranges; close ones are fetched together. Returns one Buffer (a view) per range, in order. */
  async getRanges(path: string, ranges: NativeByteRange[], options: NativeSignalOptions = {}): Promise<Buffer[]> {
    const r = await this.#read(path, options.signal, (t) => this.#raw.getRanges(path, ranges, t));
    return r.slices.map(([b, off, len]) => r.buffers[b!]!.subarray(off, off! + len!));
  }

  /** One write; answers from the server's response (no HEAD). */
  put(path: string, data: Uint8Array | string, options: NativePutOptions = {}): Promise<NativePutResult> {
    const { signal, ...write } = options;
    return this.#call(path, signal, (t) => this.#raw.put(path, toBuffer(data), write, t));
  }

  /** A streaming upload handle. The signal (if any) aborts the whole upload. */
  createUpload(path: string, options: NativeUploadOptions = {}): NativeUpload {
    throwIfAborted(options.signal, path);
    const token = new this.#binding.CancelToken();
    const { signal, partSize, concurrency, ...write } = options;
    let raw: Raw.NativeUpload;
    try {
      raw = this.#raw.createUpload(path, write, { partSize, concurrency }, token);
    } catch (err) {
      throw mapNativeError(err, path, this.backendName);
    }
    return new NativeUpload(raw, token, path, this.backendName, signal);
  }

  /**
   * Streams `source` into `path`. If the source throws (or the signal fires), the upload is
   * aborted: no object, no open multipart upload is left behind.
   */
  async upload(path: string, source: AsyncIterable<Uint8Array | string> | Readable, options: NativeUploadOptions = {}): Promise<NativePutResult> {
    const up = this.createUpload(path, options);
    try {
      for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
        await up.write(chunk);
      }
      return await up.finish();
    } catch (err) {
      await up.abort().catch(() => undefined);
      if (options.signal?.aborted && !(err instanceof AbortError)) {
        throw new AbortError(`Operation aborted: '${path}'`, { path, backend: this.backendName, cause: options.signal.reason });
      }
      throw err;
    }
  }

  /** A URL that allows `method` on `path` for `expiresIn` seconds without credentials (S3 only). */
  async presign(path: string, method: 'GET' | 'PUT', expiresIn: number): Promise<string> {
    try {
      return await this.#raw.presign(path, method, expiresIn);
    } catch (err) {
      throw mapNativeError(err, path, this.backendName);
    }
  }

  /** Server-side copy. `overwrite: false` (default) → AlreadyExists when `dst` exists. */
  copy(src: string, dst: string, options: NativeSignalOptions & { overwrite?: boolean } = {}): Promise<void> {
    return this.#call(src, options.signal, (t) => this.#raw.copy(src, dst, options.overwrite ?? false, t));
  }

  async head(path: string, options: NativeSignalOptions = {}): Promise<NativeHeadResult> {
    const h = await this.#read(path, options.signal, (t) => this.#raw.head(path, t));
    return { size: h.size, lastModified: new Date(h.lastModified), etag: h.etag, version: h.version };
  }

  delete(path: string, options: NativeSignalOptions = {}): Promise<void> {
    return this.#call(path, options.signal, (t) => this.#raw.delete(path, t));
  }
}

/**
 * Runs one native call with a cancel token tied to `signal`; a rejection becomes one of our
 * error classes (`AbortError` when the signal fired).
 */
export async function nativeCall<T>(
  binding: Binding,
  path: string,
  backend: string,
  signal: AbortSignal | undefined,
  fn: (token: NativeCancelToken) => Promise<T>,
): Promise<T> {
  if (!signal) {
    try {
      return await fn((neverCancelled ??= new binding.CancelToken()));
    } catch (err) {
      throw mapNativeError(err, path, backend);
    }
  }
  throwIfAborted(signal, path);
  const token = new binding.CancelToken();
  const onAbort = () => token.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn(token);
  } catch (err) {
    throw mapNativeError(err, path, backend, signal);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
