import { Readable } from 'node:stream';
import type { Backend, BackendListOptions, BackendWriteOptions, SignalOptions, WriteContent } from '../backend';
import { Capability, CapabilitySet } from '../capabilities';
import { checkContent, collectContent } from '../content';
import { AbortError, AlreadyExists, DirectoryNotEmpty, InvalidPath, NotFound, throwIfAborted } from '../errors';
import type { FileInfo, FolderEntry, WriteResult } from '../models';
import { ancestors, baseName, joinKey, parentKey } from '../path';
import type { WriteAttributes } from '../write-attributes';
import { BaseBackend } from './base';

interface FileNode {
  kind: 'file';
  data: Buffer;
  modifiedAt: Date;
  metadata?: Record<string, string>;
  /** Kept as given, like an object store keeps them; only contentType is reported back. */
  attributes?: WriteAttributes;
}

interface FolderNode {
  kind: 'folder';
  children: Map<string, Node>;
}

type Node = FileNode | FolderNode;

/**
 * A store in process memory, for tests and scratch data. Hierarchical like a local
 * directory: folders are real and empty folders persist. Writes collect the whole
 * body first and then swap it in, so every write is atomic. Keeps user metadata and the
 * write attributes (a stand-in for an object store in tests: `contentType` comes back in
 * `getFileInfo`, and copies keep both).
 *
 * @example
 * const store = new Store(new MemoryBackend());
 * await store.write('a.txt', 'hi', { metadata: { owner: 'me' } });
 */
export class MemoryBackend extends BaseBackend implements Backend {
  readonly name = 'memory';
  readonly hierarchical = true;
  readonly capabilities = CapabilitySet.allExcept(Capability.LAZY_READ, Capability.PRESIGN);
  #root: FolderNode = { kind: 'folder', children: new Map() };

  toString(): string {
    return 'MemoryBackend()';
  }

