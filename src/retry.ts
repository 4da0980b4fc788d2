/**
 * How a backend retries transient failures (connection errors, 5xx, 429). Answers
 * 4xx other than 429 are never retried. Each backend maps the policy onto its own
 * mechanism (the AWS SDK's retry strategy, object_store's RetryConfig); local and
 * memory backends do not retry.
 */
export interface RetryPolicyOptions {
  /** Attempts in all, the first included. At least 1. Default 3. */
  maxAttempts?: number;
  /** First backoff in seconds; doubles per attempt. Default 1. */
  backoffBase?: number;
  /** Backoff ceiling in seconds. Default 60. */
  backoffMax?: number;
  /** Up to this many random seconds added to each backoff. Default 1. */
  jitter?: number;
  /** Seconds all attempts together may take; undefined for no bound. */
  timeout?: number;
}

const FIELDS: Record<string, keyof RetryPolicyOptions> = {
  max_attempts: 'maxAttempts',
  maxAttempts: 'maxAttempts',
  backoff_base: 'backoffBase',
  backoffBase: 'backoffBase',
  backoff_max: 'backoffMax',
  backoffMax: 'backoffMax',
  jitter: 'jitter',
  timeout: 'timeout',
};

/** The options under their camelCase names, whichever spelling each came in; unknown names refused. */
function retryOptions(value: object): RetryPolicyOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`retry options must be a mapping, got ${describe(value)}`);
  }
  const options: RetryPolicyOptions = {};
  const givenAs: Partial<Record<keyof RetryPolicyOptions, string>> = {};
  for (const [k, v] of Object.entries(value)) {
    const field = FIELDS[k];
    if (!field) throw new TypeError(`unknown retry option '${k}'. Known: max_attempts, backoff_base, backoff_max, jitter, timeout`);
    if (givenAs[field] !== undefined) throw new TypeError(`RetryPolicy option '${k}' is given twice (also as '${givenAs[field]}')`);
    givenAs[field] = k;
    options[field] = v as number;
  }
  return options;
}

/** The longest wait a JS timer can make (2^31 - 1 ms), in seconds: backoffs and timeouts must fit. */
const MAX_SECONDS = 2_147_483;
/** The native data path takes the attempt count as an unsigned 32-bit number. */
const MAX_ATTEMPTS = 2 ** 32 - 1;

export class RetryPolicy {
  readonly maxAttempts: number;
  readonly backoffBase: number;
  readonly backoffMax: number;
  readonly jitter: number;
  readonly timeout: number | undefined;

  /**
   * Options in camelCase or, as in config files, snake_case (`max_attempts`). An unknown name
   * is a TypeError naming it: a typo must not silently fall back to the defaults.
   */
  constructor(options: RetryPolicyOptions = {}) {
    const o = retryOptions(options);
    this.maxAttempts = checkNumber('max_attempts', o.maxAttempts ?? 3, { min: 1, max: MAX_ATTEMPTS, integer: true });
    this.backoffBase = checkNumber('backoff_base', o.backoffBase ?? 1, { min: 0, max: MAX_SECONDS });
    this.backoffMax = checkNumber('backoff_max', o.backoffMax ?? 60, { min: 0, max: MAX_SECONDS });
    this.jitter = checkNumber('jitter', o.jitter ?? 1, { min: 0, max: MAX_SECONDS });
    this.timeout = o.timeout === undefined || o.timeout === null ? undefined : checkNumber('timeout', o.timeout, { min: 0, max: MAX_SECONDS, exclusive: true });
    Object.freeze(this);
  }

  /** One attempt, no retries. */
  static disabled(): RetryPolicy {
    return new RetryPolicy({ maxAttempts: 1 });
  }

  /**
   * Builds a policy from a config mapping with snake_case or camelCase keys.
   * An unknown key is an error naming it: a typo must not silently fall back to defaults.
   */
  static from(value: unknown, where = 'retry'): RetryPolicy {
    if (value instanceof RetryPolicy) return value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new TypeError(`${where} must be a mapping of retry options, got ${describe(value)}`);
    }
    try {
      return new RetryPolicy(value as RetryPolicyOptions);
    } catch (err) {
      (err as Error).message = `${where}: ${(err as Error).message}`;
      throw err;
    }
  }

  /** The delay before retry number `attempt` (1-based), without jitter, in seconds. */
  backoff(attempt: number): number {
    return Math.min(this.backoffMax, this.backoffBase * 2 ** Math.max(0, attempt - 1));
  }

  toJSON(): Record<string, unknown> {
    return {
      max_attempts: this.maxAttempts,
      backoff_base: this.backoffBase,
      backoff_max: this.backoffMax,
      jitter: this.jitter,
      timeout: this.timeout ?? null,
    };
  }
}

function checkNumber(name: string, value: unknown, rule: { min: number; max: number; integer?: boolean; exclusive?: boolean }): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`RetryPolicy option '${name}' must be a finite number, got ${describe(value)}`);
  }
  if (rule.integer && !Number.isInteger(value)) {
    throw new RangeError(`RetryPolicy option '${name}' must be a whole number`);
  }
  if (rule.exclusive ? value <= rule.min : value < rule.min) {
    throw new RangeError(`RetryPolicy option '${name}' must be ${rule.exclusive ? '>' : '>='} ${rule.min}`);
  }
  if (value > rule.max) throw new RangeError(`RetryPolicy option '${name}' must be <= ${rule.max}`);
  return value;
}

/**
 * What kind of value was given, never the value itself: a `${SECRET}` put in the wrong option
 * must not reach an error message, a log line or a bug report.
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a non-finite number';
  return `a ${typeof value}`;
}
