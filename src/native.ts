/**
 * The native (Rust, object_store) data path: a typed wrapper over the napi-rs addon in
 * `native/`. Every call runs on the addon's tokio runtime; the JS thread only schedules it.
 *
 * - Buffers returned by `get`/`getRange`/`getRanges` are views over Rust memory (no copy).
 * - Bytes passed in are copied once, on a Rust worker thread.
 * - Each call takes `{signal}`; aborting cancels the native work and rejects with `AbortError`.
 * - Native failures become this library's error classes (`NotFound`, `AlreadyExists`, …) with
 *   `.path`, `.backend` and the native error as `.cause`.
 */
import { Readable } from 'node:stream';
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
import { Secret, revealSecret } from './secret';

/* The generated binding's types (native/binding.d.ts), restated so that dist/ does not depend on it. */
export interface Binding {
  CancelToken: new () => NativeCancelToken;
  NativeObjectStore: {
    s3(options: Record<string, unknown>): RawStore;
    local(rootDir: string, tuning?: NativeTuning | null): RawStore;
    memory(): RawStore;
  };
  parquetOpenSource(source: RawByteSource, options: RawScanOptions | null, token: NativeCancelToken): Promise<RawParquetScan>;
  parquetSummarySource(source: RawByteSource, host: RawHostTypes | null): Promise<RawParquetSummary>;
  ParquetEncoderHandle: new (path: string, options: { compression?: string; rowGroupSize?: number } | null) => RawParquetEncoder;
}
export interface NativeCancelToken {
  cancel(): void;
  readonly cancelled: boolean;
}
interface RawPutResult {
  size: number;
  etag?: string;
  version?: string;
}
interface RawHead {
  size: number;
  lastModified: number;
  etag?: string;
  version?: string;
}
interface RawUpload {
  write(chunk: Buffer): Promise<void>;
  finish(): Promise<RawPutResult>;
  abort(): Promise<void>;
  readonly bytesWritten: number;
}
/** Which optional Arrow types the host has (see `src/arrow/load.ts`). */
export interface RawHostTypes {
  largeList?: boolean;
  largeUtf8?: boolean;
  largeBinary?: boolean;
  decimal256?: boolean;
}
export interface RawFilterValue {
  bool?: boolean;
  num?: number;
  bigint?: string;
  str?: string;
  bytes?: Buffer;
  dateMs?: number;
}
export interface RawScanOptions {
  columns?: string[];
  filter?: Array<Array<{ column: string; op: string; values: RawFilterValue[] }>>;
  rowGroups?: number[];
  limit?: number;
  batchSize?: number;
  host?: RawHostTypes;
}
/** A decoded batch held by the addon until `export()` hands it over (once). */
export interface RawArrowBatch {
  readonly numRows: number;
  regionKeys(): { key: string; length: number }[];
  export(reuse?: (ArrayBuffer | null)[]): import('./arrow/cdata').ExportedBatch;
}
export interface RawParquetScan {
  next(token: NativeCancelToken): Promise<RawArrowBatch | null>;
  schema(): RawArrowBatch;
  stats(): { requests: number; bytes: number };
  plan(): Promise<{ rowGroupsInFile: number; rowGroups: number[]; rowsSelected: number }>;
  close(): Promise<void>;
}
export interface RawParquetSummary {
  numRows: number;
  createdBy?: string;
  version: number;
  keyValueMetadata: Record<string, string>;
  rowGroups: Array<{ numRows: number; totalByteSize: number; compressedSize: number; columns: import('./arrow/parquet').ParquetColumnChunk[] }>;
  size: number;
  hasPageIndex: boolean;
  schema: RawArrowBatch;
}
/** A Parquet object read through JavaScript, for stores without a native data path. */
export interface RawByteSource {
  path: string;
  suffix(n: number): Promise<{ data: Buffer; size: number; etag?: string; version?: string }>;
  ranges(ranges: { offset: number; length: number }[]): Promise<Buffer[]>;
}
export interface RawParquetEncoder {
  write(root: import('./arrow/cdata').ImportNode): Promise<Buffer>;
  finish(schemaSource: import('./arrow/cdata').ImportNode | null): Promise<Buffer>;
}
/* Datasets (src/arrow/dataset.ts): the binding's dataset scans and partitioned encoder. */
export interface RawDatasetOptions {
  hive?: boolean;
  columns?: string[];
  filter?: RawScanOptions['filter'];
  limit?: number;
  batchSize?: number;
  host?: RawHostTypes;
}
export interface RawDatasetScan {
  next(token: NativeCancelToken): Promise<RawArrowBatch | null>;
  schema(): RawArrowBatch;
  files(): string[];
  numRows(): number;
  progress(): { filesTotal: number; filesDone: number; rows: number; bytes: number; requests: number };
  close(): Promise<void>;
}
/** The objects of a store read through JavaScript, by path. */
export interface RawFiles {
  suffix(req: { path: string; n: number }): Promise<{ data: Buffer; size: number; etag?: string; version?: string }>;
  ranges(req: { path: string; ranges: { offset: number; length: number }[] }): Promise<Buffer[]>;
}
export interface RawEncodedChunk {
  path: string;
  data: Buffer;
  last: boolean;
}
export interface RawDatasetWriter {
  write(root: import('./arrow/cdata').ImportNode): Promise<RawEncodedChunk[]>;
  finish(schemaSource: import('./arrow/cdata').ImportNode | null): Promise<RawEncodedChunk[]>;
}
export interface DatasetBinding {
  datasetOpenSource(files: RawFiles, base: string, paths: string[], options: RawDatasetOptions | null, token: NativeCancelToken): Promise<RawDatasetScan>;
  DatasetWriterHandle: new (
    options: { partitionBy?: string[]; maxRowsPerFile?: number; encoder?: { compression?: string; compressionLevel?: number; rowGroupSize?: number } } | null,
  ) => RawDatasetWriter;
}
export interface RawDatasetStore {
  datasetOpen(base: string, paths: string[], options: RawDatasetOptions | null, token: NativeCancelToken): Promise<RawDatasetScan>;
}
export interface RawStore {
  readonly kind: string;
  close(): void;
  get(path: string, token: NativeCancelToken): Promise<Buffer>;
  getRange(path: string, offset: number, length: number | undefined | null, token: NativeCancelToken): Promise<Buffer>;
  getRanges(
    path: string,
    ranges: { offset: number; length: number }[],
    token: NativeCancelToken,
  ): Promise<{ buffers: Buffer[]; slices: number[][] }>;
  put(path: string, data: Buffer, options: { mode?: string; metadata?: Record<string, string> } | null, token: NativeCancelToken): Promise<RawPutResult>;
  copy(src: string, dst: string, overwrite: boolean, token: NativeCancelToken): Promise<void>;
  head(path: string, token: NativeCancelToken): Promise<RawHead>;
  delete(path: string, token: NativeCancelToken): Promise<void>;
  createUpload(path: string, options: Record<string, unknown> | null, token: NativeCancelToken): RawUpload;
  parquetOpen(path: string, options: RawScanOptions | null, token: NativeCancelToken): Promise<RawParquetScan>;
  parquetSummary(path: string, host: RawHostTypes | null, token: NativeCancelToken): Promise<RawParquetSummary>;
}

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

