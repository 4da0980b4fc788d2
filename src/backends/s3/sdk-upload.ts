/**
 * Writes on the AWS SDK: one conditional PUT for bytes in memory and for streams up to the
 * multipart threshold, our own multipart upload otherwise (multipart.ts). Every request that
 * creates the object carries the write's headers (write-headers.ts). Not lib-storage's Upload:
 * it can abort the upload while parts are still in flight, and a part that lands after
 * AbortMultipartUpload stays behind as an orphan (S3 documents this). Here a failure waits for
 * the parts in flight to settle and only then aborts; an abort the server cannot take now is
 * deferred.
 */
import type { CompletedPart } from '@aws-sdk/client-s3';
import type { BackendWriteOptions, WriteContent } from '../../backend';
import { contentChunks, memoryToBuffer } from '../../content';
import { AbortError, AlreadyExists, NotFound, RemoteStoreError, throwIfAborted } from '../../errors';
import { type S3Parts, type Written, writeFailure } from './data-path';
import { isBrokenConnection, sdkCause } from './errors';
import { effectiveMultipart, SDK_MULTIPART_DEFAULTS } from './multipart';
import { PartCutter } from './part-cutter';
import { deadlineError, operationSignal, raceSignals, withoutRetries } from './operation';
import type { PutAnswer } from './results';
import { objectHeaders, type SdkObjectHeaders } from './write-headers';

/** The parameters every request of one write shares. */
interface WriteParams extends SdkObjectHeaders {
  Bucket: string;
  Key: string;
  Metadata?: Record<string, string>;
  IfNoneMatch?: string;
}

export class SdkUploader {
  constructor(private readonly parts: S3Parts) {}

