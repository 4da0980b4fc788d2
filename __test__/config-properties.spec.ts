/**
 * Hostile option values and config files (issue 8): every generated backend option, retry
 * policy and registry config (as JSON, TOML and YAML text) either works or throws one of our
 * typed errors — ConfigError, a TypeError/RangeError, a RemoteStoreError — whose message names
 * the culprit; never a crash, a native exception or an untyped error, and never the
 * credential. Construction does no I/O, so the S3 backends are built in full: the SDK client
 * and, for s3-arrow, the native store.
 */
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { stringify as toToml } from 'smol-toml';
import { stringify as toYaml } from 'yaml';
import {
  ConfigError,
  NativeObjectStore,
  Registry,
  RegistryConfig,
  RemoteStoreError,
  RetryPolicy,
  S3ArrowBackend,
  S3Backend,
  Secret,
  type Store,
} from '../src/index';
import { makeSelfSignedCert } from './support/s3-servers';
import { SECRET_SENTINEL } from './support/sentinel';

const dir = mkdtempSync(path.join(tmpdir(), 'rs-props-'));
const { caFile } = makeSelfSignedCert(dir);
const notPem = path.join(dir, 'not-a-cert.pem');
writeFileSync(notPem, 'hello');
const brokenPem = path.join(dir, 'broken.pem');
writeFileSync(brokenPem, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n');

const SECRET = `${SECRET_SENTINEL}-props`;

/** Values a config file or a careless caller could put anywhere. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 2, withBigInt: true, withDate: true, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }),
  fc.constantFrom<unknown>(
    NaN, Infinity, -Infinity, -0, -1, 0, 1, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, 1e21, 1e300, Number.MAX_VALUE, Number.MIN_VALUE,
    '', ' ', '\0', 'null', 'true', 'false', '0', '-1', '1e999', 'NaN', '\u202e', 'a'.repeat(5000), '../..',
    'http://', '://x', 'http://[::1', 'ftp://h/', 'http://127.0.0.1:0', 'http://127.0.0.1:99999', 'https://user:pw@h.example/',
    `https://AKIA:${SECRET}@h.example/`, 'localhost:9000', 'http://127.0.0.1:9000/some/prefix?x=1', 'h\u0000st:1', 'https://exa mple.com',
    '/etc/passwd', '/dev/null', tmpdir(), '.', caFile, notPem, brokenPem, '/no/such/ca.pem',
    new Date(0), [], {}, Buffer.from('x'), 10n, true, false, null, undefined, new Secret('x'), Object.create(null),
  ),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.double(),
  fc.integer(),
);

const absent = (v: unknown) => v === undefined || v === null;
const plainObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Per S3 option: may a value of this type be accepted? A value failing this must be refused
 * (a value passing it may still be refused, naming the option).
 */
const S3_OPTIONS: Record<string, (v: unknown) => boolean> = {
  bucket: (v) => typeof v === 'string',
  key: (v) => absent(v) || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || v instanceof Secret,
  secret: (v) => absent(v) || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || v instanceof Secret,
  token: (v) => absent(v) || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || v instanceof Secret,
  region_name: (v) => absent(v) || typeof v === 'string',
  endpoint_url: (v) => absent(v) || typeof v === 'string',
  tls_ca_bundle: (v) => absent(v) || typeof v === 'string',
  client_options: (v) => absent(v) || plainObject(v),
  retry: (v) => absent(v) || plainObject(v),
  reject_write_under_file_ancestor: (v) => absent(v) || typeof v === 'boolean',
  max_sockets: (v) => absent(v) || typeof v === 'number',
  part_size: (v) => absent(v) || typeof v === 'number',
  upload_concurrency: (v) => absent(v) || typeof v === 'number',
  multipart_threshold: (v) => absent(v) || typeof v === 'number',
};

const BASE_S3 = { bucket: 'bucket', key: 'AKIAEXAMPLE', secret: SECRET, endpoint_url: 'http://127.0.0.1:9', region_name: 'us-east-1' };
const BACKENDS = { s3: S3Backend, 's3-arrow': S3ArrowBackend } as const;

function describeValue(v: unknown): string {
  try {
    return inspect(v, { depth: 2, breakLength: Infinity }).slice(0, 120);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Where a generated value is a credential (or may carry one, as user:password@ in a URL): it must never show. */
const CREDENTIAL_PLACES = ['key', 'secret', 'token', 'endpoint_url'];

/**
 * Whether the sentinel may show: only when the generated value carries it to a place that
 * does not hold credentials (a bucket named like a URL with a password is just a bucket name).
 */
function sentinelAllowed(place: string, value: unknown): boolean {
  return !CREDENTIAL_PLACES.includes(place) && describeValue(value).includes(SECRET_SENTINEL);
}

/** Throws unless `err` is one of our typed errors naming `culprit` and free of the credential. */
function checkError(err: unknown, culprit: string | RegExp, what: string, sentinelMayShow = false): void {
  const typed = err instanceof ConfigError || err instanceof TypeError || err instanceof RangeError || err instanceof RemoteStoreError;
  const e = err as Error;
  if (!typed) throw new Error(`${what}: untyped ${e?.constructor?.name ?? typeof err}: ${e?.message ?? String(err)}`);
  const names = typeof culprit === 'string' ? e.message.includes(culprit) : culprit.test(e.message);
  if (!names) throw new Error(`${what}: ${e.name} does not name ${culprit}: ${e.message}`);
  if (sentinelMayShow) return;
  for (const shown of [e.message, inspect(e, { depth: 4 }), JSON.stringify(e) ?? '']) {
    if (shown.includes(SECRET_SENTINEL)) throw new Error(`${what}: the credential shows in the error: ${shown.slice(0, 300)}`);
  }
}

/** Builds everything construction builds lazily, without I/O, and shows it the way logs would. */
function materialise(backend: S3Backend, sentinelMayShow = false): void {
  backend.unwrap(S3Client);
  if (backend instanceof S3ArrowBackend) backend.unwrap(NativeObjectStore);
  if (sentinelMayShow) return;
  for (const shown of [String(backend), inspect(backend, { depth: 4 }), JSON.stringify(backend) ?? '']) {
    if (shown.includes(SECRET_SENTINEL)) throw new Error(`the credential shows in the backend: ${shown.slice(0, 300)}`);
  }
}

test('every S3 option value builds a working backend or is refused by name (s3 and s3-arrow, property)', async (t) => {
  const counts = { accepted: 0, refused: 0 };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...(Object.keys(BACKENDS) as Array<keyof typeof BACKENDS>)), fc.constantFrom(...Object.keys(S3_OPTIONS)), hostile, async (kind, name, value) => {
      const what = `${kind} option ${name} = ${describeValue(value)}`;
      const mayShow = sentinelAllowed(name, value);
      let backend: S3Backend | undefined;
      try {
        backend = new BACKENDS[kind]({ ...BASE_S3, [name]: value } as never);
        materialise(backend, mayShow);
      } catch (err) {
        counts.refused++;
        checkError(err, name, what, mayShow);
        return;
      } finally {
        await backend?.close();
      }
      counts.accepted++;
      if (!S3_OPTIONS[name](value)) throw new Error(`${what}: accepted a value of the wrong type`);
    }),
    { numRuns: 800, includeErrorInReport: true },
  );
  t.log(`${counts.accepted} accepted, ${counts.refused} refused by name`);
  t.true(counts.accepted > 0 && counts.refused > 0);
});

