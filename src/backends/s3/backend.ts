/**
 * The S3 backend: one class for both S3 types, composed of validated settings (options.ts),
 * the SDK client (client.ts), the control path (control.ts), listing (listing.ts) and a
 * data path (data-path.ts) — the SDK's for `s3`, the native one for `s3-arrow`. Decisions
 * that must be the same on both (the checks before a write, root refusals, a zero-length
 * range, the WriteResult, move = copy + verify + delete) are made here, once.
 *
 * Flat namespace: folders are key prefixes, no marker objects are written and a folder
 * vanishes with its last key. `overwrite: false` is enforced by the server with
 * `If-None-Match: *` on the single PUT, on CompleteMultipartUpload and on CopyObject, so of
 * concurrent writers to a new key at most one wins on servers that honour it (AWS S3 does).
 * Still racy: move/copy destination checks on servers that ignore If-None-Match on CopyObject,
 * the ancestor check of `reject_write_under_file_ancestor`, and the delete half of move.
 */
import type { Readable } from 'node:stream';
import type { Backend, BackendListOptions, BackendWriteOptions, PresignOptions, SignalOptions, Unwrappable, WriteContent } from '../../backend';
import { Capability, CapabilitySet } from '../../capabilities';
import { checkContent, isInMemory } from '../../content';
import { NotFound, RemoteStoreError, throwIfAborted } from '../../errors';
import type { ChildEntry, FileInfo, FolderEntry, FolderInfo, WriteResult } from '../../models';
import type { RetryPolicy } from '../../retry';
import { BaseBackend } from '../base';
import { SdkClient } from './client';
import { ControlPath } from './control';
import type { S3DataPath, S3DataPathFactory } from './data-path';
import { DeferredAborts } from './deferred-aborts';
import { boundOperations } from './operation';
import { S3Listing } from './listing';
import { type S3BackendOptions, S3Settings } from './options';
import { MAX_IN_FLIGHT, RequestPacer } from './pacing';
import { writeResult } from './results';
import { sdkDataPath } from './sdk-data-path';

/** Which backend type a composition makes: its name, the class name it shows, its data path. */
export interface S3Composition {
  readonly name: string;
  readonly label: string;
  readonly dataPath: S3DataPathFactory;
}

const SDK_COMPOSITION: S3Composition = { name: 's3', label: 'S3Backend', dataPath: sdkDataPath };

export class S3Backend extends BaseBackend implements Backend {
  readonly name: string;
  readonly hierarchical = false;
  readonly capabilities = CapabilitySet.allExcept(Capability.ATOMIC_MOVE);
  protected override readonly closeIsTerminal = true;

  readonly bucket: string;
  readonly endpointUrl: string | undefined;
  readonly regionName: string | undefined;
  readonly caBundle: string | undefined;
  readonly retry: RetryPolicy;
  readonly rejectWriteUnderFileAncestor: boolean;
  // Private: the parts hold the credentials, and nothing shows them (inspect, JSON).
  readonly #label: string;
  readonly #sdk: SdkClient;
  readonly #control: ControlPath;
  readonly #listing: S3Listing;
  readonly #aborts = new DeferredAborts();
  readonly #data: S3DataPath;

  /** `composition` is internal: `S3ArrowBackend` passes the native data path. */
  constructor(options: S3BackendOptions, composition: S3Composition = SDK_COMPOSITION) {
    super();
    const settings = new S3Settings(options);
    this.name = composition.name;
    this.#label = composition.label;
    this.bucket = settings.bucket;
    this.endpointUrl = settings.endpointUrl;
    this.regionName = settings.regionName;
    this.caBundle = settings.caBundle;
    this.retry = settings.retry;
    this.rejectWriteUnderFileAncestor = settings.rejectWriteUnderFileAncestor;
    const checkOpen = () => this.checkOpen();
    // No more requests running than the pool has connections: the rest would queue anyway.
    const pacer = new RequestPacer({ maxInFlight: Math.min(MAX_IN_FLIGHT, settings.maxSockets) });
    this.#sdk = new SdkClient(settings, this.name, checkOpen, pacer);
    this.#listing = new S3Listing(this.#sdk, settings.bucket);
    this.#control = new ControlPath(this.#sdk, settings, this.#listing);
    this.#data = composition.dataPath({ name: this.name, settings, sdk: this.#sdk, control: this.#control, aborts: this.#aborts, pacer, checkOpen });
  }

