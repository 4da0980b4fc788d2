/**
 * Registry configs written for the Python remote-store (issue 16): the same files load in both
 * libraries (checked against the real Python library 0.33.0), YAML means what PyYAML's safe_load
 * makes of it, backend types only Python has load and fail at use, `client_options` in s3fs shape
 * is translated or refused by name, the shared-profile region is used; and no nesting depth
 * overflows the stack (issue 18).
 */
import test from 'ava';
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import {
  BackendUnavailable,
  ConfigError,
  MemoryBackend,
  Registry,
  RegistryConfig,
  resolveEnv,
  S3ArrowBackend,
  S3Backend,
  Secret,
} from '../src/index';
import { normalizeClientOptions, resolveRegion } from '../src/backends/s3/client-options';
import { parsePyYaml } from '../src/pyyaml';
import { pythonOracle } from './support/python-oracle';
import { SECRET_SENTINEL } from './support/sentinel';

const fixtures = path.join(import.meta.dirname, 'fixtures', 'python');
const scratch = path.join(tmpdir(), `rs-pyconf-${process.pid}`);
mkdirSync(path.join(scratch, 'local'), { recursive: true });

const ENV = {
  RS_DIFF_BUCKET: 'bucket',
  RS_DIFF_ENDPOINT: 'http://127.0.0.1:9',
  RS_DIFF_KEY: 'AKIAEXAMPLE',
  RS_DIFF_SECRET: `${SECRET_SENTINEL}-config`,
  RS_DIFF_LOCAL_ROOT: path.join(scratch, 'local'),
};

/** The tagged JSON form python_oracle.py gives its values (see tag() there), with credentials shown plain on both sides. */
function tag(value: unknown): unknown {
  if (value instanceof Secret) return value.reveal();
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { float: 'nan' };
    if (!Number.isFinite(value)) return { float: value > 0 ? 'inf' : '-inf' };
    return value;
  }
  if (value instanceof Date) return { date: value.toISOString() };
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('base64') };
  if (value instanceof Set) return { set: [...value].map(String).sort() };
  if (Array.isArray(value)) return value.map(tag);
  if (value !== null && typeof value === 'object') return { map: Object.entries(value).map(([k, v]) => [k, tag(v)]) };
  return value;
}

/** Python's tag() with its `{secret: v}` shown as `v`, and mappings in a stable order. */
function untagged(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untagged);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('secret' in o && Object.keys(o).length === 1) return o.secret;
    if ('map' in o) return { map: (o.map as [string, unknown][]).map(([k, v]): [string, unknown] => [k, untagged(v)]).sort(([a], [b]) => (a < b ? -1 : 1)) };
  }
  return value;
}

// ---- the same files load in both ----------------------------------------------------------

interface PyConfig {
  backends: Record<string, { type: string; options: unknown; retry: Record<string, number | null> | null }>;
  stores: Record<string, { backend: string; root_path: string }>;
  get_store: Record<string, { ok?: string; error?: string; message?: string }>;
}

const PORTED: Record<string, string> = { S3Backend: 'S3Backend', S3PyArrowBackend: 'S3ArrowBackend', LocalBackend: 'LocalBackend', MemoryBackend: 'MemoryBackend' };

