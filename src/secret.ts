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

/**
 * True for option names that hold credentials (`secret`, `sessionToken`, `account_key`, …),
 * also when spelled with other separators or damaged by stray characters (`Secret-Access Key`,
 * a `sec ret` a broken config file made): its value is still the credential.
 */
export function isSensitiveKey(name: string): boolean {
  const n = name.toLowerCase();
  const letters = n.replace(/[^a-z0-9]/g, '');
  return [n, letters].some((k) => SENSITIVE.has(k) || /secret|password|passphrase|token|credential|private_?key|access_?key|account_?key|(^|_)sas($|_)/.test(k));
}

/**
 * Returns `value` as a Secret when it is a scalar (a YAML `password: 123456` is a number, and
 * must be masked too); leaves Secrets, objects and empty values alone.
 */
export function asSecret(value: unknown): unknown {
  if (typeof value === 'string') return new Secret(value);
  if (typeof value === 'number' || typeof value === 'bigint') return new Secret(String(value));
  return value;
}

/** The plain string of a credential given as a string, a Secret or a scalar; undefined when absent. */
export function revealSecret(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return value instanceof Secret ? value.reveal() : String(value);
}

/** Deep-copies options, wrapping the values of sensitive keys in Secret. */
export function wrapSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => wrapSecrets(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // A sensitive name holding a mapping (e.g. `credentials: {…}`) is searched, not wrapped whole.
      out[k] = isSensitiveKey(k) && (v === null || typeof v !== 'object') ? asSecret(v) : wrapSecrets(v);
    }
    return out as T;
  }
  return value;
}
