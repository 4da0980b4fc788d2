/**
 * Cuts a stream into parts of `size` bytes for a multipart upload.
 *
 * - Where a chunk holds a whole part, the part is a view of it: a Buffer write is never copied.
 * - Smaller chunks are copied into a part buffer as they arrive. Gathering a part's chunks and
 *   concatenating them once it was full copied 8 MiB in one turn of the event loop.
 * - Bytes short of a part are kept as views while they are one piece or less than
 *   `gatherLimit` (1 MiB): a small streamed write must not allocate a whole part, and the tail
 *   of a Buffer write is sent as it is.
 * - A part buffer whose upload has settled takes a later part of the same write, so a long write
 *   allocates as many as are in flight plus the one filling, not one per part (each was external
 *   memory the collector had to account for).
 */
export class PartCutter {
  readonly #size: number;
  readonly #gatherLimit: number;
  /** Pieces not copied yet, while there is no part buffer (one, or less than the gather limit). */
  #gathered: Buffer[] = [];
  #gatheredLength = 0;
  #filling: Buffer | undefined;
  #filled = 0;
  readonly #spare: Buffer[] = [];
  readonly #ours = new WeakSet<Buffer>();

  constructor(size: number, options: { gatherLimit?: number } = {}) {
    this.#size = size;
    this.#gatherLimit = Math.min(size, options.gatherLimit ?? 1 << 20);
  }

  /** The full parts this chunk completes. */
  *add(chunk: Buffer): Generator<Buffer> {
    let at = 0;
    while (at < chunk.length) {
      const left = chunk.length - at;
      if (this.#filling === undefined) {
        if (this.#gatheredLength === 0 && left >= this.#size) {
          yield chunk.subarray(at, at + this.#size);
          at += this.#size;
          continue;
        }
        if (this.#gathered.length === 0 || this.#gatheredLength + left < this.#gatherLimit) {
          this.#gathered.push(at === 0 ? chunk : chunk.subarray(at));
          this.#gatheredLength += left;
          return;
        }
        this.#filling = this.#spare.pop() ?? this.#allocate();
        for (const gathered of this.#gathered) this.#filled += gathered.copy(this.#filling, this.#filled);
        this.#gathered = [];
        this.#gatheredLength = 0;
      }
      const copied = chunk.copy(this.#filling, this.#filled, at, Math.min(chunk.length, at + this.#size - this.#filled));
      this.#filled += copied;
      at += copied;
      if (this.#filled === this.#size) {
        const full = this.#filling;
        this.#filling = undefined;
        this.#filled = 0;
        yield full;
      }
    }
  }

  /** The bytes after the last full part. */
  rest(): Buffer {
    if (this.#filling) return this.#filling.subarray(0, this.#filled);
    return this.#gathered.length === 1 ? this.#gathered[0] : Buffer.concat(this.#gathered, this.#gatheredLength);
  }

  /** The upload of `part` has settled: nothing reads it any more. */
  release(part: Buffer): void {
    if (this.#ours.has(part)) this.#spare.push(part);
  }

  #allocate(): Buffer {
    const buf = Buffer.allocUnsafe(this.#size);
    this.#ours.add(buf);
    return buf;
  }
}
