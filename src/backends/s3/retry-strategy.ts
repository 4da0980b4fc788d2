/**
 * The RetryPolicy as an SDK retry strategy: every request gets the policy's attempts and
 * backoff curve. The SDK's own strategies also keep a client-wide retry quota (500 tokens,
 * 5 or 10 per retry) that stops all retrying after a burst of failures: of 200 concurrent
 * requests meeting one 500 each, 155 failed on their first attempt, and 2,000 concurrent
 * writes on a loaded machine failed on connection timeouts. object_store, the native path,
 * has no such quota. Which errors are retried stays the SDK's call (transient, throttling).
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import type { RetryPolicy } from '../../retry';

export class PolicyRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';

  constructor(private readonly policy: RetryPolicy) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return retryToken(0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const attempt = token.getRetryCount() + 1;
    if ((info.errorType !== 'TRANSIENT' && info.errorType !== 'THROTTLING') || attempt >= this.policy.maxAttempts) {
      throw new Error('No retry token available');
    }
    let ms = (this.policy.backoff(attempt) + Math.random() * this.policy.jitter) * 1000;
    // A server's Retry-After is honoured up to 5 s beyond the policy's wait, as the SDK does.
    if (info.retryAfterHint instanceof Date) ms = Math.max(ms, Math.min(info.retryAfterHint.getTime() - Date.now(), ms + 5000));
    // Each part fits a timer; their sum may not, and a timer past 2^31 - 1 ms fires at once.
    return retryToken(attempt, Math.min(2 ** 31 - 1, Math.round(ms)));
  }

  recordSuccess(): void {}
}

/** A token the SDK's retry middleware sleeps `delay` ms on before the retry. */
function retryToken(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}
