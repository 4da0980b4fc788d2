import * as nodePath from 'node:path';
import { Readable } from 'node:stream';
import type { Backend, BackendListOptions, BackendWriteOptions, SignalOptions, Unwrappable, WriteContent } from '../backend';
import { Capability, CapabilitySet } from '../capabilities';
import { appendFile, checkContent, contentChunks, type FileAppender, Gatherer, unreadFileStream, writeFileStream } from '../content';
import { AbortError, AlreadyExists, BackendUnavailable, InvalidPath, NotFound, throwIfAborted } from '../errors';
import type { FileInfo, FolderEntry, WriteResult } from '../models';
import { loadNativeBinding, mapNativeError, nativeCall, NativeObjectStore, type Binding, type NativeCancelToken } from '../native';
import { describe } from '../retry';
import { ancestors, baseName, joinKey } from '../path';
import { BaseBackend, type LevelEntry, walkFiles } from './base';

/** Options of {@link LocalBackend}. */
export interface LocalBackendOptions {
  /** The directory that holds the store. Created on the first write when missing. */
  root: string;
}

/** The addon's confined directory (crates/node/src/local.rs). */
interface RawLocalEntry {
  name: string;
  kind: 'file' | 'folder' | 'other';
  size: number;
  modifiedMs: number;
  /** The entry is a symlink to something beneath the root. */
  symlink: boolean;
}
interface RawLocalReader {
  read(size: number): Promise<Buffer>;
  close(): void;
}
interface RawLocalWriter extends FileAppender {
  write(chunk: Buffer): Promise<void>;
  commit(overwrite: boolean): Promise<RawLocalEntry>;
  abort(): Promise<void>;
}
interface RawLocalFs {
  stat(key: string): Promise<RawLocalEntry | null>;
  readFile(key: string, token: NativeCancelToken): Promise<Buffer>;
  readRange(key: string, offset: number, length: number | null, token: NativeCancelToken): Promise<Buffer>;
  openReader(key: string): Promise<RawLocalReader>;
  list(key: string): Promise<RawLocalEntry[]>;
  createWriter(key: string, token: NativeCancelToken): Promise<RawLocalWriter>;
  removeFile(key: string): Promise<void>;
  removeFolder(key: string, recursive: boolean): Promise<void>;
  rename(src: string, dst: string, overwrite: boolean): Promise<void>;
  copy(src: string, dst: string, overwrite: boolean, token: NativeCancelToken): Promise<number>;
}
type LocalBinding = Binding & { NativeLocalFs: new (root: string) => RawLocalFs };

/** Bytes per read of a stream. */
const STREAM_CHUNK = 1 << 20;

/**
 * A store in a local directory. Hierarchical: folders are real and empty folders persist.
 *
 * Confinement: every path is resolved beneath the root by the system call that uses it
 * (the addon holds directory handles: `openat2(RESOLVE_BENEATH)` on Linux, component-wise
 * `openat(O_NOFOLLOW)` elsewhere), so a folder swapped for a symlink while operations run
 * cannot lead one outside. Symlinks whose target stays beneath the root (relative targets
 * such as `alias -> real`) work like their target; a target outside the root, an absolute
 * target and a loop make the key `InvalidPath`, and listings skip such links. Recursive
 * listings show linked folders but do not descend into them (a link to an ancestor
 * cannot make a walk endless); list the link itself to see its content.
 *
 * Writes go to a hidden temp file (`.~rs-tmp.…`) in the target's folder and are put in
 * place in one step, so readers never see a partial file: a rename, or for
 * `overwrite: false` a hard link, which fails atomically when the target appeared
 * meanwhile (file systems without hard links fall back to check-then-rename). The signal is
 * checked right before that step: an aborted write commits nothing, and its temp file is
 * removed. Errors are this library's classes, naming the store key.
 *
 * Needs the native addon; without it every call fails with `BackendUnavailable`.
 *
 * @example
 * const store = new Store(new LocalBackend({ root: '/tmp/data' }));
 * await store.write('a/b.txt', 'hello');
 */
export class LocalBackend extends BaseBackend implements Backend {
  readonly name = 'local';
  readonly hierarchical = true;
  readonly capabilities = CapabilitySet.allExcept(Capability.USER_METADATA, Capability.WRITE_ATTRIBUTES, Capability.PRESIGN);
  /** The absolute root directory. */
  readonly root: string;
  #binding: LocalBinding | undefined;
  #fs: RawLocalFs | undefined;
  #native: NativeObjectStore | undefined;

  constructor(options: LocalBackendOptions | string) {
    super();
    const root = typeof options === 'string' ? options : options?.root;
    if (typeof root !== 'string' || root.trim() === '') {
      throw new TypeError(`local backend option 'root' must be a non-empty directory path, got ${root === undefined ? 'nothing' : describe(root)}`);
    }
    if (root.includes('\0')) throw new TypeError("local backend option 'root' contains a NUL byte");
    this.root = nodePath.resolve(root);
  }

  toString(): string {
    return `LocalBackend(root='${this.root}')`;
  }

