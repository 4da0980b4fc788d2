/**
 * Cuts a stream into parts of `size` bytes. Where a chunk holds a whole part, the part is a view
 * of it (a Buffer write is never copied). Smaller chunks are copied into a part buffer as they
 * arrive: gathering a part's chunks and concatenating them when it is full copied 8 MiB in one
 * turn of the event loop. A part buffer whose upload has settled takes a later part of the same
 * write, so a long write allocates as many as are in flight plus the one filling, not one per part
 * (each allocation was external memory the collector had to account for).
 */
export class PartCutter {
  #filling: Buffer | undefined;
  #filled = 0;
  readonly #spare: Buffer[] = [];
  readonly #ours = new WeakSet<Buffer>();

  constructor(private readonly size: number) {}

  /** The full parts this chunk completes. */
  *add(chunk: Buffer): Generator<Buffer> {
    let at = 0;
    while (at < chunk.length) {
      if (this.#filled === 0 && chunk.length - at >= this.size) {
        yield chunk.subarray(at, at + this.size);
        at += this.size;
        continue;
      }
      const target = (this.#filling ??= this.#spare.pop() ?? this.#allocate());
      const copied = chunk.copy(target, this.#filled, at, Math.min(chunk.length, at + this.size - this.#filled));
      this.#filled += copied;
      at += copied;
      if (this.#filled === this.size) {
        this.#filling = undefined;
        this.#filled = 0;
        yield target;
      }
    }
  }

  /** The bytes after the last full part (a view). */
  rest(): Buffer {
    return this.#filling ? this.#filling.subarray(0, this.#filled) : Buffer.alloc(0);
  }

  /** The upload of `part` has settled: nothing reads it any more. */
  release(part: Buffer): void {
    if (this.#ours.has(part)) this.#spare.push(part);
  }

  #allocate(): Buffer {
    const buf = Buffer.allocUnsafe(this.size);
    this.#ours.add(buf);
    return buf;
  }
}
