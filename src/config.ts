import { readFile } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { inspect } from 'node:util';
import { normalizeFolderPath } from './path';
import { parsePyYaml } from './pyyaml';
import { describe, RetryPolicy } from './retry';
import { asSecret, wrapSecrets } from './secret';

// smol-toml ships CommonJS under its "require" condition, but its types are ESM-only.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parse: parseToml } = require('smol-toml') as typeof import('smol-toml', { with: { 'resolution-mode': 'import' } });

/**
 * Registry configuration: named backends (a type plus options) and named stores (a
 * backend plus a root path). Files written for the Python `remote-store` load
 * unchanged: snake_case keys (`root_path`, `endpoint_url`, `max_attempts`) and their
 * camelCase spellings both work, normalised here and nowhere else.
 */

/** A config value that is malformed, or refers to something that does not exist. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_ERROR';
  /** Where in the config the problem is, e.g. `$.backends.s3.options.key`. */
  readonly configPath: string | undefined;

  constructor(message: string, configPath?: string) {
    super(message);
    this.name = 'ConfigError';
    this.configPath = configPath;
  }
}

export interface BackendConfig {
  /** The backend type: `local`, `memory`, `s3`, `s3-arrow` (alias `s3-pyarrow`) or a registered one. */
  readonly type: string;
  /** Constructor options, top-level keys in snake_case; credential values wrapped in Secret. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly retry?: RetryPolicy;
}

export interface StoreProfile {
  readonly backend: string;
  readonly rootPath: string;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface FromFileOptions {
  /** Resolve `${VAR}` placeholders from the environment before parsing. Default false. */
  resolveEnv?: boolean;
  /** The environment to resolve from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** A nested table to read the config from, e.g. `['tool', 'remote-store']` in pyproject.toml. */
  table?: string[];
}

/** `endpointUrl` → `endpoint_url`; snake_case stays as it is. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Top-level option keys in snake_case. Two spellings of one option (`endpointUrl`
 * and `endpoint_url`) are a conflict, not a silent pick.
 */
export function normalizeOptionKeys(options: Record<string, unknown>, where = 'options'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const spelledAs: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    const snake = snakeCase(key);
    if (snake in out) throw new ConfigError(`${where}: '${key}' and '${spelledAs[snake]}' name the same option`, `${where}.${key}`);
    out[snake] = value;
    spelledAs[snake] = key;
  }
  return out;
}

/**
 * How deep a config may nest. Real ones stay under ten levels (`$.backends.b.options.client_options.
 * config_kwargs.s3.addressing_style` is seven); the bound keeps every walk over a config (env
 * resolution, secret wrapping, validation) far from the stack's limit, whatever a file or object holds.
 */
export const MAX_CONFIG_DEPTH = 64;

/**
 * Throws a ConfigError naming where `data` nests deeper than {@link MAX_CONFIG_DEPTH} (a cycle
 * counts as too deep). Iterative, so that it cannot overflow the stack itself.
 */
export function checkDepth(data: unknown, where = '$'): void {
  const pending: [unknown, string, number][] = [[data, where, 0]];
  while (pending.length > 0) {
    const [value, at, depth] = pending.pop()!;
    const children: [string, unknown][] = Array.isArray(value)
      ? Array.from(value, (v, i) => [`${at}[${i}]`, v])
      : isPlainObject(value)
        ? Object.entries(value).map(([k, v]) => [`${at}.${k}`, v])
        : [];
    if (children.length === 0) continue;
    if (depth === MAX_CONFIG_DEPTH) {
      const shown = at.length > 160 ? `${at.slice(0, 100)}…${at.slice(-50)}` : at;
      throw new ConfigError(`Config nests deeper than ${MAX_CONFIG_DEPTH} levels at ${shown}`, at);
    }
    for (const [childAt, child] of children) pending.push([child, childAt, depth + 1]);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

function mapping(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isMapping(value)) throw new ConfigError(`${where} must be a mapping, got ${describe(value)}`, where);
  return value;
}

function requireString(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(`${where} must be a non-empty string, got ${value === undefined ? 'nothing' : describe(value)}`, where);
  }
  return value;
}

function warnUnknown(entry: Record<string, unknown>, known: string[], where: string): void {
  for (const key of Object.keys(entry)) {
    if (!known.includes(key)) process.emitWarning(`${where}: unknown key '${key}' ignored`, { code: 'REMOTE_STORE_CONFIG' });
  }
}

/**
 * The option names of backend types that declared them (see `Registry.registerBackend`). The
 * registry refuses other names for these types, and a config's JSON and `inspect` forms mask
 * their values: a misspelt `secert` or a key a damaged file broke apart still holds a
 * credential, and no list of sensitive names can foresee every spelling.
 */
const declaredOptionNames = new Map<string, readonly string[]>();

/** Declares the options a backend type accepts (its registration does, aliases included); `undefined` forgets them. */
export function declareOptionNames(type: string, names: readonly string[] | undefined): void {
  if (names === undefined) declaredOptionNames.delete(type);
  else declaredOptionNames.set(type, Object.freeze([...names]));
}