export type NativeErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'PermissionDenied'
  | 'DirectoryNotEmpty'
  | 'Precondition'
  | 'Unavailable'
  | 'Aborted'
  | 'InvalidInput'
  | 'InvalidArgument'
  | 'InvalidData'
  | 'Other';

/** Maps a native rejection (an Error whose `code` is a {@link NativeErrorCode}) to our classes. */
export function mapNativeError(err: unknown, path: string | undefined, backend: string, signal?: AbortSignal): Error {
  if (err instanceof RemoteStoreError) return err;
  const e = err as { code?: string; path?: string; message?: string } | undefined;
  const p = typeof e?.path === 'string' && e.path !== '' ? e.path : path;
  const message = e?.message ?? String(err);
  const details = { path: p, backend, cause: err };
  if (signal?.aborted || e?.code === 'Aborted') {
    return new AbortError(`Operation aborted: '${p ?? ''}'`, { ...details, cause: signal?.reason ?? err });
  }
  switch (e?.code as NativeErrorCode | undefined) {
    case 'NotFound':
      return new NotFound(message, details);
    case 'AlreadyExists':
      return new AlreadyExists(message, details);
    case 'PermissionDenied':
      return new PermissionDenied(message, details);
    case 'DirectoryNotEmpty':
      return new DirectoryNotEmpty(message, details);
    case 'Unavailable':
      return new BackendUnavailable(message, details);
    case 'InvalidInput':
      return new InvalidPath(message, details);
    case 'InvalidArgument':
      // A caller's argument (an unknown column, a malformed filter): the message names it.
      return new TypeError(message, { cause: err });
    case 'InvalidData':
      return new InvalidFormat(message, details);
    default:
      return new RemoteStoreError(message, details);
  }
}

