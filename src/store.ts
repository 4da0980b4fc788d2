import { inspect } from 'node:util';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Backend, PresignOptions, ProgressCallback, SignalOptions, Unwrappable, WriteContent } from './backend';
import { Capability, type CapabilitySet } from './capabilities';
import { checkContent, holdStreamErrors, releaseSource, validateMetadata } from './content';
import { CapabilityNotSupported, InvalidPath, NotFound, RemoteStoreError, throwIfAborted } from './errors';
import { compileGlob } from './glob';
import type { ChildEntry, FileInfo, FolderEntry, FolderInfo, WriteResult } from './models';
import { checkOptions } from './options';
import { describe } from './retry';
import { joinKey, normalizeFolderPath, normalizePath, relativeTo } from './path';
import { validateWriteAttributes, WRITE_ATTRIBUTE_NAMES, type WriteAttributes } from './write-attributes';

/**
 * Options of the writes. The attributes (`contentType`, `cacheControl`, `contentDisposition`,
 * `contentEncoding`, `storageClass`) need WRITE_ATTRIBUTES; on S3 they override the store's
 * defaults from `client_options.s3_additional_kwargs`.
 */
export interface WriteOptions extends SignalOptions, WriteAttributes {
  /** Replace an existing file. Default false: an existing target raises AlreadyExists. */
  overwrite?: boolean;
  /** User metadata (string keys and values); needs USER_METADATA. */
  metadata?: Record<string, string>;
  /** Called as bytes are sent. */
  onProgress?: ProgressCallback;
}

export interface ListFilesOptions extends SignalOptions {
  recursive?: boolean;
  /** A glob on the base name, e.g. `*.csv`. */
  pattern?: string;
  /** Folder levels to descend (0 = direct children only); decides recursion by itself when given. */
  maxDepth?: number;
}

export interface StoreOptions {
  /** A key prefix no path of this store can escape. */
  rootPath?: string;
  /** Whether close() closes the backend. Default true for a Store you build yourself. */
  ownsBackend?: boolean;
}

const WRITE_SPEC = {
  overwrite: 'boolean',
  metadata: 'object',
  onProgress: 'function',
  ...Object.fromEntries(WRITE_ATTRIBUTE_NAMES.map((name) => [name, 'checked' as const])),
} as const;

/** SigV4 caps a presigned URL's life at 7 days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export interface StorePresignOptions extends SignalOptions {
  /** 'GET' (default): the URL reads the file. 'PUT': it writes the file, replacing any there. */
  method?: PresignOptions['method'];
  /** Seconds the URL stays valid: a whole number from 1 to 604800 (7 days). Default 3600. */
  expiresIn?: number;
}

/**
 * The facade users work with: one backend plus a root prefix. It validates paths and
 * options, enforces capability gates before any I/O, refuses the root as a file,
 * and hands out store-relative paths everywhere.
 *
 * @example
 * const store = new Store(new LocalBackend({ root: './data' }));
 * await store.write('reports/q1.csv', 'a,b\n1,2\n');
 * for await (const file of store.listFiles('reports')) console.log(file.path, file.size);
 */
export class Store {
  readonly backend: Backend;
  /** The normalised root prefix, `''` for the backend's root. */
  readonly rootPath: string;
  readonly #ownsBackend: boolean;

  constructor(backend: Backend, options: StoreOptions = {}) {
    if (!backend || typeof backend !== 'object' || typeof backend.checkOpen !== 'function') {
      throw new TypeError('Store needs a backend instance (LocalBackend, MemoryBackend, S3Backend, …)');
    }
    checkOptions('Store', options, { rootPath: 'string', ownsBackend: 'boolean' });
    this.backend = backend;
    this.rootPath = normalizeFolderPath(options.rootPath ?? '');
    this.#ownsBackend = options.ownsBackend ?? true;
  }

  // ---- plumbing --------------------------------------------------------------

  /** The backend key of a file path (root refused). */
  private fileKey(path: unknown): string {
    return joinKey(this.rootPath, normalizePath(path));
  }

  /** The backend key of a folder or query path (root allowed). */
  private folderKey(path: unknown): string {
    return joinKey(this.rootPath, normalizeFolderPath(path));
  }

  /** A backend key as a store-relative path. */
  private rel(key: string): string {
    const rel = relativeTo(key, this.rootPath);
    if (rel === undefined) {
      throw new InvalidPath(`Path '${key}' is not under store root '${this.rootPath}'`, { path: key, backend: this.backend.name });
    }
    return rel;
  }

