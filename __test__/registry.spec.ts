import test from 'ava';
import { inspect } from 'node:util';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  ConfigError,
  InvalidPath,
  LocalBackend,
  MemoryBackend,
  Registry,
  RegistryConfig,
  RetryPolicy,
  Secret,
  resolveEnv,
} from '../src/index';
import { tempDir } from './support/tmp';

const fixtures = path.join(import.meta.dirname, 'fixtures');

for (const file of ['registry.toml', 'registry.yaml']) {
  test(`a ${path.extname(file)} config with snake_case keys and placeholders loads and works`, async (t) => {
    const { dir, remove } = await tempDir();
    try {
      const env = { RS_TEST_ROOT: dir };
      const config = await RegistryConfig.fromFile(path.join(fixtures, file), { resolveEnv: true, env });
      t.is(config.stores.reports.rootPath, 'reports');
      t.true(config.backends.files.retry instanceof RetryPolicy);
      t.is(config.backends.files.retry?.maxAttempts, file.endsWith('toml') ? 5 : 4);
      await using registry = new Registry(config);
      const reports = registry.getStore('reports');
      await reports.write('q1.csv', 'a,b\n1,2\n');
      t.is(await readFile(path.join(dir, 'reports', 'q1.csv'), 'utf8'), 'a,b\n1,2\n');
      const tmp = registry.getStore('tmp');
      await tmp.write('x.txt', 'x');
      t.is(await registry.getStore('tmp').readText('x.txt'), 'x');
      t.true(registry.getBackend('scratch') instanceof MemoryBackend);
      t.true(registry.getBackend('files') instanceof LocalBackend);
    } finally {
      await remove();
    }
  });
}

test('placeholders are left alone unless resolution is asked for', async (t) => {
  const config = await RegistryConfig.fromFile(path.join(fixtures, 'registry.yaml'));
  t.is(config.backends.files.options.root, '${RS_TEST_ROOT}');
});

test('resolveEnv: defaults, escapes and a missing variable named with its config path', (t) => {
  const env = { A: 'alpha', EMPTY: '' };
  const out = resolveEnv({ x: '${A}', y: '${B:-beta}', z: '$${A}', e: '${EMPTY:-d}', list: ['${A}-1'], n: 3 }, { env });
  t.deepEqual(out, { x: 'alpha', y: 'beta', z: '${A}', e: '', list: ['alpha-1'], n: 3 });
  // Values that are objects but not mappings pass through as they are.
  const secret = new Secret('${A}');
  const when = new Date(0);
  const kept = resolveEnv({ secret, when }, { env });
  t.is(kept.secret, secret);
  t.is(kept.when, when);
  const err = t.throws(() => resolveEnv({ backends: { s3: { options: { key: '${NOPE_VAR}' } } } }, { env }), { instanceOf: ConfigError });
  t.true(err.message.includes('NOPE_VAR'));
  t.true(err.message.includes('$.backends.s3.options.key'));
});

test('camelCase and snake_case spellings are the same option; both at once is a conflict', (t) => {
  const config = RegistryConfig.fromObject({
    backends: { m: { type: 'memory' } },
    stores: { a: { backend: 'm', rootPath: 'x/y' }, b: { backend: 'm', root_path: '/z/' } },
  });
  t.is(config.stores.a.rootPath, 'x/y');
  t.is(config.stores.b.rootPath, 'z');
  t.throws(() => RegistryConfig.fromObject({ backends: { m: { type: 'memory' } }, stores: { a: { backend: 'm', rootPath: 'a', root_path: 'b' } } }), {
    instanceOf: ConfigError,
    message: /'root_path'.*'rootPath'|'rootPath'.*'root_path'/,
  });
});

test('a store naming an unknown backend fails at construction, naming both', (t) => {
  const err = t.throws(() => new Registry({ backends: { m: { type: 'memory' } }, stores: { s: { backend: 'nope' } } }), { instanceOf: ConfigError });
  t.true(err.message.includes("'s'") && err.message.includes("'nope'"));
});

