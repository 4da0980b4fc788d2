/**
 * Multipart uploads whose abort could not reach the server (it was down when the write
 * failed). Each later write tries them again in the background, and close() does once more,
 * so an outage does not leave parts on the server for good. Both data paths defer here.
 */
export class DeferredAborts {
  readonly #unaborted = new Map<unknown, { key: string; abort: () => Promise<void> }>();
  #aborting: Promise<void> | undefined;

  get size(): number {
    return this.#unaborted.size;
  }

  /** Keeps an upload whose abort failed, to abort it later (`id` tells uploads apart). */
  defer(id: unknown, key: string, abort: () => Promise<void>): void {
    this.#unaborted.set(id, { key, abort });
  }

  /** One more attempt at each deferred abort; one round at a time. */
  retry(): Promise<void> {
    if (this.#unaborted.size === 0) return Promise.resolve();
    this.#aborting ??= Promise.allSettled(
      [...this.#unaborted].map(async ([id, upload]) => {
        await upload.abort();
        this.#unaborted.delete(id);
      }),
    ).then(() => {
      this.#aborting = undefined;
    });
    return this.#aborting;
  }

  /** At close: a last attempt, then a warning for each upload still open. */
  async settle(): Promise<void> {
    if (this.#unaborted.size === 0) return;
    await this.retry();
    for (const { key } of this.#unaborted.values()) {
      process.emitWarning(
        `The multipart upload of '${key}' could not be aborted: the S3 endpoint was unreachable. ` +
          'Its parts stay on the server until a lifecycle rule (AbortIncompleteMultipartUpload) removes them.',
        { code: 'REMOTE_STORE_UPLOAD_LEFT_OPEN' },
      );
    }
    this.#unaborted.clear();
  }
}
