import { InvalidPath } from './errors';

/**
 * Store paths. A path is a `/`-separated key relative to the store's root:
 * backslashes become `/`, empty and `.` segments are dropped, and `..`, NUL bytes,
 * unpaired surrogates or nothing left are refused. No normalised path can name anything outside the root.
 */

/** Splits a user path into its normalised segments, refusing `..`, NUL and unpaired surrogates. */
export function pathSegments(raw: unknown): string[] {
  if (typeof raw !== 'string') {
    throw new InvalidPath(`Path must be a string, got ${raw === null ? 'null' : typeof raw}`, { path: String(raw) });
  }
  if (raw.includes('\0')) throw new InvalidPath(`Path contains a NUL byte: ${JSON.stringify(raw)}`, { path: raw });
  // Not valid Unicode: UTF-8 (file names, S3 keys) turns it into U+FFFD, so two such paths
  // would name one file.
  if (/\p{Cs}/u.test(raw)) throw new InvalidPath(`Path contains an unpaired surrogate: ${JSON.stringify(raw)}`, { path: raw });
  const segments = raw.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new InvalidPath(`Path contains a '..' segment: '${raw}'`, { path: raw });
  return segments;
}

/** Normalises a path that must name something below the root (a file, a write target). */
export function normalizePath(raw: unknown): string {
  const segments = pathSegments(raw);
  if (segments.length === 0) {
    throw new InvalidPath(`Path must not be empty or the root for this operation: '${String(raw)}'`, { path: String(raw) });
  }
  return segments.join('/');
}

/** Normalises a path where the root is allowed (folder and query methods); the root is `''`. */
export function normalizeFolderPath(raw: unknown): string {
  return pathSegments(raw).join('/');
}

/** Joins a normalised prefix and key; either may be the root `''`. */
export function joinKey(prefix: string, key: string): string {
  if (prefix === '') return key;
  if (key === '') return prefix;
  return `${prefix}/${key}`;
}

/** The last segment of a key. */
export function baseName(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? key : key.slice(i + 1);
}

/** The key's parent, `''` for a top-level key. */
export function parentKey(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

/** Every proper ancestor of a key, nearest to the root first: `a/b/c` → `a`, `a/b`. */
export function ancestors(key: string): string[] {
  const parts = key.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** True when `key` is `folder` itself or lies below it (the root contains everything). */
export function isUnder(key: string, folder: string): boolean {
  return folder === '' || key === folder || key.startsWith(`${folder}/`);
}

/** Strips `prefix` from a key below it; `undefined` when the key lies outside. */
export function relativeTo(key: string, prefix: string): string | undefined {
  if (prefix === '') return key;
  if (key === prefix) return '';
  return key.startsWith(`${prefix}/`) ? key.slice(prefix.length + 1) : undefined;
}