test('an unknown backend type is one clear error naming it and the known types, at first use', (t) => {
  const registry = new Registry({ backends: { b: { type: 'ftp' } }, stores: { s: { backend: 'b' } } });
  const err = t.throws(() => registry.getStore('s'), { instanceOf: ConfigError });
  t.regex(err.message, /Backend 'b' has unknown type 'ftp'/);
  t.regex(err.message, /local/);
  t.regex(err.message, /memory/);
});

test('an unknown type that is not a type name (a misplaced ${VAR} holding a credential) is not echoed, in the error or the load warning', async (t) => {
  const leaked = 'https://AKIAEXAMPLE:wJalrXUtnFEMI-K7MDENG@host';
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    const registry = new Registry({ backends: { b: { type: leaked } }, stores: { s: { backend: 'b' } } });
    const err = t.throws(() => registry.getStore('s'), { instanceOf: ConfigError });
    t.regex(err.message, /Backend 'b' has unknown type \(a value that is not a type name, not shown\)/);
    t.false(err.message.includes('wJalr'));
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
  } finally {
    process.off('warning', onWarning);
  }
  t.true(warnings.some((w) => w.includes("Backend 'b' has unknown type")), warnings.join('\n'));
  t.false(warnings.some((w) => w.includes('wJalr')), warnings.join('\n'));
});

test('a bad option names the option and the backend, at first use', (t) => {
  const registry = new Registry({ backends: { files: { type: 'local', options: { rooot: '/tmp/x' } } }, stores: { s: { backend: 'files' } } });
  const err = t.throws(() => registry.getStore('s'), { instanceOf: ConfigError });
  t.regex(err.message, /'rooot'/);
  t.regex(err.message, /'files'/);
});

test('bad config shapes and retry values are refused naming the field', (t) => {
  t.throws(() => RegistryConfig.fromObject({ backends: [] }), { instanceOf: ConfigError, message: /\$\.backends/ });
  t.throws(() => RegistryConfig.fromObject({ backends: { b: { options: {} } } }), { instanceOf: ConfigError, message: /\$\.backends\.b\.type/ });
  for (const [retry, option] of [
    [{ max_attempts: 0 }, /max_attempts/],
    [{ max_atempts: 2 }, /max_atempts/],
    ['3', /mapping/],
  ] as const) {
    const err = t.throws(() => RegistryConfig.fromObject({ backends: { b: { type: 'memory', retry } } }), { instanceOf: ConfigError, message: option });
    t.is(err.configPath, '$.backends.b.retry');
  }
  // Built in code, a policy's bad option is a TypeError naming it, in either spelling.
  t.throws(() => new RetryPolicy({ maxAtempts: 1 } as never), { instanceOf: TypeError, message: /'maxAtempts'/ });
  t.is(new RetryPolicy({ max_attempts: 1 } as never).maxAttempts, 1);
  t.throws(() => new RetryPolicy({ max_attempts: 1, maxAttempts: 2 } as never), { instanceOf: TypeError, message: /twice/ });
  t.throws(() => RegistryConfig.fromObject({ backends: { b: { type: 'memory' } }, stores: { s: { backend: 'b', root_path: '../up' } } }), {
    instanceOf: ConfigError,
    message: /root_path/,
  });
});

test('an unknown store name lists the available ones', (t) => {
  const registry = new Registry({ backends: { m: { type: 'memory' } }, stores: { one: { backend: 'm' } } });
  t.throws(() => registry.getStore('two'), { instanceOf: ConfigError, message: /Unknown store 'two'.*one/ });
});

test('backends are built lazily, shared by name, and rebuilt after close', async (t) => {
  let built = 0;
  Registry.registerBackend('counting', () => {
    built++;
    return new MemoryBackend();
  });
  const registry = new Registry({ backends: { c: { type: 'counting' } }, stores: { a: { backend: 'c' }, b: { backend: 'c', root_path: 'b' } } });
  t.is(built, 0);
  const a = registry.getStore('a');
  const b = registry.getStore('b');
  t.is(built, 1);
  t.is(a.backend, b.backend);
  await b.write('x.txt', 'x');
  t.is(await a.readText('b/x.txt'), 'x');
  await registry.close();
  registry.getStore('a');
  t.is(built, 2);
});

