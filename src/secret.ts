import { inspect } from 'node:util';

const REDACTED = '***';

/**
 * A credential. Its string form, `util.inspect`, `JSON.stringify` and every error
 * message show `***`; only {@link Secret.reveal} gives the value back.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    if (typeof value !== 'string') throw new TypeError('Secret value must be a string');
    this.#value = value;
    Object.freeze(this);
  }

  /** The plain value. Call it only where the credential is handed to a client. */
  reveal(): string {
    return this.#value;
  }

  equals(other: unknown): boolean {
    return other instanceof Secret && other.#value === this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret('${REDACTED}')`;
  }
}

/** Option names whose values are credentials and get wrapped in {@link Secret}. */
const SENSITIVE = new Set([
  'key',
  'secret',
  'token',
  'password',
  'passphrase',
  'session_token',
  'sessiontoken',
  'access_key',
  'accesskey',
  'access_key_id',
  'accesskeyid',
  'secret_key',
  'secretkey',
  'secret_access_key',
  'secretaccesskey',
  'account_key',
  'accountkey',
  'sas_token',
  'sastoken',
  'connection_string',
  'connectionstring',
  'client_secret',
  'clientsecret',
  'private_key',
  'privatekey',
  'api_key',
  'apikey',
]);

/** True for option names that hold credentials (`secret`, `sessionToken`, `account_key`, …). */
export function isSensitiveKey(name: string): boolean {
  return SENSITIVE.has(name.toLowerCase());
}

/** Returns `value` as a Secret when it is a string; leaves Secrets and other values alone. */
export function asSecret(value: unknown): unknown {
  return typeof value === 'string' ? new Secret(value) : value;
}

/** The plain string of a credential given as a string or a Secret. */
export function revealSecret(value: string | Secret | undefined): string | undefined {
  return value instanceof Secret ? value.reveal() : value;
}

/** Deep-copies options, wrapping the values of sensitive keys in Secret. */
export function wrapSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => wrapSecrets(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = isSensitiveKey(k) ? asSecret(v) : wrapSecrets(v);
    }
    return out as T;
  }
  return value;
}