export interface NativeTuning {
  /** Objects larger than this are read with parallel ranged GETs (default 16 MiB). */
  parallelGetThreshold?: number;
  /** Size of each ranged GET (default 8 MiB). */
  getChunkSize?: number;
  /** Requests in flight per call (default 8). */
  concurrency?: number;
  /** Multipart part size (default 8 MiB, at least 5 MiB). */
  partSize?: number;
  /** Uploads up to this size go as one PUT (default 8 MiB). */
  singlePutThreshold?: number;
}

export interface NativeCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Expiry: a Date or milliseconds since the epoch. */
  expiration?: Date | number;
}

export interface NativeS3Options {
  bucket: string;
  /** e.g. `http://127.0.0.1:9000`; a value without scheme gets `https://`. */
  endpoint?: string;
  region?: string;
  accessKeyId?: string | Secret;
  secretAccessKey?: string | Secret;
  sessionToken?: string | Secret;
  /** Refreshable credentials (e.g. the AWS SDK's provider chain); called again before expiry. */
  credentials?: () => Promise<NativeCredentials>;
  allowHttp?: boolean;
  /** PEM bundle of extra trusted root certificates. */
  caCertPath?: string;
  retry?: { maxAttempts?: number; backoffBase?: number; backoffMax?: number; timeout?: number };
  /** Seconds per request (default 1800: multi-GiB bodies). */
  requestTimeout?: number;
  /** Seconds (default 10). */
  connectTimeout?: number;
  virtualHostedStyle?: boolean;
  /** How `copy(…, {overwrite: false})` is made conditional: 'multipart' (default), 'head-then-copy', 'header:<name>:<value>'. */
  copyIfNotExists?: string;
  tuning?: NativeTuning;
  /** Requests in flight at once, and idle connections kept (default 256). */
  maxConnections?: number;
  /** Name used in errors' `.backend` (default 's3-arrow'). */
  backendName?: string;
}

export interface NativeSignalOptions {
  signal?: AbortSignal;
}

export interface NativePutOptions extends NativeSignalOptions {
  /** 'create' fails with AlreadyExists when the object exists (S3: `If-None-Match: *`). */
  mode?: 'overwrite' | 'create';
  metadata?: Record<string, string>;
}

export interface NativeUploadOptions extends NativePutOptions {
  contentType?: string;
  partSize?: number;
  concurrency?: number;
}

export interface NativePutResult {
  size: number;
  etag?: string;
  version?: string;
}

export interface NativeHeadResult {
  size: number;
  lastModified: Date;
  etag?: string;
  version?: string;
}

export interface NativeByteRange {
  offset: number;
  length: number;
}

