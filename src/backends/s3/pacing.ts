/**
 * Keeps a burst of requests from stalling the event loop. Every request costs the JS thread
 * some work where it starts (the SDK builds, signs and queues it; the addon copies its
 * arguments across napi) and where it ends (the answer parsed, the promise chain that builds a
 * result). Work queued in one turn of the loop runs to its end before any timer or I/O
 * callback: 1,024 writes started at once held the loop for 460–510 ms on the SDK path. A
 * {@link RequestPacer} admits a few new requests per turn of the loop and keeps a bounded
 * number running, so both ends of the work are bounded per turn. How many is learnt from the
 * loop itself: a turn that ran past its budget halves the allowance, a short one raises it by
 * one (as TCP paces a connection), so a slow machine or the heavier SDK path gets fewer per
 * turn and a fast one more. Requests beyond that wait here rather than in the HTTP agent's
 * queue, which costs them nothing: the agent could not send them earlier either.
 */
import { setImmediate } from 'node:timers';

/** Most requests started per turn of the event loop. */
export const STARTS_PER_TURN = 16;
/**
 * Most requests running at once, per backend. Their answers can all land in one turn. More
 * than a 2-core client keeps busy with small requests; large transfers do not need more (each
 * fills a connection).
 */
export const MAX_IN_FLIGHT = 64;
/** A turn longer than this (ms) halves the allowance: the bench's target is ≤ 20 ms of delay. */
export const TURN_BUDGET_MS = 8;

/**
 * Running requests allowed per start allowed per turn (64 running at 16 starts), and never
 * fewer than {@link MIN_IN_FLIGHT}: a native read or write holds its slot for its whole
 * transfer, and a HEAD must not queue behind a few long transfers while the loop is busy.
 */
const IN_FLIGHT_PER_START = 4;
const MIN_IN_FLIGHT = 16;

export interface RequestPacerOptions {
  /** Default {@link MAX_IN_FLIGHT}. */
  maxInFlight?: number;
  /** Default {@link STARTS_PER_TURN}. */
  perTurn?: number;
  /** Default {@link TURN_BUDGET_MS}; Infinity keeps the allowance at its most. */
  turnBudgetMs?: number;
  /** The clock (ms) turns are measured with. */
  now?: () => number;
}

interface Waiter {
  /** true: admitted with a slot; false: its signal fired while it waited. */
  admit: (slot: boolean) => void;
  onAbort: () => void;
}

export class RequestPacer {
  readonly #maxInFlight: number;
  readonly #perTurn: number;
  readonly #budget: number;
  readonly #now: () => number;
  /** Starts allowed per turn now, 1..perTurn (running requests allowed: see {@link IN_FLIGHT_PER_START}). */
  #allowance: number;
  #inFlight = 0;
  #startedThisTurn = 0;
  #turnScheduled = false;
  #scheduledAt = 0;
  readonly #waiting: Waiter[] = [];

  constructor(options: RequestPacerOptions = {}) {
    const { maxInFlight = MAX_IN_FLIGHT, perTurn = STARTS_PER_TURN, turnBudgetMs = TURN_BUDGET_MS, now = performance.now.bind(performance) } = options;
    if (!(maxInFlight >= 1 && perTurn >= 1 && turnBudgetMs > 0)) throw new RangeError('RequestPacer: limits must be at least 1 and the budget positive');
    this.#maxInFlight = maxInFlight;
    this.#perTurn = perTurn;
    this.#budget = turnBudgetMs;
    this.#now = now;
    this.#allowance = perTurn;
  }

  /** Starts allowed per turn now (for tests and diagnostics). */
  get allowance(): number {
    return this.#allowance;
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
    const inFlightCap = Math.min(this.#maxInFlight, Math.max(MIN_IN_FLIGHT, this.#allowance * IN_FLIGHT_PER_START));
    return this.#inFlight < inFlightCap && this.#startedThisTurn < this.#allowance;
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

  /**
   * A new turn of the loop (setImmediate runs once per turn, after I/O) resets the count. The
   * time from scheduling to running is how long the loop was held meanwhile — by the requests
   * just started, the answers that came in, and anything else the program did.
   */
  #scheduleTurn(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    this.#scheduledAt = this.#now();
    setImmediate(() => {
      const held = this.#now() - this.#scheduledAt;
      if (held > this.#budget) this.#allowance = Math.max(1, this.#allowance >> 1);
      else if (held < this.#budget / 2) this.#allowance = Math.min(this.#perTurn, this.#allowance + 1);
      this.#turnScheduled = false;
      this.#startedThisTurn = 0;
      this.#admitWaiting();
    });
  }
}