test('registry stores never close their backend', async (t) => {
  const registry = new Registry({ backends: { m: { type: 'memory' } }, stores: { a: { backend: 'm' } } });
  let closed = 0;
  const backend = registry.getBackend('m');
  const realClose = backend.close.bind(backend);
  backend.close = async () => {
    closed++;
    await realClose();
  };
  await registry.getStore('a').close();
  t.is(closed, 0);
  await registry.close();
  t.is(closed, 1);
});

test('close continues past a failing backend and rethrows the first failure', async (t) => {
  const order: string[] = [];
  Registry.registerBackend('failing-close', (options) => {
    const backend = new MemoryBackend();
    backend.close = async () => {
      order.push(String(options.label));
      throw new Error(`close failed: ${String(options.label)}`);
    };
    return backend;
  });
  const registry = new Registry({
    backends: { one: { type: 'failing-close', options: { label: 'one' } }, two: { type: 'failing-close', options: { label: 'two' } } },
  });
  registry.getBackend('one');
  registry.getBackend('two');
  await t.throwsAsync(() => registry.close(), { message: 'close failed: one' });
  t.deepEqual(order, ['one', 'two']);
});

test('registerBackend plugs in a user backend; s3-pyarrow is an alias type', (t) => {
  Registry.registerBackend('mine', () => new MemoryBackend());
  const registry = new Registry({ backends: { x: { type: 'mine' } }, stores: { s: { backend: 'x' } } });
  t.true(registry.getStore('s').backend instanceof MemoryBackend);
  t.true(Registry.backendTypes.includes('s3-pyarrow'));
  t.throws(() => Registry.registerBackend('bad name!', () => new MemoryBackend()), { instanceOf: TypeError });
});

test('credentials are wrapped in Secret and never shown by inspect, JSON or errors', (t) => {
  const sentinel = 'SENTINEL-SECRET-1234';
  Registry.registerBackend('needs-secret', (options) => {
    t.true(options.secret instanceof Secret);
    t.is((options.secret as Secret).reveal(), sentinel);
    throw new TypeError(`refusing options ${JSON.stringify(options)} ${String(options.secret)}`);
  });
  const registry = new Registry({
    backends: { b: { type: 'needs-secret', options: { key: 'AKIA-SENTINEL-KEY', secret: sentinel, token: sentinel, nested: { password: sentinel } } } },
    stores: { s: { backend: 'b' } },
  });
  const shown = [inspect(registry, { depth: 10 }), JSON.stringify(registry), inspect(registry.config, { depth: 10 }), JSON.stringify(registry.config)];
  const err = t.throws(() => registry.getStore('s'), { instanceOf: ConfigError });
  shown.push(err.message, inspect(err, { depth: 10 }), JSON.stringify(err));
  for (const text of shown) {
    t.false(text.includes(sentinel), text);
    t.false(text.includes('AKIA-SENTINEL-KEY'), text);
  }
});

test('numeric and differently named credentials are masked too', (t) => {
  const config = RegistryConfig.fromObject({
    backends: {
      b: {
        // A type that does not declare its options: only credential-like names are masked.
        type: 'python-only-or-unknown',
        options: {
          password: 998877,
          aws_secret_access_key: 'SENTINEL-A',
          nested: { sas: 'SENTINEL-B', aws_session_token: 'SENTINEL-C' },
          // Other separators, and a key a damaged file broke apart (config-properties found it shown).
          'Secret-Access Key': 'SENTINEL-A',
          's\u{10000} ecret': 'SENTINEL-B',
          'api#key': 'SENTINEL-C',
          region_name: 'eu-1',
        },
      },
    },
  });
  const shown = [JSON.stringify(config), inspect(config, { depth: 10 })];
  for (const text of shown) {
    t.false(text.includes('998877'));
    t.false(/SENTINEL-[ABC]/.test(text), text);
    t.true(text.includes('eu-1'));
  }
  t.is((config.backends.b.options.password as Secret).reveal(), '998877');
});

