import { Readable } from 'node:stream';
import type { Backend, BackendWriteOptions, SignalOptions, Unwrappable, WriteContent } from '../backend';
import { contentChunks, memoryToBuffer } from '../content';
import { AbortError, BackendUnavailable, InvalidPath, NotFound, RemoteStoreError } from '../errors';
import type { WriteResult } from '../models';
import { NativeObjectStore, type NativePutOptions } from '../native';
import type { RetryPolicy } from '../retry';
import { copyNeedsHeaders } from './s3/write-headers';
import { abortStreamOn, S3Backend, s3FactoryOptions, type S3BackendOptions } from './s3';

/** Options of {@link S3ArrowBackend}: exactly those of {@link S3Backend}. */
export type S3ArrowBackendOptions = S3BackendOptions;

/** Chunk size of the Readable that `read` hands out over the fetched object. */
const READ_CHUNK = 1 << 20;
/** `read` of larger objects streams in windows instead of one allocation. */
const WINDOWED_READ_THRESHOLD = 64 * 1024 * 1024;
const READ_WINDOW = 16 * 1024 * 1024;
const READ_AHEAD = 3;

/**
 * The `s3-arrow` backend: the `s3` backend with its data path in Rust. Reads, ranged reads,
 * writes (one PUT, or a parallel multipart upload that is aborted when the source fails)
 * and copies (also the copy half of move) run on the addon's object_store S3 client
 * ({@link NativeObjectStore}); list, head, exists and delete stay on the AWS SDK client of
 * {@link S3Backend}. Both clients get the same endpoint, region, credentials (static, or the
 * SDK's default provider chain feeding the native refreshable-credential hook), CA bundle
 * and retry policy. User metadata is stored on the native path (object_store attributes).
 */
export class S3ArrowBackend extends S3Backend implements Backend {
  override readonly name: string = 's3-arrow';
  #native: NativeObjectStore | undefined;

  constructor(options: S3ArrowBackendOptions) {
    super(options);
  }

  override toString(): string {
    return `S3ArrowBackend(bucket='${this.bucket}'${this.endpointUrl ? `, endpoint_url='${this.endpointUrl}'` : ''})`;
  }

  /** The native data-path store, built on first use (no network I/O). */
  protected get native(): NativeObjectStore {
    this.checkOpen();
    this.#native ??= this.buildNative();
    return this.#native;
  }

  private buildNative(): NativeObjectStore {
    return NativeObjectStore.s3(this.nativeOptions());
  }

  /** Presigned URLs come from the data-path store itself. */
  protected override get presigner(): NativeObjectStore {
    return this.native;
  }

  override unwrap<T>(type: Unwrappable<T>): T {
    if (type === (NativeObjectStore as unknown)) return this.native as unknown as T;
    return super.unwrap(type);
  }

  /** Terminal: closes the SDK client and the native store (its connections go with its last call). */
  override async close(): Promise<void> {
    await super.close();
    this.#native?.close();
    this.#native = undefined;
  }

  // ---- reads -----------------------------------------------------------------------

  /**
   * Runs a native read; a NotFound (or a 5xx, which s3s-fs answers for a key that is a
   * directory on its disk) is checked with the SDK HEAD so a folder gives InvalidPath.
   */
  private async nativeRead<T>(key: string, signal: AbortSignal | undefined, fn: (n: NativeObjectStore) => Promise<T>): Promise<T> {
    if (key === '') throw new InvalidPath("Path is the root folder, not a file: ''", { path: key, backend: this.name });
    try {
      return await fn(this.native);
    } catch (err) {
      if (err instanceof NotFound || err instanceof BackendUnavailable) {
        let exists: boolean;
        try {
          exists = (await this.head(key, signal)) !== undefined;
        } catch (probeErr) {
          if (probeErr instanceof AbortError) throw probeErr;
          throw err;
        }
        if (!exists) throw this.notFoundOrFolder(key, await this.probeFolder(key, signal));
      }
      throw err;
    }
  }

  override async readBytes(key: string, options: SignalOptions = {}): Promise<Buffer> {
    this.checkOpen();
    return this.nativeRead(key, options.signal, (n) => n.get(key, { signal: options.signal }));
  }

