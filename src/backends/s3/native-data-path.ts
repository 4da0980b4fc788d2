/**
 * The `s3-arrow` data path: reads, ranged reads, writes (one PUT, or a parallel multipart
 * upload that is aborted when the source fails) and copies run in Rust on the addon's
 * object_store S3 client ({@link NativeObjectStore}). Probes on error paths (is it a folder?
 * did it exist?) ask the SDK control path. User metadata is stored as object_store attributes.
 */
import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { BackendWriteOptions, PresignOptions, WriteContent } from '../../backend';
import { contentChunks, memoryToBuffer, unreadFileStream, writeFileStream } from '../../content';
import { NotFound, RemoteStoreError } from '../../errors';
import { NativeObjectStore, type NativePutResult } from '../../native';
import { abortStreamOn } from './abort';
import { type S3DataPath, type S3Parts, type Written, writeFailure } from './data-path';
import { isServerError } from './errors';
import { nativeS3Options } from './native-options';
import { withDeadline, withoutRetries } from './operation';
import { checksumFields, type PutAnswer } from './results';
import { copyObject } from './sdk-data-path';
import { copyNeedsHeaders } from './write-headers';

/** Chunk size of the Readable that `read` hands out over the fetched object. */
const READ_CHUNK = 1 << 20;
/** `read` of larger objects streams in windows instead of one allocation. */
const WINDOWED_READ_THRESHOLD = 64 * 1024 * 1024;
const READ_WINDOW = 16 * 1024 * 1024;
const READ_AHEAD = 3;

export class NativeDataPath implements S3DataPath {
  readonly #parts: S3Parts;
  #native: NativeObjectStore | undefined;

  constructor(parts: S3Parts) {
    this.#parts = parts;
  }

