#!/usr/bin/env node
// Builds the Rust addon (crates/node) into native/remote-store.<platform>.node when no
// binary for this platform is present. A checkout runs it on `npm install` (the `prepare`
// script, which npm runs for a checkout and never for a consumer installing the package: they
// get the prebuilt @remote-store/native-<platform> package instead), and `npm run build:native`
// runs it with `--force`. native/binding.js, the loader, is ours: napi build writes only the
// binary and native/binding.d.ts.
//
// Flags: --force  rebuild even when a binary exists
//        --debug  debug profile (faster to compile, slow at run time)
//        --glibc-compat  link against glibc 2.17 with napi-rs's cross toolchain
//                        (@napi-rs/cross-toolchain-*, from npm); the default for release builds
//                        on linux gnu, so that the binary loads on glibc 2.17 and newer
//        --no-glibc-compat  link against this machine's glibc instead
//        --target=TRIPLE    build for another target (a linux musl target cross-compiles with
//                           cargo-zigbuild, as the release workflow does for Alpine)
// Env:   REMOTE_STORE_SKIP_NATIVE_BUILD=1   do nothing
//        REMOTE_STORE_REQUIRE_NATIVE=1      fail (instead of warn) when the build cannot run
//        REMOTE_STORE_CARGO_TARGET_DIR      cargo target dir (default ~/.cache/remote-store/cargo-target)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, copyFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const { platformSuffix, suffixOfTarget } = require('./native/platform.js');
const args = new Set(process.argv.slice(2));
const force = args.has('--force');
const debug = args.has('--debug');
const crossTarget = [...args].find((a) => a.startsWith('--target='))?.slice('--target='.length);
const suffix = crossTarget ? suffixOfTarget(crossTarget) : platformSuffix();
// Release builds on linux gnu link against glibc 2.17: a binary linked against this machine's
// glibc (2.34+) would not load on older distributions. __test__/native-glibc.spec.ts checks it.
const glibcCompat =
  args.has('--glibc-compat') ||
  (!args.has('--no-glibc-compat') && !debug && /^linux-(x64|arm64)-gnu$/.test(suffix));

function log(msg) {
  console.error(`[remote-store] ${msg}`);
}

/** The Rust target triple of a platform suffix, from the targets package.json builds for. */
function rustTarget(suffix) {
  return require('./package.json').napi.targets.find((t) => suffixOfTarget(t) === suffix);
}

const nativeDir = join(root, 'native');
const outFile = join(nativeDir, `remote-store.${suffix}.node`);

function fail(msg) {
  if (process.env.REMOTE_STORE_REQUIRE_NATIVE === '1' || force) {
    log(`ERROR: ${msg}`);
    process.exit(1);
  }
  log(`WARNING: ${msg}`);
  log('WARNING: the native S3 data path (s3-arrow backend, NativeObjectStore) will be unavailable.');
  process.exit(0);
}

if (process.env.REMOTE_STORE_SKIP_NATIVE_BUILD === '1') {
  log('REMOTE_STORE_SKIP_NATIVE_BUILD=1: not building the native addon');
  process.exit(0);
}

if (!force) {
  if (existsSync(outFile)) {
    log(`native addon present: native/remote-store.${suffix}.node`);
    process.exit(0);
  }
  try {
    require.resolve(`@remote-store/native-${suffix}`);
    log(`prebuilt native addon found: @remote-store/native-${suffix}`);
    process.exit(0);
  } catch {
    /* build from source */
  }
}

if (!existsSync(join(root, 'crates', 'node', 'Cargo.toml'))) {
  fail(`no prebuilt binary for ${suffix} and no Rust sources to build one`);
}
const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (cargo.status !== 0) {
  fail(`no prebuilt binary for ${suffix} and cargo is not installed (https://rustup.rs) to build one`);
}

const targetDir =
  process.env.REMOTE_STORE_CARGO_TARGET_DIR || process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'remote-store', 'cargo-target');
mkdirSync(targetDir, { recursive: true });
mkdirSync(nativeDir, { recursive: true });
const env = { ...process.env, CARGO_TARGET_DIR: targetDir };
const started = Date.now();
log(`building the native addon for ${suffix} (${debug ? 'debug' : 'release'}); this takes a few minutes…`);

let napiCli = null;
try {
  napiCli = require.resolve('@napi-rs/cli/package.json');
} catch {
  /* plain cargo below */
}