for (const file of ['registry.yaml', 'registry.toml', 'registry.json', 'pyproject/pyproject.toml']) {
  test(`${file} loads in this package as in the Python remote-store`, async (t) => {
    const full = path.join(fixtures, file);
    const py = await pythonOracle<PyConfig>({ cmd: 'config', file: full, env: ENV });
    const table = file.endsWith('pyproject.toml') ? ['tool', 'remote-store'] : undefined;
    const config = await RegistryConfig.fromFile(full, { resolveEnv: true, env: ENV, ...(table ? { table } : {}) });

    t.deepEqual(Object.keys(config.backends).sort(), Object.keys(py.backends).sort());
    for (const [name, b] of Object.entries(py.backends)) {
      const ours = config.backends[name]!;
      t.is(ours.type, b.type, name);
      t.deepEqual(untagged(tag(ours.options)), untagged(b.options), `options of ${name}`);
      const retry = ours.retry && { max_attempts: ours.retry.maxAttempts, backoff_base: ours.retry.backoffBase, backoff_max: ours.retry.backoffMax, jitter: ours.retry.jitter, timeout: ours.retry.timeout ?? null };
      t.deepEqual(retry ?? null, b.retry, `retry of ${name}`);
    }
    t.deepEqual(
      Object.fromEntries(Object.entries(config.stores).map(([n, s]) => [n, { backend: s.backend, root_path: s.rootPath }])),
      py.stores,
    );

    // Backends are built at first use in both; what each store then is, or why it is not.
    const registry = new Registry(config);
    t.teardown(() => registry.close());
    for (const [name, outcome] of Object.entries(py.get_store)) {
      const type = config.backends[config.stores[name]!.backend]!.type;
      if (outcome.ok && PORTED[outcome.ok]) {
        const store = registry.getStore(name);
        t.is((store as unknown as { backend: object }).backend.constructor.name, PORTED[outcome.ok], name);
      } else {
        // sftp and http exist in Python (azure needs its extra), not here: the store is unavailable, naming its type.
        const err = t.throws(() => registry.getStore(name), { instanceOf: BackendUnavailable }, name);
        t.true(err.message.includes(`'${type}'`) && err.message.includes('s3-arrow'), err.message);
      }
    }
  });
}

// ---- YAML as PyYAML reads it --------------------------------------------------------------

type PyYaml = { ok?: unknown; error?: string; crash?: string }[];

function ourYaml(text: string): { ok?: unknown; error?: string } {
  try {
    return { ok: tag(parsePyYaml(text)) };
  } catch (err) {
    return { error: (err as Error).name };
  }
}

const TRICKY = [
  'yes', 'Yes', 'YES', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF', 'y', 'Y', 'n', 'N', 'true', 'True', 'TRUE', 'false', 'tRue',
  'null', 'Null', 'NULL', 'nUll', '~', '', '.inf', '-.inf', '+.inf', '.Inf', '.NaN', '.nan', '.NAN', '-.nan',
  '0', '00', '07', '08', '09', '0o17', '0x1F', '0xg', '0b101', '0b12', '1_000', '+1', '-0', '1:30', '1:30:59', '0:30', '1:60', '1:30.5',
  '1.', '.5', '-.5', '+.5', '1e3', '1e+3', '1.0e3', '1.0e+3', '1.0E-3', '.5e+3', '1_0.5_0',
  '2024-01-05', '2024-1-5', '2024-01-05T10:00:00Z', '2024-01-05 10:00:00.5 +02:00', '2024-1-5t10:00:00', '2001-12-14t21:59:43.10-05:00',
  '"yes"', "'1e3'", '!!str 1', '[yes, n, 1e3]', '{a: 1, b: off}', '0b_',
];
const chars = fc.constantFrom(...'0123456789_.:-+eExobafyYnNtTZ~ ');
const scalar = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: chars, minLength: 1, maxLength: 10 }).filter((s) => s.trim() === s && s !== '='));

test('YAML scalars mean what PyYAML safe_load makes of them (YAML 1.1: yes/no/on/off, octal, sexagesimal, dates; property)', async (t) => {
  const texts = [...TRICKY, ...fc.sample(scalar, { numRuns: 3000, seed: 16 })];
  const py = await pythonOracle<PyYaml>({ cmd: 'yaml', texts: texts.map((s) => `v: ${s}`) });
  let compared = 0;
  const mismatches = new Set<string>();
  texts.forEach((text, i) => {
    const theirs = py[i]!;
    // PyYAML itself raising a plain Python error (int('', 2) for `0b_`) is not an answer to compare with.
    if (theirs.crash) return;
    const ours = ourYaml(`v: ${text}`);
    const same = theirs.error ? ours.error !== undefined : JSON.stringify(untagged(ours.ok)) === JSON.stringify(untagged(theirs.ok));
    if (!same) mismatches.add(`${JSON.stringify(text)}: PyYAML ${JSON.stringify(theirs)}, here ${JSON.stringify(ours)}`);
    compared++;
  });
  t.deepEqual([...mismatches].slice(0, 20), []);
  t.true(compared > texts.length * 0.95, `${compared} of ${texts.length} compared`);
});

