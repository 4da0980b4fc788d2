/**
 * The `s3` data path: everything through `@aws-sdk/client-s3` — resumable reads
 * (sdk-reads.ts), single PUT or our multipart upload (sdk-upload.ts), and CopyObject.
 */
import type { Readable } from 'node:stream';
import type { BackendWriteOptions, WriteContent } from '../../backend';
import type { S3DataPath, S3Parts, Written } from './data-path';
import { SdkReads } from './sdk-reads';
import { SdkUploader } from './sdk-upload';

/**
 * A server-side CopyObject with the source's metadata and content type; create-only with
 * `If-None-Match: *` (atomic where the server honours it on CopyObject). The native data
 * path uses it too when its own copy would drop attributes.
 */
export async function copyObject(parts: S3Parts, src: string, dst: string, options: { overwrite: boolean; signal?: AbortSignal }): Promise<void> {
  const bucket = parts.settings.bucket;
  const input = {
    Bucket: bucket,
    Key: dst,
    CopySource: `${bucket}/${src.split('/').map(encodeURIComponent).join('/')}`,
    MetadataDirective: 'COPY' as const,
    ...(options.overwrite ? {} : { IfNoneMatch: '*' }),
  };
  await parts.sdk.send('CopyObject', input, dst, options.signal);
}

export class SdkDataPath implements S3DataPath {
  readonly #parts: S3Parts;
  readonly #reads: SdkReads;
  readonly #uploader: SdkUploader;

  constructor(parts: S3Parts) {
    this.#parts = parts;
    this.#reads = new SdkReads(parts);
    this.#uploader = new SdkUploader(parts);
  }

  read(key: string, signal?: AbortSignal): Promise<Readable> {
    return this.#reads.read(key, signal);
  }

  readBytes(key: string, signal?: AbortSignal): Promise<Buffer> {
    return this.#reads.readBytes(key, signal);
  }

  readRange(key: string, offset: number, length: number | undefined, signal?: AbortSignal): Promise<Buffer> {
    return this.#reads.readRange(key, offset, length, signal);
  }

  write(key: string, content: WriteContent, options: BackendWriteOptions, inMemory: boolean): Promise<Written> {
    return this.#uploader.write(key, content, options, inMemory);
  }

  copy(src: string, dst: string, _source: unknown, options: { overwrite: boolean; signal?: AbortSignal }): Promise<void> {
    return copyObject(this.#parts, src, dst, options);
  }

  unwrap(): undefined {
    return undefined;
  }

  close(): void {}
}

/** The factory of the `s3` composition. */
export const sdkDataPath = (parts: S3Parts): S3DataPath => new SdkDataPath(parts);
