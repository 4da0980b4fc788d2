// native/binding.js, the addon's loader, in an installed package that lacks a fitting binary:
// its error names the platform and what to do (never `npm run build:native`, which an installed
// package does not have).
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './support/tmp';

const run = promisify(execFile);
const root = path.join(import.meta.dirname, '..');

/** The loader's error in a copy of the package's loader files, on an `arch` of our choosing. */
async function loadError(t: { teardown(fn: () => Promise<void>): void }, arch: string, checkout = false): Promise<string> {
  const { dir, remove } = await tempDir('rs-loader-');
  t.teardown(remove);
  await mkdir(path.join(dir, 'native'));
  for (const f of ['package.json', 'native/binding.js', 'native/platform.js']) await copyFile(path.join(root, f), path.join(dir, f));
  if (checkout) {
    await mkdir(path.join(dir, 'crates', 'node'), { recursive: true });
    await writeFile(path.join(dir, 'crates', 'node', 'Cargo.toml'), '');
  }
  const script = `Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} });
    try { require('./native/binding.js'); console.log('loaded'); } catch (e) { console.log(e.message); }`;
  const { stdout } = await run(process.execPath, ['-e', script], { cwd: dir });
  return stdout.trim();
}

const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

test('a prebuilt platform whose package is missing: the error names the package to install', async (t) => {
  const message = await loadError(t, process.arch);
  const suffix = `${process.platform}-${process.arch}`;
  t.true(message.includes(`The native addon for ${suffix}`), message);
  t.true(message.includes(`npm install @remote-store/native-${suffix}`), message);
  t.true(message.includes(`@${version}`), message);
  t.false(message.includes('build:native'), message);
});

test('a platform without a prebuilt binary: the error lists the prebuilt ones and how to build', async (t) => {
  const message = await loadError(t, 'riscv64');
  t.regex(message, /no prebuilt native addon for \w+-riscv64/);
  t.true(message.includes('linux-x64-gnu') && message.includes('linux-arm64-musl') && message.includes('darwin-arm64'), message);
  t.false(message.includes('build:native'), message);
});

test('a checkout without a build: the error says npm run build:native', async (t) => {
  const message = await loadError(t, process.arch, true);
  t.true(message.includes('npm run build:native'), message);
});
