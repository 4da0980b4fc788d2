// The GitHub workflows cannot run here: this keeps them valid YAML and consistent with
// package.json (napi targets, engines) and with the glibc floor the README states.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

const root = path.join(import.meta.dirname, '..');
const dir = path.join(root, '.github', 'workflows');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

interface Job {
  'runs-on': string;
  'timeout-minutes'?: number;
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix: { node?: number[]; settings?: { target: string; host: string }[] } };
  steps: { run?: string; uses?: string; with?: Record<string, unknown> }[];
}
type Workflow = { env?: Record<string, string>; jobs: Record<string, Job> };

const workflows = Object.fromEntries(
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => [f, parse(readFileSync(path.join(dir, f), 'utf8'), { prettyErrors: true }) as Workflow]),
);
const native = workflows['native.yml']!;

/** GitHub-hosted runner labels available today; retired ones (macos-13, ubuntu-20.04, windows-2019, …) are not. */
const CURRENT_RUNNERS = new Set([
  'ubuntu-22.04', 'ubuntu-24.04', 'ubuntu-22.04-arm', 'ubuntu-24.04-arm', 'ubuntu-latest',
  'macos-14', 'macos-15', 'macos-15-intel', 'macos-26', 'macos-latest',
  'windows-2022', 'windows-2025', 'windows-11-arm', 'windows-latest',
]);

const engineMajors = [...(pkg.engines.node as string).matchAll(/\^(\d+)\./g)].map((m) => Number(m[1]));

test('every workflow parses and every job runs on a current runner with a timeout', (t) => {
  t.true(Object.keys(workflows).length > 0);
  for (const [file, wf] of Object.entries(workflows)) {
    for (const [name, job] of Object.entries(wf.jobs)) {
      const hosts = job['runs-on'].includes('${{') ? (job.strategy?.matrix.settings ?? []).map((s) => s.host) : [job['runs-on']];
      t.true(hosts.length > 0, `${file}: ${name} has no runner`);
      for (const host of hosts) t.true(CURRENT_RUNNERS.has(host), `${file}: ${name} runs on ${host}`);
      t.true((job['timeout-minutes'] ?? 0) > 0, `${file}: ${name} has no timeout-minutes, so a stuck job holds the release`);
    }
  }
});

test('the build and binding tests cover exactly package.json\'s napi targets, Linux musl and arm64 included', (t) => {
  const targets = [...pkg.napi.targets].sort();
  for (const job of ['build', 'bindings']) {
    t.deepEqual(native.jobs[job]!.strategy!.matrix.settings!.map((s) => s.target).sort(), targets, job);
    t.is(native.jobs[job]!.strategy!['fail-fast'], false, `${job}: one failing platform must not cancel the others`);
  }
  for (const target of ['x86_64-unknown-linux-musl', 'aarch64-unknown-linux-musl', 'aarch64-unknown-linux-gnu']) t.true(targets.includes(target), target);
});

test('the suite and the binaries are tested on every Node major of engines', (t) => {
  t.deepEqual(native.jobs.suite!.strategy!.matrix.node, engineMajors);
  t.deepEqual(native.jobs.bindings!.strategy!.matrix.node, engineMajors);
});

test('the glibc floor checked on the built binary is the one README and docs state', (t) => {
  const floor = native.env!.GLIBC_FLOOR!;
  t.regex(floor, /^2\.\d+$/);
  t.true(native.jobs.build!.steps.some((s) => s.run?.includes('objdump -T') && s.run.includes('GLIBC_FLOOR')));
  t.regex(readFileSync(path.join(root, 'README.md'), 'utf8'), new RegExp(`glibc ${floor.replace('.', '\\.')}\\b`));
  t.regex(readFileSync(path.join(root, 'docs', 'native.md'), 'utf8'), new RegExp(`glibc ${floor.replace('.', '\\.')}\\b`));
  t.regex(readFileSync(path.join(root, '__test__', 'native-glibc.spec.ts'), 'utf8'), new RegExp(`FLOOR = \\[${floor.replace('.', ', ')}\\]`));
});

test('publishing waits for every platform, packs with scripts/pack.mjs and publishes with provenance', (t) => {
  const publish = native.jobs.publish!;
  t.regex(publish.if ?? '', /refs\/tags\/v/);
  t.deepEqual([publish.needs].flat().sort(), ['bindings', 'lint', 'suite']);
  t.is(publish.permissions?.['id-token'], 'write');
  const script = publish.steps.map((s) => s.run ?? '').join('\n');
  t.regex(script, /node scripts\/pack\.mjs \S+ --binaries \S+ --repository "\$GITHUB_SERVER_URL\/\$GITHUB_REPOSITORY"/);
  t.regex(script, /npm publish "\$tarball" --provenance/);
});