  async write(key: string, content: WriteContent, options: BackendWriteOptions, inMemory: boolean): Promise<Written> {
    const params: WriteParams = {
      Bucket: this.parts.settings.bucket,
      Key: key,
      ...objectHeaders(this.parts.settings.clientOptions().writeDefaults, options.attributes),
      ...(options.metadata && Object.keys(options.metadata).length > 0 ? { Metadata: options.metadata } : {}),
      ...(options.overwrite ? {} : { IfNoneMatch: '*' }),
    };
    if (!inMemory) return this.#uploadStream(key, content, params, options);
    const body = memoryToBuffer(content as Buffer);
    // Bytes above the threshold go up in parallel parts like a stream (slices, no copy): one
    // connection no longer bounds them, and a failed part is retried alone.
    if (body.length > effectiveMultipart(this.parts.settings.multipart, SDK_MULTIPART_DEFAULTS).multipartThreshold) {
      return this.#uploadStream(key, body, params, options);
    }
    const put = await this.#conditional(
      this.parts.sdk.send('PutObject', { ...params, Body: body, ContentLength: body.length }, key, options.signal),
      key,
      !options.overwrite,
    );
    options.onProgress?.({ bytes: body.length, total: body.length });
    return { size: body.length, put };
  }

  /** Parts of `part_size`, `upload_concurrency` in flight; no checksum of our own per part (client.ts: only where S3 requires one). */
  async #uploadStream(key: string, content: WriteContent, params: WriteParams, options: BackendWriteOptions): Promise<Written> {
    const { sdk, name } = this.parts;
    const signal = options.signal;
    const { partSize, uploadConcurrency, multipartThreshold } = effectiveMultipart(this.parts.settings.multipart, SDK_MULTIPART_DEFAULTS);
    let size = 0;
    const cutter = new PartCutter(partSize);
    /** Full parts not yet started: all of them while the write may still be one PUT. */
    const held: Buffer[] = [];
    let uploadId: string | undefined;
    let partNumber = 0;
    const parts: CompletedPart[] = [];
    const inflight = new Set<Promise<void>>();
    let partError: unknown;
    const { IfNoneMatch, ...createParams } = params;

    const startPart = async (body: Buffer): Promise<void> => {
      if (uploadId === undefined) {
        // Neither the signal nor the deadline cancels the request: an upload created after we
        // stopped listening could not be aborted (we would never learn its id). The write does
        // not wait for it either: it ends on the abort, and the upload, once its id arrives, is
        // aborted in the background.
        const creating = sdk.send('CreateMultipartUpload', createParams, key, undefined, { detached: true });
        const created = await raceSignals(creating, [signal, operationSignal()], (fired) => {
          void creating.then(
            (late) => (late.UploadId ? this.#abortUpload(key, late.UploadId, new Set()) : undefined),
            () => undefined,
          );
          return fired === signal
            ? new AbortError(`Write aborted: '${key}'`, { path: key, backend: name, cause: fired.reason })
            : (deadlineError(key, name, fired.reason) ?? fired.reason);
        });
        uploadId = created.UploadId;
        if (!uploadId) throw new RemoteStoreError(`S3 did not return an upload id for '${key}'`, { path: key, backend: name });
        throwIfAborted(signal, key);
      }
      const n = ++partNumber;
      const id = uploadId;
      const task = sdk
        .send('UploadPart', { Bucket: params.Bucket, Key: key, UploadId: id, PartNumber: n, Body: body, ContentLength: body.length }, key, signal)
        .then(
          (out) => {
            parts[n - 1] = { PartNumber: n, ETag: out.ETag, ...(out.ChecksumCRC32 ? { ChecksumCRC32: out.ChecksumCRC32 } : {}) };
          },
          (err) => {
            partError ??= err;
          },
        )
        .finally(() => cutter.release(body));
      inflight.add(task);
      void task.finally(() => inflight.delete(task));
      while (inflight.size >= uploadConcurrency) await Promise.race(inflight);
      if (partError !== undefined) throw partError;
    };

    try {
      for await (const chunk of contentChunks(content, { signal, onProgress: options.onProgress, path: key, backend: name })) {
        size += chunk.length;
        held.push(...cutter.add(chunk));
        // Up to the threshold it may still be one PUT.
        if (size > multipartThreshold) for (const part of held.splice(0)) await startPart(part);
      }
      const rest = cutter.rest();
      if (uploadId === undefined && size <= multipartThreshold) {
        const pieces = rest.length > 0 ? [...held, rest] : held;
        const last = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, size);
        const put = await this.#conditional(
          sdk.send('PutObject', { ...params, Body: last, ContentLength: last.length }, key, signal),
          key,
          IfNoneMatch !== undefined,
        );
        return { size, put };
      }
      if (rest.length > 0) await startPart(rest);
      await Promise.all([...inflight]);
      if (partError !== undefined) throw partError;
      throwIfAborted(signal, key);
      const complete = { Bucket: params.Bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...(IfNoneMatch ? { IfNoneMatch } : {}) };
      const put = await this.#conditional(sdk.send('CompleteMultipartUpload', complete, key, signal), key, IfNoneMatch !== undefined);
      uploadId = undefined; // committed: nothing to abort
      return { size, put };
    } catch (err) {
      if (uploadId !== undefined) await this.#abortUpload(key, uploadId, inflight);
      throw writeFailure(err, key, name, signal);
    }
  }

  /**
   * A write whose answer was lost (connection reset after the server committed) is retried
   * by the SDK, and the retry of a conditional write then fails — 412 for a PUT, NoSuchUpload
   * for a completed multipart upload. Whose object it is cannot be known (identical bytes have
   * identical ETags), so it is `AlreadyExists` saying so: safe for exclusive creation, and the
   * same rule as the native path (crates/core write.rs `settle`).
   *
   * A create-only write whose connection broke while its body was being sent is settled by one
   * probe too: a server that refuses a PUT early (412 for the condition, 403 for a signature)
   * answers and closes, and the client may see the broken pipe instead of the answer. The probe
   * tells which (the object exists: AlreadyExists; a refused signature refuses the HEAD too).
   */
  async #conditional(sending: Promise<PutAnswer>, key: string, createOnly: boolean): Promise<PutAnswer> {
    try {
      return await sending;
    } catch (err) {
      if (createOnly && isBrokenConnection(err)) {
        if ((await withoutRetries(() => this.parts.control.head(key))) === undefined) throw err;
        throw new AlreadyExists(`File already exists: '${key}' (an answer of this write was lost: it may be its own)`, {
          path: key,
          backend: this.parts.name,
          cause: err,
        });
      }
      const attempts = sdkCause(err)?.$metadata?.attempts ?? 1;
      if (attempts <= 1 || !(err instanceof AlreadyExists || err instanceof NotFound)) throw err;
      if (err instanceof NotFound) {
        // NoSuchUpload on a retried completion: the first one may have committed.
        const h = await withoutRetries(() => this.parts.control.head(key, undefined, true)).catch(() => undefined);
        if (h === undefined) throw err;
        if (!createOnly) return h; // an overwrite that landed (the last writer wins anyway)
      }
      throw new AlreadyExists(`File already exists: '${key}' (an answer of this write was lost: it may be its own)`, {
        path: key,
        backend: this.parts.name,
        cause: err,
      });
    }
  }

  /**
   * Waits for parts in flight, then aborts the upload (ignoring the signal: cleanup must run).
   * When the server cannot be reached, the abort is deferred to later writes and close().
   */
  async #abortUpload(key: string, uploadId: string, inflight: Set<Promise<void>>): Promise<void> {
    await Promise.allSettled([...inflight]);
    const abort = async () => {
      try {
        // Detached: cleanup runs whatever the caller's signal or the deadline did.
        await this.parts.sdk.send('AbortMultipartUpload', { Bucket: this.parts.settings.bucket, Key: key, UploadId: uploadId }, key, undefined, { detached: true });
      } catch (err) {
        if (!(err instanceof NotFound)) throw err; // NoSuchUpload: already gone
      }
    };
    await abort().catch(() => this.parts.aborts.defer(uploadId, key, abort));
  }
}
