import { inspect } from 'node:util';
import type { Backend } from './backend';
import { type BackendConfig, ConfigError, declareOptionNames, optionNamesOf, RegistryConfig, refuseUnknownOptions } from './config';
import { BackendUnavailable } from './errors';
import type { RetryPolicy } from './retry';
import { Store } from './store';
// Names only: this module loads no SDK.
import { S3_OPTION_NAMES } from './backends/s3/options';

/** What a backend factory receives besides its options. */
export interface BackendContext {
  /** The backend's name in the config. */
  name: string;
  retry?: RetryPolicy;
}

/** Builds a backend from its (snake_case, secret-wrapped) options. */
export type BackendFactory = (options: Record<string, unknown>, context: BackendContext) => Backend;

const factories = new Map<string, BackendFactory>();
const aliases = new Map<string, string>([['s3-pyarrow', 's3-arrow']]);

/**
 * Backend types of the Python `remote-store` that this package does not provide. A config naming
 * them loads (its other backends work); using such a backend throws BackendUnavailable.
 */
const PYTHON_ONLY_TYPES = new Set(['azure', 'http', 'sftp', 'sql-blob', 'sql-query']);

/** What a backend type declares when it is registered. */
export interface BackendRegistration {
  /**
   * The option names (snake_case) the factory accepts. The registry then refuses any other
   * name before calling the factory, and masks the values of other names wherever the config
   * is shown (a misspelt credential name still holds a credential). Without it, options reach
   * the factory unchecked and only values under credential-like names are masked.
   */
  optionNames?: readonly string[];
}

/**
 * Named stores over lazily built, shared backends. Backends are built on first use
 * (no I/O before), shared by every store that names them, and closed by `close()`;
 * the stores it hands out never close their backend.
 *
 * @example
 * const registry = new Registry({
 *   backends: { files: { type: 'local', options: { root: './data' } } },
 *   stores: { reports: { backend: 'files', root_path: 'reports' } },
 * });
 * await registry.getStore('reports').write('q1.csv', 'a,b\n');
 * await registry.close();
 */
export class Registry {
  readonly config: RegistryConfig;
  readonly #backends = new Map<string, Backend>();

  /**
   * Validates the config at once (a store naming a backend that is not configured is an error
   * here). Backend types are checked when a backend is first used, as in the Python library: a
   * config may name types this package lacks (`sftp`, `azure`, …) for backends this program
   * never uses. A type nobody knows is reported now as a warning, and is an error at first use.
   */
  constructor(config: RegistryConfig | object = {}) {
    this.config = RegistryConfig.fromObject(config);
    for (const [name, backend] of Object.entries(this.config.backends)) {
      const type = resolveType(backend.type);
      if (!factories.has(type) && !PYTHON_ONLY_TYPES.has(type)) {
        process.emitWarning(`${unknownType(name, backend.type)}; using it will fail`, { code: 'REMOTE_STORE_CONFIG' });
      }
    }
  }

  /** Reads a config file (`.json`, `.toml`, `.yaml`) and builds a registry from it. */
  static async fromFile(file: string, options: Parameters<typeof RegistryConfig.fromFile>[1] = {}): Promise<Registry> {
    return new Registry(await RegistryConfig.fromFile(file, options));
  }

