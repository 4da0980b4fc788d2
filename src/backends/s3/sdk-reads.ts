/**
 * Reads on the AWS SDK, resumable: the SDK retries failed requests, not bodies that break
 * off after the headers, so a body cut mid-way is resumed here from the last byte received,
 * pinned to the first answer's ETag (a replaced object fails instead of mixing versions).
 */
import { PassThrough, Readable } from 'node:stream';
import { AlreadyExists, BackendUnavailable, NotFound, RemoteStoreError } from '../../errors';
import { abortStreamOn, sleep } from './abort';
import type { S3Parts } from './data-path';
import { isServerError, sdkCause } from './errors';

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
      if (isServerError(err) && !(await control.keyListed(key, signal))) throw await control.missing(key, signal);
      throw err;
    }
  }

  /** Wraps an SDK body: errors mapped, aborted by the signal, the socket released on destroy. */
  #wrapBody(key: string, body: Readable, signal?: AbortSignal): Readable {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    body.on('error', (err) => out.destroy(this.parts.sdk.mapError(err, key)));
    out.on('close', () => {
      if (!body.destroyed) body.destroy();
    });
    body.pipe(out);
    if (signal) abortStreamOn(signal, out, key, this.parts.name);
    return out;
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
        const start = offset + got;
        const range = length === undefined ? (start === 0 ? undefined : `bytes=${start}-`) : `bytes=${start}-${offset + length - 1}`;
        try {
          answer = await this.#getObject(key, range, signal, etag);
        } catch (err) {
          // If-Match failed: another write replaced the object between two parts of this read.
          if (err instanceof AlreadyExists && etag !== undefined) {
            throw new RemoteStoreError(`Object '${key}' was replaced while it was being read`, { path: key, backend: name, cause: err });
          }
          throw err;
        }
        etag ??= answer.etag;
      }
      const body = this.#wrapBody(key, answer.body, signal);
      answer = undefined;
      try {
        for await (const chunk of body) {
          got += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        return;
      } catch (err) {
        if (!(err instanceof BackendUnavailable) || attempt >= settings.retry.maxAttempts || signal?.aborted || etag === undefined) throw err;
      } finally {
        body.destroy();
      }
      await sleep(settings.retry.backoff(attempt) * 1000, signal, key, name);
    }
  }

  async #fetchBytes(key: string, offset: number, length: number | undefined, signal?: AbortSignal): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.#chunks(key, offset, length, signal)) parts.push(chunk);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
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
