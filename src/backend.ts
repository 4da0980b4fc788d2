import type { Readable } from 'node:stream';
import type { CapabilitySet } from './capabilities';
import type { ChildEntry, FileInfo, FolderEntry, FolderInfo, WriteResult } from './models';
import type { WriteAttributes } from './write-attributes';

/** What can be written: bytes, text (UTF-8), a Node stream (read from its current position) or chunks. */
export type WriteContent = Buffer | Uint8Array | ArrayBuffer | string | Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Called as a transfer advances, with the bytes done so far and the total when known. */
export type ProgressCallback = (progress: { bytes: number; total?: number }) => void;

export interface SignalOptions {
  signal?: AbortSignal;
}

export interface BackendWriteOptions extends SignalOptions {
  overwrite: boolean;
  metadata?: Record<string, string>;
  /** Validated by the Store; given only to backends that declare WRITE_ATTRIBUTES. */
  attributes?: WriteAttributes;
  onProgress?: ProgressCallback;
  /**
   * The Store has just run `checkWriteTarget` with these options (openAtomic does, before its
   * callback runs): a backend may skip the same check before the first byte. Checks that close
   * a race at commit time (a conditional write, a hard link) still apply.
   */
  targetChecked?: boolean;
}

export interface PresignOptions {
  /** What the URL allows: reading the object, or writing it (replacing any object there). */
  method: 'GET' | 'PUT';
  /** Seconds the URL stays valid. */
  expiresIn: number;
}

export interface BackendListOptions extends SignalOptions {
  recursive: boolean;
  /** Folder levels below the listed folder to include; undefined for unlimited. */
  maxDepth?: number;
}

/**
 * A class a backend can hand out through `unwrap`, e.g. the AWS SDK's `S3Client`, or one
 * without a public constructor such as `NativeObjectStore` (matched by its prototype).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Unwrappable<T> = (abstract new (...args: any[]) => T) | (Function & { prototype: T });

/**
 * A storage adapter. It works on backend-relative keys that the {@link Store} has
 * already normalised (`''` is the root; no `..`, no empty segments) and it never lets
 * a native error escape: everything it throws is a `RemoteStoreError` (or a
 * `TypeError`/`RangeError` for bad arguments).
 *
 * The Store owns path validation, root refusals, capability gates, metadata
 * validation and rebasing; the backend owns everything that needs to look at storage
 * (existence, file vs folder, overwrite rules) in the order DESIGN §4 fixes.
 */
export interface Backend {
  /** The backend's type name (`'local'`, `'memory'`, `'s3'`, …), used in errors. */
  readonly name: string;
  readonly capabilities: CapabilitySet;
  /** True when folders are real nodes (local, memory); false for flat key spaces (S3). */
  readonly hierarchical: boolean;

  /** Throws `BackendUnavailable` when the backend was closed and cannot be used again. */
  checkOpen(): void;

  exists(key: string, options?: SignalOptions): Promise<boolean>;
  isFile(key: string, options?: SignalOptions): Promise<boolean>;
  isFolder(key: string, options?: SignalOptions): Promise<boolean>;

  read(key: string, options?: SignalOptions): Promise<Readable>;
  readBytes(key: string, options?: SignalOptions): Promise<Buffer>;
  /** Bytes `[offset, offset + length)`, shorter at the end of the file; `length` undefined reads to the end. */
  readRange(key: string, offset: number, length: number | undefined, options?: SignalOptions): Promise<Buffer>;

  /** Checks that `key` may be written (not a folder, no file ancestor, overwrite rule) without writing. */
  checkWriteTarget(key: string, options: { overwrite: boolean } & SignalOptions): Promise<void>;
  write(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult>;
  /** Like write, but readers never see a partial object and a failing source commits nothing. */
  writeAtomic(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult>;

  delete(key: string, options: { missingOk: boolean } & SignalOptions): Promise<void>;
  deleteFolder(key: string, options: { recursive: boolean; missingOk: boolean } & SignalOptions): Promise<void>;

  listFiles(key: string, options: BackendListOptions): AsyncIterable<FileInfo>;
  /** Immediate subfolders of `key`. */
  listFolders(key: string, options?: SignalOptions): AsyncIterable<FolderEntry>;
  iterChildren(key: string, options?: SignalOptions): AsyncIterable<ChildEntry>;
  /** Files whose whole key matches the glob (see `glob.ts` for the syntax). */
  glob(pattern: string, options?: SignalOptions): AsyncIterable<FileInfo>;

  move(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void>;
  copy(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void>;

  getFileInfo(key: string, options?: SignalOptions): Promise<FileInfo>;
  getFolderInfo(key: string, options?: SignalOptions): Promise<FolderInfo>;

  /**
   * A URL that allows `method` on `key` for `expiresIn` seconds without credentials; only
   * backends that declare PRESIGN have it. No network I/O.
   */
  presign?(key: string, options: PresignOptions): Promise<string>;

  /** One cheap request proving reachability, credentials and that the container exists. */
  ping(options?: SignalOptions): Promise<void>;
  /** Releases resources. Idempotent. */
  close(): Promise<void>;
  unwrap<T>(type: Unwrappable<T>): T;
  /** The backend-native location of a key (an absolute file path, `bucket/key`, …). */
  nativePath(key: string): string;
  /** The inverse of nativePath; input that is not the backend's passes through unchanged. */
  toKey(native: string): string;
}
