import fs, { ReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { ProgressCallback, WriteContent } from './backend';
import { abortError, RemoteStoreError, throwIfAborted } from './errors';
import { describe } from './retry';

const METADATA_LIMIT = 2048;

/**
 * Validates user metadata before any I/O: string keys and values, keys non-empty,
 * ASCII, not starting with `_`, and at most 2048 bytes in all (keys as ASCII,
 * values as UTF-8). Throws TypeError or RangeError naming the key at fault.
 */
export function validateMetadata(metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  if (typeof metadata !== 'object' || Array.isArray(metadata) || metadata instanceof Map) {
    throw new TypeError(`metadata must be a plain object of strings, got ${describe(metadata)}`);
  }
  let total = 0;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key === '') throw new TypeError('metadata keys must not be empty');
    if (key.startsWith('_')) throw new TypeError(`metadata key '${key}' must not start with '_'`);
    if (!/^[\x20-\x7e]+$/.test(key)) throw new TypeError(`metadata key ${JSON.stringify(key)} must be printable ASCII`);
    if (typeof value !== 'string') throw new TypeError(`metadata value of '${key}' must be a string, got ${describe(value)}`);
    total += key.length + Buffer.byteLength(value, 'utf8');
    out[key] = value;
  }
  if (total > METADATA_LIMIT) {
    throw new RangeError(`metadata is ${total} bytes; at most ${METADATA_LIMIT} bytes of keys and values are allowed`);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** True when content is already all in memory. */
export function isInMemory(content: WriteContent): content is Buffer | Uint8Array | ArrayBuffer | string {
  return typeof content === 'string' || content instanceof Uint8Array || content instanceof ArrayBuffer;
}

/** In-memory content as a Buffer (no copy for Buffers and Uint8Arrays). */
export function memoryToBuffer(content: Buffer | Uint8Array | ArrayBuffer | string): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (content instanceof ArrayBuffer) return Buffer.from(content);
  return Buffer.isBuffer(content) ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

/** Checks the content's type up front so a wrong argument fails before any I/O. */
export function checkContent(content: unknown): asserts content is WriteContent {
  if (
    typeof content === 'string' ||
    content instanceof Uint8Array ||
    content instanceof ArrayBuffer ||
    content instanceof Readable ||
    (content !== null && typeof content === 'object' && (Symbol.asyncIterator in content || Symbol.iterator in content))
  ) {
    return;
  }
  throw new TypeError(`content must be a Buffer, Uint8Array, string, Readable or (async) iterable of Uint8Array, got ${describe(content)}`);
}

/**
 * Keeps a stream's error from crashing the process before the write reads it: a file stream
 * of a missing file fails on its own, while the write is still checking its arguments or
 * waiting on the network. The error stays on the stream (`errored`), and reading it throws.
 */
export function holdStreamErrors(content: unknown): void {
  if (content instanceof Readable && content.listenerCount('error') === 0) content.on('error', () => undefined);
}

/**
 * Destroys a Readable that a failed write was given, as `stream.pipeline` does with its
 * streams: whether the write failed before reading it (a bad path, an existing target) or
 * midway, the stream cannot be used again, and an `fs.ReadStream` left so keeps its file open
 * for the life of the process (100 failed writes, 100 open files).
 */
export function releaseSource(content: unknown): void {
  if (content instanceof Readable && !content.destroyed) content.destroy();
}

/** A local file to upload by reading it natively: the bytes `start`..`end` (inclusive) of `path`. */
export interface FileSource {
  stream: ReadStream;
  path: string;
  start: number;
  /** Inclusive; Infinity: to the end of the file. */
  end: number;
}

/**
 * The file behind `content` when it is an `fs.ReadStream` that nothing has read from yet, on
 * a path and through Node's own `fs`, without an encoding: then its bytes are exactly the
 * file's from `start` to `end`, and the data path may read the file itself instead of the
 * stream (a copy and a garbage-collected Buffer per chunk fewer). Anything else, or a
 * stream in any doubt, is read as a stream. (`kFs` is Node's own name for the stream's file
 * system, the same in Node 20, 22 and 24; a Node without it gets the stream path.)
 */
export function unreadFileStream(content: WriteContent): FileSource | undefined {
  if (!(content instanceof ReadStream)) return undefined;
  const stream = content as ReadStream & { start?: unknown; end?: unknown };
  const untouched =
    stream.bytesRead === 0 &&
    !stream.readableDidRead &&
    stream.readableFlowing === null &&
    stream.readableLength === 0 &&
    stream.readableEncoding === null &&
    !stream.destroyed &&
    stream.listenerCount('data') === 0 &&
    stream.listenerCount('readable') === 0;
  // A custom `fs` option (an in-memory file system) makes the path mean something else.
  const fsKey = Object.getOwnPropertySymbols(stream).find((k) => k.description === 'kFs');
  const nodeFs = fsKey !== undefined && (stream as unknown as Record<symbol, unknown>)[fsKey] === fs;
  const start = stream.start ?? 0;
  const end = stream.end ?? Infinity;
  if (!untouched || !nodeFs || typeof stream.path !== 'string' || typeof start !== 'number' || typeof end !== 'number') return undefined;
  return { stream, path: stream.path, start, end };
}

/** A native writer that reads a local file itself, a piece per call. */
export interface FileAppender {
  /** Opens the file (a regular file only). */
  attachFile(path: string): Promise<void>;
  /** Appends up to `max` bytes of it from `offset`; resolves with the bytes appended, 0 at its end. */
  writeFileRange(offset: number, max: number): Promise<number>;
}

/**
 * Appends bytes `start`..`end` (inclusive; Infinity: to its end) of the local file `path`
 * through `writer`, which reads it itself: they never pass through JS. `onBytes` follows each
 * piece. Resolves with the bytes appended; undefined, with nothing appended, when the writer
 * cannot open the file (the caller then reads it another way, and meets the error there).
 */
export async function appendFile(writer: FileAppender, path: string, start: number, end: number, onBytes?: (bytes: number) => void): Promise<number | undefined> {
  try {
    await writer.attachFile(path);
  } catch {
    return undefined;
  }
  let offset = start;
  while (offset <= end) {
    const n = await writer.writeFileRange(offset, Math.min(end + 1, Number.MAX_SAFE_INTEGER) - offset);
    if (n === 0) break;
    offset += n;
    onBytes?.(n);
  }
  return offset - start;
}

/**
 * Writes the file behind an unread `fs.ReadStream` (see {@link unreadFileStream}) through
 * `append`, which reads the file natively, instead of reading the stream. The stream is
 * destroyed afterwards, which closes its file; a stream the caller destroys meanwhile fails
 * the write as a failing source (`write` names it), as reading it would. Progress goes to
 * `write.onProgress`. Resolves with the bytes written, or undefined when `append` could not
 * open the file (then read the stream).
 */
export async function writeFileStream(
  file: FileSource,
  append: (onBytes: (bytes: number) => void) => Promise<number | undefined>,
  write: { path: string; backend: string; onProgress?: ProgressCallback },
): Promise<number | undefined> {
  const { stream } = file;
  holdStreamErrors(stream);
  let bytes = 0;
  try {
    const written = await append((n) => {
      if (stream.destroyed) throw sourceFailure(stream.errored ?? new Error('the source stream was destroyed'), write.path, write.backend);
      bytes += n;
      write.onProgress?.({ bytes });
    });
    if (written !== undefined) stream.destroy();
    return written;
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

/**
 * Gathers small chunks into pieces of `size` bytes before they go to the addon: every native
 * call is a round trip through the event loop, and a file stream's 64 KiB chunks would be
 * 16,384 of them per GiB. A chunk at least that large, when nothing is held, goes as it is.
 */
export class Gatherer {
  readonly size: number;
  #piece: Buffer | undefined;
  #held = 0;

  constructor(size = 1 << 20) {
    this.size = size;
  }

  /** Bytes held, not yet in a piece. */
  get held(): number {
    return this.#held;
  }

  /**
   * The pieces `data` completes, to send in order; the rest of it is held. Lazy: each piece is
   * copied when asked for, so a large chunk is not doubled in memory at once.
   */
  *add(data: Buffer): Generator<Buffer> {
    if (this.#held === 0 && data.length >= this.size) {
      yield data;
      return;
    }
    for (let from = 0; from < data.length; ) {
      this.#piece ??= Buffer.allocUnsafe(this.size);
      const n = data.copy(this.#piece, this.#held, from);
      this.#held += n;
      from += n;
      if (this.#held === this.size) yield this.take()!;
    }
  }

  /** What is held, as one piece; undefined when nothing is. */
  take(): Buffer | undefined {
    if (this.#held === 0) return undefined;
    const piece = this.#piece!.subarray(0, this.#held);
    this.#piece = undefined;
    this.#held = 0;
    return piece;
  }
}

export interface ChunkOptions {
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Used in error messages. */
  path?: string;
  /** The backend's name, for the error of a failing source. */
  backend?: string;
}

/**
 * The error of a write whose source failed (its stream errored, its iterator threw): the
 * same on every backend, naming the write's path, with the source's own error as `cause`.
 * An `fs.ReadStream` of a missing file fails with ENOENT, which must not read as the
 * target's: the message says it is the source's.
 */
export function sourceFailure(err: unknown, path: string | undefined, backend: string | undefined): RemoteStoreError {
  return new RemoteStoreError(`Write of '${path ?? ''}' failed: the source failed: ${(err as Error)?.message ?? String(err)}`, {
    path,
    backend,
    cause: err,
  });
}

/**
 * The content as a stream of Buffers, read from the stream's current position,
 * stopping with {@link AbortError} when the signal fires and reporting progress.
 */
export async function* contentChunks(content: WriteContent, options: ChunkOptions = {}): AsyncGenerator<Buffer> {
  const { signal, onProgress, path, backend } = options;
  throwIfAborted(signal, path);
  if (isInMemory(content)) {
    const buf = memoryToBuffer(content);
    if (buf.length > 0) yield buf;
    onProgress?.({ bytes: buf.length, total: buf.length });
    return;
  }
  let bytes = 0;
  const source = content as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
  const iterator = (source[Symbol.asyncIterator]?.() ?? (source[Symbol.iterator] as () => Iterator<unknown>)()) as
    | AsyncIterator<unknown>
    | Iterator<unknown>;
  let finished = false;
  try {
    for (;;) {
      // Raced against the signal: an abort must end the write even while the source is idle.
      const next = Promise.resolve()
        .then(() => iterator.next())
        .catch((err: unknown) => {
          throw sourceFailure(err, path, backend);
        });
      const step = await raceAbort(next, signal, path);
      if (step.done) {
        finished = true;
        break;
      }
      const chunk = step.value;
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk instanceof Uint8Array ? memoryToBuffer(chunk) : undefined;
      if (!buf) throw new TypeError(`content yielded ${describe(chunk)}; only Uint8Array chunks are accepted`);
      if (buf.length === 0) continue;
      bytes += buf.length;
      yield buf;
      onProgress?.({ bytes });
    }
  } finally {
    // Stop the source when we stop early (not awaited: a source stuck in next() would hang it).
    if (!finished) void Promise.resolve(iterator.return?.()).catch(() => undefined);
  }
  throwIfAborted(signal, path);
}

/** Reads all content into one Buffer. */
export async function collectContent(content: WriteContent, options: ChunkOptions = {}): Promise<Buffer> {
  if (isInMemory(content)) {
    throwIfAborted(options.signal, options.path);
    const buf = memoryToBuffer(content);
    options.onProgress?.({ bytes: buf.length, total: buf.length });
    return buf;
  }
  const parts: Buffer[] = [];
  for await (const chunk of contentChunks(content, options)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Rejects with AbortError when the signal fires; resolves/rejects with `work` otherwise. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, path?: string): Promise<T> {
  if (!signal) return work;
  // Nobody waits for `work` once the abort has won; its later failure (a source destroyed
  // meanwhile) must not surface as an unhandled rejection.
  if (signal.aborted) work.catch(() => undefined);
  throwIfAborted(signal, path);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, path));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
