// What a release publishes, installed as a user installs it: the tarballs of `npm run pack:local`
// (scripts/pack.mjs) go into an empty project with `npm install --ignore-scripts`, with cargo and
// rustc off the PATH, and s3-arrow, readParquet and writeParquet then work against a real S3
// server from both `import` and `require`.
import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createBucket, startServer, type S3Server } from './support/s3-servers';
import { tempDir } from './support/tmp';

const run = promisify(execFile);
const root = path.join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const { platformSuffix, suffixOfTarget } = createRequire(import.meta.url)('../native/platform.js') as {
  platformSuffix(): string;
  suffixOfTarget(target: string): string;
};
const suffix = platformSuffix();
const nativeName = `${pkg.napi.packageName}-${suffix}`;

interface Packed {
  dir: string;
  main: string;
  native: string;
}

let packed: Promise<Packed> | undefined;
let server: Promise<S3Server> | undefined;
const cleanups: (() => Promise<void>)[] = [];
test.after.always(async () => {
  if (server) await (await server).stop();
  for (const c of cleanups) await c();
});

function pack(): Promise<Packed> {
  packed ??= (async () => {
    const { dir, remove } = await tempDir('rs-pack-');
    cleanups.push(remove);
    const { stdout } = await run(process.execPath, [path.join(root, 'scripts', 'pack.mjs'), dir], { cwd: root });
    const files = stdout.trim().split('\n');
    const main = files.find((f) => path.basename(f) === `remote-store-${pkg.version}.tgz`);
    const native = files.find((f) => path.basename(f) === `remote-store-native-${suffix}-${pkg.version}.tgz`);
    if (!main || !native || files.length !== 2) throw new Error(`pack.mjs wrote ${stdout}`);
    return { dir, main, native };
  })();
  return packed;
}

async function listing(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', tarball]);
  return stdout.trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
}