/**
 * napi-rs's glibc-2.17 gcc toolchain (the one `napi build --use-napi-cross` uses), from the npm
 * package @napi-rs/cross-toolchain-<host>-target-<arch>. We unpack it with the system `tar`
 * (the CLI's own unpacker needs @napi-rs/lzma, whose binary does not install on Node 20) into
 * the same cache folder the CLI uses, and set the same variables it sets.
 */
function crossToolchainEnv(target) {
  const hostArch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const targetArch = target.split('-')[0];
  const pkg = `@napi-rs/cross-toolchain-${hostArch}-target-${targetArch}`;
  const cacheRoot = join(homedir(), '.napi-rs', 'cross-toolchain');
  const cached = existsSync(cacheRoot)
    ? readdirSync(cacheRoot)
        .map((v) => join(cacheRoot, v, target))
        .find((d) => existsSync(join(d, 'package.json')) && existsSync(join(d, 'bin', `${target}-gcc`)))
    : undefined;
  if (cached) return toolchainEnv(cached, target);
  let tarball;
  try {
    tarball = require(pkg).toolchainPath;
  } catch {
    log(`installing ${pkg} from npm (not saved to package.json)…`);
    const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', pkg], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) fail(`cannot install ${pkg}`);
    tarball = require(pkg).toolchainPath;
  }
  const version = require(`${pkg}/package.json`).version;
  const dir = join(homedir(), '.napi-rs', 'cross-toolchain', version, target);
  if (!existsSync(join(dir, 'package.json'))) {
    mkdirSync(dir, { recursive: true });
    log(`unpacking the glibc 2.17 toolchain into ${dir}`);
    const r = spawnSync('tar', ['-xJf', tarball, '-C', dir], { stdio: 'inherit' });
    if (r.status !== 0) fail(`cannot unpack ${tarball} (needs tar with xz support)`);
  }
  return toolchainEnv(dir, target);
}

function toolchainEnv(dir, target) {
  const upper = target.toUpperCase().replace(/-/g, '_');
  const bin = (tool) => join(dir, 'bin', `${target}-${tool}`);
  return {
    [`CARGO_TARGET_${upper}_LINKER`]: bin('gcc'),
    TARGET_CC: bin('gcc'),
    TARGET_CXX: bin('g++'),
    TARGET_AR: bin('ar'),
    TARGET_RANLIB: bin('ranlib'),
    TARGET_SYSROOT: join(dir, target, 'sysroot'),
  };
}

let status;
if (napiCli) {
  const cli = join(dirname(napiCli), 'dist', 'cli.js');
  const napiArgs = [
    existsSync(cli) ? cli : join(dirname(napiCli), 'cli.mjs'),
    'build',
    '--platform',
    '--manifest-path', 'crates/node/Cargo.toml',
    '--package-json-path', 'package.json',
    '--output-dir', 'native',
    '--no-js',
    '--dts', 'binding.d.ts',
    '--target-dir', targetDir,
  ];
  if (!debug) napiArgs.push('--release');
  if (glibcCompat) {
    const target = rustTarget(suffix);
    if (!target || !suffix.endsWith('-gnu')) fail(`--glibc-compat is for linux gnu targets, not ${suffix}`);
    Object.assign(env, crossToolchainEnv(target));
    napiArgs.push('--target', target);
  } else if (crossTarget) {
    napiArgs.push('--target', crossTarget);
    if (suffix.endsWith('-musl')) napiArgs.push('--cross-compile');
  }
  status = spawnSync(process.execPath, napiArgs, { cwd: root, env, stdio: 'inherit' }).status;
} else {
  if (glibcCompat || crossTarget) fail('--glibc-compat and --target need @napi-rs/cli (a dev dependency)');
  const cargoArgs = ['build', '-p', 'remote-store-node'];
  if (!debug) cargoArgs.push('--release');
  status = spawnSync('cargo', cargoArgs, { cwd: root, env, stdio: 'inherit' }).status;
  if (status === 0) {
    const dir = join(targetDir, debug ? 'debug' : 'release');
    const lib = readdirSync(dir).find((f) => /^(lib)?remote_store_node\.(so|dylib|dll)$/.test(f));
    if (!lib) fail(`cargo built, but no library found in ${dir}`);
    copyFileSync(join(dir, lib), outFile);
  }
}
if (status !== 0) fail(`native build failed (exit ${status})`);
log(`built native/remote-store.${suffix}.node in ${((Date.now() - started) / 1000).toFixed(0)} s`);