const RETRY_FIELDS = ['max_attempts', 'backoff_base', 'backoff_max', 'jitter', 'timeout'];

test('every retry policy is valid for both data paths or refused naming its field (property)', async (t) => {
  const counts = { accepted: 0, refused: 0 };
  const retryArb = fc.dictionary(fc.oneof(fc.constantFrom(...RETRY_FIELDS, 'maxAttempts', 'backoffBase'), fc.string()), hostile, { maxKeys: 4 });
  await fc.assert(
    fc.asyncProperty(retryArb, async (retry) => {
      const what = `retry ${describeValue(retry)}`;
      let policy: RetryPolicy;
      try {
        policy = RetryPolicy.from(retry);
      } catch (err) {
        counts.refused++;
        // The field at fault, or the unknown key (its name is in the message).
        checkError(err, /retry: (RetryPolicy option '|unknown retry option ')/, what, sentinelAllowed('retry', retry));
        return;
      }
      counts.accepted++;
      // An accepted policy is one both paths can use: the SDK's retry strategy and object_store's RetryConfig.
      const backend = new S3ArrowBackend({ ...BASE_S3, retry: policy });
      try {
        materialise(backend);
        for (let attempt = 1; attempt <= 3; attempt++) {
          const seconds = policy.backoff(attempt);
          if (!(seconds >= 0 && seconds * 1000 <= 2 ** 31 - 1)) throw new Error(`${what}: backoff ${seconds} s is beyond what a timer can wait`);
        }
      } finally {
        await backend.close();
      }
    }),
    { numRuns: 500, includeErrorInReport: true },
  );
  t.log(`${counts.accepted} accepted, ${counts.refused} refused by name`);
  t.true(counts.accepted > 0 && counts.refused > 0);
});

/** A valid registry config touching every backend type; mutations of it are what the properties feed in. */
function baseConfig(): Record<string, unknown> {
  return {
    backends: {
      mem: { type: 'memory' },
      files: { type: 'local', options: { root: path.join(dir, 'local-root') } },
      s3b: { type: 's3', options: { ...BASE_S3 }, retry: { max_attempts: 2, backoff_base: 0.1 } },
      arrow: { type: 's3-arrow', options: { ...BASE_S3, tls_ca_bundle: caFile } },
      py: { type: 's3-pyarrow', options: { ...BASE_S3 } },
    },
    stores: {
      m: { backend: 'mem', root_path: 'x/y' },
      f: { backend: 'files' },
      s: { backend: 's3b', root_path: 'data' },
      a: { backend: 'arrow' },
      p: { backend: 'py', root_path: 'p' },
    },
  };
}