/** The compiled form of every TypeScript source: what dist/ must hold, no more. */
function distFiles(): string[] {
  const src = path.join(root, 'src');
  return (readdirSync(src, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [`dist/${f.slice(0, -3)}.js`, `dist/${f.slice(0, -3)}.d.ts`].map((p) => p.split(path.sep).join('/')));
}

test('npm/ holds one package per napi target, at the package\'s version, for exactly that platform', (t) => {
  const suffixes = (pkg.napi.targets as string[]).map(suffixOfTarget);
  t.deepEqual(readdirSync(path.join(root, 'npm')).sort(), [...suffixes].sort());
  for (const suffix of suffixes) {
    const manifest = JSON.parse(readFileSync(path.join(root, 'npm', suffix, 'package.json'), 'utf8'));
    const [os, cpu, abi] = suffix.split('-');
    const binary = `${pkg.napi.binaryName}.${suffix}.node`;
    t.like(manifest, { name: `${pkg.napi.packageName}-${suffix}`, version: pkg.version, os: [os], cpu: [cpu], main: binary, files: [binary] }, suffix);
    t.deepEqual(manifest.libc, os === 'linux' ? [abi === 'musl' ? 'musl' : 'glibc'] : undefined, suffix);
    t.deepEqual(manifest.engines, pkg.engines, suffix);
  }
});

test('npm pack lists exactly the files a consumer needs', async (t) => {
  const { stdout } = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
  const files = (JSON.parse(stdout)[0].files as { path: string }[]).map((f) => f.path).sort();
  const expected = [
    'LICENSE',
    'README.md',
    'bin/remote-store.js',
    'index.d.mts',
    'index.d.ts',
    'index.js',
    'index.mjs',
    'native/binding.js',
    'native/platform.js',
    'package.json',
    ...distFiles(),
  ].sort();
  t.deepEqual(files, expected);
  // Nothing compiles at install time.
  for (const script of ['preinstall', 'install', 'postinstall']) t.is(pkg.scripts[script], undefined, script);
});

test('pack:local writes the main tarball and this platform\'s native tarball, as a release publishes them', async (t) => {
  const { main, native } = await pack();
  const mainFiles = await listing(main);
  const { stdout } = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
  t.deepEqual(mainFiles, (JSON.parse(stdout)[0].files as { path: string }[]).map((f) => f.path).sort());
  t.deepEqual(await listing(native), ['LICENSE', 'README.md', 'package.json', `remote-store.${suffix}.node`]);
  t.log(`${path.basename(main)} (${mainFiles.length} files, ${statSync(main).size} bytes):\n  ${mainFiles.join('\n  ')}`);
  t.log(`${path.basename(native)} (${statSync(native).size} bytes): ${(await listing(native)).join(', ')}`);

  const { stdout: manifest } = await run('tar', ['-xzOf', main, 'package/package.json']);
  const published = JSON.parse(manifest);
  t.deepEqual(
    published.optionalDependencies,
    Object.fromEntries(pkg.napi.targets.map((target: string) => [`${pkg.napi.packageName}-${suffixOfTarget(target)}`, pkg.version])),
  );
  for (const script of ['preinstall', 'install', 'postinstall']) t.is(published.scripts?.[script], undefined, script);
});

test('the release form packs every target\'s binary from the workflow artifacts, and refuses a release missing one', async (t) => {
  const { dir, remove } = await tempDir('rs-release-');
  t.teardown(remove);
  const suffixes = (pkg.napi.targets as string[]).map(suffixOfTarget);
  // Artifacts as actions/download-artifact lays them out: one folder per build job.
  for (const s of suffixes) {
    await mkdir(path.join(dir, 'artifacts', `bindings-${s}`), { recursive: true });
    await writeFile(path.join(dir, 'artifacts', `bindings-${s}`, `remote-store.${s}.node`), `binary for ${s}`);
  }
  const repository = 'https://github.com/example/remote-store';
  const pack = (out: string) =>
    run(process.execPath, [path.join(root, 'scripts', 'pack.mjs'), path.join(dir, out), '--binaries', path.join(dir, 'artifacts'), '--repository', repository], { cwd: root });
  const written = (await pack('all')).stdout.trim().split('\n').map((f) => path.basename(f)).sort();
  t.deepEqual(written, [`remote-store-${pkg.version}.tgz`, ...suffixes.map((s) => `remote-store-native-${s}-${pkg.version}.tgz`)].sort());
  for (const s of suffixes) {
    const { stdout } = await run('tar', ['-xzOf', path.join(dir, 'all', `remote-store-native-${s}-${pkg.version}.tgz`), `package/remote-store.${s}.node`]);
    t.is(stdout, `binary for ${s}`);
  }
  // npm's provenance check compares every manifest's repository with the workflow's.
  for (const tarball of written) {
    const { stdout } = await run('tar', ['-xzOf', path.join(dir, 'all', tarball), 'package/package.json']);
    t.deepEqual(JSON.parse(stdout).repository, { type: 'git', url: repository }, tarball);
  }
  await rm(path.join(dir, 'artifacts', `bindings-${suffixes[1]}`), { recursive: true });
  const refused = await pack('partial').then(
    () => '',
    (err: { stderr: string }) => err.stderr,
  );
  t.true(refused.includes(`no binary for ${suffixes[1]}`), refused);
});

/** PATH without the folders that hold cargo or rustc. */
function pathWithoutRust(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !['cargo', 'rustc'].some((tool) => existsSync(path.join(dir, tool))))
    .join(path.delimiter);
}

const CONSUMER = `
  const { Store, S3ArrowBackend, readParquet, writeParquet, nativeAvailable } = api;
  const s3 = JSON.parse(process.env.CONSUMER_S3);
  const p = process.env.CONSUMER_PREFIX;
  const store = new Store(new S3ArrowBackend({ bucket: s3.bucket, key: s3.key, secret: s3.secret, endpoint_url: s3.endpoint, region_name: s3.region }));
  const out = { native: nativeAvailable() };
  await store.write(p + '/a.txt', 'hello from ' + p);
  out.read = (await store.readBytes(p + '/a.txt')).toString();
  await store.copy(p + '/a.txt', p + '/b.txt');
  out.copied = (await store.readBytes(p + '/b.txt')).toString();
  // Larger than the 64 KiB footer read: s3s-fs answers 500 to a suffix range beyond the object.
  const n = 100000;
  const table = A.tableFromArrays({ id: Int32Array.from({ length: n }, (_, i) => i), x: Float64Array.from({ length: n }, (_, i) => i / 2) });
  await writeParquet(store, p + '/t.parquet', table);
  const back = await readParquet(store, p + '/t.parquet');
  out.parquet = {
    instanceOfTable: back instanceof A.Table,
    rows: back.numRows,
    ends: [back.get(0).toJSON(), back.get(n - 1).toJSON()],
    ipcRows: A.tableFromIPC(A.tableToIPC(back)).numRows,
  };
  await store.close();
  console.log(JSON.stringify(out));
`;

