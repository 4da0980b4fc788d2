/**
 * Per-write object attributes (DESIGN §8 "Writes"): the HTTP headers an object store keeps
 * with an object and serves back with it, plus its storage class. Validated once here, in
 * the Store, before any I/O; the backends that keep them (Capability.WRITE_ATTRIBUTES) apply
 * them as they are.
 */
/** What a write may say about the object it creates. */
export interface WriteAttributes {
  /** `Content-Type`, served back on reads and reported as `FileInfo.contentType`. */
  contentType?: string;
  /** `Cache-Control`. */
  cacheControl?: string;
  /** `Content-Disposition` (ASCII; non-ASCII file names as RFC 6266 `filename*=UTF-8''…`). */
  contentDisposition?: string;
  /** `Content-Encoding` (the bytes are stored as given: say `gzip` for bytes you compressed). */
  contentEncoding?: string;
  /** S3 storage class (`STANDARD`, `STANDARD_IA`, `GLACIER_IR`, …). */
  storageClass?: string;
}

export const WRITE_ATTRIBUTE_NAMES = ['contentType', 'cacheControl', 'contentDisposition', 'contentEncoding', 'storageClass'] as const;

// A header value a server keeps as it is: visible ASCII and inner spaces/tabs, at most 1 KiB.
// Line breaks would split the request; non-ASCII is re-encoded differently by each HTTP client.
const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?$/;
const MAX_HEADER_VALUE = 1024;
// What S3 and its compatibles name storage classes with.
const STORAGE_CLASS = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The attributes among a write's options, checked: each a non-empty header value (a storage
 * class an upper-case name). A bad one is a TypeError naming the method and the option; the
 * value is never shown (a misplaced `${VAR}` could hold a secret). Undefined when none is given.
 */
export function validateWriteAttributes(method: string, options: Record<string, unknown>): WriteAttributes | undefined {
  let out: WriteAttributes | undefined;
  for (const name of WRITE_ATTRIBUTE_NAMES) {
    const value = options[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new TypeError(`${method}: option '${name}' must be a string, got ${kindOf(value)}`);
    if (name === 'storageClass') {
      if (!STORAGE_CLASS.test(value)) throw new TypeError(`${method}: option 'storageClass' must be a storage class name such as 'STANDARD_IA' (A-Z, 0-9, _)`);
    } else if (value.length > MAX_HEADER_VALUE || !HEADER_VALUE.test(value)) {
      throw new TypeError(
        `${method}: option '${name}' must be a header value: 1 to ${MAX_HEADER_VALUE} printable ASCII characters, no line breaks, no leading or trailing space`,
      );
    }
    (out ??= {})[name] = value;
  }
  return out;
}

/** The kind of a value, for errors that must not show the value itself. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