function toBuffer(data: Uint8Array | string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A streaming upload. Await each `write` (backpressure); `finish` commits, `abort` discards. */
export class NativeUpload {
  #raw: RawUpload;
  #token: NativeCancelToken;
  #path: string;
  #backend: string;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  /** @internal */
  constructor(raw: RawUpload, token: NativeCancelToken, path: string, backend: string, signal: AbortSignal | undefined) {
    this.#raw = raw;
    this.#token = token;
    this.#path = path;
    this.#backend = backend;
    this.#signal = signal;
    if (signal) {
      this.#onAbort = () => token.cancel();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get bytesWritten(): number {
    return this.#raw.bytesWritten;
  }

  async write(chunk: Uint8Array | string): Promise<void> {
    try {
      await this.#raw.write(toBuffer(chunk));
    } catch (err) {
      this.#detach();
      throw mapNativeError(err, this.#path, this.#backend, this.#signal);
    }
  }

  async finish(): Promise<NativePutResult> {
    try {
      return await this.#raw.finish();
    } catch (err) {
      throw mapNativeError(err, this.#path, this.#backend, this.#signal);
    } finally {
      this.#detach();
    }
  }

  async abort(): Promise<void> {
    this.#detach();
    try {
      await this.#raw.abort();
    } catch (err) {
      throw mapNativeError(err, this.#path, this.#backend);
    }
  }

  #detach(): void {
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    this.#onAbort = undefined;
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
    const raw: Record<string, unknown> = {
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
      throw constructorError(err, backend);
    }
  }

  /** A store over a local directory (created when missing). */
  static local(rootDir: string, tuning?: NativeTuning): NativeObjectStore {
    const b = loadNativeBinding();
    try {
      return new NativeObjectStore(b, b.NativeObjectStore.local(rootDir, tuning ?? null), 'native-local');
    } catch (err) {
      throw constructorError(err, 'native-local');
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
    return r.slices.map(([b, off, len]) => r.buffers[b]!.subarray(off, off + len));
  }

  put(path: string, data: Uint8Array | string, options: NativePutOptions = {}): Promise<NativePutResult> {
    const opts = { mode: options.mode ?? 'overwrite', metadata: options.metadata };
    return this.#call(path, options.signal, (t) => this.#raw.put(path, toBuffer(data), opts, t));
  }

  /** A streaming upload handle. The signal (if any) aborts the whole upload. */
  createUpload(path: string, options: NativeUploadOptions = {}): NativeUpload {
    throwIfAborted(options.signal, path);
    const token = new this.#binding.CancelToken();
    const { signal, ...rest } = options;
    let raw: RawUpload;
    try {
      raw = this.#raw.createUpload(path, { ...rest, mode: rest.mode ?? 'overwrite' }, token);
    } catch (err) {
      throw constructorError(err, this.backendName, path);
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
  throwIfAborted(signal, path);
  const token = new binding.CancelToken();
  const onAbort = () => token.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn(token);
  } catch (err) {
    throw mapNativeError(err, path, backend, signal);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Synchronous native failures carry "<Kind>: message" (napi cannot set `code` there). */
function constructorError(err: unknown, backend: string, path?: string): Error {
  const msg = (err as Error)?.message ?? String(err);
  const m = /^(NotFound|AlreadyExists|PermissionDenied|DirectoryNotEmpty|Precondition|Unavailable|Aborted|InvalidInput|InvalidArgument|InvalidData|Other): ([\s\S]*)$/.exec(msg);
  if (!m) return new RemoteStoreError(msg, { path, backend, cause: err });
  // A bad option (empty bucket, unreadable CA bundle, …) is a usage error, not a storage one.
  if (m[1] === 'InvalidInput' && path === undefined) return new TypeError(m[2], { cause: err });
  const coded = Object.assign(new Error(m[2]), { code: m[1] });
  return mapNativeError(coded, path, backend);
}
