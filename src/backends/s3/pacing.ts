/**
 * Keeps a burst of requests from stalling the event loop. Every request costs the JS thread
 * some work where it starts (the SDK builds, signs and queues it; the addon copies its
 * arguments across napi) and where it ends (the answer parsed, the promise chain that builds a
 * result). Work queued in one turn of the loop runs to its end before any timer or I/O
 * callback: 1,024 writes started at once held the loop for 433 ms on the SDK path. A
 * {@link RequestPacer} admits at most `perTurn` new requests per turn of the loop and keeps at
 * most `maxInFlight` running, so both ends of the work are bounded per turn. Requests beyond
 * that wait here rather than in the HTTP agent's queue, which costs them nothing: the agent
 * could not send them earlier either.
 */
import { setImmediate } from 'node:timers';

/** Requests started per turn of the event loop: ~16 × 0.3 ms of SDK work stays under 5 ms. */
export const STARTS_PER_TURN = 16;
/**
 * Requests running at once. Their answers can all land in one turn; 64 bounds that work the
 * way {@link STARTS_PER_TURN} bounds the starts, and is more than a 2-core client can keep busy
 * with small requests. Large transfers do not need more: each stream fills a connection.
 */
export const MAX_IN_FLIGHT = 64;

interface Waiter {
  /** true: admitted with a slot; false: its signal fired while it waited. */
  admit: (slot: boolean) => void;
  onAbort: () => void;
}

export class RequestPacer {
  readonly #maxInFlight: number;
  readonly #perTurn: number;
  #inFlight = 0;
  #startedThisTurn = 0;
  #turnScheduled = false;
  readonly #waiting: Waiter[] = [];

  constructor(maxInFlight = MAX_IN_FLIGHT, perTurn = STARTS_PER_TURN) {
    if (!(maxInFlight >= 1 && perTurn >= 1)) throw new RangeError('RequestPacer: limits must be at least 1');
    this.#maxInFlight = maxInFlight;
    this.#perTurn = perTurn;
  }

  /**
   * Runs `start` once admitted; its slot is held until the promise it returns settles. When
   * `signal` fires first, `start` runs at once without a slot: both data paths check their
   * signal before any I/O, so the request fails there, with the error it has for an abort.
   */
  async run<T>(start: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!(await this.#admission(signal))) return start();
    try {
      return await start();
    } finally {
      this.#inFlight--;
      this.#admitWaiting();
    }
  }

  #hasRoom(): boolean {
    return this.#inFlight < this.#maxInFlight && this.#startedThisTurn < this.#perTurn;
  }

  #take(): void {
    this.#inFlight++;
    this.#startedThisTurn++;
    this.#scheduleTurn();
  }

  /** Resolves true with a slot taken, or false when `signal` has fired. */
  #admission(signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.#waiting.length === 0 && this.#hasRoom()) {
      this.#take();
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        admit: (slot) => {
          signal?.removeEventListener('abort', waiter.onAbort);
          resolve(slot);
        },
        onAbort: () => {
          const i = this.#waiting.indexOf(waiter);
          if (i >= 0) this.#waiting.splice(i, 1);
          resolve(false);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiting.push(waiter);
      this.#scheduleTurn();
    });
  }

  /** Admits waiting requests while there is room in this turn, in the order they came. */
  #admitWaiting(): void {
    while (this.#waiting.length > 0 && this.#hasRoom()) {
      this.#take();
      (this.#waiting.shift() as Waiter).admit(true);
    }
  }

  /** A new turn of the loop (setImmediate runs once per turn, after I/O) resets the count. */
  #scheduleTurn(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    setImmediate(() => {
      this.#turnScheduled = false;
      this.#startedThisTurn = 0;
      this.#admitWaiting();
    });
  }
}