test('YAML merge keys: later sources win as in PyYAML (lists, several << keys, nested), keys of the mapping win over merged ones', async (t) => {
  const docs = [
    'b: &b {region: eu, k1: b}\no: &o {region: us, k2: o}\nc: &c {region: ap, k3: c}\ns: {<<: [*b, *o, *c]}',
    'b: &b {region: eu, k1: b}\ns:\n  region: xx\n  <<: *b',
    'b: &b {region: eu, k1: b}\ns:\n  <<: *b\n  region: yy',
    'b: &b {region: eu}\no: &o {region: us}\nc: &c {region: ap}\ns:\n  <<: [*b, *o]\n  <<: *c',
    'b: &b {region: eu, k: 1}\nn: &n {<<: *b, region: nested}\ns: {<<: *n, x: 2}',
    'b: &b {a: 1}\ns: {<<: *b, a: 2, a: 3}',
    'common: &c\n  anon: no\n  requester_pays: yes\n  config_kwargs: {retries: {max_attempts: 4}}\nbackend:\n  client_options:\n    <<: *c\n    anon: off',
  ];
  const py = await pythonOracle<PyYaml>({ cmd: 'yaml', texts: docs });
  for (const [i, doc] of docs.entries()) t.deepEqual(untagged(tag(parsePyYaml(doc))), untagged(py[i]!.ok), doc);
});

// ---- backend types only Python has --------------------------------------------------------

test('a config naming backend types this package lacks loads; using such a store throws BackendUnavailable naming the type and the registered ones', async (t) => {
  const registry = new Registry({
    backends: { mem: { type: 'memory' }, ssh: { type: 'sftp', options: { host: 'h' } }, blob: { type: 'azure' }, web: { type: 'http' }, db: { type: 'sql-blob' } },
    stores: { local: { backend: 'mem' }, out: { backend: 'ssh' }, raw: { backend: 'blob' }, site: { backend: 'web' }, rows: { backend: 'db' } },
  });
  await registry.getStore('local').write('a.txt', 'works');
  t.is(await registry.getStore('local').readText('a.txt'), 'works');
  for (const [store, type] of [['out', 'sftp'], ['raw', 'azure'], ['site', 'http'], ['rows', 'sql-blob']]) {
    const err = t.throws(() => registry.getStore(store!), { instanceOf: BackendUnavailable });
    t.true(err.message.includes(`type '${type}'`), err.message);
    t.regex(err.message, /Registered types: \[.*local.*memory.*s3.*s3-arrow.*s3-pyarrow/);
    t.is(err.backend, type);
  }
  await registry.close();
});

test("a typo'd backend type warns at load and fails loudly at first use, listing the registered types", async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    const registry = new Registry({ backends: { b: { type: 's4' }, m: { type: 'memory' } }, stores: { s: { backend: 'b' }, ok: { backend: 'm' } } });
    t.truthy(registry.getStore('ok'));
    const err = t.throws(() => registry.getStore('s'), { instanceOf: ConfigError });
    t.regex(err.message, /Backend 'b' has unknown type 's4'\. Registered types: \[.*memory.*s3/);
    t.is(err.configPath, '$.backends.b.type');
    await new Promise((r) => setImmediate(r));
    t.true(warnings.some((w) => w.includes("unknown type 's4'")), warnings.join('\n'));
  } finally {
    process.off('warning', onWarning);
  }
});

