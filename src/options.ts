import { describe } from './retry';

/**
 * Validation of the options objects users pass to Store methods. A typo such as
 * `{ overwite: true }` must not silently mean "overwrite: false", so unknown keys
 * are refused with a TypeError that names them and the method.
 */

/** `checked`: a known key whose value the caller validates itself. */
type Kind = 'boolean' | 'string' | 'function' | 'object' | 'signal' | 'count' | 'checked';

export type OptionSpec = Record<string, Kind>;

const COMMON: OptionSpec = { signal: 'signal' };

/** Checks `options` against `spec` (plus `signal`) and returns it as a plain object. */
export function checkOptions<T extends object>(method: string, options: unknown, spec: OptionSpec): Partial<T> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${method}: options must be an object, got ${describe(options)}`);
  }
  for (const [key, value] of Object.entries(options)) {
    const kind = spec[key] ?? COMMON[key];
    if (!kind) {
      const known = [...Object.keys(spec), 'signal'].join(', ');
      throw new TypeError(`${method}: unknown option '${key}'. Known options: ${known}`);
    }
    if (value === undefined) continue;
    checkValue(method, key, kind, value);
  }
  return options as Partial<T>;
}

function checkValue(method: string, key: string, kind: Kind, value: unknown): void {
  switch (kind) {
    case 'checked':
      return;
    case 'signal':
      if (!(value instanceof AbortSignal)) throw new TypeError(`${method}: option 'signal' must be an AbortSignal, got ${describe(value)}`);
      return;
    case 'count':
      checkCount(`${method}: option '${key}'`, value);
      return;
    case 'object':
      if (value === null || typeof value !== 'object') throw new TypeError(`${method}: option '${key}' must be an object, got ${describe(value)}`);
      return;
    default:
      if (typeof value !== kind) throw new TypeError(`${method}: option '${key}' must be a ${kind}, got ${describe(value)}`);
  }
}

/** A non-negative safe integer (byte offsets, lengths, depths). */
export function checkCount(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${what} must be a whole number, got ${describe(value)}`);
  }
  if (value < 0 || !Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be from 0 to ${Number.MAX_SAFE_INTEGER} (2^53 - 1), got ${value}`);
  }
  return value;
}
