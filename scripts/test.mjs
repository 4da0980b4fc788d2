#!/usr/bin/env node
// The whole test suite, as the README's test command runs it: builds what the tests
// need, runs the Rust tests (when the workspace has crates) once and the ava suite on each
// supported Node major, and
// ends with one line "N passed, N failed" counted from the runners' own reports
// (ava's TAP output, cargo's "test result" lines). Any runner that exits non-zero
// without reporting a failed test still counts as one failure: nothing fails silently.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, '.test-results');
mkdirSync(results, { recursive: true });

let passed = 0;
let failed = 0;

/** Runs a command, echoing its output; resolves with the exit code and the captured stdout. */
function run(cmd, args, { capture = false, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      if (capture) out += chunk;
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
    child.on('error', (err) => {
      console.error(`cannot run ${cmd}: ${err.message}`);
      resolve({ code: 127, out });
    });
  });
}

async function step(name, cmd, args, options) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const started = Date.now();
  const result = await run(cmd, args, options);
  if (result.code !== 0 && !options?.counted) {
    console.error(`=== ${name} failed (exit ${result.code})`);
  }
  console.log(`=== ${name}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return result;
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

// 1. Build the TypeScript (the CLI tests run the compiled bin).
const build = await step('build', npm, ['run', 'build', '--silent']);
if (build.code !== 0) failed++;

// The tests themselves type-check (tsx runs them without checking types).
const typecheck = await step('typecheck tests', 'npx', ['tsc', '-p', path.join('__test__', 'tsconfig.json')]);
if (typecheck.code !== 0) failed++;

// 2. Rust tests of the core crates, when the workspace exists.
if (existsSync(path.join(root, 'Cargo.toml'))) {
  // The same target directory outside the clone as the addon build, so a fresh clone reuses earlier builds.
  const targetDir =
    process.env.REMOTE_STORE_CARGO_TARGET_DIR || process.env.CARGO_TARGET_DIR || path.join(homedir(), '.cache', 'remote-store', 'cargo-target');
  const cargo = await step('cargo test', 'cargo', ['test', '--workspace', '--color', 'never'], {
    capture: true,
    counted: true,
    env: { CARGO_TARGET_DIR: targetDir },
  });
  let reported = 0;
  for (const m of cargo.out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
    reported += Number(m[2]);
  }
  if (cargo.code !== 0 && reported === 0) failed++;
}

// 3. The ava suite, reported as TAP so that every test result can be counted, on every Node
//    major package.json's engines names: this process's Node, and the others installed from the
//    npm registry (scripts/install-node.sh). REMOTE_STORE_TEST_NODE_MAJORS=current runs this
//    Node only (the CI workflow's matrix gives each major a job of its own).
const currentMajor = Number(process.versions.node.split('.')[0]);

function nodeMajors() {
  if (process.env.REMOTE_STORE_TEST_NODE_MAJORS === 'current') return [currentMajor];
  const engines = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node;
  const majors = [...engines.matchAll(/\^(\d+)\./g)].map((m) => Number(m[1]));
  if (!majors.includes(currentMajor)) {
    console.error(`Node ${process.version} is outside package.json's engines (${engines})`);
    failed++;
  }
  return [currentMajor, ...majors.filter((m) => m !== currentMajor)];
}

async function nodeBinary(major) {
  if (major === currentMajor) return process.execPath;
  const install = await step(`install Node ${major}`, 'bash', [path.join('scripts', 'install-node.sh'), String(major)], { capture: true });
  if (install.code !== 0) {
    failed++;
    return undefined;
  }
  return install.out.trim().split('\n').at(-1);
}

if (build.code === 0) {
  for (const major of nodeMajors()) {
    const node = await nodeBinary(major);
    if (!node) continue;
    // Everything the tests start (node, npm, npx) resolves to this major's binary first.
    const env = { PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` };
    const ava = await step(`ava on Node ${major}`, 'npx', ['ava', '--tap'], { capture: true, counted: true, env });
    writeFileSync(path.join(results, `ava-node${major}.tap`), ava.out);
    let ok = 0;
    let notOk = 0;
    for (const line of ava.out.split('\n')) {
      if (/^ok \d+/.test(line)) ok++;
      else if (/^not ok \d+/.test(line)) notOk++;
    }
    passed += ok;
    failed += notOk;
    if (ava.code !== 0 && notOk === 0) failed++;
    if (ok + notOk === 0) {
      console.error(`ava on Node ${major} reported no test at all`);
      failed++;
    }
  }
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