  private gate(cap: Capability): void {
    this.backend.capabilities.require(cap, this.backend.name);
  }

  /** Runs a backend call on `key` (the operation's backend key), turning the paths in its errors into store-relative ones. */
  private async run<T>(signal: AbortSignal | undefined, key: string, work: () => Promise<T>): Promise<T> {
    try {
      throwIfAborted(signal, key, this.backend.name);
      return await work();
    } catch (err) {
      throw this.rebaseError(err);
    }
  }

  private rebaseError(err: unknown): unknown {
    if (err instanceof RemoteStoreError && err.path !== undefined) {
      const rel = relativeTo(err.path, this.rootPath);
      if (rel !== undefined) err.rebase(rel);
    }
    return err;
  }

  private async *iterate<T extends { path: string }>(source: () => AsyncIterable<T>): AsyncGenerator<T> {
    try {
      for await (const item of source()) yield { ...item, path: this.rel(item.path) };
    } catch (err) {
      throw this.rebaseError(err);
    }
  }

  /**
   * @internal For layers that drive a backend's data path themselves (Arrow/Parquet): the
   * backend key of a file path (the root refused), with errors made store-relative.
   */
  async withFileKey<T>(path: unknown, signal: AbortSignal | undefined, work: (key: string) => Promise<T>): Promise<T> {
    this.backend.checkOpen();
    const key = this.fileKey(path);
    return this.run(signal, key, () => work(key));
  }

  private fileResult(info: FileInfo): FileInfo {
    return { ...info, path: this.rel(info.path) };
  }

  // ---- introspection ---------------------------------------------------------

  get capabilities(): CapabilitySet {
    return this.backend.capabilities;
  }

  supports(cap: Capability): boolean {
    return this.backend.capabilities.supports(cap);
  }

  /** The backend's native client of the given class (e.g. `S3Client`), or CapabilityNotSupported. */
  unwrap<T>(type: Unwrappable<T>): T {
    return this.backend.unwrap(type);
  }

  /** Where a store path lives for the backend (an absolute file path, `bucket/key`, …). */
  nativePath(path = ''): string {
    return this.backend.nativePath(this.folderKey(path));
  }

  /** The store path of a backend-native location; InvalidPath when it lies outside this store. */
  toKey(native: string): string {
    if (typeof native !== 'string') throw new InvalidPath(`toKey needs a string, got ${typeof native}`, { path: String(native) });
    const key = normalizeFolderPath(this.backend.toKey(native));
    const rel = relativeTo(key, this.rootPath);
    if (rel === undefined) {
      throw new InvalidPath(`Path '${native}' is not under store root '${this.rootPath}'`, { path: native, backend: this.backend.name });
    }
    return rel;
  }

  /** A store for a sub-folder, sharing (and never closing) this store's backend. */
  child(subpath: string): Store {
    return new Store(this.backend, { rootPath: joinKey(this.rootPath, normalizePath(subpath)), ownsBackend: false });
  }

  /** True when both use the same backend object and root. */
  equals(other: unknown): boolean {
    return other instanceof Store && other.backend === this.backend && other.rootPath === this.rootPath;
  }

  toString(): string {
    return `Store(backend='${this.backend.name}', rootPath='${this.rootPath}')`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  // ---- lifecycle ----------------------------------------------------------------

  /** Checks reachability, credentials and that the container exists, with one request. */
  async ping(options: SignalOptions = {}): Promise<void> {
    checkOptions('ping', options, {});
    this.backend.checkOpen();
    await this.run(options.signal, this.rootPath, () => this.backend.ping(options));
  }

  /** Closes the backend when this store owns it; stores from child() or a Registry do not. */
  async close(): Promise<void> {
    if (this.#ownsBackend) await this.backend.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- probes ------------------------------------------------------------------

  async exists(path: string, options: SignalOptions = {}): Promise<boolean> {
    checkOptions('exists', options, {});
    this.backend.checkOpen();
    const key = this.folderKey(path);
    return this.run(options.signal, key, () => this.backend.exists(key, options));
  }

  async isFile(path: string, options: SignalOptions = {}): Promise<boolean> {
    checkOptions('isFile', options, {});
    this.backend.checkOpen();
    const key = this.folderKey(path);
    return this.run(options.signal, key, () => this.backend.isFile(key, options));
  }

  async isFolder(path: string, options: SignalOptions = {}): Promise<boolean> {
    checkOptions('isFolder', options, {});
    this.backend.checkOpen();
    const key = this.folderKey(path);
    return this.run(options.signal, key, () => this.backend.isFolder(key, options));
  }

  // ---- reads -------------------------------------------------------------------

  /** A stream of the file's bytes from the start. */
  async read(path: string, options: SignalOptions = {}): Promise<Readable> {
    checkOptions('read', options, {});
    this.backend.checkOpen();
    this.gate(Capability.READ);
    const key = this.fileKey(path);
    const stream = await this.run(options.signal, key, () => this.backend.read(key, options));
    // Errors that surface mid-stream carry store-relative paths too.
    const rebase = (err: unknown) => this.rebaseError(err);
    const emit = stream.emit.bind(stream);
    stream.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'error') rebase(args[0]);
      return emit(event, ...args);
    }) as typeof stream.emit;
    return stream;
  }

