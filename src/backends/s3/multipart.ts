/**
 * Multipart tuning of the S3 backends: the backend options `part_size`, `upload_concurrency`
 * and `multipart_threshold` (camelCase accepted), validated once and applied by both data paths
 * (the SDK uploader of `s3`, the native uploader of `s3-arrow`).
 *
 * A write of at most `max(multipart_threshold, part_size)` bytes is one PUT; a larger stream is
 * a multipart upload of `part_size` parts, `upload_concurrency` of them in flight (so up to
 * `part_size × upload_concurrency` bytes buffered per write). A stream is cut into parts as it
 * arrives: the threshold is never below one part, since a body that fits in one part gains
 * nothing from a multipart upload.
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** S3 limits: parts of 5 MiB to 5 GiB (the last may be smaller); a single PUT of at most 5 GiB. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * GiB;
export const MAX_SINGLE_PUT = 5 * GiB;
const MAX_UPLOAD_CONCURRENCY = 1000;

export interface MultipartTuning {
  /** Bytes per part. */
  partSize: number;
  /** Parts in flight per upload. */
  uploadConcurrency: number;
  /** Writes up to this many bytes (and never fewer than one part) are one PUT. */
  multipartThreshold: number;
}

/**
 * What each path uses when the options say nothing. The native uploader runs more parts at once:
 * its parts cost no JS-thread work, while each SDK part is signed and checksummed on it.
 */
export const SDK_MULTIPART_DEFAULTS: MultipartTuning = { partSize: 8 * MiB, uploadConcurrency: 4, multipartThreshold: 8 * MiB };
export const NATIVE_MULTIPART_DEFAULTS: MultipartTuning = { partSize: 8 * MiB, uploadConcurrency: 8, multipartThreshold: 8 * MiB };

/** The option names, snake_case as in a registry config. */
export const MULTIPART_OPTION_NAMES = ['part_size', 'upload_concurrency', 'multipart_threshold'] as const;

function wholeNumber(options: Record<string, unknown>, snake: string, camel: string, min: number, max: number, unit: string): number | undefined {
  const value = options[snake] ?? options[camel];
  if (value === undefined || value === null) return undefined;
  // The value is not shown: a misplaced ${VAR} could hold a secret.
  const expected = `a whole number ${unit}from ${min} to ${max}`;
  if (typeof value !== 'number') throw new TypeError(`s3 option '${snake}' must be ${expected}, got a ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`s3 option '${snake}' must be ${expected}`);
  return value;
}

/** The options given (unset ones stay undefined: each path has its defaults). Errors name the option and the range. */
export function multipartOptions(options: Record<string, unknown>): Partial<MultipartTuning> {
  const partSize = wholeNumber(options, 'part_size', 'partSize', MIN_PART_SIZE, MAX_PART_SIZE, 'of bytes ');
  const uploadConcurrency = wholeNumber(options, 'upload_concurrency', 'uploadConcurrency', 1, MAX_UPLOAD_CONCURRENCY, '');
  const multipartThreshold = wholeNumber(options, 'multipart_threshold', 'multipartThreshold', 0, MAX_SINGLE_PUT, 'of bytes ');
  const out: Partial<MultipartTuning> = {};
  if (partSize !== undefined) out.partSize = partSize;
  if (uploadConcurrency !== undefined) out.uploadConcurrency = uploadConcurrency;
  if (multipartThreshold !== undefined) out.multipartThreshold = multipartThreshold;
  return out;
}

/** A path's tuning: the options over its defaults, the threshold at least one part. */
export function effectiveMultipart(given: Partial<MultipartTuning>, defaults: MultipartTuning): MultipartTuning {
  const t = { ...defaults, ...given };
  return { ...t, multipartThreshold: Math.max(t.multipartThreshold, t.partSize) };
}
