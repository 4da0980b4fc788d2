/**
 * Abort plumbing for the data paths' streams and waits: an aborted read fails its stream at
 * once (a consumer that is not reading still hears of it), and a wait between retries ends
 * on abort instead of sleeping it out.
 */
import type { Readable } from 'node:stream';
import { AbortError } from '../../errors';

/** Destroys `stream` with an AbortError when `signal` fires (the listener goes with the stream). */
export function abortStreamOn(signal: AbortSignal, stream: Readable, key: string, backend: string): void {
  const onAbort = () => void stream.destroy(new AbortError(`Read aborted: '${key}'`, { path: key, backend, cause: signal.reason }));
  if (signal.aborted) {
    onAbort();
    return;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', onAbort));
}

/** Waits `ms`, or rejects with our AbortError as soon as `signal` fires. */
export function sleep(ms: number, signal: AbortSignal | undefined, key: string, backend: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(`Operation aborted: '${key}'`, { path: key, backend, cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