  async readBytes(path: string, options: SignalOptions = {}): Promise<Buffer> {
    checkOptions('readBytes', options, {});
    this.backend.checkOpen();
    this.gate(Capability.READ);
    const key = this.fileKey(path);
    return this.run(options.signal, key, () => this.backend.readBytes(key, options));
  }

  /** The file decoded as text; invalid bytes for the encoding raise a TypeError. */
  async readText(path: string, options: { encoding?: BufferEncoding } & SignalOptions = {}): Promise<string> {
    checkOptions('readText', options, { encoding: 'string' });
    const encoding = options.encoding ?? 'utf-8';
    if (!Buffer.isEncoding(encoding)) throw new TypeError(`readText: unknown encoding '${encoding}'`);
    const bytes = await this.readBytes(path, { signal: options.signal });
    if (encoding === 'utf8' || encoding === 'utf-8') return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return bytes.toString(encoding);
  }

  /** Exactly the bytes `[offset, offset + length)` (fewer at the end of the file). */
  async readRange(path: string, options: { offset: number; length?: number } & SignalOptions): Promise<Buffer> {
    checkOptions('readRange', options, { offset: 'count', length: 'count' });
    if (options?.offset === undefined) throw new TypeError("readRange: option 'offset' is required");
    this.backend.checkOpen();
    this.gate(Capability.READ);
    this.gate(Capability.SEEKABLE_READ);
    const key = this.fileKey(path);
    return this.run(options.signal, key, () => this.backend.readRange(key, options.offset, options.length, options));
  }

  // ---- writes ------------------------------------------------------------------

  private prepareWrite(method: string, path: string, content: unknown, options: WriteOptions, cap: Capability) {
    holdStreamErrors(content);
    checkOptions(method, options, WRITE_SPEC);
    this.backend.checkOpen();
    // DESIGN §4: closed backend, then the root refusal, before anything else.
    const key = this.fileKey(path);
    this.gate(cap);
    const metadata = validateMetadata(options.metadata);
    if (metadata) this.gate(Capability.USER_METADATA);
    const attributes = validateWriteAttributes(method, options as Record<string, unknown>);
    if (attributes) this.gate(Capability.WRITE_ATTRIBUTES);
    checkContent(content);
    const opts = { overwrite: options.overwrite ?? false, metadata, signal: options.signal, onProgress: options.onProgress };
    return { key, opts: attributes ? { ...opts, attributes } : opts };
  }

  private writeResult(result: WriteResult): WriteResult {
    return { ...result, path: this.rel(result.path) };
  }

  /**
   * Writes a file. Parents are implicit; an existing file needs `overwrite: true`. A stream
   * given to a write that fails is destroyed, as `stream.pipeline` does: make a new one to retry.
   */
  async write(path: string, content: WriteContent, options: WriteOptions = {}): Promise<WriteResult> {
    return this.writeThrough('write', Capability.WRITE, path, content, options);
  }

  async writeText(path: string, text: string, options: WriteOptions & { encoding?: BufferEncoding } = {}): Promise<WriteResult> {
    const { encoding, ...rest } = options ?? {};
    if (typeof text !== 'string') throw new TypeError(`writeText: text must be a string, got ${typeof text}`);
    if (encoding !== undefined && !Buffer.isEncoding(encoding)) throw new TypeError(`writeText: unknown encoding '${encoding}'`);
    return this.write(path, Buffer.from(text, encoding ?? 'utf8'), rest);
  }

