/**
 * The `s3` data path: everything through `@aws-sdk/client-s3` — resumable reads
 * (sdk-reads.ts), single PUT or our multipart upload (sdk-upload.ts), and CopyObject.
 */
import type { Readable } from 'node:stream';
import type { BackendWriteOptions, PresignOptions, WriteContent } from '../../backend';
import type { S3DataPath, S3Parts, Written } from './data-path';
import { NativeSigner } from './presign';
import { SdkReads } from './sdk-reads';
import { SdkUploader } from './sdk-upload';
import { copyHeaders, type SourceAttributes } from './write-headers';

/**
 * A server-side CopyObject keeping the source's metadata, content headers and storage class,
 * with the store's write defaults (write-headers.ts); create-only with `If-None-Match: *`
 * (atomic where the server honours it on CopyObject). The native data path uses it too when
 * its own copy would lose something (write-headers.ts copyNeedsHeaders).
 */
export async function copyObject(
  parts: S3Parts,
  src: string,
  dst: string,
  source: SourceAttributes,
  options: { overwrite: boolean; signal?: AbortSignal },
): Promise<void> {
  const bucket = parts.settings.bucket;
  const input = {
    Bucket: bucket,
    Key: dst,
    CopySource: `${bucket}/${src.split('/').map(encodeURIComponent).join('/')}`,
    MetadataDirective: 'COPY' as const,
    ...copyHeaders(parts.settings.clientOptions().writeDefaults, source),
    ...(options.overwrite ? {} : { IfNoneMatch: '*' }),
  };
  await parts.sdk.send('CopyObject', input, dst, options.signal);
}

export class SdkDataPath implements S3DataPath {
  readonly #parts: S3Parts;
  readonly #reads: SdkReads;
  readonly #uploader: SdkUploader;
  readonly #signer: NativeSigner;

  constructor(parts: S3Parts) {
    this.#parts = parts;
    this.#reads = new SdkReads(parts);
    this.#uploader = new SdkUploader(parts);
    this.#signer = new NativeSigner(parts);
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

  copy(src: string, dst: string, source: SourceAttributes, options: { overwrite: boolean; signal?: AbortSignal }): Promise<void> {
    return copyObject(this.#parts, src, dst, source, options);
  }

  presign(key: string, options: PresignOptions): Promise<string> {
    return this.#signer.presign(key, options);
  }

  unwrap(): undefined {
    return undefined;
  }

  close(): void {
    this.#signer.close();
  }
}

/** The factory of the `s3` composition. */
export const sdkDataPath = (parts: S3Parts): S3DataPath => new SdkDataPath(parts);
