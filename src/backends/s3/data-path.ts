/**
 * The seam between the S3 backend and how bytes move: reads, writes and copies go through an
 * {@link S3DataPath}, of which there are two — the AWS SDK (`s3`, sdk-data-path.ts) and the
 * Rust object_store addon (`s3-arrow`, native-data-path.ts). Everything else (options, the
 * SDK client, the control path, listing, the checks before a write, the WriteResult) is the
 * one backend's, so the two types differ in this one part only.
 */
import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { BackendWriteOptions, PresignOptions, WriteContent } from '../../backend';
import { sourceFailure } from '../../content';
import { AbortError, RemoteStoreError } from '../../errors';
import type { SdkClient } from './client';
import type { ControlPath } from './control';
import type { DeferredAborts } from './deferred-aborts';
import type { S3Settings } from './options';
import type { RequestPacer } from './pacing';
import type { PutAnswer } from './results';

/** The parts of the backend a data path is built with. */
export interface S3Parts {
  /** The backend type's name (`s3`, `s3-arrow`), as errors carry it. */
  readonly name: string;
  readonly settings: S3Settings;
  readonly sdk: SdkClient;
  readonly control: ControlPath;
  readonly aborts: DeferredAborts;
  /** Admits every request of the backend, both paths (pacing.ts). */
  readonly pacer: RequestPacer;
  /** Throws once the backend is closed. */
  readonly checkOpen: () => void;
}

/** What a committed write answered: the bytes written and the server's answer. */
export interface Written {
  size: number;
  put: PutAnswer;
}

export interface S3DataPath {
  /** A stream of the object; a missing object fails here, not in the stream. */
  read(key: string, signal?: AbortSignal): Promise<Readable>;
  readBytes(key: string, signal?: AbortSignal): Promise<Buffer>;
  /** `length` is positive or undefined (to the end): the backend answers a zero length itself. */
  readRange(key: string, offset: number, length: number | undefined, signal?: AbortSignal): Promise<Buffer>;
  /**
   * Writes after the backend's checks (target, ancestors, closed): `inMemory` says the content
   * is bytes already. Create-only (`overwrite: false`) is enforced by the server; a failing
   * source or an abort commits nothing.
   */
  write(key: string, content: WriteContent, options: BackendWriteOptions, inMemory: boolean): Promise<Written>;
  /** Copies after the backend HEADed the source (`source`) and checked the target. */
  copy(src: string, dst: string, source: HeadObjectCommandOutput, options: { overwrite: boolean; signal?: AbortSignal }): Promise<void>;
  /** A URL allowing `options.method` on `key` without credentials (presign.ts); no network I/O. */
  presign(key: string, options: PresignOptions): Promise<string>;
  /** The data path's own handle for `unwrap`, or undefined when it has none of that class. */
  unwrap(type: unknown): unknown;
  close(): void;
}

/** How a backend composes its data path. */
export type S3DataPathFactory = (parts: S3Parts) => S3DataPath;

/**
 * The error of a streamed write that failed after it began, the same on both paths: the
 * abort when the signal fired, our own errors as they are, anything else as the source's.
 */
export function writeFailure(err: unknown, key: string, backend: string, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return new AbortError(`Write aborted: '${key}'`, { path: key, backend, cause: err });
  if (err instanceof RemoteStoreError || err instanceof TypeError || err instanceof RangeError) return err;
  return sourceFailure(err, key, backend);
}