  /** Writes so that readers never see a partial file; a failing source commits nothing. */
  async writeAtomic(path: string, content: WriteContent, options: WriteOptions = {}): Promise<WriteResult> {
    return this.writeThrough('writeAtomic', Capability.ATOMIC_WRITE, path, content, options);
  }

  /** One write through the backend's `method`; when it fails, a stream source is destroyed (releaseSource). */
  private async writeThrough(
    method: 'write' | 'writeAtomic',
    cap: Capability,
    path: string,
    content: WriteContent,
    options: WriteOptions,
  ): Promise<WriteResult> {
    try {
      const { key, opts } = this.prepareWrite(method, path, content, options, cap);
      return this.writeResult(await this.run(opts.signal, key, () => this.backend[method](key, content, opts)));
    } catch (err) {
      releaseSource(content);
      throw err;
    }
  }

  /**
   * Gives `fn` a writable stream; what it writes is committed atomically when `fn`
   * resolves and discarded when it throws (its error propagates unchanged).
   * AlreadyExists is raised before `fn` runs.
   */
  async openAtomic(
    path: string,
    options: WriteOptions,
    fn: (writable: Writable) => Promise<void> | void,
  ): Promise<WriteResult> {
    if (typeof options === 'function' && fn === undefined) {
      fn = options as typeof fn;
      options = {};
    }
    if (typeof fn !== 'function') throw new TypeError('openAtomic: the last argument must be a callback (writable) => …');
    const { key, opts } = this.prepareWrite('openAtomic', path, Buffer.alloc(0), options ?? {}, Capability.ATOMIC_WRITE);
    await this.run(opts.signal, key, () => this.backend.checkWriteTarget(key, opts));
    const pipe = new PassThrough();
    // The backend reads the failure from the stream's state; no 'error' listener may be there yet.
    pipe.on('error', () => undefined);
    const writing = this.backend.writeAtomic(key, pipe, { ...opts, targetChecked: true });
    // If the backend gives up early, make the caller's writes fail instead of waiting forever.
    writing.catch((err) => pipe.destroy(err));
    try {
      await fn(pipe);
    } catch (err) {
      pipe.destroy(err instanceof Error ? err : new Error(String(err)));
      await writing.catch(() => undefined);
      throw err;
    }
    pipe.end();
    return this.writeResult(await this.run(undefined, key, () => writing));
  }

