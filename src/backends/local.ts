import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Backend, BackendListOptions, BackendWriteOptions, SignalOptions, Unwrappable, WriteContent } from '../backend';
import { Capability, CapabilitySet } from '../capabilities';
import { checkContent, contentChunks } from '../content';
import {
  AbortError,
  AlreadyExists,
  DirectoryNotEmpty,
  InvalidPath,
  isAbortError,
  NotFound,
  PermissionDenied,
  RemoteStoreError,
  throwIfAborted,
} from '../errors';
import type { FileInfo, FolderEntry, WriteResult } from '../models';
import { NativeObjectStore } from '../native';
import { describe } from '../retry';
import { ancestors, baseName, joinKey } from '../path';
import { BaseBackend } from './base';

/** Options of {@link LocalBackend}. */
export interface LocalBackendOptions {
  /** The directory that holds the store. Created on the first write when missing. */
  root: string;
}

/** Temp files of atomic writes carry this prefix; listings hide them. */
const TEMP_PREFIX = '.~rs-tmp.';

/**
 * A store in a local directory. Hierarchical: folders are real and empty folders
 * persist. Every write goes to a temp file in the target folder and is renamed into
 * place, so readers never see a partial file; `overwrite: false` commits with a
 * hard link, which fails atomically when the target appeared meanwhile.
 * No key can reach outside the root, through symlinks neither.
 *
 * @example
 * const store = new Store(new LocalBackend({ root: '/tmp/data' }));
 * await store.write('a/b.txt', 'hello');
 */
export class LocalBackend extends BaseBackend implements Backend {
  readonly name = 'local';
  readonly hierarchical = true;
  readonly capabilities = CapabilitySet.allExcept(Capability.USER_METADATA);
  /** The absolute root directory. */
  readonly root: string;

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

  #native: NativeObjectStore | undefined;

  /** `unwrap(NativeObjectStore)`: the addon's store over the same directory (Parquet reads use it). */
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

  // ---- safety --------------------------------------------------------------

