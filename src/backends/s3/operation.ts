import { AsyncLocalStorage } from 'node:async_hooks';
import { BackendUnavailable } from '../../errors';

/**
 * One backend operation in flight: the deadline its requests share. Kept in an
 * AsyncLocalStorage so that every request the operation makes — its retries, the probes that
 * tell a folder from a missing file, the HEAD that completes a write's result — meets the same
 * deadline without each helper passing it along.
 */
interface Operation {
  readonly signal: AbortSignal;
  readonly timeout: number;
  /** Set when the operation has returned: a stream it handed out runs on its own bounds. */
  ended: boolean;
}

const operations = new AsyncLocalStorage<Operation>();
const unretried = new AsyncLocalStorage<true>();

/** The signal of the operation running now; undefined outside one (or after it returned). */
export function operationSignal(): AbortSignal | undefined {
  const op = operations.getStore();
  return op && !op.ended ? op.signal : undefined;
}

/** `signal` joined with the deadline of the operation running now (either may be absent). */
export function withDeadline(signal: AbortSignal | undefined): AbortSignal | undefined {
  const deadline = operationSignal();
  if (!deadline) return signal;
  return signal ? AbortSignal.any([signal, deadline]) : deadline;
}

/** The error for a request cut off by the deadline of the operation running now; undefined if it was not. */
export function deadlineError(key: string, backend: string, cause: unknown): BackendUnavailable | undefined {
  const op = operations.getStore();
  if (!op || !op.signal.aborted) return undefined;
  return new BackendUnavailable(`S3 operation timed out after ${op.timeout}s: '${key}'`, { path: key, backend, cause });
}

/**
 * Runs `fn` with retries off for the SDK requests it makes (see {@link retriesAllowed}): a probe
 * made after a request has already used up its attempts asks once, or retry budgets multiply.
 */
export function withoutRetries<T>(fn: () => Promise<T>): Promise<T> {
  return unretried.run(true, fn);
}

/** False inside {@link withoutRetries}. */
export function retriesAllowed(): boolean {
  return unretried.getStore() !== true;
}

/**
 * Settles with `work`, or rejects as soon as one of `signals` fires: the SDK sleeps between
 * attempts without listening to its abort signal, and a caller must not wait for that. `work`
 * goes on in the background (its late rejection is observed here).
 */
export function raceSignals<T>(work: Promise<T>, signals: Array<AbortSignal | undefined>, onAbort: (signal: AbortSignal) => unknown): Promise<T> {
  const live = signals.filter((s): s is AbortSignal => s !== undefined);
  if (live.length === 0) return work;
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const listeners: Array<() => void> = [];
    const done = () => listeners.forEach((off) => off());
    for (const signal of live) {
      const fire = () => {
        done();
        reject(onAbort(signal));
      };
      if (signal.aborted) return fire();
      signal.addEventListener('abort', fire, { once: true });
      listeners.push(() => signal.removeEventListener('abort', fire));
    }
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (err) => {
        done();
        reject(err);
      },
    );
  });
}

/**
 * Makes each named method of `proto` one operation under the retry policy's `timeout`
 * (`timeoutOf(this)`, seconds, or undefined for no bound): all its requests share one deadline,
 * and when the deadline ends it the caller gets BackendUnavailable (an abort by the caller's own
 * signal stays an AbortError). A method called from within another operation runs under the
 * outer deadline. Methods that return streams are bounded until they return the stream.
 */
export function boundOperations(proto: object, names: readonly string[], timeoutOf: (self: unknown) => number | undefined, backendOf: (self: unknown) => string): void {
  for (const name of names) {
    const original = (proto as Record<string, unknown>)[name];
    if (typeof original !== 'function') throw new TypeError(`boundOperations: ${name} is not a method`);
    const bound = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const outer = operations.getStore();
      const timeout = timeoutOf(this);
      if ((outer && !outer.ended) || timeout === undefined) return original.apply(this, args);
      const key = typeof args[0] === 'string' ? args[0] : '';
      const timedOut = (cause?: unknown) =>
        new BackendUnavailable(`S3 operation timed out after ${timeout}s: '${key}'`, { path: key, backend: backendOf(this), cause });
      const userSignal = args.map((a) => (a as { signal?: unknown } | null | undefined)?.signal).find((s) => s instanceof AbortSignal);
      const controller = new AbortController();
      const op: Operation = { signal: controller.signal, timeout, ended: false };
      const timer = setTimeout(() => controller.abort(), timeout * 1000);
      try {
        return await operations.run(op, () => raceSignals(Promise.resolve(original.apply(this, args)), [controller.signal], () => timedOut()));
      } catch (err) {
        // A request the deadline cut off fails in its own way (an AbortError on the native path).
        if (controller.signal.aborted && !(userSignal as AbortSignal | undefined)?.aborted && !(err instanceof BackendUnavailable)) throw timedOut(err);
        throw err;
      } finally {
        clearTimeout(timer);
        op.ended = true;
      }
    };
    Object.defineProperty(bound, 'name', { value: name });
    Object.defineProperty(proto, name, { value: bound, writable: true, configurable: true, enumerable: false });
  }
}