  /**
   * A URL that reads (`GET`) or writes (`PUT`) the file for `expiresIn` seconds without
   * credentials, e.g. for a browser or another service. Needs PRESIGN (the S3 backends). The URL
   * is signed locally (no network I/O, and nothing checks that the file exists); it carries none
   * of the store's write defaults (`client_options.s3_additional_kwargs`): what a presigned PUT
   * stores is what its sender sends, under the bucket's default encryption.
   */
  async presign(path: string, options: StorePresignOptions = {}): Promise<string> {
    checkOptions('presign', options, { method: 'checked', expiresIn: 'checked' });
    this.backend.checkOpen();
    const key = this.fileKey(path);
    this.gate(Capability.PRESIGN);
    const method = options.method ?? 'GET';
    if (method !== 'GET' && method !== 'PUT') throw new TypeError("presign: option 'method' must be 'GET' or 'PUT'");
    const expiresIn = options.expiresIn ?? 3600;
    if (typeof expiresIn !== 'number') throw new TypeError(`presign: option 'expiresIn' must be a number of seconds, got a ${typeof expiresIn}`);
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
      throw new RangeError(`presign: option 'expiresIn' must be a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS} (7 days)`);
    }
    const backend = this.backend;
    if (typeof backend.presign !== 'function') {
      // A user backend that declares the capability without the method.
      throw new CapabilityNotSupported(`Capability 'presign' is declared by backend '${backend.name}' but it has no presign method`, {
        capability: Capability.PRESIGN,
        backend: backend.name,
      });
    }
    return this.run(options.signal, key, () => backend.presign!(key, { method, expiresIn }));
  }

  // ---- deletes -----------------------------------------------------------------

  async delete(path: string, options: { missingOk?: boolean } & SignalOptions = {}): Promise<void> {
    checkOptions('delete', options, { missingOk: 'boolean' });
    this.backend.checkOpen();
    this.gate(Capability.DELETE);
    const key = this.fileKey(path);
    await this.run(options.signal, key, () => this.backend.delete(key, { missingOk: options.missingOk ?? false, signal: options.signal }));
  }

  async deleteFolder(path: string, options: { recursive?: boolean; missingOk?: boolean } & SignalOptions = {}): Promise<void> {
    checkOptions('deleteFolder', options, { recursive: 'boolean', missingOk: 'boolean' });
    this.backend.checkOpen();
    const rel = normalizeFolderPath(path);
    if (rel === '') throw new InvalidPath('Cannot delete the store root', { path: String(path), backend: this.backend.name });
    this.gate(Capability.DELETE);
    const key = joinKey(this.rootPath, rel);
    await this.run(options.signal, key, () =>
      this.backend.deleteFolder(key, { recursive: options.recursive ?? false, missingOk: options.missingOk ?? false, signal: options.signal }),
    );
  }

  // ---- listing -----------------------------------------------------------------

  /** Files in a folder; a missing folder, a file or a path under a file yields nothing. */
  listFiles(path = '', options: ListFilesOptions = {}): AsyncIterable<FileInfo> {
    checkOptions('listFiles', options, { recursive: 'boolean', pattern: 'string', maxDepth: 'count' });
    this.backend.checkOpen();
    this.gate(Capability.LIST);
    const rel = normalizeFolderPath(path);
    const key = joinKey(this.rootPath, rel);
    const match = options.pattern === undefined ? undefined : compileGlob(options.pattern);
    const maxDepth = options.maxDepth;
    const recursive = maxDepth === undefined ? (options.recursive ?? false) : maxDepth > 0;
    const baseDepth = rel === '' ? 0 : rel.split('/').length;
    const source = () => this.backend.listFiles(key, { recursive, maxDepth: recursive ? maxDepth : undefined, signal: options.signal });
    const files = this.iterate(source);
    return (async function* () {
      for await (const file of files) {
        // Depth and pattern are enforced here too, whatever the backend pruned.
        if (maxDepth !== undefined && file.path.split('/').length - 1 - baseDepth > maxDepth) continue;
        if (match && !match(file.name)) continue;
        yield file;
      }
    })();
  }

  /** Sub-folders: immediate ones, or `maxDepth` levels deeper; `pattern` filters names only. */
  listFolders(path = '', options: { pattern?: string; maxDepth?: number } & SignalOptions = {}): AsyncIterable<FolderEntry> {
    checkOptions('listFolders', options, { pattern: 'string', maxDepth: 'count' });
    this.backend.checkOpen();
    this.gate(Capability.LIST);
    const key = this.folderKey(path);
    const match = options.pattern === undefined ? undefined : compileGlob(options.pattern);
    const maxDepth = options.maxDepth ?? 0;
    const backend = this.backend;
    const signal = options.signal;
    const walk = async function* (): AsyncGenerator<FolderEntry> {
      let level = [key];
      for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
        const next: string[] = [];
        for (const folder of level) {
          for await (const entry of backend.listFolders(folder, { signal })) {
            next.push(entry.path);
            if (!match || match(entry.name)) yield entry;
          }
        }
        level = next;
      }
    };
    return this.iterate(walk);
  }

  /** Immediate files and folders in one pass. */
  iterChildren(path = '', options: SignalOptions = {}): AsyncIterable<ChildEntry> {
    checkOptions('iterChildren', options, {});
    this.backend.checkOpen();
    this.gate(Capability.LIST);
    const key = this.folderKey(path);
    return this.iterate(() => this.backend.iterChildren(key, options));
  }

  /** Files whose whole store path matches the pattern (`*`, `?`, `[abc]`, `[!abc]`, `**\/`). */
  glob(pattern: string, options: SignalOptions = {}): AsyncIterable<FileInfo> {
    checkOptions('glob', options, {});
    this.backend.checkOpen();
    this.gate(Capability.GLOB);
    if (typeof pattern !== 'string' || pattern === '') throw new TypeError(`glob: pattern must be a non-empty string, got ${describe(pattern)}`);
    // Keys never hold a '..' segment: such a pattern would reach above the root (as a path would).
    if (pattern.split('/').includes('..')) {
      throw new InvalidPath(`Glob pattern contains a '..' segment: '${pattern}'`, { path: pattern, backend: this.backend.name });
    }
    compileGlob(pattern);
    // The root is literal text: its wildcard characters are escaped, and anything the backend
    // returns outside the root (it cannot match, but listings may start higher) is dropped.
    const root = this.rootPath.replace(/[*?[\]\\]/g, '\\$&');
    const full = root === '' ? pattern.replace(/^\/+/, '') : `${root}/${pattern.replace(/^\/+/, '')}`;
    const rootPath = this.rootPath;
    const backend = this.backend;
    return this.iterate(async function* () {
      for await (const file of backend.glob(full, options)) if (relativeTo(file.path, rootPath) !== undefined) yield file;
    });
  }

  // ---- move / copy -----------------------------------------------------------------

  private async transfer(kind: 'move' | 'copy', src: string, dst: string, options: { overwrite?: boolean } & SignalOptions) {
    checkOptions(kind, options, { overwrite: 'boolean' });
    this.backend.checkOpen();
    this.gate(kind === 'move' ? Capability.MOVE : Capability.COPY);
    const from = this.fileKey(src);
    const to = this.fileKey(dst);
    await this.run(options.signal, from, async () => {
      if (from === to) {
        // Moving or copying a file onto itself changes nothing; anything else is an error.
        if (await this.backend.isFile(from, options)) return;
        if (await this.backend.isFolder(from, options)) {
          throw new InvalidPath(`Source is a folder, not a file: '${from}'`, { path: from, backend: this.backend.name });
        }
        throw new NotFound(`Source not found: '${from}'`, { path: from, backend: this.backend.name });
      }
      const opts = { overwrite: options.overwrite ?? false, signal: options.signal };
      await (kind === 'move' ? this.backend.move(from, to, opts) : this.backend.copy(from, to, opts));
    });
  }

  /** Moves a file. Atomic only where the backend declares ATOMIC_MOVE. */
  move(src: string, dst: string, options: { overwrite?: boolean } & SignalOptions = {}): Promise<void> {
    return this.transfer('move', src, dst, options);
  }

  copy(src: string, dst: string, options: { overwrite?: boolean } & SignalOptions = {}): Promise<void> {
    return this.transfer('copy', src, dst, options);
  }

  // ---- metadata ------------------------------------------------------------------

  async getFileInfo(path: string, options: SignalOptions = {}): Promise<FileInfo> {
    checkOptions('getFileInfo', options, {});
    this.backend.checkOpen();
    this.gate(Capability.METADATA);
    const key = this.fileKey(path);
    return this.fileResult(await this.run(options.signal, key, () => this.backend.getFileInfo(key, options)));
  }

  /** Aggregates a folder's subtree, or only `maxDepth` levels of it. */
  async getFolderInfo(path = '', options: { maxDepth?: number } & SignalOptions = {}): Promise<FolderInfo> {
    checkOptions('getFolderInfo', options, { maxDepth: 'count' });
    this.backend.checkOpen();
    const rel = normalizeFolderPath(path);
    const key = joinKey(this.rootPath, rel);
    if (options.maxDepth === undefined) {
      this.gate(Capability.METADATA);
      const info = await this.run(options.signal, key, () => this.backend.getFolderInfo(key, options));
      return { ...info, path: this.rel(info.path) };
    }
    this.gate(Capability.LIST);
    await this.run(options.signal, key, async () => {
      if (rel !== '' && !(await this.backend.isFolder(key, options))) {
        if (await this.backend.isFile(key, options)) {
          throw new InvalidPath(`Path is a file, not a folder: '${key}'`, { path: key, backend: this.backend.name });
        }
        throw new NotFound(`Folder not found: '${key}'`, { path: key, backend: this.backend.name });
      }
    });
    let fileCount = 0;
    let totalSize = 0;
    let modifiedAt: Date | undefined;
    for await (const file of this.listFiles(rel, { maxDepth: options.maxDepth, signal: options.signal })) {
      fileCount++;
      totalSize += file.size;
      if (!modifiedAt || file.modifiedAt > modifiedAt) modifiedAt = file.modifiedAt;
    }
    return { path: rel, fileCount, totalSize, modifiedAt };
  }

  /** A WriteResult for an existing file, built from its info (`source: 'sidecar'`). */
  async head(path: string, options: SignalOptions = {}): Promise<WriteResult> {
    const info = await this.getFileInfo(path, options);
    return {
      path: info.path,
      size: info.size,
      source: 'sidecar',
      lastModified: info.modifiedAt,
      ...(info.etag !== undefined ? { etag: info.etag } : {}),
      ...(info.digest !== undefined ? { digest: info.digest } : {}),
      ...(info.metadata !== undefined ? { metadata: info.metadata } : {}),
    };
  }
}

