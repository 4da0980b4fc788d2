/**
 * Listings on the SDK (both backends list there): ListObjectsV2 pages, one delimiter level,
 * the flat recursive stream and the depth-bounded walk. Folders are key prefixes; a missing
 * bucket lists as empty.
 */
import type { ListObjectsV2CommandInput, ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import type { BackendListOptions } from '../../backend';
import { NotFound } from '../../errors';
import type { ChildEntry, FileInfo, FolderEntry } from '../../models';
import { folderEntry, type LevelEntry, walkFiles } from '../base';
import type { SdkClient } from './client';
import { listedFile } from './results';

/**
 * One ListObjectsV2 request, its keys asked URL-encoded and decoded here: XML cannot carry
 * every character a key may hold (a `\r` comes back as `\n`, so a key listed could be
 * neither read nor deleted). A server that ignores the encoding answers without
 * `EncodingType`; one that echoes it without encoding (s3s-fs 0.14) shows a character no
 * encoder leaves raw (a space, a tab, a non-ASCII letter). Either way its keys are taken as
 * they are.
 */
export async function listObjects(
  sdk: SdkClient,
  input: Omit<ListObjectsV2CommandInput, 'EncodingType'>,
  key: string,
  signal: AbortSignal | undefined,
): Promise<ListObjectsV2CommandOutput> {
  const out = await sdk.send('ListObjectsV2', { ...input, EncodingType: 'url' }, key, signal);
  const keys = [...(out.Contents ?? []).map((o) => o.Key), ...(out.CommonPrefixes ?? []).map((p) => p.Prefix)];
  if (out.EncodingType !== 'url' || !keys.every((k) => k === undefined || URL_ENCODED.test(k))) return out;
  // AWS encodes a space as '+' (and a '+' as %2B).
  const decode = (s: string | undefined) => (s === undefined ? s : decodeURIComponent(s.replace(/\+/g, ' ')));
  return {
    ...out,
    Prefix: decode(out.Prefix),
    Delimiter: decode(out.Delimiter),
    StartAfter: decode(out.StartAfter),
    Contents: out.Contents?.map((o) => ({ ...o, Key: decode(o.Key) })),
    CommonPrefixes: out.CommonPrefixes?.map((p) => ({ ...p, Prefix: decode(p.Prefix) })),
  };
}

/** What a URL encoder may leave: RFC 3986's unreserved and reserved characters, and %XX. */
const URL_ENCODED = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]]|%[0-9A-Fa-f]{2})*$/;

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
        out = await listObjects(this.sdk, { Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }, key, signal);
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