  /**
   * Objects up to 64 MiB are fetched whole (parallel ranged GETs) and handed out in 1 MiB
   * chunks. Larger ones stream in 16 MiB windows, three in flight, so memory stays bounded;
   * after each window a HEAD checks the ETag, and an object replaced mid-read fails the
   * stream instead of mixing versions.
   */
  override async read(key: string, options: SignalOptions = {}): Promise<Readable> {
    this.checkOpen();
    const signal = options.signal;
    const head = await this.nativeRead(key, signal, (n) => n.head(key, { signal }));
    if (head.size <= WINDOWED_READ_THRESHOLD) {
      const buf = await this.readBytes(key, options);
      function* chunks(): Generator<Buffer> {
        for (let off = 0; off < buf.length; off += READ_CHUNK) yield buf.subarray(off, Math.min(buf.length, off + READ_CHUNK));
      }
      return Readable.from(chunks(), { objectMode: false });
    }
    const native = this.native;
    const size = head.size;
    const backend = this.name;
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

  override async readRange(key: string, offset: number, length: number | undefined, options: SignalOptions = {}): Promise<Buffer> {
    this.checkOpen();
    if (length === 0) {
      await this.headFile(key, options.signal);
      return Buffer.alloc(0);
    }
    return this.nativeRead(key, options.signal, (n) => n.getRange(key, offset, length, { signal: options.signal }));
  }

  // ---- writes ----------------------------------------------------------------------

  override async write(key: string, content: WriteContent, options: BackendWriteOptions): Promise<WriteResult> {
    const inMemory = await this.beginWrite(key, content, options);
    const native = this.native;
    const metadata = options.metadata && Object.keys(options.metadata).length > 0 ? options.metadata : undefined;
    const mode = options.overwrite ? ('overwrite' as const) : ('create' as const);
    // The store's write defaults are the native store's own (nativeOptions); these override them.
    const attributes = options.attributes ?? {};
    let size: number;
    let put: { etag?: string; version?: string };
    if (inMemory) {
      const body = memoryToBuffer(content as Buffer);
      size = body.length;
      put = await this.putBytes(native, key, body, { ...attributes, mode, metadata, signal: options.signal });
      options.onProgress?.({ bytes: size, total: size });
    } else {
      const upload = native.createUpload(key, { ...attributes, mode, metadata, signal: options.signal });
      size = 0;
      try {
        for await (const chunk of contentChunks(content, { signal: options.signal, onProgress: options.onProgress, path: key })) {
          size += chunk.length;
          await upload.write(chunk);
        }
        put = await upload.finish();
      } catch (err) {
        // Never a truncated object: the multipart upload (or pending PUT) is discarded, later if
        // the server cannot be reached now.
        await upload.abort().catch(() => this.deferAbort(upload, key, () => upload.abort()));
        if (options.signal?.aborted) throw new AbortError(`Write aborted: '${key}'`, { path: key, backend: this.name, cause: err });
        if (err instanceof RemoteStoreError || err instanceof TypeError || err instanceof RangeError) throw err;
        throw new RemoteStoreError(`Write of '${key}' failed: the source failed: ${(err as Error)?.message ?? String(err)}`, {
          path: key,
          backend: this.name,
          cause: err,
        });
      }
    }
    return this.writeResult(key, size, { ETag: put.etag, VersionId: put.version }, options);
  }

  /**
   * One PUT. The native path retries it under the policy, and settles a create-mode PUT whose
   * answer was lost with one probe (never by comparing ETags).
   */
  private async putBytes(
    native: NativeObjectStore,
    key: string,
    body: Buffer,
    opts: NativePutOptions,
  ): Promise<{ etag?: string; version?: string }> {
    return native.put(key, body, opts);
  }

  // ---- copy (move inherits: copy here, verify and delete on the SDK) ---------------

  override async copy(src: string, dst: string, options: { overwrite: boolean } & SignalOptions): Promise<void> {
    this.checkOpen();
    const h = await this.headFile(src, options.signal, 'Source');
    if (src === dst) return;
    if (copyNeedsHeaders(this.writeDefaults, h, !options.overwrite)) {
      // What object_store's copy would lose (./s3/write-headers.ts): the SDK's CopyObject keeps
      // it, and with If-None-Match: * it is just as atomic where the server honours it.
      await super.copy(src, dst, options);
      return;
    }
    await this.checkWriteTarget(dst, options);
    // overwrite: CopyObject (metadata copied); create: conditional multipart copy (atomic).
    await this.native.copy(src, dst, { overwrite: options.overwrite, signal: options.signal });
  }
}

/** Compile-time check. */
export type _S3ArrowIsBackend = S3ArrowBackend extends Backend ? true : never;

/** The registry factory of type `s3-arrow` (alias `s3-pyarrow`): the options of `s3`. */
export function createS3ArrowBackend(options: Record<string, unknown>, context: { name?: string; retry?: RetryPolicy } = {}): S3ArrowBackend {
  return new S3ArrowBackend(s3FactoryOptions('s3-arrow', options, context));
}
