/**
 * Part of every secret the S3 test servers are given. No error message, log line, inspect()
 * or JSON.stringify() output the suites look at may contain it.
 */
import type { ExecutionContext } from 'ava';
import { format, inspect } from 'node:util';

export const SECRET_SENTINEL = 'SENTINELxSECRETx7q';

/** No credential in what a value shows: String, inspect (an error's cause included), JSON and an error's message. */
export function assertNoSecret(t: ExecutionContext, value: unknown): void {
  const shown = [String(value), inspect(value, { depth: 8 }), safeJson(value)];
  if (value instanceof Error) shown.push(value.message);
  assertNoSecretIn(t, shown);
}

/** No credential in any of these texts (captured log lines, say). */
export function assertNoSecretIn(t: ExecutionContext, texts: string[]): void {
  for (const text of texts) t.false(text.includes(SECRET_SENTINEL), `a credential shows in: ${text.slice(0, 300)}`);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

export interface LogCapture {
  /** Everything logged since the capture began, one entry per call. */
  readonly lines: string[];
  /** Puts the real console, streams and warning output back. */
  restore(): void;
}

/**
 * Captures what this process logs: console.* calls, writes to process.stdout and
 * process.stderr, and warnings (process.emitWarning, shown with their code and stack).
 * An AWS SDK client given `logger: console` logs through it too. Native code writing
 * straight to file descriptor 2 is not seen.
 */
export function captureLogs(): LogCapture {
  const lines: string[] = [];
  const restores: Array<() => void> = [];
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => void lines.push(format(...args));
    restores.push(() => (console[method] = original));
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
      return true;
    }) as typeof stream.write;
    restores.push(() => (stream.write = original));
  }
  const onWarning = (warning: Error) => void lines.push(inspect(warning, { depth: 4 }));
  process.on('warning', onWarning);
  restores.push(() => process.off('warning', onWarning));
  return { lines, restore: () => restores.reverse().forEach((r) => r()) };
}