/** The option names a backend type declared, if it did. */
export function optionNamesOf(type: string): readonly string[] | undefined {
  return declaredOptionNames.get(type);
}

/** Refuses options a backend type does not know, naming them and the type. */
export function refuseUnknownOptions(type: string, options: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(`Unknown option '${key}' for backend type '${type}'. Known options: [${known.join(', ')}]`);
    }
  }
}

/** A backend's options as shown: values under names its type did not declare masked, however deep. */
function shownOptions(type: string, options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const known = optionNamesOf(type);
  if (!known) return { ...options };
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, known.includes(k) ? v : maskScalars(v)]));
}

function maskScalars(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskScalars);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskScalars(v)]));
  return asSecret(value);
}

/**
 * A frozen copy of `options` that shows itself as `shown()` in `util.inspect` and JSON, so
 * `console.log(config.stores)` masks what the whole config's output masks. The two hooks are
 * not enumerable: a factory's copy of the options (`{ ...options }`) holds the values alone.
 */
function maskedView(options: Readonly<Record<string, unknown>>, shown: () => unknown): Readonly<Record<string, unknown>> {
  const view = { ...options };
  if (!Object.hasOwn(options, 'toJSON')) Object.defineProperty(view, 'toJSON', { value: shown, enumerable: false });
  Object.defineProperty(view, inspect.custom, { value: (_depth: number, opts: object) => inspect(shown(), opts), enumerable: false });
  return Object.freeze(view);
}

export class RegistryConfig {
  readonly backends: Readonly<Record<string, BackendConfig>>;
  readonly stores: Readonly<Record<string, StoreProfile>>;

  constructor(backends: Record<string, BackendConfig> = {}, stores: Record<string, StoreProfile> = {}) {
    const views = <T extends { options: Readonly<Record<string, unknown>> }>(entries: Record<string, T>, shown: (entry: T) => unknown) =>
      Object.freeze(Object.fromEntries(Object.entries(entries).map(([k, e]) => [k, Object.freeze({ ...e, options: maskedView(e.options, () => shown(e)) })])));
    this.backends = views(backends, (b) => shownOptions(b.type, b.options));
    this.stores = views(stores, (s) => maskScalars(s.options));
    this.validate();
    Object.freeze(this);
  }

  /** Builds a config from a plain object (e.g. parsed JSON), validating every entry. */
  static fromObject(data: unknown): RegistryConfig {
    if (data instanceof RegistryConfig) return data;
    checkDepth(data);
    const root = mapping(data, '$');
    warnUnknown(root, ['backends', 'stores'], '$');
    const backends: Record<string, BackendConfig> = {};
    for (const [name, raw] of Object.entries(mapping(root.backends, '$.backends'))) {
      const where = `$.backends.${name}`;
      const entry = normalizeOptionKeys(mapping(raw, where), where);
      warnUnknown(entry, ['type', 'options', 'retry'], where);
      const type = requireString(entry.type, `${where}.type`);
      const options = wrapSecrets(normalizeOptionKeys(mapping(entry.options, `${where}.options`), `${where}.options`));
      let retry: RetryPolicy | undefined;
      if (entry.retry !== undefined && entry.retry !== null) {
        try {
          retry = RetryPolicy.from(entry.retry, `${where}.retry`);
        } catch (err) {
          // A bad value in a config file is a config problem, placed like every other one.
          throw new ConfigError((err as Error).message, `${where}.retry`);
        }
      }
      backends[name] = Object.freeze({ type, options: Object.freeze(options), ...(retry ? { retry } : {}) });
    }
    const stores: Record<string, StoreProfile> = {};
    for (const [name, raw] of Object.entries(mapping(root.stores, '$.stores'))) {
      const where = `$.stores.${name}`;
      const entry = normalizeOptionKeys(mapping(raw, where), where);
      warnUnknown(entry, ['backend', 'root_path', 'options'], where);
      const backend = requireString(entry.backend, `${where}.backend`);
      const rootValue = entry.root_path ?? '';
      if (typeof rootValue !== 'string') throw new ConfigError(`${where}.root_path must be a string, got ${describe(rootValue)}`, `${where}.root_path`);
      let rootPath: string;
      try {
        rootPath = normalizeFolderPath(rootValue);
      } catch (err) {
        throw new ConfigError(`${where}.root_path is not a valid path: ${(err as Error).message}`, `${where}.root_path`);
      }
      stores[name] = Object.freeze({ backend, rootPath, options: Object.freeze(wrapSecrets(mapping(entry.options, `${where}.options`))) });
    }
    return new RegistryConfig(backends, stores);
  }

