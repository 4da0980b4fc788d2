import { CapabilityNotSupported } from './errors';

/**
 * What a backend can do. Gate capabilities make a Store method throw
 * {@link CapabilityNotSupported} before any I/O (WRITE_ATTRIBUTES gates the write options of
 * that name, USER_METADATA the `metadata` option); quality flags (ATOMIC_MOVE,
 * SEEKABLE_READ, LAZY_READ, WRITE_RESULT_NATIVE) only describe behaviour.
 */
export const Capability = {
  READ: 'read',
  WRITE: 'write',
  DELETE: 'delete',
  LIST: 'list',
  GLOB: 'glob',
  MOVE: 'move',
  COPY: 'copy',
  ATOMIC_WRITE: 'atomic_write',
  ATOMIC_MOVE: 'atomic_move',
  METADATA: 'metadata',
  USER_METADATA: 'user_metadata',
  SEEKABLE_READ: 'seekable_read',
  LAZY_READ: 'lazy_read',
  WRITE_RESULT_NATIVE: 'write_result_native',
  /**
   * Writes keep `contentType`, `cacheControl`, `contentDisposition`, `contentEncoding` and
   * `storageClass`, and `getFileInfo` reports the stored `contentType`.
   */
  WRITE_ATTRIBUTES: 'write_attributes',
  /** `store.presign(path, {method, expiresIn})` hands out a URL that needs no credentials. */
  PRESIGN: 'presign',
} as const;

export type Capability = (typeof Capability)[keyof typeof Capability];

const ALL = new Set<string>(Object.values(Capability));

/** An immutable set of capabilities. */
export class CapabilitySet implements Iterable<Capability> {
  readonly #caps: ReadonlySet<Capability>;

  constructor(caps: Iterable<Capability>) {
    const set = new Set<Capability>();
    for (const cap of caps) {
      if (!ALL.has(cap)) throw new TypeError(`Unknown capability: ${JSON.stringify(cap)}`);
      set.add(cap);
    }
    this.#caps = set;
    Object.freeze(this);
  }

  /** Every capability there is. */
  static all(): CapabilitySet {
    return new CapabilitySet(Object.values(Capability));
  }

  /** Every capability but the ones named. */
  static allExcept(...missing: Capability[]): CapabilitySet {
    return new CapabilitySet(Object.values(Capability).filter((c) => !missing.includes(c)));
  }

  supports(cap: Capability): boolean {
    return this.#caps.has(cap);
  }

  has(cap: Capability): boolean {
    return this.#caps.has(cap);
  }

  /** Throws {@link CapabilityNotSupported} unless `cap` is in the set. */
  require(cap: Capability, backend?: string): void {
    if (!this.#caps.has(cap)) {
      throw new CapabilityNotSupported(
        `Capability '${cap}' is not supported${backend ? ` by backend '${backend}'` : ''}. Supported: [${[...this].sort().join(', ')}]`,
        { capability: cap, backend },
      );
    }
  }

  get size(): number {
    return this.#caps.size;
  }

  [Symbol.iterator](): Iterator<Capability> {
    return this.#caps[Symbol.iterator]();
  }

  toJSON(): string[] {
    return [...this].sort();
  }

  toString(): string {
    return `CapabilitySet({${[...this].sort().join(', ')}})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