  /** The native store, built on first use (no network I/O). */
  #store(): NativeObjectStore {
    this.#parts.checkOpen();
    this.#native ??= NativeObjectStore.s3(nativeS3Options(this.#parts.settings, this.#parts.sdk));
    return this.#native;
  }

  unwrap(type: unknown): NativeObjectStore | undefined {
    return type === (NativeObjectStore as unknown) ? this.#store() : undefined;
  }

  /** Presigned URLs are signed by the data-path store itself (presign.ts). */
  presign(key: string, options: PresignOptions): Promise<string> {
    return this.#store().presign(key, options.method, options.expiresIn);
  }

  /** Its connections go with its last call. */
  close(): void {
    this.#native?.close();
    this.#native = undefined;
  }

  // ---- reads -----------------------------------------------------------------------

  /**
   * Runs a native read with the caller's signal and the operation's deadline. A NotFound, or a
   * 5xx that s3s-fs answers for a key that is a directory on its disk, is told from a folder
   * (InvalidPath) by listings that ask once: the read has used its attempts already, and a
   * probe with retries of its own multiplied the budget (9 requests for a policy of 3).
   */
  async #nativeRead<T>(key: string, signal: AbortSignal | undefined, fn: (n: NativeObjectStore, signal?: AbortSignal) => Promise<T>): Promise<T> {
    const { control } = this.#parts;
    if (key === '') throw control.rootIsNotAFile();
    try {
      const store = this.#store();
      const s = withDeadline(signal);
      return await this.#parts.pacer.run(() => fn(store, s), s);
    } catch (err) {
      if (err instanceof NotFound) throw await control.missing(key, signal);
      if (isServerError(err) && !(await withoutRetries(() => control.keyListed(key, signal)))) throw await control.missing(key, signal);
      throw err;
    }
  }

  readBytes(key: string, signal?: AbortSignal): Promise<Buffer> {
    return this.#nativeRead(key, signal, (n, s) => n.get(key, { signal: s }));
  }

  readRange(key: string, offset: number, length: number | undefined, signal?: AbortSignal): Promise<Buffer> {
    return this.#nativeRead(key, signal, (n, s) => n.getRange(key, offset, length, { signal: s }));
  }

  /**
   * Objects up to 64 MiB are fetched whole (parallel ranged GETs) and handed out in 1 MiB
   * chunks. Larger ones stream in 16 MiB windows, three in flight, so memory stays bounded;
   * after each window a HEAD checks the ETag, and an object replaced mid-read fails the
   * stream instead of mixing versions.
   */
  async read(key: string, signal?: AbortSignal): Promise<Readable> {
    const head = await this.#nativeRead(key, signal, (n, s) => n.head(key, { signal: s }));
    if (head.size <= WINDOWED_READ_THRESHOLD) {
      const buf = await this.readBytes(key, signal);
      function* chunks(): Generator<Buffer> {
        for (let off = 0; off < buf.length; off += READ_CHUNK) yield buf.subarray(off, Math.min(buf.length, off + READ_CHUNK));
      }
      return Readable.from(chunks(), { objectMode: false });
    }
    const native = this.#store();
    const size = head.size;
    const backend = this.#parts.name;
    // Destroying the stream cancels the windows read ahead: no request outlives the stream.
    const stop = new AbortController();
    const windowSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const fetchWindow = async (offset: number): Promise<Buffer> => {
      const buf = await native.getRange(key, offset, Math.min(READ_WINDOW, size - offset), { signal: windowSignal });
      const now = await native.head(key, { signal: windowSignal });
      if (now.etag !== head.etag || now.size !== size) {
        throw new RemoteStoreError(`Object '${key}' was replaced while it was being read`, { path: key, backend });
      }
      return buf;
    };
    const windows: Promise<Buffer>[] = [];
    let next = 0;
    const fill = () => {
      while (windows.length < READ_AHEAD && next < size) {
        const p = fetchWindow(next);
        p.catch(() => undefined); // observed when its turn comes
        windows.push(p);
        next += READ_WINDOW;
      }
    };
    const stream = new Readable({
      highWaterMark: READ_CHUNK,
      read() {
        fill();
        const p = windows.shift();
        if (!p) {
          this.push(null);
          return;
        }
        p.then(
          (buf) => {
            if (this.destroyed) return;
            for (let off = 0; off < buf.length; off += READ_CHUNK) this.push(buf.subarray(off, Math.min(buf.length, off + READ_CHUNK)));
            if (windows.length === 0 && next >= size) this.push(null);
          },
          (err) => this.destroy(err as Error),
        );
      },
    });
    stream.once('close', () => stop.abort());
    if (signal) abortStreamOn(signal, stream, key, backend);
    return stream;
  }

  // ---- writes ----------------------------------------------------------------------

  /**
   * One PUT for bytes in memory (retried by the native path under the policy; a create-mode
   * PUT whose answer was lost is settled with one probe, never by comparing ETags), else a
   * streaming upload that is discarded on any failure — later, if the server cannot be
   * reached now — so no truncated object is ever left.
   */
  async write(key: string, content: WriteContent, options: BackendWriteOptions, inMemory: boolean): Promise<Written> {
    const native = this.#store();
    const metadata = options.metadata && Object.keys(options.metadata).length > 0 ? options.metadata : undefined;
    const mode = options.overwrite ? ('overwrite' as const) : ('create' as const);
    // The store's write defaults are the native store's own (native-options.ts); these override them.
    const attributes = options.attributes ?? {};
    if (inMemory) {
      const body = memoryToBuffer(content as Buffer);
      const signal = withDeadline(options.signal);
      const put = await this.#parts.pacer.run(() => native.put(key, body, { ...attributes, mode, metadata, signal }), signal);
      options.onProgress?.({ bytes: body.length, total: body.length });
      return { size: body.length, put: putAnswer(put) };
    }
    const upload = native.createUpload(key, { ...attributes, mode, metadata, signal: withDeadline(options.signal) });
    const file = unreadFileStream(content);
    try {
      const where = { path: key, backend: this.#parts.name, onProgress: options.onProgress };
      let size = file && (await writeFileStream(file, (onBytes) => upload.writeFile(file.path, file.start, file.end, onBytes), where));
      if (size === undefined) {
        size = 0;
        for await (const chunk of contentChunks(content, { ...where, signal: options.signal })) {
          size += chunk.length;
          await upload.write(chunk);
        }
      }
      const put = await upload.finish();
      return { size, put: putAnswer(put) };
    } catch (err) {
      await upload.abort().catch(() => this.#parts.aborts.defer(upload, key, () => upload.abort()));
      throw writeFailure(err, key, this.#parts.name, options.signal);
    }
  }

  // ---- copy ------------------------------------------------------------------------

  async copy(src: string, dst: string, source: HeadObjectCommandOutput, options: { overwrite: boolean; signal?: AbortSignal }): Promise<void> {
    if (copyNeedsHeaders(this.#parts.settings.clientOptions().writeDefaults, source, !options.overwrite)) {
      // What object_store's copy would lose (write-headers.ts): the SDK's CopyObject keeps it,
      // and with If-None-Match: * it is just as atomic where the server honours it.
      await copyObject(this.#parts, src, dst, source, options);
      return;
    }
    // overwrite: CopyObject (metadata copied); create: conditional multipart copy (atomic).
    const store = this.#store();
    const signal = withDeadline(options.signal);
    await this.#parts.pacer.run(() => store.copy(src, dst, { overwrite: options.overwrite, signal }), signal);
  }
}

/** The native answer in the fields the WriteResult is built from. */
function putAnswer(put: NativePutResult): PutAnswer {
  return { ETag: put.etag, VersionId: put.version, ...checksumFields(put.checksum) };
}

/** The factory of the `s3-arrow` composition. */
export const nativeDataPath = (parts: S3Parts): S3DataPath => new NativeDataPath(parts);