  /** The node at a key, or undefined when missing or under a file. */
  private find(key: string): Node | undefined {
    if (key === '') return this.#root;
    let node: Node = this.#root;
    for (const part of key.split('/')) {
      if (node.kind !== 'folder') return undefined;
      const next = node.children.get(part);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  private fileNode(key: string): FileNode {
    const node = this.find(key);
    if (!node) throw new NotFound(`File not found: '${key}'`, { path: key, backend: this.name });
    if (node.kind === 'folder') throw this.notAFile(key);
    return node;
  }

  /** The folder that holds `key`, created with its ancestors. */
  private ensureParent(key: string): FolderNode {
    let node: FolderNode = this.#root;
    const parts = key.split('/');
    parts.pop();
    for (const part of parts) {
      let next = node.children.get(part);
      if (!next) {
        next = { kind: 'folder', children: new Map() };
        node.children.set(part, next);
      }
      if (next.kind !== 'folder') {
        throw this.underFile(part, key);
      }
      node = next;
    }
    return node;
  }

  async exists(key: string): Promise<boolean> {
    return this.find(key) !== undefined;
  }

  async isFile(key: string): Promise<boolean> {
    return this.find(key)?.kind === 'file';
  }

  async isFolder(key: string): Promise<boolean> {
    return this.find(key)?.kind === 'folder';
  }

  async read(key: string, options: SignalOptions = {}): Promise<Readable> {
    const data = await this.readBytes(key, options);
    const stream = Readable.from(chunked(data), { objectMode: false });
    const signal = options.signal;
    if (signal) {
      const onAbort = () => stream.destroy(new AbortError(`Read aborted: '${key}'`, { path: key, backend: this.name, cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      stream.on('close', () => signal.removeEventListener('abort', onAbort));
    }
    return stream;
  }

  async readBytes(key: string, options: SignalOptions = {}): Promise<Buffer> {
    throwIfAborted(options.signal, key);
    // A copy: callers may change the Buffer they get without changing the store.
    return Buffer.from(this.fileNode(key).data);
  }

  async readRange(key: string, offset: number, length: number | undefined, options: SignalOptions = {}): Promise<Buffer> {
    throwIfAborted(options.signal, key);
    const data = this.fileNode(key).data;
    const end = length === undefined ? data.length : Math.min(data.length, offset + length);
    return offset >= end ? Buffer.alloc(0) : Buffer.from(data.subarray(offset, end));
  }

  async checkWriteTarget(key: string, options: { overwrite: boolean }): Promise<void> {
    this.assertWritable(key, options.overwrite);
  }

  /** Synchronous, so that a check and the commit after it cannot interleave with another write. */
  private assertWritable(key: string, overwrite: boolean): void {
    const node = this.find(key);
    if (node?.kind === 'folder') throw this.notAFile(key);
    if (node && !overwrite) throw new AlreadyExists(`File already exists: '${key}'`, { path: key, backend: this.name });
    if (!node) {
      for (const ancestor of ancestors(key)) {
        const a = this.find(ancestor);
        if (!a) break;
        if (a.kind === 'file') {
          throw this.underFile(ancestor, key);
        }
      }
    }
  }

  write(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    return this.writeAtomic(key, content, options);
  }

  async writeAtomic(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    checkContent(content);
    await this.checkWriteTarget(key, options);
    // Copy: the caller keeps ownership of the Buffer it passed.
    const data = Buffer.from(await collectContent(content, { signal: options.signal, onProgress: options.onProgress, path: key, backend: this.name }));
    throwIfAborted(options.signal, key);
    // Check again after the (possibly long) collection: another write may have landed.
    this.assertWritable(key, options.overwrite);
    const node: FileNode = {
      kind: 'file',
      data,
      modifiedAt: new Date(),
      metadata: options.metadata && { ...options.metadata },
      attributes: options.attributes && { ...options.attributes },
    };
    this.ensureParent(key).children.set(baseName(key), node);
    return {
      path: key,
      size: data.length,
      source: 'native',
      lastModified: node.modifiedAt,
      ...(node.metadata ? { metadata: { ...node.metadata } } : {}),
    };
  }

  async delete(key: string, options: { missingOk: boolean }): Promise<void> {
    const node = this.find(key);
    if (!node) {
      if (options.missingOk) return;
      throw new NotFound(`File not found: '${key}'`, { path: key, backend: this.name });
    }
    if (node.kind === 'folder') throw this.notAFile(key);
    (this.find(parentKey(key)) as FolderNode).children.delete(baseName(key));
  }

  async deleteFolder(key: string, options: { recursive: boolean; missingOk: boolean }): Promise<void> {
    const node = this.find(key);
    if (!node) {
      if (options.missingOk) return;
      throw new NotFound(`Folder not found: '${key}'`, { path: key, backend: this.name });
    }
    if (node.kind === 'file') throw this.notAFolder(key);
    if (!options.recursive && node.children.size > 0) {
      throw new DirectoryNotEmpty(`Folder not empty: '${key}'`, { path: key, backend: this.name });
    }
    (this.find(parentKey(key)) as FolderNode).children.delete(baseName(key));
  }

  async *listFiles(key: string, options: BackendListOptions): AsyncGenerator<FileInfo> {
    const start = this.find(key);
    if (start?.kind !== 'folder') return;
    // Snapshot first, yield after: a consumer that writes while iterating sees a stable listing.
    const files: FileInfo[] = [];
    // Depth first with a stack of our own: recursion overflowed the call stack 5,000 folders deep.
    const pending: Array<[folder: FolderNode, prefix: string, depth: number]> = [[start, key, 0]];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const [folder, prefix, depth] = next;
      const subfolders: Array<[FolderNode, string, number]> = [];
      for (const [name, child] of folder.children) {
        const childKey = joinKey(prefix, name);
        if (child.kind === 'file') files.push(this.info(childKey, child));
        else subfolders.push([child, childKey, depth + 1]);
      }
      if (options.recursive && (options.maxDepth === undefined || depth < options.maxDepth)) {
        for (const sub of subfolders.reverse()) pending.push(sub);
      }
    }
    for (const file of files) {
      throwIfAborted(options.signal, key);
      yield file;
    }
  }

  async *listFolders(key: string, options: SignalOptions = {}): AsyncGenerator<FolderEntry> {
    const start = this.find(key);
    if (start?.kind !== 'folder') return;
    const names = [...start.children].filter(([, n]) => n.kind === 'folder').map(([name]) => name);
    for (const name of names) {
      throwIfAborted(options.signal, key);
      yield this.folderEntry(joinKey(key, name));
    }
  }

  private info(key: string, node: FileNode): FileInfo {
    return {
      path: key,
      name: baseName(key),
      size: node.data.length,
      modifiedAt: node.modifiedAt,
      ...(node.attributes?.contentType !== undefined ? { contentType: node.attributes.contentType } : {}),
      ...(node.metadata ? { metadata: { ...node.metadata } } : {}),
    };
  }

  async getFileInfo(key: string): Promise<FileInfo> {
    return this.info(key, this.fileNode(key));
  }

  private checkSource(src: string): FileNode {
    const node = this.find(src);
    if (!node) throw new NotFound(`Source not found: '${src}'`, { path: src, backend: this.name });
    if (node.kind === 'folder') throw new InvalidPath(`Source is a folder, not a file: '${src}'`, { path: src, backend: this.name });
    return node;
  }

  async move(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    const node = this.checkSource(src);
    throwIfAborted(options.signal, src);
    this.assertWritable(dst, options.overwrite);
    this.ensureParent(dst).children.set(baseName(dst), node);
    (this.find(parentKey(src)) as FolderNode).children.delete(baseName(src));
  }

  async copy(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    const node = this.checkSource(src);
    throwIfAborted(options.signal, src);
    this.assertWritable(dst, options.overwrite);
    this.ensureParent(dst).children.set(baseName(dst), {
      kind: 'file',
      data: Buffer.from(node.data),
      modifiedAt: new Date(),
      metadata: node.metadata && { ...node.metadata },
      attributes: node.attributes && { ...node.attributes },
    });
  }

  async ping(): Promise<void> {}
}

function* chunked(data: Buffer, size = 1 << 16): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
