/**
 * Listings on the SDK (both backends list there): ListObjectsV2 pages, one delimiter level,
 * the flat recursive stream and the depth-bounded walk. Folders are key prefixes; a missing
 * bucket lists as empty.
 */
import type { ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import type { BackendListOptions } from '../../backend';
import { NotFound } from '../../errors';
import type { ChildEntry, FileInfo, FolderEntry } from '../../models';
import { folderEntry, type LevelEntry, walkFiles } from '../base';
import type { SdkClient } from './client';
import { listedFile } from './results';

export class S3Listing {
  constructor(
    private readonly sdk: SdkClient,
    private readonly bucket: string,
  ) {}

  /** Pages of ListObjectsV2; a missing bucket lists as empty. */
  async *pages(prefix: string, delimiter: string | undefined, signal: AbortSignal | undefined, key: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    let token: string | undefined;
    do {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await this.sdk.send('ListObjectsV2', { Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }, key, signal);
      } catch (err) {
        if (err instanceof NotFound) return;
        throw err;
      }
      yield out;
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /** Files and subfolders directly below `key` (one delimiter listing). */
  async *level(key: string, signal?: AbortSignal): AsyncGenerator<LevelEntry> {
    const prefix = key === '' ? '' : `${key}/`;
    for await (const page of this.pages(prefix, '/', signal, key)) {
      for (const o of page.Contents ?? []) {
        // A key ending in '/' (a marker some tools write) is not a file.
        if (o.Key && !o.Key.endsWith('/') && o.Key !== prefix) yield { file: listedFile(o.Key, o) };
      }
      for (const p of page.CommonPrefixes ?? []) {
        if (p.Prefix && p.Prefix.length > prefix.length + 1) yield { folder: p.Prefix.slice(0, -1) };
      }
    }
  }

  async *listFiles(key: string, options: BackendListOptions): AsyncGenerator<FileInfo> {
    if (options.recursive && options.maxDepth === undefined) {
      // One flat stream of the whole subtree.
      const prefix = key === '' ? '' : `${key}/`;
      for await (const page of this.pages(prefix, undefined, options.signal, key)) {
        for (const o of page.Contents ?? []) {
          if (!o.Key || o.Key.endsWith('/')) continue;
          // Skip keys with empty segments (`a//b`): they cannot be addressed as store paths.
          if (o.Key.slice(prefix.length).split('/').includes('')) continue;
          yield listedFile(o.Key, o);
        }
      }
      return;
    }
    yield* walkFiles(key, options, (folder) => this.level(folder, options.signal));
  }

  async *listFolders(key: string, signal?: AbortSignal): AsyncGenerator<FolderEntry> {
    for await (const entry of this.level(key, signal)) {
      if (entry.folder) yield folderEntry(entry.folder);
    }
  }

  /** Files first, then folders, of one level. */
  async *iterChildren(key: string, signal?: AbortSignal): AsyncGenerator<ChildEntry> {
    const folders: string[] = [];
    for await (const entry of this.level(key, signal)) {
      if (entry.file) yield { kind: 'file', ...entry.file };
      else if (entry.folder) folders.push(entry.folder);
    }
    for (const f of folders) yield { kind: 'folder', ...folderEntry(f) };
  }
}