test('values under option names a backend type does not know are masked, however the name is spelt', (t) => {
  // A credential under a misspelt name no list of sensitive names can foresee: 'secert', a
  // letter inserted ('sexcret'), a mapping under an unknown name, the s3-pyarrow alias.
  const options = { bucket: 'b1', region_name: 'eu-1', secert: 'SENTINEL-A', sexcret: 'SENTINEL-B', extra: { nested: ['SENTINEL-C', 4321] } };
  const config = RegistryConfig.fromObject({
    backends: {
      a: { type: 's3-arrow', options },
      p: { type: 's3-pyarrow', options },
      s: { type: 's3', options },
      l: { type: 'local', options: { root: '/tmp/visible-root', rooot: 'SENTINEL-A' } },
      m: { type: 'memory', options: { sexcret: 'SENTINEL-B' } },
    },
    // Store options name nothing this package reads: all their values are masked.
    stores: { st: { backend: 'a', root_path: 'visible/root', options: { auth: 'SENTINEL-C', nested: { n: 4321 } } } },
  });
  const registry = new Registry(config);
  const parts = [config.backends, config.stores, config.backends.a, config.stores.st, registry.config.stores];
  for (const text of [
    JSON.stringify(config),
    inspect(config, { depth: 10 }),
    JSON.stringify(registry),
    inspect(registry, { depth: 10 }),
    // Parts of the config, logged on their own, mask the same values.
    ...parts.flatMap((part) => [JSON.stringify(part), inspect(part, { depth: 10 })]),
  ]) {
    t.false(/SENTINEL-[ABC]|4321/.test(text), text);
  }
  t.true(inspect(config.backends.a).includes("bucket: 'b1'"));
  const shown = config.toJSON() as { backends: Record<string, { type: string; options: Record<string, unknown> }> };
  t.deepEqual(shown.backends.a, { type: 's3-arrow', options: { bucket: 'b1', region_name: 'eu-1', secert: '***', sexcret: '***', extra: { nested: ['***', '***'] } } });
  t.deepEqual(shown.backends.p!.options, shown.backends.a!.options);
  t.is(shown.backends.l!.options.root, '/tmp/visible-root');
  t.deepEqual((shown as unknown as { stores: Record<string, unknown> }).stores.st, { backend: 'a', root_path: 'visible/root', options: { auth: '***', nested: { n: '***' } } });
  // The values themselves are kept for the backend, and building it names the unknown option.
  t.is(config.backends.a!.options.secert, 'SENTINEL-A');
  for (const name of ['a', 'p', 'l', 'm']) {
    const err = t.throws(() => registry.getBackend(name), { instanceOf: ConfigError });
    t.regex(err.message, /Unknown option '(secert|rooot|sexcret)'/);
    t.false(err.message.includes('SENTINEL'));
  }
});

test('a registered type that declares its option names gets them checked and its other values masked', (t) => {
  let built = 0;
  Registry.registerBackend('declares-options', () => (built++, new MemoryBackend()), { optionNames: ['url', 'password'] });
  const registry = new Registry({
    backends: {
      ok: { type: 'declares-options', options: { url: 'mem://x', password: 'SENTINEL-A' } },
      typo: { type: 'declares-options', options: { url: 'mem://x', pasword: 'SENTINEL-B' } },
    },
  });
  t.false(/SENTINEL/.test(JSON.stringify(registry)));
  t.true(JSON.stringify(registry).includes('mem://x'));
  registry.getBackend('ok');
  t.is(built, 1);
  const err = t.throws(() => registry.getBackend('typo'), { instanceOf: ConfigError });
  t.is(err.message, "Invalid options for backend 'typo' (type='declares-options'): Unknown option 'pasword' for backend type 'declares-options'. Known options: [url, password]");
  t.is(built, 1, 'the factory is not called with an unknown option');
  // Registering the type again without names forgets them.
  Registry.registerBackend('declares-options', () => (built++, new MemoryBackend()));
  t.true(JSON.stringify(new Registry({ backends: { x: { type: 'declares-options', options: { url: 'u', pasword: 'SHOWN' } } } })).includes('SHOWN'));
  t.throws(() => Registry.registerBackend('bad-names', () => new MemoryBackend(), { optionNames: 'url' as unknown as string[] }), { instanceOf: TypeError });
});

