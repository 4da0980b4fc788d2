/**
 * Reads on the AWS SDK, resumable: the SDK retries failed requests, not bodies that break
 * off after the headers, so a body cut mid-way is resumed here from the last byte received,
 * pinned to the first answer's ETag (a replaced object fails instead of mixing versions).
 */
import { Readable } from 'node:stream';
import { AlreadyExists, BackendUnavailable, NotFound, RemoteStoreError } from '../../errors';
import { abortStreamOn, sleep } from './abort';
import type { S3Parts } from './data-path';
import { isServerError, sdkCause } from './errors';
import { withoutRetries } from './operation';

export class SdkReads {
  constructor(private readonly parts: S3Parts) {}

  async #getObject(key: string, range: string | undefined, signal?: AbortSignal, ifMatch?: string): Promise<{ body: Readable; length: number; etag?: string }> {
    const { sdk, control, settings } = this.parts;
    if (key === '') throw control.rootIsNotAFile();
    try {
      const out = await sdk.send('GetObject', { Bucket: settings.bucket, Key: key, Range: range, IfMatch: ifMatch }, key, signal);
      const body = out.Body as unknown as Readable | undefined;
      return { body: body ?? Readable.from([]), length: out.ContentLength ?? 0, etag: out.ETag };
    } catch (err) {
      if (err instanceof NotFound) throw await control.missing(key, signal);
      // The probe asks once: the GET has used its attempts (retry budgets must not multiply).
      if (isServerError(err) && !(await withoutRetries(() => control.keyListed(key, signal)))) throw await control.missing(key, signal);
      throw err;
    }
  }

  /**
   * Bytes `[offset, offset + length)` (to the end when length is undefined), chunk by chunk,
   * resumed up to the retry policy's attempts. `first` is an answer already received for the start.
   */
  async *#chunks(key: string, offset: number, length: number | undefined, signal: AbortSignal | undefined, first?: { body: Readable; etag?: string }): AsyncGenerator<Buffer> {
    const { name, settings } = this.parts;
    let got = 0;
    let etag = first?.etag;
    let answer = first;
    for (let attempt = 1; ; attempt++) {
      if (!answer) {
        try {
          answer = await this.#getObject(key, rangeHeader(offset + got, length === undefined ? undefined : length - got), signal, etag);
        } catch (err) {
          // If-Match failed: another write replaced the object between two parts of this read.
          if (err instanceof AlreadyExists && etag !== undefined) {
            throw new RemoteStoreError(`Object '${key}' was replaced while it was being read`, { path: key, backend: name, cause: err });
          }
          throw err;
        }
        etag ??= answer.etag;
      }
      // The SDK's body is read as it is (a stream piped through another cost every chunk a
      // second pass through the stream machinery); destroying it releases the socket.
      const body = answer.body;
      answer = undefined;
      if (signal) abortStreamOn(signal, body, key, name);
      try {
        for await (const chunk of body) {
          got += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        return;
      } catch (raw) {
        const err = this.parts.sdk.mapError(raw, key);
        if (!(err instanceof BackendUnavailable) || attempt >= settings.retry.maxAttempts || signal?.aborted || etag === undefined) throw err;
      } finally {
        body.destroy();
      }
      await sleep(settings.retry.backoff(attempt) * 1000, signal, key, name);
    }
  }

  /**
   * The bytes in one allocation of the answer's Content-Length, filled as chunks arrive: chunks
   * gathered and concatenated at the end held a 1 GiB object twice (2.1 GiB RSS; see
   * bench/s3-readbytes-rss.ts).
   */
  async #fetchBytes(key: string, offset: number, length: number | undefined, signal?: AbortSignal): Promise<Buffer> {
    const first = await this.#getObject(key, rangeHeader(offset, length), signal);
    const out = Buffer.allocUnsafe(first.length);
    let filled = 0;
    let beyond: Buffer[] | undefined;
    for await (const chunk of this.#chunks(key, offset, length, signal, first)) {
      if (beyond === undefined && filled + chunk.length <= out.length) chunk.copy(out, filled);
      // More than the Content-Length announced (a server that miscounts): every byte is kept.
      else (beyond ??= [out.subarray(0, filled)]).push(chunk);
      filled += chunk.length;
    }
    return beyond ? Buffer.concat(beyond, filled) : out.subarray(0, filled);
  }

  /** A stream from byte 0; destroying it cancels the request in flight. */
  async read(key: string, signal?: AbortSignal): Promise<Readable> {
    const stop = new AbortController();
    const streamSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const first = await this.#getObject(key, undefined, signal);
    const stream = Readable.from(this.#chunks(key, 0, undefined, streamSignal, first), { objectMode: false, highWaterMark: 1 << 20 });
    stream.once('close', () => stop.abort());
    // A consumer that is not reading still hears of the abort at once.
    if (signal) abortStreamOn(signal, stream, key, this.parts.name);
    return stream;
  }

  readBytes(key: string, signal?: AbortSignal): Promise<Buffer> {
    return this.#fetchBytes(key, 0, undefined, signal);
  }

  async readRange(key: string, offset: number, length: number | undefined, signal?: AbortSignal): Promise<Buffer> {
    try {
      return await this.#fetchBytes(key, offset, length, signal);
    } catch (err) {
      // Past the end: S3 answers 416 InvalidRange; the contract gives an empty buffer.
      const cause = sdkCause(err);
      if (cause && (cause.name === 'InvalidRange' || cause.$metadata?.httpStatusCode === 416)) return Buffer.alloc(0);
      throw err;
    }
  }
}

/** The Range header of `length` bytes from `start` (to the end when undefined); none for a whole object. */
function rangeHeader(start: number, length: number | undefined): string | undefined {
  if (length === undefined) return start === 0 ? undefined : `bytes=${start}-`;
  return `bytes=${start}-${start + length - 1}`;
}