test('a registered factory makes a Python-only type usable', (t) => {
  Registry.registerBackend('sql-query', () => new MemoryBackend());
  const registry = new Registry({ backends: { q: { type: 'sql-query' } }, stores: { s: { backend: 'q' } } });
  t.truthy(registry.getStore('s'));
});

// ---- nesting depth ---------------------------------------------------------------------------

const DEEP = 100_000;

function deepObject(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

const deepTexts: [string, string, RegExp][] = [
  ['json', `{"backends": {"b": {"type": "memory", "options": ${'{"a": '.repeat(DEEP)}1${'}'.repeat(DEEP)}}}}`, /\$\.backends\.b\.options\.a\.a/],
  ['json', `{"backends": ${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`, /\$\.backends\[0\]\[0\]/],
  ['yaml', `backends: {b: {type: memory, options: ${'{a: '.repeat(DEEP)}1${'}'.repeat(DEEP)}}}`, /line 1, column \d+/],
  ['yaml', `backends:\n  b:\n    options:\n      ${'- '.repeat(DEEP)}x`, /line 4, column \d+/],
  ['yaml', `backends:\n  b:\n    options: ${'['.repeat(DEEP)}${']'.repeat(DEEP)}`, /line 3, column \d+/],
  ['toml', `[backends.b]\ntype = "memory"\noptions = ${'{a='.repeat(DEEP)}1${'}'.repeat(DEEP)}`, /nested|3:/],
  ['toml', `[backends.b]\ntype = "memory"\noptions.${'a.'.repeat(DEEP)}leaf = 1`, /\$\.backends\.b\.options\.a\.a/],
  ['toml', `[backends.b.options.${'a.'.repeat(DEEP)}leaf]\nx = 1`, /\$\.backends\.b\.options\.a\.a/],
];

for (const [i, [format, text, where]] of deepTexts.entries()) {
  test(`a ${DEEP.toLocaleString('en')}-deep ${format} config is a ConfigError naming where (#${i}), never a stack overflow`, (t) => {
    const err = t.throws(() => RegistryConfig.fromText(text, format), { instanceOf: ConfigError });
    t.regex(err.message, where);
    t.regex(err.message, /64 levels|nested/);
    t.true(err.message.length < 400, err.message);
  });
}

test('deep and cyclic objects are ConfigErrors naming where: fromObject, new Registry, resolveEnv, S3 client_options', (t) => {
  const deep = deepObject(DEEP);
  const named = (fn: () => unknown, where: RegExp) => {
    const err = t.throws(fn, { instanceOf: ConfigError });
    t.regex(err.configPath ?? '', where);
    t.true(err.message.includes(err.configPath!.slice(0, 60)), err.message);
  };
  named(() => RegistryConfig.fromObject({ backends: { b: { type: 'memory', options: deep } } }), /^\$\.backends\.b\.options\.a\.a\.a/);
  named(() => new Registry({ stores: deep }), /^\$\.stores\.a\.a/);
  named(() => resolveEnv({ list: [deep] }), /^\$\.list\[0\]\.a\.a/);
  const cyclic: Record<string, unknown> = { name: 'x' };
  cyclic.self = cyclic;
  named(() => RegistryConfig.fromObject({ backends: { b: { type: 'memory', options: cyclic } } }), /^\$\.backends\.b\.options\.self\.self/);
  named(() => resolveEnv(cyclic), /^\$\.self\.self/);
  for (const Backend of [S3Backend, S3ArrowBackend]) {
    named(() => new Backend({ bucket: 'b', client_options: { config_kwargs: deep } }), /^client_options\.config_kwargs\.a\.a/);
  }
  // What a config really nests stays well inside the bound.
  t.notThrows(() => RegistryConfig.fromObject({ backends: { b: { type: 'memory', options: deepObject(50) } } }));
});

// ---- client_options in the Python (s3fs) shape ------------------------------------------------

test('client_options in s3fs shape translate to one typed value', (t) => {
  const o = normalizeClientOptions({
    anon: false,
    requester_pays: false,
    profile: 'etl',
    use_listings_cache: false,
    skip_instance_cache: true,
    client_kwargs: { region_name: 'eu-west-1', endpoint_url: 'minio.internal:9000', verify: false },
    config_kwargs: {
      max_pool_connections: 32,
      connect_timeout: 3,
      read_timeout: 45.5,
      retries: { max_attempts: 4, mode: 'standard' },
      s3: { addressing_style: 'path' },
      request_checksum_calculation: 'when_required',
    },
    s3_additional_kwargs: {
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
      BucketKeyEnabled: true,
      ACL: 'bucket-owner-full-control',
      StorageClass: 'STANDARD_IA',
      RequestPayer: 'requester',
      ContentType: 'text/csv',
      CacheControl: 'no-cache',
    },
  });
  t.deepEqual(o.writeDefaults, {
    serverSideEncryption: 'aws:kms',
    sseKmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k',
    bucketKeyEnabled: true,
    acl: 'bucket-owner-full-control',
    storageClass: 'STANDARD_IA',
    contentType: 'text/csv',
    cacheControl: 'no-cache',
  });
  t.true(o.requesterPays);
  t.false(o.anon);
  t.is(o.profile, 'etl');
  t.is(o.region, 'eu-west-1');
  t.is(o.endpoint, 'https://minio.internal:9000');
  t.is(o.verify, false);
  t.is(o.maxPoolConnections, 32);
  t.is(o.connectTimeout, 3);
  t.is(o.readTimeout, 45.5);
  t.is(o.retryMaxAttempts, 5, "botocore's max_attempts counts retries");
  t.is(o.addressingStyle, 'path');
  t.deepEqual(o.sdkConfig, { requestChecksumCalculation: 'WHEN_REQUIRED' });
  t.is(normalizeClientOptions({ config_kwargs: { retries: { total_max_attempts: 3 } } }).retryMaxAttempts, 3);
  t.true(normalizeClientOptions({ requester_pays: true }).requesterPays);
});

test('the AWS SDK v3 keys version 0.1 accepted still work', async (t) => {
  const handler = { handle: async () => ({ response: {} }) };
  const o = normalizeClientOptions({
    region: 'ap-south-1',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
    maxAttempts: 6,
    credentials: { accessKeyId: 'AKIA', secretAccessKey: new Secret(`${SECRET_SENTINEL}-sdk`) },
    requestHandler: handler,
    followRegionRedirects: true,
  });
  t.is(o.region, 'ap-south-1');
  t.is(o.endpoint, 'http://127.0.0.1:9000');
  t.is(o.addressingStyle, 'path');
  t.is(o.retryMaxAttempts, 6);
  t.is(o.sdkConfig.requestHandler, handler);
  t.is(o.sdkConfig.followRegionRedirects, true);
  const creds = await (o.sdkConfig.credentials as () => Promise<{ accessKeyId: string; secretAccessKey: string }>)();
  t.deepEqual(creds, { accessKeyId: 'AKIA', secretAccessKey: `${SECRET_SENTINEL}-sdk` });
  t.false(inspect(o, { depth: 9 }).includes(SECRET_SENTINEL));
  t.false(JSON.stringify(o).includes(SECRET_SENTINEL));
});

test('credentials in client_options (key/secret/token, client_kwargs.aws_*) reach the SDK client, never shown', async (t) => {
  for (const client_options of [
    { key: 'AKIA1', secret: `${SECRET_SENTINEL}-1`, token: 'tok' },
    { client_kwargs: { aws_access_key_id: 'AKIA1', aws_secret_access_key: `${SECRET_SENTINEL}-1`, aws_session_token: 'tok' } },
  ]) {
    const registry = new Registry({ backends: { b: { type: 's3', options: { bucket: 'b', endpoint_url: 'http://127.0.0.1:9', client_options } } }, stores: { s: { backend: 'b' } } });
    const store = registry.getStore('s');
    const client = store.unwrap(S3Client);
    t.deepEqual(await client.config.credentials(), { accessKeyId: 'AKIA1', secretAccessKey: `${SECRET_SENTINEL}-1`, sessionToken: 'tok' });
    for (const shown of [inspect(registry, { depth: 9 }), inspect(store, { depth: 6 }), JSON.stringify(registry.config)]) {
      t.false(shown.includes(SECRET_SENTINEL), shown.slice(0, 300));
    }
    await registry.close();
  }
});

const refused: [Record<string, unknown>, string, RegExp][] = [
  [{ s3_additional_kwargs: { SSECustomerKey: 'k' } }, 'client_options.s3_additional_kwargs.SSECustomerKey', /SSE-C/],
  [{ s3_additional_kwargs: { Tagging: 'a=b' } }, 'client_options.s3_additional_kwargs.Tagging', /not supported/],
  [{ s3_additional_kwargs: { Metadata: { a: 'b' } } }, 'client_options.s3_additional_kwargs.Metadata', /per write/],
  [{ s3_additional_kwargs: { Bogus: 1 } }, 'client_options.s3_additional_kwargs.Bogus', /not a known option.*ServerSideEncryption/],
  [{ s3_additional_kwargs: { SSEKMSKeyId: 'k' } }, 'client_options.s3_additional_kwargs.SSEKMSKeyId', /needs ServerSideEncryption 'aws:kms'/],
  [{ client_kwargs: { config: {} } }, 'client_options.client_kwargs.config', /config_kwargs/],
  [{ config_kwargs: { proxies: { https: 'http://proxy:3128' } } }, 'client_options.config_kwargs.proxies', /proxies/],
  [{ config_kwargs: { retries: { mode: 'adaptive' } } }, 'client_options.config_kwargs.retries.mode', /adaptive/],
  [{ config_kwargs: { s3: { use_accelerate_endpoint: true } } }, 'client_options.config_kwargs.s3.use_accelerate_endpoint', /Acceleration/],
  [{ config_kwargs: { signature_version: 's3' } }, 'client_options.config_kwargs.signature_version', /SigV4/],
  [{ version_aware: true }, 'client_options.version_aware', /versions/],
  [{ cache_regions: true }, 'client_options.cache_regions', /region_name/],
  [{ use_ssl: false }, 'client_options.use_ssl', /endpoint_url/],
  [{ session: {} }, 'client_options.session', /Python object/],
  [{ anon: true, key: 'a', secret: 'b' }, 'client_options.anon', /choose one/],
  [{ key: 'a' }, 'client_options', /together/],
  [{ key: 'a', secret: 'b', client_kwargs: { aws_access_key_id: 'c', aws_secret_access_key: 'd' } }, 'client_options.client_kwargs.aws_access_key_id', /one place/],
  [{ client_kwargs: { region_name: 'eu-west-1' }, config_kwargs: { region_name: 'us-east-1' } }, 'client_options.config_kwargs.region_name', /disagree/],
  [{ endPoint: 'x' }, 'client_options.endPoint', /not a known option/],
];

for (const [raw, where, why] of refused) {
  test(`client_options refused by name: ${where} (${JSON.stringify(raw).slice(0, 60)})`, (t) => {
    const err = t.throws(() => normalizeClientOptions(raw), { instanceOf: ConfigError });
    t.true(err.message.startsWith(where), err.message);
    t.regex(err.message, why);
    t.is(err.configPath, where);
    // Through a registry the path is where it is in the config.
    const registry = new Registry({ backends: { lake: { type: 's3', options: { bucket: 'b', client_options: raw } } }, stores: { s: { backend: 'lake' } } });
    const inConfig = t.throws(() => registry.getStore('s'), { instanceOf: ConfigError });
    t.is(inConfig.configPath, `$.backends.lake.options.${where}`);
    t.regex(inConfig.message, /backend 'lake'/);
  });
}

test('a client_options value of the wrong type names the option and the expected type, never the value', (t) => {
  const value = `${SECRET_SENTINEL}-misplaced`;
  const cases: [Record<string, unknown>, string, string][] = [
    [{ anon: value }, 'client_options.anon', 'true or false'],
    [{ config_kwargs: { connect_timeout: value } }, 'client_options.config_kwargs.connect_timeout', 'a positive number of seconds'],
    [{ config_kwargs: { max_pool_connections: 0 } }, 'client_options.config_kwargs.max_pool_connections', 'a whole number >= 1'],
    [{ config_kwargs: { retries: { max_attempts: -1 } } }, 'client_options.config_kwargs.retries.max_attempts', 'a whole number >= 0'],
    [{ s3_additional_kwargs: { ServerSideEncryption: value } }, 'client_options.s3_additional_kwargs.ServerSideEncryption', "one of 'AES256'"],
    [{ s3_additional_kwargs: { ACL: value } }, 'client_options.s3_additional_kwargs.ACL', "one of 'private'"],
    [{ s3_additional_kwargs: { StorageClass: value } }, 'client_options.s3_additional_kwargs.StorageClass', 'a storage class name'],
    [{ client_kwargs: value }, 'client_options.client_kwargs', 'a mapping'],
    [{ client_kwargs: { region_name: 7 } }, 'client_options.client_kwargs.region_name', 'a non-empty string'],
    [{ config_kwargs: { s3: { addressing_style: value } } }, 'client_options.config_kwargs.s3.addressing_style', "one of 'path', 'virtual', 'auto'"],
    [{ secret: { nested: value } }, 'client_options.secret', 'a non-empty string'],
  ];
  for (const [raw, where, expected] of cases) {
    const err = t.throws(() => normalizeClientOptions(raw), { instanceOf: ConfigError }, where);
    t.true(err.message.startsWith(`${where} must be ${expected}`), err.message);
    t.false(err.message.includes(SECRET_SENTINEL), err.message);
    t.false(inspect(err).includes(SECRET_SENTINEL));
  }
});

test('ignored-as-equivalent s3fs keys are still type-checked', (t) => {
  t.notThrows(() =>
    normalizeClientOptions({
      use_listings_cache: true,
      listings_expiry_time: null,
      max_paths: 100,
      skip_instance_cache: false,
      default_block_size: 5 * 2 ** 20,
      default_fill_cache: false,
      default_cache_type: 'none',
      max_concurrency: 4,
      fixed_upload_size: true,
      local_expiry_check: false,
      use_ssl: true,
      version_aware: false,
      config_kwargs: { tcp_keepalive: true, parameter_validation: true, signature_version: 's3v4', s3: { payload_signing_enabled: false } },
      client_kwargs: { api_version: '2006-03-01', use_ssl: false },
      endpoint_url: 'http://127.0.0.1:9000',
    }),
  );
  t.throws(() => normalizeClientOptions({ use_listings_cache: 'yes' }), { instanceOf: ConfigError, message: /use_listings_cache must be true or false/ });
  t.throws(() => normalizeClientOptions({ max_concurrency: 0 }), { instanceOf: ConfigError, message: /max_concurrency must be a whole number >= 1/ });
});

test('every option the Python S3 backends take (read from the installed libraries) is honoured, ignored as equivalent, or refused naming why', async (t) => {
  const sig = await pythonOracle<Record<string, string[]>>({ cmd: 'signature' });
  // Constructor options: the same names here.
  for (const name of [...sig.S3Backend!, ...sig.S3PyArrowBackend!]) {
    const options = { bucket: 'b', [name]: name === 'bucket' ? 'b' : undefined };
    t.notThrows(() => new S3Backend(options as never), `constructor option ${name}`);
  }
  t.deepEqual(new Set(sig.S3Backend), new Set(sig.S3PyArrowBackend));
  // client_options: every key is decided, none is "not a known option".
  const sections: [string, string[], (k: string) => Record<string, unknown>][] = [
    ['s3fs', sig.s3fs!, (k) => ({ [k]: null })],
    ['client_kwargs', sig.client_kwargs!, (k) => ({ client_kwargs: { [k]: null } })],
    ['config_kwargs', sig.config_kwargs!, (k) => ({ config_kwargs: { [k]: null } })],
  ];
  let decided = 0;
  for (const [name, keys, raw] of sections) {
    t.true(keys.length > 5, `${name} keys from Python: ${keys.join(', ')}`);
    for (const key of keys) {
      try {
        normalizeClientOptions(raw(key));
      } catch (err) {
        t.true(err instanceof ConfigError, String(err));
        t.notRegex((err as Error).message, /not a known option/, `${name}.${key}`);
      }
      decided++;
    }
  }
  t.true(decided > 60);
});

// ---- the shared-profile region ----------------------------------------------------------------

test('without region_name the region comes from the environment, then the shared-config profile (both paths)', (t) => {
  const configFile = path.join(scratch, 'aws-config');
  writeFileSync(configFile, '[default]\nregion = ap-south-1\n\n[profile etl]\ns3 =\n  addressing_style = path\nregion = eu-west-3\n# region = nope\n\n[profile bare]\noutput = json\n');
  const env = { AWS_CONFIG_FILE: configFile };
  t.is(resolveRegion(undefined, {}, env), 'ap-south-1');
  t.is(resolveRegion(undefined, { profile: 'etl' }, env), 'eu-west-3');
  t.is(resolveRegion(undefined, {}, { ...env, AWS_PROFILE: 'etl' }), 'eu-west-3');
  t.is(resolveRegion(undefined, { profile: 'bare' }, env), 'us-east-1');
  t.is(resolveRegion(undefined, { profile: 'etl' }, { ...env, AWS_DEFAULT_REGION: 'ca-central-1' }), 'ca-central-1');
  t.is(resolveRegion(undefined, { profile: 'etl' }, { ...env, AWS_REGION: 'sa-east-1', AWS_DEFAULT_REGION: 'ca-central-1' }), 'sa-east-1');
  t.is(resolveRegion(undefined, { profile: 'etl', region: 'us-west-2' }, env), 'us-west-2');
  t.is(resolveRegion('eu-north-1', { region: 'us-west-2' }, env), 'eu-north-1');
  t.is(resolveRegion(undefined, {}, { AWS_CONFIG_FILE: path.join(scratch, 'missing') }), 'us-east-1');
});

// Both backends decide the region once and give the same value to the SDK client and (s3-arrow) the native path.
test.serial('a backend built without region_name uses the profile region', async (t) => {
  const configFile = path.join(scratch, 'aws-config-2');
  writeFileSync(configFile, '[profile etl]\nregion = eu-west-3\n');
  const saved = { ...process.env };
  t.teardown(() => {
    for (const k of ['AWS_CONFIG_FILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  delete process.env.AWS_REGION;
  delete process.env.AWS_DEFAULT_REGION;
  delete process.env.AWS_PROFILE;
  process.env.AWS_CONFIG_FILE = configFile;
  const options = { bucket: 'b', key: 'k', secret: 's', endpoint_url: 'http://127.0.0.1:9', client_options: { profile: 'etl' } };
  const s3 = new S3Backend(options);
  t.is(await s3.unwrap(S3Client).config.region(), 'eu-west-3');
  const arrow = new S3ArrowBackend(options);
  t.is(await arrow.unwrap(S3Client).config.region(), 'eu-west-3');
  await s3.close();
  await arrow.close();
});