/** Every place in the base config a mutation can hit: a path and the name that must appear in the error. */
const PLACES: Array<{ at: string[]; culprit: string | RegExp }> = [];
{
  const walk = (value: unknown, at: string[]) => {
    if (at.length > 0) PLACES.push({ at, culprit: at.length <= 2 ? new RegExp(`'?${at[at.length - 1]}'?|\\$\\.${at.join('\\.')}`) : at[at.length - 1] });
    if (plainObject(value)) for (const [k, v] of Object.entries(value as object)) walk(v, [...at, k]);
  };
  walk(baseConfig(), []);
  for (const b of ['s3b', 'arrow', 'mem', 'files']) for (const opt of [...Object.keys(S3_OPTIONS), 'root', 'unknown_opt']) PLACES.push({ at: ['backends', b, 'options', opt], culprit: opt });
  for (const f of [...RETRY_FIELDS, 'retries']) PLACES.push({ at: ['backends', 's3b', 'retry', f], culprit: f });
}

function mutate(config: Record<string, unknown>, at: string[], value: unknown): void {
  let node = config as Record<string, unknown>;
  for (const k of at.slice(0, -1)) {
    if (!plainObject(node[k])) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  if (value === undefined) delete node[at[at.length - 1]];
  else node[at[at.length - 1]] = value;
}

/** The config as text of one format; undefined when that format cannot hold the values (TOML has no null). */
function asText(config: unknown, format: 'json' | 'yaml' | 'toml'): string | undefined {
  try {
    if (format === 'json') return JSON.stringify(config, (_k, v) => (typeof v === 'bigint' ? Number(v) : v));
    if (format === 'yaml') return toYaml(config);
    return toToml(config as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

/** Loads, validates, builds every backend (no I/O) and opens every store. */
async function useConfig(config: RegistryConfig, sentinelMayShow = false): Promise<void> {
  const registry = new Registry(config);
  try {
    for (const name of registry.storeNames) {
      const store: Store = registry.getStore(name);
      const backend = store.backend;
      if (backend instanceof S3Backend) materialise(backend, sentinelMayShow);
      store.nativePath('a/b');
    }
    if (sentinelMayShow) return;
    for (const shown of [String(registry), inspect(registry, { depth: 6 }), JSON.stringify(registry)]) {
      if (shown.includes(SECRET_SENTINEL)) throw new Error(`the credential shows in the registry: ${shown.slice(0, 300)}`);
    }
  } finally {
    await registry.close();
  }
}

const FORMATS = ['json', 'yaml', 'toml'] as const;

test('every mutated registry config (JSON, YAML, TOML text) loads and builds or is refused by name (property)', async (t) => {
  const counts = { accepted: 0, refused: 0, skipped: 0 };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...PLACES), fc.oneof(hostile, fc.constant(undefined)), fc.constantFrom(...FORMATS), async (place, value, format) => {
      const config = baseConfig();
      mutate(config, place.at, value);
      const text = asText(config, format);
      if (text === undefined) {
        counts.skipped++;
        return;
      }
      const what = `${format} with ${place.at.join('.')} = ${describeValue(value)}`;
      const mayShow = sentinelAllowed(place.at[place.at.length - 1]!, value);
      try {
        await useConfig(RegistryConfig.fromText(text, format), mayShow);
        counts.accepted++;
      } catch (err) {
        counts.refused++;
        // The serialisers can write what their own parsers refuse (smol-toml: a Date before year 0):
        // a parse error then names the text, which is all it can name.
        checkError(err, new RegExp(`${place.culprit instanceof RegExp ? place.culprit.source : place.culprit}|^Cannot parse config '${format} text'`), what, mayShow);
      }
    }),
    { numRuns: 600, includeErrorInReport: true },
  );
  t.log(`${counts.accepted} accepted, ${counts.refused} refused by name, ${counts.skipped} not expressible in the format`);
  t.true(counts.accepted > 0 && counts.refused > 0);
});

test('damaged config text is loaded or refused with a ConfigError, never anything else (property)', async (t) => {
  const counts = { accepted: 0, refused: 0 };
  const edit = fc.record({ at: fc.nat(), cut: fc.nat({ max: 8 }), insert: fc.string({ maxLength: 8, unit: 'binary' }) });
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...FORMATS), fc.array(edit, { minLength: 1, maxLength: 4 }), async (format, edits) => {
      let text = asText(baseConfig(), format)!;
      for (const e of edits) {
        const at = e.at % (text.length + 1);
        text = text.slice(0, at) + e.insert + text.slice(at + e.cut);
      }
      try {
        await useConfig(RegistryConfig.fromText(text, format));
        counts.accepted++;
      } catch (err) {
        counts.refused++;
        // A parse error names the source; a damaged value names what it damaged, which the edit does not tell: any of ours.
        checkError(err, /./, `${format} text ${JSON.stringify(text.slice(0, 200))}`);
      }
    }),
    { numRuns: 600, includeErrorInReport: true },
  );
  t.log(`${counts.accepted} accepted, ${counts.refused} refused`);
  t.true(counts.refused > 0);
});
