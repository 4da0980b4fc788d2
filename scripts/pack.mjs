#!/usr/bin/env node
// Writes the npm tarballs of a release into a folder: the main package and one package per
// native platform (@remote-store/native-<platform>, from npm/<platform>/), exactly as the
// release workflow publishes them (it publishes the tarballs this script writes).
//
//   node scripts/pack.mjs DIR                      this platform's binary from native/
//   node scripts/pack.mjs DIR --binaries ARTIFACTS  every target's binary, found anywhere under ARTIFACTS
//   … --repository URL   the source repository, written into every manifest (npm's provenance
//                        check needs it to name the repository the workflow ran in)
//
// `npm run pack:local -- DIR` builds the TypeScript first, then runs the first form.
// The main package gets, as napi-rs's prepublish gives it, optionalDependencies on every
// platform package at its own version: npm installs the one that fits the machine, and nothing
// compiles at install time. dist/ and the binaries must have been built before.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { platformSuffix, suffixOfTarget } = require('../native/platform.js');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function fail(message) {
  console.error(`pack: ${message}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const outDir = args[0] && !args[0].startsWith('--') ? resolve(args[0]) : fail('usage: pack.mjs DIR [--binaries ARTIFACTS] [--repository URL]');
const binariesAt = args.indexOf('--binaries');
const artifacts = binariesAt >= 0 ? resolve(args[binariesAt + 1] ?? fail('--binaries needs a folder')) : undefined;
const repositoryAt = args.indexOf('--repository');
const repository = repositoryAt >= 0 ? { type: 'git', url: args[repositoryAt + 1] ?? fail('--repository needs a URL') } : undefined;

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { binaryName, packageName, targets } = pkg.napi;
const suffixes = targets.map(suffixOfTarget);
if (!existsSync(join(root, 'dist', 'index.js'))) fail('dist/ is not built: run `npm run build` first');

/** Every file under `dir` whose name is `name`. */
function findAll(dir, name) {
  return readdirSync(dir, { recursive: true })
    .filter((f) => basename(f) === name)
    .map((f) => join(dir, f));
}

function binaryFor(suffix) {
  const file = `${binaryName}.${suffix}.node`;
  if (!artifacts) return existsSync(join(root, 'native', file)) ? join(root, 'native', file) : undefined;
  const found = findAll(artifacts, file);
  if (found.length > 1) fail(`${file} is in ${artifacts} more than once: ${found.join(', ')}`);
  return found[0];
}

const wanted = artifacts ? suffixes : [platformSuffix()];
const binaries = wanted.map((suffix) => {
  const file = binaryFor(suffix);
  if (!file) fail(`no binary for ${suffix}${artifacts ? ` in ${artifacts}` : ': run `npm run build:native` first'}`);
  if (statSync(file).size === 0) fail(`${file} is empty`);
  const manifestFile = join(root, 'npm', suffix, 'package.json');
  if (!existsSync(manifestFile)) fail(`npm/${suffix}/package.json is missing`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  if (manifest.version !== pkg.version) fail(`npm/${suffix} is version ${manifest.version}, the package ${pkg.version}`);
  return { suffix, file, manifest };
});

const writeJson = (file, value) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

/** `npm pack` of a staged folder into outDir; answers the tarball's path. */
function pack(dir) {
  const [{ filename }] = JSON.parse(execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', outDir], { cwd: dir, encoding: 'utf8' }));
  return join(outDir, filename);
}

mkdirSync(outDir, { recursive: true });
const staging = mkdtempSync(join(tmpdir(), 'remote-store-pack-'));
try {
  const written = [];

  // The main package: the files npm itself would pack from the checkout, and the package.json
  // a release publishes.
  const mainDir = join(staging, 'main');
  const listed = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }))[0].files;
  for (const { path } of listed) {
    mkdirSync(dirname(join(mainDir, path)), { recursive: true });
    copyFileSync(join(root, path), join(mainDir, path));
  }
  writeJson(join(mainDir, 'package.json'), {
    ...pkg,
    ...(repository && { repository }),
    optionalDependencies: Object.fromEntries(suffixes.map((s) => [`${packageName}-${s}`, pkg.version])),
  });
  written.push(pack(mainDir));

  // One package per platform binary, at the main package's version.
  for (const { suffix, file, manifest } of binaries) {
    const dir = join(staging, suffix);
    cpSync(join(root, 'npm', suffix), dir, { recursive: true });
    if (repository) writeJson(join(dir, 'package.json'), { ...manifest, repository });
    copyFileSync(file, join(dir, manifest.main));
    copyFileSync(join(root, 'LICENSE'), join(dir, 'LICENSE'));
    written.push(pack(dir));
  }
  for (const file of written) console.log(file);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