  toString(): string {
    return `${this.#label}(bucket='${this.bucket}'${this.endpointUrl ? `, endpoint_url='${this.endpointUrl}'` : ''})`;
  }

  override nativePath(key: string): string {
    return key === '' ? this.bucket : `${this.bucket}/${key}`;
  }

  override toKey(native: string): string {
    if (native === this.bucket || native === `${this.bucket}/`) return '';
    if (native.startsWith(`${this.bucket}/`)) return native.slice(this.bucket.length + 1);
    return super.toKey(native);
  }

  /** `S3Client` → the SDK (control-path) client; the data path may hand out its own (NativeObjectStore). */
  override unwrap<T>(type: Unwrappable<T>): T {
    if (this.#sdk.isClientClass(type)) return this.#sdk.clientSync() as unknown as T;
    const own = this.#data.unwrap(type);
    if (own !== undefined) return own as T;
    return super.unwrap(type);
  }

  /** Terminal: deferred aborts get a last attempt, then both clients close. */
  override async close(): Promise<void> {
    if (!this.closed) await this.#aborts.settle();
    this.closed = true;
    this.#sdk.destroy();
    this.#data.close();
  }

  // ---- probes (control path) -------------------------------------------------------

  async exists(key: string, options: SignalOptions = {}): Promise<boolean> {
    this.checkOpen();
    return this.#control.exists(key, options.signal);
  }

  async isFile(key: string, options: SignalOptions = {}): Promise<boolean> {
    this.checkOpen();
    return this.#control.isFile(key, options.signal);
  }

  async isFolder(key: string, options: SignalOptions = {}): Promise<boolean> {
    this.checkOpen();
    return this.#control.isFolder(key, options.signal);
  }

  async getFileInfo(key: string, options: SignalOptions = {}): Promise<FileInfo> {
    this.checkOpen();
    return this.#control.getFileInfo(key, options.signal);
  }

  override async getFolderInfo(key: string, options: SignalOptions = {}): Promise<FolderInfo> {
    this.checkOpen();
    let fileCount = 0;
    let totalSize = 0;
    let modifiedAt: Date | undefined;
    for await (const file of this.#listing.listFiles(key, { recursive: true, signal: options.signal })) {
      fileCount++;
      totalSize += file.size;
      if (!modifiedAt || file.modifiedAt > modifiedAt) modifiedAt = file.modifiedAt;
    }
    if (fileCount === 0 && key !== '') {
      if (await this.#control.probeFile(key, options.signal)) throw this.notAFolder(key);
      throw new NotFound(`Folder not found: '${key}'`, { path: key, backend: this.name });
    }
    return { path: key, fileCount, totalSize, modifiedAt };
  }

  async ping(options: SignalOptions = {}): Promise<void> {
    this.checkOpen();
    return this.#control.ping(options.signal);
  }

  // ---- reads (data path) -----------------------------------------------------------

  async read(key: string, options: SignalOptions = {}): Promise<Readable> {
    this.checkOpen();
    return this.#data.read(key, options.signal);
  }

  async readBytes(key: string, options: SignalOptions = {}): Promise<Buffer> {
    this.checkOpen();
    return this.#data.readBytes(key, options.signal);
  }

  async readRange(key: string, offset: number, length: number | undefined, options: SignalOptions = {}): Promise<Buffer> {
    this.checkOpen();
    if (length === 0) {
      await this.#control.headFile(key, options.signal);
      return Buffer.alloc(0);
    }
    return this.#data.readRange(key, offset, length, options.signal);
  }

  // ---- writes ----------------------------------------------------------------------

  async checkWriteTarget(key: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    await this.#control.checkWriteTarget(key, options.overwrite, options.signal);
  }

  /**
   * The checks before a write's first byte, the same on both data paths; answers whether the
   * content is already in memory. For buffers the conditional PUT alone decides; a stream gets
   * an early HEAD so an existing target fails before its body is consumed (the condition still
   * closes the race), unless the Store has just made that check (openAtomic).
   */
  async #beginWrite(key: string, content: WriteContent, options: BackendWriteOptions): Promise<boolean> {
    this.checkOpen();
    checkContent(content);
    throwIfAborted(options.signal, key);
    // In the background: a write must not wait for a server that may still be down.
    void this.#aborts.retry();
    const inMemory = isInMemory(content);
    if (!options.targetChecked && (!inMemory || this.rejectWriteUnderFileAncestor)) {
      await this.checkWriteTarget(key, { overwrite: options.overwrite || inMemory, signal: options.signal });
    }
    return inMemory;
  }

  async write(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    const inMemory = await this.#beginWrite(key, content, options);
    const { size, put } = await this.#data.write(key, content, options, inMemory);
    // From the PUT's (or CompleteMultipartUpload's) answer alone: no HEAD after a write.
    return writeResult(key, size, put, options);
  }

  /** A PUT is atomic, and streamed writes abort their multipart upload on failure. */
  writeAtomic(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    return this.write(key, content, options);
  }

  /** A URL allowing `method` on `key` for `expiresIn` seconds (the Store validated both). */
  async presign(key: string, options: PresignOptions): Promise<string> {
    this.checkOpen();
    return this.#data.presign(key, options);
  }

  // ---- deletes (control path) ------------------------------------------------------

  async delete(key: string, options: { missingOk: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    await this.#control.delete(key, options.missingOk, options.signal);
  }

  async deleteFolder(key: string, options: { recursive: boolean; missingOk: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    await this.#control.deleteFolder(key, options.recursive, options.missingOk, options.signal);
  }

  // ---- listing ---------------------------------------------------------------------

  async *listFiles(key: string, options: BackendListOptions): AsyncGenerator<FileInfo> {
    this.checkOpen();
    yield* this.#listing.listFiles(key, options);
  }

  async *listFolders(key: string, options: SignalOptions = {}): AsyncGenerator<FolderEntry> {
    this.checkOpen();
    yield* this.#listing.listFolders(key, options.signal);
  }

  override async *iterChildren(key: string, options: SignalOptions = {}): AsyncGenerator<ChildEntry> {
    this.checkOpen();
    yield* this.#listing.iterChildren(key, options.signal);
  }

  // ---- copy / move -----------------------------------------------------------------

  async copy(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    const source = await this.#control.headFile(src, options.signal, 'Source');
    if (src === dst) return;
    await this.checkWriteTarget(dst, options);
    await this.#data.copy(src, dst, source, options);
  }

  /** Copy, verify, then delete the source: never atomic (a crash can leave both). */
  async move(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    const h = await this.#control.headFile(src, options.signal, 'Source');
    if (src === dst) return;
    await this.copy(src, dst, options);
    const copied = await this.#control.head(dst, options.signal);
    if (!copied || (h.ContentLength !== undefined && copied.ContentLength !== h.ContentLength)) {
      throw new RemoteStoreError(`Move of '${src}' to '${dst}' failed: the copy could not be verified; the source was kept`, {
        path: src,
        backend: this.name,
      });
    }
    await this.#control.deleteObject(src, options.signal);
  }
}

/**
 * The operations `retry.timeout` bounds as a whole, every request they make included
 * (operation.ts), on both types. Not the listings and the folder-wide ones (listFiles,
 * getFolderInfo, deleteFolder): their length grows with the folder, so each of their requests
 * keeps a timeout of its own.
 */
const BOUNDED_OPERATIONS = [
  'exists',
  'isFile',
  'isFolder',
  'getFileInfo',
  'ping',
  'read',
  'readBytes',
  'readRange',
  'write',
  'writeAtomic',
  'checkWriteTarget',
  'delete',
  'copy',
  'move',
] as const satisfies ReadonlyArray<keyof S3Backend>;
boundOperations(S3Backend.prototype, BOUNDED_OPERATIONS, (b) => (b as S3Backend).retry.timeout, (b) => (b as S3Backend).name);

/** Compile-time check. */
export type _S3IsBackend = S3Backend extends Backend ? true : never;
