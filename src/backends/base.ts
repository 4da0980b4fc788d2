import type { Backend, BackendListOptions, SignalOptions, Unwrappable } from '../backend';
import type { CapabilitySet } from '../capabilities';
import { BackendUnavailable, CapabilityNotSupported, InvalidPath, NotFound, throwIfAborted } from '../errors';
import { compileGlob, literalPrefix } from '../glob';
import type { ChildEntry, FileInfo, FolderEntry, FolderInfo } from '../models';
import { baseName } from '../path';

/**
 * Defaults shared by the built-in backends: the closed guard, children, glob and
 * folder aggregates expressed through listing. A backend overrides what it can do
 * better natively.
 */
export abstract class BaseBackend {
  abstract readonly name: string;
  abstract readonly capabilities: CapabilitySet;
  abstract readonly hierarchical: boolean;
  /** Terminal backends refuse every call after close(); others re-open lazily. */
  protected readonly closeIsTerminal: boolean = false;
  protected closed = false;

  abstract listFiles(key: string, options: BackendListOptions): AsyncIterable<FileInfo>;
  abstract listFolders(key: string, options?: SignalOptions): AsyncIterable<FolderEntry>;
  abstract isFile(key: string, options?: SignalOptions): Promise<boolean>;
  abstract isFolder(key: string, options?: SignalOptions): Promise<boolean>;

  checkOpen(): void {
    if (this.closed && this.closeIsTerminal) {
      throw new BackendUnavailable(`${this.name} backend is closed`, { backend: this.name });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  async *iterChildren(key: string, options: SignalOptions = {}): AsyncGenerator<ChildEntry> {
    for await (const file of this.listFiles(key, { recursive: false, signal: options.signal })) yield { kind: 'file', ...file };
    for await (const folder of this.listFolders(key, options)) yield { kind: 'folder', ...folder };
  }

  async *glob(pattern: string, options: SignalOptions = {}): AsyncGenerator<FileInfo> {
    const match = compileGlob(pattern);
    const prefix = literalPrefix(pattern);
    // Only descend when some wildcard can span folders or sits in a folder segment.
    const rest = pattern.split('/').filter((s) => s !== '').slice(prefix === '' ? 0 : prefix.split('/').length);
    const recursive = rest.length > 1 || rest.includes('**');
    for await (const file of this.listFiles(prefix, { recursive, signal: options.signal })) {
      if (match(file.path)) yield file;
    }
  }

  async getFolderInfo(key: string, options: SignalOptions = {}): Promise<FolderInfo> {
    this.checkOpen();
    if (key !== '' && !(await this.isFolder(key, options))) {
      if (await this.isFile(key, options)) {
        throw this.notAFolder(key);
      }
      throw new NotFound(`Folder not found: '${key}'`, { path: key, backend: this.name });
    }
    let fileCount = 0;
    let totalSize = 0;
    let modifiedAt: Date | undefined;
    for await (const file of this.listFiles(key, { recursive: true, signal: options.signal })) {
      throwIfAborted(options.signal, key);
      fileCount++;
      totalSize += file.size;
      if (!modifiedAt || file.modifiedAt > modifiedAt) modifiedAt = file.modifiedAt;
    }
    return { path: key, fileCount, totalSize, modifiedAt };
  }

  unwrap<T>(type: Unwrappable<T>): T {
    throw new CapabilityNotSupported(`Backend '${this.name}' cannot be unwrapped to ${type?.name ?? String(type)}`, {
      capability: 'unwrap',
      backend: this.name,
    });
  }

  nativePath(key: string): string {
    return key;
  }

  toKey(native: string): string {
    return native === '.' ? '' : native;
  }

  /** The error for a file operation on a folder. */
  protected notAFile(key: string): InvalidPath {
    return notAFile(key, this.name);
  }

  /** The error for a folder operation on a file. */
  protected notAFolder(key: string): InvalidPath {
    return notAFolder(key, this.name);
  }

  /** The error for a write below a key that is a file. */
  protected underFile(ancestor: string, key: string): InvalidPath {
    return underFile(ancestor, key, this.name);
  }

  protected folderEntry(key: string): FolderEntry {
    return folderEntry(key);
  }
}

// The same errors and entries for parts of a backend that are not the backend class itself
// (the S3 wing's control and data paths are composed, not inherited).

/** One entry of a folder's level: a file, or a subfolder's key. */
export type LevelEntry = { file: FileInfo; folder?: undefined } | { file?: undefined; folder: string };

/**
 * The files of a folder tree, depth first, each folder's own files before its subfolders',
 * as deep as `options` asks. The walk keeps its own stack: recursion overflowed the call stack
 * some 2,000 folders deep.
 */
export async function* walkFiles(
  key: string,
  options: BackendListOptions,
  level: (folder: string) => AsyncIterable<LevelEntry> | Promise<Iterable<LevelEntry>>,
): AsyncGenerator<FileInfo> {
  const pending: Array<[folder: string, depth: number]> = [[key, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [folder, depth] = next;
    throwIfAborted(options.signal, folder);
    const subfolders: string[] = [];
    for await (const entry of await level(folder)) {
      if (entry.file) yield entry.file;
      else subfolders.push(entry.folder);
    }
    if (options.recursive && (options.maxDepth === undefined || depth < options.maxDepth)) {
      for (const sub of subfolders.reverse()) pending.push([sub, depth + 1]);
    }
  }
}

export function notAFile(key: string, backend: string): InvalidPath {
  return new InvalidPath(`Path is a folder, not a file: '${key}'`, { path: key, backend });
}

export function notAFolder(key: string, backend: string): InvalidPath {
  return new InvalidPath(`Path is a file, not a folder: '${key}'`, { path: key, backend });
}

export function underFile(ancestor: string, key: string, backend: string): InvalidPath {
  return new InvalidPath(`Cannot write under file ancestor: '${ancestor}' is a regular file (path='${key}')`, { path: key, backend });
}

export function folderEntry(key: string): FolderEntry {
  return { path: key, name: baseName(key) };
}

/** Checks a `Backend` implementation against the interface at compile time. */
export type AssertBackend<T extends Backend> = T;