  /**
   * Reads a config file: `.json`, `.toml` or `.yaml`/`.yml`. Placeholders are
   * resolved only with `{ resolveEnv: true }`: a config file is code.
   */
  static async fromFile(file: string, options: FromFileOptions = {}): Promise<RegistryConfig> {
    if (typeof file !== 'string' || file === '') throw new ConfigError('fromFile needs a file path');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`Cannot read config file '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return RegistryConfig.fromText(text, nodePath.extname(file).toLowerCase(), { ...options, source: file });
  }

  /** Parses config text of the given format (`.json`, `.toml`, `.yaml`). */
  static fromText(text: string, format: string, options: FromFileOptions & { source?: string } = {}): RegistryConfig {
    const source = options.source ?? `${format} text`;
    let data: unknown;
    try {
      switch (format.replace(/^\./, '')) {
        case 'json':
          data = JSON.parse(text);
          break;
        case 'toml':
          data = parseToml(text, { maxDepth: MAX_CONFIG_DEPTH });
          break;
        case 'yaml':
        case 'yml':
          data = parsePyYaml(text);
          break;
        default:
          throw new ConfigError(`Unsupported config format '${format}' for '${source}': use .json, .toml or .yaml`);
      }
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`Cannot parse config '${source}': ${parseErrorSummary(err, text)}`);
    }
    for (const key of options.table ?? []) {
      const table = isMapping(data) ? data[key] : undefined;
      if (table === undefined) throw new ConfigError(`Table key '${key}' not found in '${source}'`);
      data = table;
    }
    if (options.resolveEnv) data = resolveEnv(data, { env: options.env });
    return RegistryConfig.fromObject(data);
  }

  /** Throws ConfigError when a store names a backend that is not configured. */
  validate(): void {
    for (const [name, store] of Object.entries(this.stores)) {
      // Own names only: 'valueOf' or 'constructor' are not backends.
      if (!Object.hasOwn(this.backends, store.backend)) {
        throw new ConfigError(
          `Store '${name}' references unknown backend '${store.backend}'. Available backends: [${Object.keys(this.backends).join(', ')}]`,
          `$.stores.${name}.backend`,
        );
      }
    }
  }

  /**
   * A JSON form with every credential masked: the values of sensitive names, every value under
   * an option name the backend's type does not know, and every value of a store's options.
   */
  toJSON(): Record<string, unknown> {
    return JSON.parse(
      JSON.stringify({
        backends: Object.fromEntries(
          Object.entries(this.backends).map(([k, b]) => [k, { ...b, options: shownOptions(b.type, b.options) }]),
        ),
        // A store's options declare no names (this package does not read them; the Python one
        // passes them on): every value is masked, as under an undeclared backend option.
        stores: Object.fromEntries(
          Object.entries(this.stores).map(([k, s]) => [k, { backend: s.backend, root_path: s.rootPath, options: maskScalars(s.options) }]),
        ),
      }),
    );
  }

  /** `util.inspect` shows the JSON form: the plain fields would show values under unknown option names. */
  [inspect.custom](): string {
    return `RegistryConfig ${inspect(this.toJSON(), { depth: null })}`;
  }
}

/**
 * A parser's error without the excerpt of the text that parsers add (V8's JSON.parse, smol-toml
 * and yaml all quote the offending line): a config file holds credentials. Where it is stays.
 */
function parseErrorSummary(err: unknown, text: string): string {
  const e = err as { message?: unknown; line?: unknown; column?: unknown } | undefined;
  let message = String(e?.message ?? err)
    .replace(/, ".*" is not valid JSON$/s, ' (not valid JSON)')
    .split('\n')[0]!
    .replace(/:\s*$/, '')
    // yaml composes recursively and reports running out of stack as a parse error at the spot.
    .replace(/Maximum call stack size exceeded/, `nesting too deep (more than ${MAX_CONFIG_DEPTH} levels)`);
  const position = /at position (\d+)/.exec(message);
  if (position) {
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    message = message.replace(position[0], `at line ${line}, column ${before.length - before.lastIndexOf('\n')}`);
  } else if (typeof e?.line === 'number' && typeof e?.column === 'number' && !/line \d+/.test(message)) {
    message += ` (line ${e.line}, column ${e.column})`;
  }
  return message;
}

const PLACEHOLDER = /\$\$\{|\$\{([^}:]*)(?::-([^}]*))?\}/g;

/**
 * Returns a deep copy of `data` with `${VAR}` and `${VAR:-default}` replaced from the
 * environment and `$${` turned into a literal `${`. An unset variable without a
 * default is a ConfigError naming the variable and where it is used.
 */
export function resolveEnv<T>(data: T, options: { env?: Record<string, string | undefined> } = {}): T {
  checkDepth(data);
  const env = options.env ?? process.env;
  const walk = (value: unknown, where: string): unknown => {
    if (typeof value === 'string') {
      return value.replace(PLACEHOLDER, (match, name: string | undefined, fallback: string | undefined) => {
        if (match === '$${') return '${';
        if (!name || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          throw new ConfigError(`Invalid placeholder '${match}' at ${where}`, where);
        }
        const found = env[name];
        // As in the Python library: the default applies only when the variable is unset.
        if (found !== undefined) return found;
        if (fallback !== undefined) return fallback;
        throw new ConfigError(`Environment variable '${name}' is not set (used at ${where})`, where);
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${where}[${i}]`));
    // Plain mappings only: a Secret, a Date or the bytes of a YAML !!binary are values, not mappings to walk.
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, `${where}.${k}`)]));
    return value;
  };
  return walk(data, '$') as T;
}