  /**
   * The absolute path of a key, after checking that what exists of it resolves
   * inside the root. A symlink pointing outside makes the key invalid.
   */
  private async resolve(key: string): Promise<string> {
    const target = this.nativePath(key);
    const realRoot = await this.realRoot();
    let probe = target;
    for (;;) {
      try {
        const real = await fs.realpath(probe);
        if (real !== realRoot && !real.startsWith(realRoot + nodePath.sep)) {
          throw new InvalidPath(`Path '${key}' resolves outside the store root`, { path: key, backend: this.name });
        }
        return target;
      } catch (err) {
        if (err instanceof RemoteStoreError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        if ((code === 'ENOENT' || code === 'ENOTDIR') && probe !== this.root) {
          probe = nodePath.dirname(probe);
          continue;
        }
        if (code === 'ENOENT' || code === 'ENOTDIR') return target;
        throw this.mapError(err, key);
      }
    }
  }

  private async realRoot(): Promise<string> {
    try {
      return await fs.realpath(this.root);
    } catch {
      return this.root;
    }
  }

  /** Stat that answers undefined for a missing path or a path under a file. */
  private async statOrUndefined(key: string): Promise<Stats | undefined> {
    const abs = await this.resolve(key);
    try {
      return await fs.stat(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw this.mapError(err, key);
    }
  }

  private mapError(err: unknown, key: string): RemoteStoreError {
    if (err instanceof RemoteStoreError) return err;
    if (isAbortError(err)) return new AbortError(`Operation aborted: '${key}'`, { path: key, backend: this.name, cause: err });
    const code = (err as NodeJS.ErrnoException)?.code;
    const details = { path: key, backend: this.name, cause: err };
    switch (code) {
      case 'ENOENT':
      case 'ENOTDIR':
        return new NotFound(`Not found: '${key}'`, details);
      case 'EISDIR':
        return new InvalidPath(`Path is a folder, not a file: '${key}'`, details);
      case 'EEXIST':
        return new AlreadyExists(`File already exists: '${key}'`, details);
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
        return new PermissionDenied(`Permission denied: '${key}'`, details);
      case 'ENOTEMPTY':
        return new DirectoryNotEmpty(`Folder not empty: '${key}'`, details);
      case 'ENAMETOOLONG':
      case 'EINVAL':
      case 'ELOOP':
        return new InvalidPath(`Invalid path for a local file: '${key}' (${code})`, details);
      default:
        return new RemoteStoreError(`Local file operation failed on '${key}': ${(err as Error)?.message ?? String(err)}`, details);
    }
  }

  // ---- probes --------------------------------------------------------------

  async exists(key: string): Promise<boolean> {
    if (key === '') return true;
    return (await this.statOrUndefined(key)) !== undefined;
  }

  async isFile(key: string): Promise<boolean> {
    if (key === '') return false;
    return (await this.statOrUndefined(key))?.isFile() ?? false;
  }

  async isFolder(key: string): Promise<boolean> {
    if (key === '') return true;
    return (await this.statOrUndefined(key))?.isDirectory() ?? false;
  }

  /** Stat of a key that must be a file: NotFound when missing, InvalidPath for a folder. */
  private async statFile(key: string): Promise<Stats> {
    const st = await this.statOrUndefined(key);
    if (!st) throw new NotFound(`File not found: '${key}'`, { path: key, backend: this.name });
    if (st.isDirectory()) throw this.notAFile(key);
    return st;
  }

  async getFileInfo(key: string): Promise<FileInfo> {
    return this.fileInfo(key, await this.statFile(key));
  }

  private fileInfo(key: string, st: Stats): FileInfo {
    return { path: key, name: baseName(key), size: st.size, modifiedAt: st.mtime };
  }

  async ping(): Promise<void> {
    let st: Stats;
    try {
      st = await fs.stat(this.root);
      await fs.access(this.root, fsConstants.R_OK);
    } catch (err) {
      throw this.mapError(err, '');
    }
    if (!st.isDirectory()) throw new NotFound(`Local root is not a directory: '${this.root}'`, { path: '', backend: this.name });
  }

  // ---- reads ---------------------------------------------------------------

  async read(key: string, options: SignalOptions = {}): Promise<Readable> {
    throwIfAborted(options.signal, key);
    await this.statFile(key);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(await this.resolve(key), 'r');
    } catch (err) {
      throw this.mapError(err, key);
    }
    const source = handle.createReadStream({ highWaterMark: 1 << 20 });
    // Hand out a stream whose errors are ours, and that stops the file read when it is destroyed.
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    source.on('error', (err) => out.destroy(this.mapError(err, key)));
    out.on('close', () => source.destroy());
    source.pipe(out);
    const signal = options.signal;
    if (signal) {
      const onAbort = () => out.destroy(new AbortError(`Read aborted: '${key}'`, { path: key, backend: this.name, cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      out.on('close', () => signal.removeEventListener('abort', onAbort));
    }
    return out;
  }

  async readBytes(key: string, options: SignalOptions = {}): Promise<Buffer> {
    await this.statFile(key);
    try {
      return await fs.readFile(await this.resolve(key), { signal: options.signal });
    } catch (err) {
      throw this.mapError(err, key);
    }
  }

  async readRange(key: string, offset: number, length: number | undefined, options: SignalOptions = {}): Promise<Buffer> {
    throwIfAborted(options.signal, key);
    await this.statFile(key);
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(await this.resolve(key), 'r');
      const size = (await handle.stat()).size;
      const end = length === undefined ? size : Math.min(size, offset + length);
      if (offset >= end) return Buffer.alloc(0);
      const buf = Buffer.allocUnsafe(end - offset);
      let done = 0;
      while (done < buf.length) {
        throwIfAborted(options.signal, key);
        const { bytesRead } = await handle.read(buf, done, buf.length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === buf.length ? buf : buf.subarray(0, done);
    } catch (err) {
      throw this.mapError(err, key);
    } finally {
      await handle?.close();
    }
  }

  // ---- writes --------------------------------------------------------------

  async checkWriteTarget(key: string, options: { overwrite: boolean }): Promise<void> {
    const st = await this.statOrUndefined(key);
    if (st?.isDirectory()) throw this.notAFile(key);
    if (!st) await this.checkNoFileAncestor(key);
    else if (!options.overwrite) throw new AlreadyExists(`File already exists: '${key}'`, { path: key, backend: this.name });
  }

  private async checkNoFileAncestor(key: string): Promise<void> {
    for (const ancestor of ancestors(key)) {
      const st = await this.statOrUndefined(ancestor);
      if (!st) return;
      if (!st.isDirectory()) {
        throw this.underFile(ancestor, key);
      }
    }
  }

  write(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    return this.writeAtomic(key, content, options);
  }

  async writeAtomic(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    checkContent(content);
    await this.checkWriteTarget(key, options);
    const target = await this.resolve(key);
    const size = await this.viaTemp(key, target, options.overwrite, async (handle) => {
      let written = 0;
      for await (const chunk of contentChunks(content, { signal: options.signal, onProgress: options.onProgress, path: key })) {
        await handle.write(chunk);
        written += chunk.length;
      }
      return written;
    });
    const st = await fs.stat(target);
    return { path: key, size, source: 'native', lastModified: st.mtime };
  }

  /**
   * Fills a temp file next to `target` and commits it: rename when overwriting, a
   * hard link otherwise (EEXIST if the target appeared since the check). On any
   * failure the temp file is removed and nothing is committed.
   */
  private async viaTemp(key: string, target: string, overwrite: boolean, fill: (handle: fs.FileHandle) => Promise<number>): Promise<number> {
    const dir = nodePath.dirname(target);
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') {
        throw new InvalidPath(`Cannot write under a file ancestor (path='${key}')`, { path: key, backend: this.name, cause: err });
      }
      throw this.mapError(err, key);
    }
    const temp = nodePath.join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}.${nodePath.basename(target)}`.slice(0, 255));
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(temp, 'wx');
      const size = await fill(handle);
      await handle.datasync();
      await handle.close();
      handle = undefined;
      await this.commit(key, temp, target, overwrite);
      return size;
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await fs.rm(temp, { force: true }).catch(() => undefined);
      if (err instanceof RemoteStoreError) throw err;
      throw this.mapError(err, key);
    }
  }

  private async commit(key: string, temp: string, target: string, overwrite: boolean): Promise<void> {
    try {
      if (overwrite) {
        await fs.rename(temp, target);
        return;
      }
      try {
        await fs.link(temp, target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Filesystems without hard links: fall back to check-then-rename (racy, documented).
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
        if ((await this.statOrUndefined(key)) !== undefined) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        await fs.rename(temp, target);
        return;
      }
      await fs.rm(temp, { force: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
        const st = await this.statOrUndefined(key);
        if (st?.isDirectory()) throw new InvalidPath(`Path is a folder, not a file: '${key}'`, { path: key, backend: this.name, cause: err });
        throw new AlreadyExists(`File already exists: '${key}'`, { path: key, backend: this.name, cause: err });
      }
      throw err;
    }
  }

  // ---- deletes -------------------------------------------------------------

  async delete(key: string, options: { missingOk: boolean }): Promise<void> {
    const st = await this.statOrUndefined(key);
    if (!st) {
      if (options.missingOk) return;
      throw new NotFound(`File not found: '${key}'`, { path: key, backend: this.name });
    }
    if (st.isDirectory()) throw this.notAFile(key);
    try {
      await fs.unlink(await this.resolve(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && options.missingOk) return;
      throw this.mapError(err, key);
    }
  }

  async deleteFolder(key: string, options: { recursive: boolean; missingOk: boolean }): Promise<void> {
    const st = await this.statOrUndefined(key);
    if (!st) {
      if (options.missingOk) return;
      throw new NotFound(`Folder not found: '${key}'`, { path: key, backend: this.name });
    }
    if (!st.isDirectory()) throw this.notAFolder(key);
    const abs = await this.resolve(key);
    try {
      if (options.recursive) await fs.rm(abs, { recursive: true, force: true });
      else await fs.rmdir(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new DirectoryNotEmpty(`Folder not empty: '${key}'`, { path: key, backend: this.name, cause: err });
      }
      throw this.mapError(err, key);
    }
  }

  // ---- listing -------------------------------------------------------------

  /** Entries of a folder as [name, stats], sorted by name; temp files and escaping links skipped. */
  private async entries(key: string): Promise<Array<[string, Stats]>> {
    const st = await this.statOrUndefined(key);
    if (!st?.isDirectory()) return [];
    const abs = await this.resolve(key);
    let names: string[];
    try {
      names = await fs.readdir(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw this.mapError(err, key);
    }
    names.sort();
    const out: Array<[string, Stats]> = [];
    for (const name of names) {
      if (name.startsWith(TEMP_PREFIX)) continue;
      const childKey = joinKey(key, name);
      try {
        const child = await this.resolve(childKey);
        out.push([name, await fs.stat(child)]);
      } catch (err) {
        // Vanished meanwhile, dangling or escaping links: not part of the store.
        if (err instanceof InvalidPath || ['ENOENT', 'ENOTDIR', 'ELOOP'].includes((err as NodeJS.ErrnoException).code ?? '')) continue;
        throw this.mapError(err, childKey);
      }
    }
    return out;
  }

  async *listFiles(key: string, options: BackendListOptions): AsyncGenerator<FileInfo> {
    const walk = async function* (this: LocalBackend, folder: string, depth: number): AsyncGenerator<FileInfo> {
      throwIfAborted(options.signal, folder);
      const subfolders: string[] = [];
      for (const [name, st] of await this.entries(folder)) {
        const childKey = joinKey(folder, name);
        if (st.isFile()) yield this.fileInfo(childKey, st);
        else if (st.isDirectory()) subfolders.push(childKey);
      }
      const descend = options.recursive && (options.maxDepth === undefined || depth < options.maxDepth);
      if (descend) for (const sub of subfolders) yield* walk.call(this, sub, depth + 1);
    };
    yield* walk.call(this, key, 0);
  }

  async *listFolders(key: string, options: SignalOptions = {}): AsyncGenerator<FolderEntry> {
    throwIfAborted(options.signal, key);
    for (const [name, st] of await this.entries(key)) {
      if (st.isDirectory()) yield this.folderEntry(joinKey(key, name));
    }
  }

  // ---- move / copy -----------------------------------------------------------

  /** Source checks shared by move and copy: missing → NotFound, folder → InvalidPath. */
  private async checkSource(src: string): Promise<void> {
    const st = await this.statOrUndefined(src);
    if (!st) throw new NotFound(`Source not found: '${src}'`, { path: src, backend: this.name });
    if (st.isDirectory()) throw new InvalidPath(`Source is a folder, not a file: '${src}'`, { path: src, backend: this.name });
  }

  async move(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    await this.checkSource(src);
    await this.checkWriteTarget(dst, options);
    throwIfAborted(options.signal, src);
    const from = await this.resolve(src);
    const to = await this.resolve(dst);
    try {
      await fs.mkdir(nodePath.dirname(to), { recursive: true });
    } catch (err) {
      throw this.mapError(err, dst);
    }
    try {
      // A hard link plus unlink is a no-clobber rename; rename itself replaces.
      await this.commit(dst, from, to, options.overwrite);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EXDEV') {
        await this.copy(src, dst, options);
        await fs.unlink(from).catch((e) => {
          throw this.mapError(e, src);
        });
        return;
      }
      throw this.mapError(err, dst);
    }
  }

  async copy(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    await this.checkSource(src);
    await this.checkWriteTarget(dst, options);
    const from = await this.resolve(src);
    const to = await this.resolve(dst);
    await this.viaTemp(dst, to, options.overwrite, async (handle) => {
      const source = await fs.open(from, 'r');
      try {
        let total = 0;
        const buf = Buffer.allocUnsafe(1 << 20);
        for (;;) {
          throwIfAborted(options.signal, src);
          const { bytesRead } = await source.read(buf, 0, buf.length, null);
          if (bytesRead === 0) return total;
          await handle.write(buf, 0, bytesRead);
          total += bytesRead;
        }
      } finally {
        await source.close();
      }
    });
  }
}