test('the packed tarballs install without Rust and work from import and require', async (t) => {
  const { main, native } = await pack();
  const { dir: project, remove } = await tempDir('rs-consumer-');
  t.teardown(remove);
  const env = { ...process.env, PATH: pathWithoutRust() };
  for (const tool of ['cargo', 'rustc']) t.not(spawnSync(tool, ['--version'], { env }).status, 0, `${tool} is still on PATH`);

  await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const arrowVersion = JSON.parse(readFileSync(path.join(root, 'node_modules', 'apache-arrow', 'package.json'), 'utf8')).version;
  const started = process.hrtime.bigint();
  await run(npm, ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', main, native, `apache-arrow@${arrowVersion}`], {
    cwd: project,
    env,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  t.log(`npm install --ignore-scripts of the two tarballs (+ apache-arrow) into an empty project: ${seconds.toFixed(1)} s`);

  const installed = path.join(project, 'node_modules');
  t.false(readdirSync(path.join(installed, 'remote-store', 'native')).some((f) => f.endsWith('.node')), 'the main package carries a binary');
  t.true(existsSync(path.join(installed, ...nativeName.split('/'), `remote-store.${suffix}.node`)));

  server ??= startServer('s3s-fs');
  const s = await server;
  const bucket = await createBucket(s);
  const s3 = JSON.stringify({ bucket, key: s.accessKey, secret: s.secretKey, endpoint: s.endpoint, region: s.region });
  await mkdir(path.join(project, 'src'));
  await writeFile(path.join(project, 'src', 'esm.mjs'), `import * as api from 'remote-store';\nimport * as A from 'apache-arrow';\n${CONSUMER}`);
  await writeFile(
    path.join(project, 'src', 'cjs.cjs'),
    `const api = require('remote-store');\nconst A = require('apache-arrow');\n(async () => {${CONSUMER}})().catch((e) => { console.error(e); process.exit(1); });`,
  );
  // A TypeScript consumer of either kind gets the types of what it runs (index.d.mts, index.d.ts).
  const typed = `const store = new Store(new MemoryBackend());\nconst table: Promise<Table> = readParquet(store, 'x.parquet');\nvoid table;\n`;
  await writeFile(
    path.join(project, 'src', 'types.mts'),
    `import api, { MemoryBackend, Store, readParquet, nativeAvailable } from 'remote-store';\nimport type { Table } from 'apache-arrow';\n${typed}const n: boolean = api.nativeAvailable() && nativeAvailable();\nvoid n;\n`,
  );
  await writeFile(path.join(project, 'src', 'types.cts'), `import { MemoryBackend, Store, readParquet } from 'remote-store';\nimport type { Table } from 'apache-arrow';\n${typed}`);
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const tscArgs = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022'];
  tscArgs.push('--typeRoots', path.join(root, 'node_modules', '@types'), '--types', 'node', 'src/types.mts', 'src/types.cts');
  await t.notThrowsAsync(run(process.execPath, [tsc, ...tscArgs], { cwd: project }), 'tsc on a consumer');

  for (const flavour of ['esm.mjs', 'cjs.cjs']) {
    const { stdout } = await run(process.execPath, [path.join(project, 'src', flavour)], {
      cwd: project,
      env: { ...env, CONSUMER_S3: s3, CONSUMER_PREFIX: flavour },
    });
    t.deepEqual(
      JSON.parse(stdout),
      {
        native: true,
        read: `hello from ${flavour}`,
        copied: `hello from ${flavour}`,
        parquet: { instanceOfTable: true, rows: 100000, ends: [{ id: 0, x: 0 }, { id: 99999, x: 49999.5 }], ipcRows: 100000 },
      },
      flavour,
    );
  }
});