  /**
   * Makes a backend type available to every registry, e.g. a user-written backend.
   *
   * @example
   * Registry.registerBackend('kv', (options) => new KvBackend(options), { optionNames: ['url', 'password'] });
   */
  static registerBackend(type: string, factory: BackendFactory, registration: BackendRegistration = {}): void {
    if (typeof type !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/i.test(type)) {
      throw new TypeError(`registerBackend: type must be a name like 'my-backend', got ${JSON.stringify(type)}`);
    }
    if (typeof factory !== 'function') throw new TypeError(`registerBackend('${type}'): factory must be a function`);
    const names = registration?.optionNames;
    if (names !== undefined && (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))) {
      throw new TypeError(`registerBackend('${type}'): optionNames must be an array of option names`);
    }
    factories.set(type, factory);
    for (const name of [type, ...[...aliases].filter(([, target]) => target === type).map(([alias]) => alias)]) {
      declareOptionNames(name, names);
    }
  }

  /** The registered backend type names. */
  static get backendTypes(): string[] {
    return registeredTypes();
  }

  /** The store of that name; its backend is built on first use and shared. */
  getStore(name: string): Store {
    const profile = Object.hasOwn(this.config.stores, name) ? this.config.stores[name] : undefined;
    if (!profile) {
      throw new ConfigError(`Unknown store '${name}'. Available stores: [${Object.keys(this.config.stores).join(', ')}]`);
    }
    return new Store(this.getBackend(profile.backend), { rootPath: profile.rootPath, ownsBackend: false });
  }

  /** The backend of that name, built on first use. */
  getBackend(name: string): Backend {
    const existing = this.#backends.get(name);
    if (existing) return existing;
    const config = Object.hasOwn(this.config.backends, name) ? this.config.backends[name] : undefined;
    if (!config) {
      throw new ConfigError(`Unknown backend '${name}'. Available backends: [${Object.keys(this.config.backends).join(', ')}]`);
    }
    const backend = build(name, config);
    this.#backends.set(name, backend);
    return backend;
  }

  /** Names of the configured stores. */
  get storeNames(): string[] {
    return Object.keys(this.config.stores);
  }

  /**
   * Closes every backend built so far. A failure does not stop the others from
   * closing; the first one is rethrown at the end. A later getStore builds anew.
   */
  async close(): Promise<void> {
    const backends = [...this.#backends.values()];
    this.#backends.clear();
    let first: unknown;
    for (const backend of backends) {
      try {
        await backend.close();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `Registry(stores=[${this.storeNames.join(', ')}], backends=[${Object.entries(this.config.backends)
      .map(([n, b]) => `${n}:${b.type}`)
      .join(', ')}])`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  toJSON(): Record<string, unknown> {
    return this.config.toJSON();
  }
}

function resolveType(type: string): string {
  return aliases.get(type) ?? type;
}

function registeredTypes(): string[] {
  return [...factories.keys(), ...aliases.keys()].sort();
}

/**
 * A type name is echoed only when it looks like one: a misplaced `${VAR}` can put a credential
 * in `type`, and this message also reaches the load-time warning.
 */
function unknownType(name: string, type: string): string {
  const shown = /^[A-Za-z][A-Za-z0-9_.-]{0,39}$/.test(type) ? `'${type}'` : '(a value that is not a type name, not shown)';
  return `Backend '${name}' has unknown type ${shown}. Registered types: [${registeredTypes().join(', ')}]`;
}

function build(name: string, config: BackendConfig): Backend {
  const factory = factories.get(resolveType(config.type));
  if (!factory) {
    if (PYTHON_ONLY_TYPES.has(config.type)) {
      throw new BackendUnavailable(
        `Backend '${name}' has type '${config.type}', a backend of the Python remote-store that remote-store for Node does not provide ` +
          `(register one with Registry.registerBackend). Registered types: [${registeredTypes().join(', ')}]`,
        { backend: config.type },
      );
    }
    throw new ConfigError(unknownType(name, config.type), `$.backends.${name}.type`);
  }
  const where = `$.backends.${name}.options`;
  try {
    const known = optionNamesOf(config.type);
    if (known) refuseUnknownOptions(config.type, config.options, known);
    return factory({ ...config.options }, { name, retry: config.retry });
  } catch (err) {
    const invalid = `Invalid options for backend '${name}' (type='${config.type}')`;
    if (err instanceof TypeError || err instanceof RangeError) throw new ConfigError(`${invalid}: ${err.message}`, where);
    // A ConfigError about an option (client_options.…) names it relative to the options: place it in the config.
    if (err instanceof ConfigError && err.configPath !== undefined && !err.configPath.startsWith('$')) {
      throw new ConfigError(`${invalid}: ${err.message}`, `${where}.${err.configPath}`);
    }
    throw err;
  }
}

// Built-in types. Modules load on first use so that, say, the AWS SDK is not loaded
// by a program that only uses local files.
Registry.registerBackend(
  'local',
  (options) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LocalBackend } = require('./backends/local') as typeof import('./backends/local');
    return new LocalBackend({ root: options.root as string });
  },
  { optionNames: ['root'] },
);
Registry.registerBackend(
  'memory',
  () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { MemoryBackend } = require('./backends/memory') as typeof import('./backends/memory');
    return new MemoryBackend();
  },
  { optionNames: [] },
);
Registry.registerBackend(
  's3',
  (options, context) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createS3Backend } = require('./backends/s3/index') as typeof import('./backends/s3/index');
    return createS3Backend(options, context);
  },
  { optionNames: S3_OPTION_NAMES },
);
Registry.registerBackend(
  's3-arrow',
  (options, context) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createS3ArrowBackend } = require('./backends/s3/index') as typeof import('./backends/s3/index');
    return createS3ArrowBackend(options, context);
  },
  { optionNames: S3_OPTION_NAMES },
);
