import test from 'ava';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const pkg = path.join(import.meta.dirname, '..');

const EXPORTS = [
  'Registry', 'RegistryConfig', 'resolveEnv', 'Store', 'Capability', 'CapabilitySet', 'Secret', 'RetryPolicy',
  'LocalBackend', 'MemoryBackend', 'RemoteStoreError', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'InvalidPath', 'CapabilityNotSupported', 'DirectoryNotEmpty', 'BackendUnavailable',
];

test('the built package works from require()', async (t) => {
  const { stdout } = await run(process.execPath, ['-e', `const m = require(${JSON.stringify(pkg)}); console.log(JSON.stringify(${JSON.stringify(EXPORTS)}.filter((n) => typeof m[n] !== 'function' && typeof m[n] !== 'object')))`]);
  t.deepEqual(JSON.parse(stdout), []);
});

test('the built package works from import, with the same classes', async (t) => {
  const script = `
    import * as m from ${JSON.stringify(path.join(pkg, 'index.mjs'))};
    import { createRequire } from 'node:module';
    const cjs = createRequire(import.meta.url)(${JSON.stringify(pkg)});
    const missing = ${JSON.stringify(EXPORTS)}.filter((n) => m[n] === undefined || m[n] !== cjs[n]);
    const store = new m.Store(new m.MemoryBackend());
    await store.write('x.txt', 'esm');
    console.log(JSON.stringify({ missing, text: await store.readText('x.txt') }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  t.deepEqual(JSON.parse(stdout), { missing: [], text: 'esm' });
});