test('Secret masks itself everywhere and reveals on request', (t) => {
  const s = new Secret('hunter2');
  t.is(String(s), '***');
  t.is(`${s}`, '***');
  t.is(JSON.stringify({ s }), '{"s":"***"}');
  t.is(inspect(s), "Secret('***')");
  t.is(s.reveal(), 'hunter2');
  t.true(s.equals(new Secret('hunter2')));
  t.throws(() => new Secret(3 as unknown as string), { instanceOf: TypeError });
});

test('RetryPolicy validates and computes capped exponential backoff', (t) => {
  const p = new RetryPolicy({ maxAttempts: 5, backoffBase: 1, backoffMax: 5 });
  t.deepEqual([1, 2, 3, 4].map((n) => p.backoff(n)), [1, 2, 4, 5]);
  t.is(RetryPolicy.disabled().maxAttempts, 1);
  t.throws(() => new RetryPolicy({ maxAttempts: 1.5 }), { instanceOf: RangeError });
  t.throws(() => new RetryPolicy({ jitter: -1 }), { instanceOf: RangeError });
  t.throws(() => new RetryPolicy({ timeout: 0 }), { instanceOf: RangeError });
  t.throws(() => new RetryPolicy({ backoffBase: 'x' as unknown as number }), { instanceOf: TypeError });
  t.deepEqual(RetryPolicy.from({ max_attempts: 2, timeout: 30 }).toJSON(), { max_attempts: 2, backoff_base: 1, backoff_max: 60, jitter: 1, timeout: 30 });
});

test('a config in a nested TOML table loads with the table option', async (t) => {
  const text = '[tool.remote-store.backends.m]\ntype = "memory"\n[tool.remote-store.stores.s]\nbackend = "m"\n';
  const config = RegistryConfig.fromText(text, '.toml', { table: ['tool', 'remote-store'] });
  t.deepEqual(Object.keys(config.stores), ['s']);
  t.throws(() => RegistryConfig.fromText(text, '.toml', { table: ['tool', 'nope'] }), { instanceOf: ConfigError, message: /'nope'/ });
  t.throws(() => RegistryConfig.fromText('not = [valid', '.toml'), { instanceOf: ConfigError });
  await t.throwsAsync(() => RegistryConfig.fromFile('/no/such/file.json'), { instanceOf: ConfigError, message: /file\.json/ });
  t.throws(() => RegistryConfig.fromText('{}', '.ini'), { instanceOf: ConfigError, message: /\.ini/ });
});

test('a bad path gives one InvalidPath naming it', async (t) => {
  const registry = new Registry({ backends: { m: { type: 'memory' } }, stores: { s: { backend: 'm' } } });
  const err = await t.throwsAsync(() => registry.getStore('s').write('a/../../etc/passwd', 'x'), { instanceOf: InvalidPath });
  t.true(err.message.includes('a/../../etc/passwd'));
});

test('a config that does not parse is refused naming where, never quoting the text (it holds credentials)', (t) => {
  const broken = {
    json: '{"backends": {"b": {"type": "s3", "options": {"secret": "SENTINEL-PARSE" x}}}}',
    toml: '[backends.b]\ntype = "s3"\noptions = { secret = "SENTINEL-PARSE" x }\n',
    yaml: 'backends:\n  b:\n    options: { secret: "SENTINEL-PARSE" x: y }\n',
  };
  for (const [format, text] of Object.entries(broken)) {
    const err = t.throws(() => RegistryConfig.fromText(text, format), { instanceOf: ConfigError });
    t.regex(err.message, /line \d+, column \d+/, err.message);
    t.false(err.message.includes('SENTINEL-PARSE'), err.message);
  }
});

test("names the object prototype holds ('valueOf', 'constructor') are not stores or backends", (t) => {
  t.throws(() => new Registry({ backends: { m: { type: 'memory' } }, stores: { s: { backend: 'valueOf' } } }), {
    instanceOf: ConfigError,
    message: /references unknown backend 'valueOf'/,
  });
  const registry = new Registry({ backends: { m: { type: 'memory' } }, stores: { s: { backend: 'm' } } });
  t.throws(() => registry.getStore('constructor'), { instanceOf: ConfigError, message: /Unknown store 'constructor'/ });
  t.throws(() => registry.getBackend('toString'), { instanceOf: ConfigError, message: /Unknown backend 'toString'/ });
});
