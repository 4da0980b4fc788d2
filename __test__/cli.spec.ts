import test from 'ava';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './support/tmp';

const run = promisify(execFile);
const bin = path.join(import.meta.dirname, '..', 'bin', 'remote-store.js');

async function cli(cwd: string, ...args: string[]) {
  try {
    const env = { ...process.env };
    delete env.REMOTE_STORE_ROOT;
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('the CLI writes, lists, reads back, copies, moves and removes on the default local store', async (t) => {
  const { dir, remove } = await tempDir();
  try {
    await writeFile(path.join(dir, 'hello.txt'), 'hello from the cli\n');
    t.is((await cli(dir, 'put', 'hello.txt', 'docs/hello.txt')).code, 0);
    t.is(await readFile(path.join(dir, '.remote-store', 'docs', 'hello.txt'), 'utf8'), 'hello from the cli\n');
    t.is((await cli(dir, 'ls')).stdout, 'docs/\n');
    t.is((await cli(dir, 'ls', '-R')).stdout, 'docs/hello.txt\n');
    t.is((await cli(dir, 'cat', 'docs/hello.txt')).stdout, 'hello from the cli\n');
    t.is((await cli(dir, 'cp', 'docs/hello.txt', 'docs/copy.txt')).code, 0);
    t.is((await cli(dir, 'mv', 'docs/copy.txt', 'moved.txt')).code, 0);
    t.deepEqual((await cli(dir, 'ls', '-R', '--pattern', '*.txt')).stdout.split('\n').sort(), ['', 'docs/hello.txt', 'moved.txt']);
    t.is((await cli(dir, 'get', 'moved.txt', 'back.txt')).code, 0);
    t.is(await readFile(path.join(dir, 'back.txt'), 'utf8'), 'hello from the cli\n');
    const info = JSON.parse((await cli(dir, 'info', 'docs')).stdout);
    t.deepEqual([info.path, info.fileCount, info.totalSize], ['docs', 1, 19]);
    t.is((await cli(dir, 'rm', 'moved.txt')).code, 0);
    t.is((await cli(dir, 'rm', '-R', 'docs')).code, 0);
    t.is((await cli(dir, 'ls', '-R')).stdout, '');
  } finally {
    await remove();
  }
});

test('CLI errors are one line naming the culprit, with a non-zero exit', async (t) => {
  const { dir, remove } = await tempDir();
  try {
    const missing = await cli(dir, 'cat', 'nope.txt');
    t.is(missing.code, 1);
    t.is(missing.stderr, "remote-store: File not found: 'nope.txt'\n");
    const bad = await cli(dir, 'ls', '../up');
    t.not(bad.code, 0);
    t.regex(bad.stderr, /'\.\.\/up'/);
    await writeFile(path.join(dir, 'a.txt'), 'a');
    t.is((await cli(dir, 'put', 'a.txt')).code, 0);
    const again = await cli(dir, 'put', 'a.txt');
    t.is(again.code, 1);
    t.regex(again.stderr, /already exists: 'a.txt'/);
    t.is((await cli(dir, 'put', '--overwrite', 'a.txt')).code, 0);
    const usage = await cli(dir, 'frobnicate');
    t.is(usage.code, 2);
  } finally {
    await remove();
  }
});

test('the CLI uses a store from a registry config', async (t) => {
  const { dir, remove } = await tempDir();
  try {
    const config = path.join(dir, 'remote-store.yaml');
    await writeFile(
      config,
      'backends:\n  files:\n    type: local\n    options:\n      root: ${DATA_DIR}\nstores:\n  main:\n    backend: files\n    root_path: area\n',
    );
    await writeFile(path.join(dir, 'x.csv'), 'a,b\n');
    const env = { ...process.env, DATA_DIR: path.join(dir, 'data') };
    await run(process.execPath, [bin, '--config', config, '--store', 'main', '--resolve-env', 'put', 'x.csv'], { cwd: dir, env });
    t.is(await readFile(path.join(dir, 'data', 'area', 'x.csv'), 'utf8'), 'a,b\n');
    const { stdout } = await run(process.execPath, [bin, '-c', config, '--resolve-env', 'ls'], { cwd: dir, env });
    t.is(stdout, 'x.csv\n');
    const unknown = await cli(dir, '--config', config, '--store', 'nope', '--resolve-env', 'ls');
    t.not(unknown.code, 0);
  } finally {
    await remove();
  }
});

test('the CLI shows a Parquet file: schema, first rows, row count', async (t) => {
  const { dir, remove } = await tempDir();
  t.teardown(remove);
  const { Store, LocalBackend, writeParquet } = await import('../src/index');
  const A = await import('apache-arrow');
  const store = new Store(new LocalBackend({ root: path.join(dir, '.remote-store') }));
  const table = new A.Table({
    id: A.vectorFromArray([1n, 2n, 3n], new A.Int64()),
    name: A.vectorFromArray(['a', null, 'c'], new A.Utf8()),
  });
  await writeParquet(store, 'data/t.parquet', table, { rowGroupSize: 2 });
  await store.close();
  const schema = await cli(dir, 'parquet', 'schema', 'data/t.parquet');
  t.is(schema.code, 0, schema.stderr);
  t.regex(schema.stdout, /^id {4}Int64\nname  Utf8\n3 rows in 2 row groups, \d+ bytes\n$/);
  const head = await cli(dir, 'parquet', 'head', '-n', '2', 'data/t.parquet');
  t.is(head.stdout, '{"id":"1","name":"a"}\n{"id":"2","name":null}\n');
  t.is((await cli(dir, 'parquet', 'head', '--columns', 'name', 'data/t.parquet')).stdout, '{"name":"a"}\n{"name":null}\n{"name":"c"}\n');
  t.is((await cli(dir, 'parquet', 'count', 'data/t.parquet')).stdout, '3\n');
  const missing = await cli(dir, 'parquet', 'count', 'nope.parquet');
  t.is(missing.code, 1);
  t.regex(missing.stderr, /nope\.parquet/);
  const notParquet = await cli(dir, 'parquet', 'schema', 'nothing-here');
  t.not(notParquet.code, 0);
  t.regex(notParquet.stderr, /nothing-here/);
});

test('the CLI prints decimals scaled and dates and timestamps as ISO 8601, and reads a dataset folder', async (t) => {
  const { dir, remove } = await tempDir();
  t.teardown(remove);
  const { Store, LocalBackend, writeDataset } = await import('../src/index');
  const A = await import('apache-arrow');
  const store = new Store(new LocalBackend({ root: path.join(dir, '.remote-store') }));
  const decimals = A.makeData({ type: new A.Decimal(2, 10, 128), length: 3, data: Uint32Array.of(12345, 0, 0, 0, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 7, 0, 0, 0) });
  const table = new A.Table({
    price: A.makeVector(decimals),
    day: A.makeVector({ type: new A.DateDay(), data: Int32Array.of(19000, 0, -1) }),
    at: A.makeVector({ type: new A.TimestampMicrosecond('UTC'), data: BigInt64Array.of(1700000000123456n, 0n, -1n) }),
    local: A.makeVector({ type: new A.TimestampSecond(), data: BigInt64Array.of(1700000000n, 1n, 2n) }),
    part: A.vectorFromArray(['x', 'y', 'x'], new A.Utf8()),
  });
  await writeDataset(store, 'ds', table, { partitionBy: ['part'] });
  await store.close();
  const head = await cli(dir, 'parquet', 'head', 'ds');
  t.is(head.code, 0, head.stderr);
  t.deepEqual(head.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
    { price: '123.45', day: '2022-01-08', at: '2023-11-14T22:13:20.123456Z', local: '2023-11-14T22:13:20', part: 'x' },
    { price: '0.07', day: '1969-12-31', at: '1969-12-31T23:59:59.999999Z', local: '1970-01-01T00:00:02', part: 'x' },
    { price: '-0.01', day: '1970-01-01', at: '1970-01-01T00:00:00.000000Z', local: '1970-01-01T00:00:01', part: 'y' },
  ]);
  t.is((await cli(dir, 'parquet', 'count', 'ds')).stdout, '3\n');
  const schema = await cli(dir, 'parquet', 'schema', 'ds');
  t.regex(schema.stdout, /^price  Decimal\[10e\+2\]\nday    Date32<DAY>\n[\s\S]*part   Utf8\n3 rows in 2 files\n$/);
  t.is((await cli(dir, 'parquet', 'count', 'ds/part=y/*.parquet')).stdout, '1\n');
});
