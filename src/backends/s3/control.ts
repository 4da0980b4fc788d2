/**
 * The control path, on the SDK for both backends: HEAD and the probes built on it (file or
 * folder? is it there?), existence, file info, ping, deletes, and the checks a write target
 * must pass. S3 has no folders: a folder is a prefix with keys below it, so "not found" and
 * "is a folder" are told apart by one extra listing, only on error paths.
 */
import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { AbortError, AlreadyExists, DirectoryNotEmpty, InvalidPath, NotFound, type RemoteStoreError } from '../../errors';
import type { FileInfo } from '../../models';
import { ancestors } from '../../path';
import { notAFile, notAFolder, underFile } from '../base';
import type { SdkClient } from './client';
import { isServerError } from './errors';
import { withoutRetries } from './operation';
import { listObjects, type S3Listing } from './listing';
import type { S3Settings } from './options';
import { fileInfoFromHead } from './results';

export class ControlPath {
  readonly #sdk: SdkClient;
  readonly #settings: S3Settings;
  readonly #listing: S3Listing;

  constructor(sdk: SdkClient, settings: S3Settings, listing: S3Listing) {
    this.#sdk = sdk;
    this.#settings = settings;
    this.#listing = listing;
  }

  get #backend(): string {
    return this.#sdk.backend;
  }

  get #bucket(): string {
    return this.#settings.bucket;
  }

  /** The root is a folder: the error of every file operation on `''`. */
  rootIsNotAFile(): InvalidPath {
    return new InvalidPath("Path is the root folder, not a file: ''", { path: '', backend: this.#backend });
  }

  /**
   * HEAD of a key; undefined when there is no such object. `checksums` asks for the stored
   * checksums too, only where the answer is shown (a FileInfo, a write's result): the server
   * reads them for every such HEAD, and existence probes have no use for them.
   */
  async head(key: string, signal?: AbortSignal, checksums = false): Promise<HeadObjectCommandOutput | undefined> {
    try {
      const input = { Bucket: this.#bucket, Key: key, ...(checksums ? { ChecksumMode: 'ENABLED' as const } : {}) };
      return await this.#sdk.send('HeadObject', input, key, signal);
    } catch (err) {
      if (err instanceof NotFound) return undefined;
      // s3s-fs (keys stored as files) answers 500 for a HEAD of a key that is a directory
      // on its disk; a listing tells whether such a key really exists as an object.
      // It asks once: the HEAD has used its attempts (retry budgets must not multiply).
      if (isServerError(err) && !(await withoutRetries(() => this.keyListed(key, signal)))) return undefined;
      throw err;
    }
  }

  /** True when some key lies below `key/` (one listing with MaxKeys=1). */
  async hasChildren(key: string, signal?: AbortSignal): Promise<boolean> {
    const prefix = key === '' ? '' : `${key}/`;
    try {
      const out = await listObjects(this.#sdk, { Bucket: this.#bucket, Prefix: prefix, MaxKeys: 1 }, key, signal);
      return (out.KeyCount ?? (out.Contents?.length ?? 0) + (out.CommonPrefixes?.length ?? 0)) > 0;
    } catch (err) {
      if (err instanceof NotFound) return false; // missing bucket reads as an absent path
      throw err;
    }
  }

  /** True when `key` itself is listed as an object (fallback when HEAD/GET fail with 5xx); fails closed. */
  async keyListed(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const out = await listObjects(this.#sdk, { Bucket: this.#bucket, Prefix: key, MaxKeys: 1 }, key, signal);
      return out.Contents?.[0]?.Key === key;
    } catch (err) {
      if (err instanceof AbortError) throw err;
      return true;
    }
  }

  /** Fail-open variant of hasChildren for error-path probes. */
  async probeFolder(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      return await this.hasChildren(key, signal);
    } catch (err) {
      if (err instanceof AbortError) throw err;
      return false;
    }
  }

  async probeFile(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      return (await this.head(key, signal)) !== undefined;
    } catch (err) {
      if (err instanceof AbortError) throw err;
      return false;
    }
  }

  notFoundOrFolder(key: string, isFolder: boolean, what = 'File'): RemoteStoreError {
    return isFolder ? notAFile(key, this.#backend) : new NotFound(`${what} not found: '${key}'`, { path: key, backend: this.#backend });
  }

  /**
   * The error for a key found missing by a read: NotFound, or InvalidPath when it is a folder.
   * The probe asks once: the read has used its attempts already.
   */
  async missing(key: string, signal?: AbortSignal): Promise<RemoteStoreError> {
    return this.notFoundOrFolder(key, await withoutRetries(() => this.probeFolder(key, signal)));
  }

  /** HEAD of a key that must be a file: NotFound when missing, InvalidPath for a folder. */
  async headFile(key: string, signal?: AbortSignal, what = 'File', checksums = false): Promise<HeadObjectCommandOutput> {
    if (key === '') throw this.rootIsNotAFile();
    const h = await this.head(key, signal, checksums);
    if (h) return h;
    throw this.notFoundOrFolder(key, await this.probeFolder(key, signal), what);
  }

  // ---- questions -------------------------------------------------------------------

  async exists(key: string, signal?: AbortSignal): Promise<boolean> {
    if (key === '') return true;
    if ((await this.head(key, signal)) !== undefined) return true;
    return this.hasChildren(key, signal);
  }

  async isFile(key: string, signal?: AbortSignal): Promise<boolean> {
    if (key === '') return false;
    return (await this.head(key, signal)) !== undefined;
  }

  async isFolder(key: string, signal?: AbortSignal): Promise<boolean> {
    if (key === '') return true;
    return this.hasChildren(key, signal);
  }

  async getFileInfo(key: string, signal?: AbortSignal): Promise<FileInfo> {
    return fileInfoFromHead(key, await this.headFile(key, signal, 'File', true));
  }

  async ping(signal?: AbortSignal): Promise<void> {
    try {
      await this.#sdk.send('HeadBucket', { Bucket: this.#bucket }, '', signal);
    } catch (err) {
      if (err instanceof NotFound) {
        throw new NotFound(`Bucket not found: '${this.#bucket}'`, { path: '', backend: this.#backend, cause: err.cause });
      }
      throw err;
    }
  }

  // ---- write targets ---------------------------------------------------------------

  /** The opt-in ancestor check: each slash-aligned ancestor HEADed; fail-open on probe errors. */
  async #checkAncestors(key: string, signal?: AbortSignal): Promise<void> {
    if (!this.#settings.rejectWriteUnderFileAncestor) return;
    for (const ancestor of ancestors(key)) {
      if (await this.probeFile(ancestor, signal)) throw underFile(ancestor, key, this.#backend);
    }
  }

  async checkWriteTarget(key: string, overwrite: boolean, signal?: AbortSignal): Promise<void> {
    // Path validity before the overwrite rule (DESIGN §4).
    await this.#checkAncestors(key, signal);
    if (!overwrite && (await this.head(key, signal)) !== undefined) {
      throw new AlreadyExists(`File already exists: '${key}'`, { path: key, backend: this.#backend });
    }
  }

  // ---- deletes ---------------------------------------------------------------------

  /** Deletes one object, whoever wrote it (no checks: move's last step). */
  async deleteObject(key: string, signal?: AbortSignal): Promise<void> {
    await this.#sdk.send('DeleteObject', { Bucket: this.#bucket, Key: key }, key, signal);
  }

  async delete(key: string, missingOk: boolean, signal?: AbortSignal): Promise<void> {
    if ((await this.head(key, signal)) === undefined) {
      if (await this.probeFolder(key, signal)) throw notAFile(key, this.#backend);
      if (missingOk) return;
      throw new NotFound(`File not found: '${key}'`, { path: key, backend: this.#backend });
    }
    await this.deleteObject(key, signal);
  }

  async deleteFolder(key: string, recursive: boolean, missingOk: boolean, signal?: AbortSignal): Promise<void> {
    if (key === '') throw new InvalidPath("Cannot delete the root folder: ''", { path: key, backend: this.#backend });
    if (!(await this.hasChildren(key, signal))) {
      if (await this.probeFile(key, signal)) throw notAFolder(key, this.#backend);
      if (missingOk) return;
      throw new NotFound(`Folder not found: '${key}'`, { path: key, backend: this.#backend });
    }
    if (!recursive) throw new DirectoryNotEmpty(`Folder not empty: '${key}'`, { path: key, backend: this.#backend });
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const out = await this.#sdk.send('DeleteObjects', { Bucket: this.#bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }, key, signal);
      batch = [];
      const failed = out.Errors?.filter((e) => e.Code !== 'NoSuchKey') ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw this.#sdk.mapError({ name: first.Code, message: first.Message }, first.Key ?? key, 'S3 delete');
      }
    };
    for await (const page of this.#listing.pages(`${key}/`, undefined, signal, key)) {
      for (const obj of page.Contents ?? []) {
        if (obj.Key !== undefined) batch.push(obj.Key);
        if (batch.length === 1000) await flush();
      }
    }
    await flush();
  }
}
