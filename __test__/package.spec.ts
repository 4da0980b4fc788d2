// The package's entry points: one export list for import (index.mjs), require (index.js) and the
// types (index.d.ts), the same objects behind both entries except the Arrow functions, which
// each entry binds to its own apache-arrow build.
import test from 'ava';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);
const pkg = path.join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);

/** What `import * as m from 'remote-store'` sees, evaluated in a plain ES module program. */
async function esmReport(): Promise<{ names: string[]; sameAsCjs: string[]; text: string }> {
  const script = `
    import * as m from 'remote-store';
    import { createRequire } from 'node:module';
    const cjs = createRequire(import.meta.url)('remote-store');
    const names = Object.keys(m).filter((n) => n !== 'default');
    const store = new m.Store(new m.MemoryBackend());
    await store.write('x.txt', 'esm');
    console.log(JSON.stringify({ names, sameAsCjs: names.filter((n) => m[n] === cjs[n]), text: await store.readText('x.txt') }));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: pkg });
  return JSON.parse(stdout);
}

/** The value exports a declaration file declares (classes, functions, constants; not types). */
function declaredValues(name: 'index.d.ts' | 'index.d.mts'): string[] {
  const file = path.join(pkg, name);
  const program = ts.createProgram([file], { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  return checker
    .getExportsOfModule(module)
    .filter((s) => ((s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s).flags & ts.SymbolFlags.Value) !== 0)
    .map((s) => s.name)
    .filter((n) => n !== 'default');
}

test('import, require and their types (index.d.mts, index.d.ts) export the same names', async (t) => {
  const cjs = Object.keys(require(pkg)).sort();
  const esm = (await esmReport()).names.sort();
  t.deepEqual(esm, cjs, 'index.mjs and index.js differ');
  t.deepEqual(declaredValues('index.d.ts').sort(), cjs, 'index.d.ts and index.js differ');
  t.deepEqual(declaredValues('index.d.mts').sort(), cjs, 'index.d.mts and index.mjs differ');
  for (const name of ['nativeAvailable', 'NativeUpload', 'NativeObjectStore', 'readParquet', 'writeParquet']) t.true(esm.includes(name), name);
});

test('import and require share every object but the Arrow functions, which each binds to its own apache-arrow', async (t) => {
  const { names, sameAsCjs, text } = await esmReport();
  const { ARROW_FUNCTION_NAMES } = require(path.join(pkg, 'dist', 'arrow', 'functions.js')) as { ARROW_FUNCTION_NAMES: string[] };
  t.true(ARROW_FUNCTION_NAMES.length > 0);
  t.deepEqual(
    names.filter((n) => !sameAsCjs.includes(n)).sort(),
    [...ARROW_FUNCTION_NAMES].sort(),
  );
  t.is(text, 'esm');
});
