/** A file's description. Every `path` a Store returns is relative to the store's root. */
export interface FileInfo {
  path: string;
  name: string;
  size: number;
  modifiedAt: Date;
  etag?: string;
  digest?: ContentDigest;
  contentType?: string;
  /** User metadata; absent when the backend lacks USER_METADATA or nothing was stored. */
  metadata?: Record<string, string>;
}

/** A content checksum: algorithm and lowercase hex value. */
export interface ContentDigest {
  algorithm: string;
  value: string;
}

/** A folder met while listing. */
export interface FolderEntry {
  path: string;
  name: string;
}

/** Aggregate over a folder's whole subtree. */
export interface FolderInfo {
  path: string;
  fileCount: number;
  totalSize: number;
  /** The newest file modification time, or undefined for an empty folder. */
  modifiedAt: Date | undefined;
}

/**
 * What a write produced. `source` says where the rich fields come from:
 * `'native'` (the write response), `'basic'` (only path and size) or
 * `'sidecar'` (built afterwards by `head()`).
 */
export interface WriteResult {
  path: string;
  size: number;
  source: 'native' | 'basic' | 'sidecar';
  etag?: string;
  digest?: ContentDigest;
  versionId?: string;
  lastModified?: Date;
  metadata?: Record<string, string>;
}

/** One entry of `iterChildren`: a file (with its info) or a folder. */
export type ChildEntry = ({ kind: 'file' } & FileInfo) | ({ kind: 'folder' } & FolderEntry);