  /** The addon's directory handle maker, loaded on first use. */
  private get fs(): RawLocalFs {
    if (!this.#fs) {
      let binding: LocalBinding;
      try {
        binding = loadNativeBinding() as LocalBinding;
      } catch (err) {
        throw new BackendUnavailable(
          `The local backend needs the native addon, which confines every path beneath the root: ${(err as Error).message}`,
          { backend: this.name, cause: (err as Error).cause ?? err },
        );
      }
      this.#binding = binding;
      this.#fs = new binding.NativeLocalFs(this.root);
    }
    return this.#fs;
  }

  /** One addon call whose rejection becomes our error class. */
  private async native<T>(key: string, call: Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await call;
    } catch (err) {
      throw mapNativeError(err, key, this.name, signal);
    }
  }

  /** An addon call with a cancel token tied to `signal`; a read aborted meanwhile is AbortError. */
  private async cancellable<T>(key: string, signal: AbortSignal | undefined, fn: (fs: RawLocalFs, token: NativeCancelToken) => Promise<T>): Promise<T> {
    const fs = this.fs;
    const result = await nativeCall(this.#binding!, key, this.name, signal, (token) => fn(fs, token));
    throwIfAborted(signal, key);
    return result;
  }

  /** `unwrap(NativeObjectStore)`: the addon's store over the same directory, as confined (Parquet uses it). */
  override unwrap<T>(type: Unwrappable<T>): T {
    if (type === (NativeObjectStore as unknown)) {
      this.#native ??= NativeObjectStore.local(this.root);
      return this.#native as unknown as T;
    }
    return super.unwrap(type);
  }

  override nativePath(key: string): string {
    return key === '' ? this.root : nodePath.join(this.root, ...key.split('/'));
  }

  override toKey(native: string): string {
    const resolved = nodePath.resolve(native);
    if (resolved === this.root) return '';
    const rel = nodePath.relative(this.root, resolved);
    if (rel.startsWith('..') || nodePath.isAbsolute(rel)) return native;
    return rel.split(nodePath.sep).join('/');
  }

  // ---- probes --------------------------------------------------------------

  /** The entry at `key`, or undefined when nothing is there. */
  private stat(key: string): Promise<RawLocalEntry | undefined> {
    return this.native(key, this.fs.stat(key)).then((st) => st ?? undefined);
  }

  async exists(key: string): Promise<boolean> {
    if (key === '') return true;
    return (await this.stat(key)) !== undefined;
  }

  async isFile(key: string): Promise<boolean> {
    if (key === '') return false;
    return (await this.stat(key))?.kind === 'file';
  }

  async isFolder(key: string): Promise<boolean> {
    if (key === '') return true;
    return (await this.stat(key))?.kind === 'folder';
  }

  /** Stat of a key that must be a file: NotFound when missing, InvalidPath for a folder. */
  private async statFile(key: string): Promise<RawLocalEntry> {
    const st = await this.stat(key);
    if (!st) throw new NotFound(`File not found: '${key}'`, { path: key, backend: this.name });
    if (st.kind === 'folder') throw this.notAFile(key);
    return st;
  }

  async getFileInfo(key: string): Promise<FileInfo> {
    return this.fileInfo(key, await this.statFile(key));
  }

  private fileInfo(key: string, st: RawLocalEntry): FileInfo {
    return { path: key, name: baseName(key), size: st.size, modifiedAt: new Date(st.modifiedMs) };
  }

  /** The root is a directory we can open for reading (the stat opens it). */
  async ping(): Promise<void> {
    const st = await this.stat('');
    if (st?.kind !== 'folder') throw new NotFound(`Local root is not a directory: '${this.root}'`, { path: '', backend: this.name });
  }

  // ---- reads ---------------------------------------------------------------

  async read(key: string, options: SignalOptions = {}): Promise<Readable> {
    const { signal } = options;
    throwIfAborted(signal, key);
    const reader = await this.native(key, this.fs.openReader(key), signal);
    const out = new Readable({
      highWaterMark: STREAM_CHUNK,
      read: () => {
        reader.read(STREAM_CHUNK).then(
          (chunk) => out.push(chunk.length === 0 ? null : chunk),
          (err) => out.destroy(mapNativeError(err, key, this.name)),
        );
      },
      destroy: (err, callback) => {
        reader.close();
        signal?.removeEventListener('abort', onAbort);
        callback(err);
      },
    });
    const onAbort = () => out.destroy(new AbortError(`Read aborted: '${key}'`, { path: key, backend: this.name, cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    return out;
  }

  readBytes(key: string, options: SignalOptions = {}): Promise<Buffer> {
    return this.cancellable(key, options.signal, (fs, token) => fs.readFile(key, token));
  }

  readRange(key: string, offset: number, length: number | undefined, options: SignalOptions = {}): Promise<Buffer> {
    return this.cancellable(key, options.signal, (fs, token) => fs.readRange(key, offset, length ?? null, token));
  }

  // ---- writes --------------------------------------------------------------

  async checkWriteTarget(key: string, options: { overwrite: boolean }): Promise<void> {
    const st = await this.stat(key);
    if (st?.kind === 'folder') throw this.notAFile(key);
    if (!st) await this.checkNoFileAncestor(key);
    else if (!options.overwrite) throw new AlreadyExists(`File already exists: '${key}'`, { path: key, backend: this.name });
  }

  private async checkNoFileAncestor(key: string): Promise<void> {
    for (const ancestor of ancestors(key)) {
      const st = await this.stat(ancestor);
      if (!st) return;
      if (st.kind !== 'folder') throw this.underFile(ancestor, key);
    }
  }

  write(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    return this.writeAtomic(key, content, options);
  }

  async writeAtomic(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    checkContent(content);
    const { signal } = options;
    if (!options.targetChecked) await this.checkWriteTarget(key, options);
    throwIfAborted(signal, key);
    const fs = this.fs;
    // One token for the whole write: the addon looks at it between chunks and right before the commit.
    const token = new this.#binding!.CancelToken();
    const onAbort = () => token.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    let writer: RawLocalWriter | undefined;
    try {
      const w = (writer = await this.native(key, fs.createWriter(key, token), signal));
      // A file stream nothing has read yet: the addon copies the file (a kernel copy on Linux).
      const file = unreadFileStream(content);
      const where = { path: key, backend: this.name, onProgress: options.onProgress };
      const appender: FileAppender = {
        attachFile: (path) => w.attachFile(path),
        writeFileRange: (offset, max) => this.native(key, w.writeFileRange(offset, max), signal),
      };
      const fromFile = file && (await writeFileStream(file, (onBytes) => appendFile(appender, file.path, file.start, file.end, onBytes), where));
      if (fromFile === undefined) {
        const gatherer = new Gatherer();
        for await (const chunk of contentChunks(content, { ...where, signal })) {
          for (const piece of gatherer.add(chunk)) await this.native(key, w.write(piece), signal);
        }
        const rest = gatherer.take();
        if (rest) await this.native(key, w.write(rest), signal);
      }
      throwIfAborted(signal, key);
      const st = await this.native(key, writer.commit(options.overwrite), signal);
      return { path: key, size: st.size, source: 'native', lastModified: new Date(st.modifiedMs) };
    } catch (err) {
      await writer?.abort().catch(() => undefined);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  // ---- deletes -------------------------------------------------------------

  async delete(key: string, options: { missingOk: boolean }): Promise<void> {
    const st = await this.stat(key);
    if (!st) {
      if (options.missingOk) return;
      throw new NotFound(`File not found: '${key}'`, { path: key, backend: this.name });
    }
    if (st.kind === 'folder') throw this.notAFile(key);
    try {
      await this.native(key, this.fs.removeFile(key));
    } catch (err) {
      if (err instanceof NotFound && options.missingOk) return;
      throw err;
    }
  }

  async deleteFolder(key: string, options: { recursive: boolean; missingOk: boolean }): Promise<void> {
    const st = await this.stat(key);
    if (!st) {
      if (options.missingOk) return;
      throw new NotFound(`Folder not found: '${key}'`, { path: key, backend: this.name });
    }
    if (st.kind !== 'folder') throw this.notAFolder(key);
    await this.native(key, this.fs.removeFolder(key, options.recursive));
  }

  // ---- listing -------------------------------------------------------------

  /** Entries of a folder, sorted by name; temp files and links leaving the root are not among them. */
  private entries(key: string): Promise<RawLocalEntry[]> {
    return this.native(key, this.fs.list(key));
  }

  listFiles(key: string, options: BackendListOptions): AsyncGenerator<FileInfo> {
    return walkFiles(key, options, async (folder) => {
      const level: LevelEntry[] = [];
      for (const entry of await this.entries(folder)) {
        const childKey = joinKey(folder, entry.name);
        if (entry.kind === 'file') level.push({ file: this.fileInfo(childKey, entry) });
        else if (entry.kind === 'folder' && !entry.symlink) level.push({ folder: childKey });
      }
      return level;
    });
  }

  async *listFolders(key: string, options: SignalOptions = {}): AsyncGenerator<FolderEntry> {
    throwIfAborted(options.signal, key);
    for (const entry of await this.entries(key)) {
      if (entry.kind === 'folder') yield this.folderEntry(joinKey(key, entry.name));
    }
  }

  // ---- move / copy -----------------------------------------------------------

  /** Source checks shared by move and copy: missing → NotFound, folder → InvalidPath. */
  private async checkSource(src: string): Promise<void> {
    const st = await this.stat(src);
    if (!st) throw new NotFound(`Source not found: '${src}'`, { path: src, backend: this.name });
    if (st.kind === 'folder') throw new InvalidPath(`Source is a folder, not a file: '${src}'`, { path: src, backend: this.name });
  }

  async move(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    await this.checkSource(src);
    await this.checkWriteTarget(dst, options);
    throwIfAborted(options.signal, src);
    await this.native(dst, this.fs.rename(src, dst, options.overwrite));
  }

  async copy(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    await this.checkSource(src);
    await this.checkWriteTarget(dst, options);
    const fs = this.fs;
    await nativeCall(this.#binding!, dst, this.name, options.signal, (token) => fs.copy(src, dst, options.overwrite, token));
  }
}
