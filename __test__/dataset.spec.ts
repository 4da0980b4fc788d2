/**
 * Datasets through the Store: partitioned writes, reads with partition and row filters,
 * unified schemas, the errors users meet, and nothing written when a write fails. Each case
 * runs on the local backend (the native data path) and on the memory backend (bytes read
 * through the Store). Interop: datasets written by pyarrow read here, ours read by
 * pyarrow.dataset, duckdb and polars, compared exactly.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import * as A from 'apache-arrow';
import {
  AlreadyExists,
  InvalidFormat,
  LocalBackend,
  MemoryBackend,
  NotFound,
  readDataset,
  readParquet,
  scanDataset,
  Store,
  writeDataset,
  writeParquet,
  type DatasetProgress,
  type ParquetFilter,
} from '../src/index';
import { dumpTable, PYARROW_PYTHON, type Dumped } from './support/arrow-types';
import { tempDir } from './support/tmp';

type Kind = 'local' | 'memory';
const KINDS: Kind[] = ['local', 'memory'];

async function storeOf(t: { teardown(fn: () => unknown): void }, kind: Kind): Promise<{ store: Store; dir: string }> {
  const { dir, remove } = await tempDir('rs-ds-');
  t.teardown(remove);
  const store = new Store(kind === 'local' ? new LocalBackend({ root: dir }) : new MemoryBackend());
  t.teardown(() => store.close());
  return { store, dir };
}

/** `rows` sales: id, year (2022–2025 by id), region (4, one with a space and a slash), amount, note (nullable). */
function sales(rows: number, from = 0): A.Table {
  const ids = Array.from({ length: rows }, (_, i) => from + i);
  const regions = ['north', 'south', 'east west', 'a/b'];
  return new A.Table({
    id: A.makeVector(BigInt64Array.from(ids, BigInt)),
    year: A.vectorFromArray(ids.map((i) => 2022 + (i % 4)), new A.Int32()),
    region: A.vectorFromArray(ids.map((i) => regions[Math.floor(i / 4) % 4]!), new A.Utf8()),
    amount: A.vectorFromArray(ids.map((i) => i * 1.5), new A.Float64()),
    note: A.vectorFromArray(ids.map((i) => (i % 5 === 0 ? null : `n${i}`)), new A.Utf8()),
  });
}

const column = (table: A.Table, name: string): unknown[] => Array.from(table.getChild(name)!.toArray() as ArrayLike<unknown>);
const ids = (table: A.Table): number[] => column(table, 'id').map(Number);

/** The table's rows sorted by `by`, as plain objects. */
function rowsBy(table: A.Table, by = 'id'): Record<string, unknown>[] {
  const rows = table.toArray().map((r) => ({ ...(r.toJSON() as Record<string, unknown>) }));
  return rows.sort((a, b) => Number(a[by]) - Number(b[by]));
}

async function files(store: Store, folder: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of store.listFiles(folder, { recursive: true })) out.push(f.path);
  return out.sort();
}

for (const kind of KINDS) {
  test(`${kind} › writeDataset lays out hive folders; readDataset reads them back with typed partition columns`, async (t) => {
    const { store } = await storeOf(t, kind);
    const table = sales(64);
    const results = await writeDataset(store, 'sales', table, { partitionBy: ['year', 'region'], compression: 'zstd' });
    t.is(results.length, 16);
    const written = await files(store, 'sales');
    t.deepEqual(written, results.map((r) => r.path).sort());
    t.true(written.includes('sales/year=2022/region=east%20west/part-0.parquet'));
    t.true(written.includes('sales/year=2025/region=a%2Fb/part-0.parquet'));

    const back = await readDataset(store, 'sales');
    t.deepEqual(back.schema.fields.map((f) => `${f.name}:${String(f.type)}`), ['id:Int64', 'amount:Float64', 'note:Utf8', 'year:Int32', 'region:Utf8']);
    t.is(back.numRows, 64);
    const expected = rowsBy(table).map(({ id, year, region, amount, note }) => ({ id, amount, note, year, region }));
    t.deepEqual(rowsBy(back), expected);
  });

  test(`${kind} › a partition filter never opens the other partitions' files; row filters and columns apply within`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeDataset(store, 'sales', sales(400), { partitionBy: ['year'], rowGroupSize: 25 });
    const none = await readDataset(store, 'sales', { filter: [['year', '=', 1999]] });
    t.is(none.numRows, 0);
    t.deepEqual(none.schema.fields.map((f) => f.name), ['id', 'region', 'amount', 'note', 'year'], 'the schema still comes from a file');
    // Files a pruned partition holds are never read: these would fail the read if they were.
    await store.write('sales/year=2022/part-0.parquet', 'not parquet at all', { overwrite: true });
    await store.write('sales/year=2023/zzz.parquet', 'not parquet either');
    const seen: DatasetProgress[] = [];
    const picked = await readDataset(store, 'sales', {
      columns: ['year', 'id'],
      filter: [
        [['year', 'in', [2024, 2025]], ['id', '<', 40]],
        [['year', '=', 2025], ['id', '>=', 396]],
      ],
      onProgress: (p) => seen.push(p),
    });
    t.deepEqual(picked.schema.fields.map((f) => f.name), ['year', 'id']);
    const expected = [2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31, 34, 35, 38, 39, 399];
    t.deepEqual(ids(picked).sort((a, b) => a - b), expected);
    t.true(column(picked, 'year').every((y) => y === 2024 || y === 2025));
    const last = seen.at(-1)!;
    t.is(last.filesTotal, 2, 'two partitions are left after pruning');
    t.is(last.filesDone, 2);
    t.is(last.rows, expected.length);
    t.true(last.bytes > 0);
  });

  test(`${kind} › files that lack a column read it as nulls; a filter on it matches none of their rows`, async (t) => {
    const { store } = await storeOf(t, kind);
    const t1 = new A.Table({ id: A.makeVector(BigInt64Array.of(1n, 2n)) });
    const t2 = new A.Table({ id: A.makeVector(BigInt64Array.of(3n, 4n)), extra: A.vectorFromArray(['x', 'y'], new A.Utf8()) });
    await writeParquet(store, 'mixed/a.parquet', t1);
    await writeParquet(store, 'mixed/b.parquet', t2);
    await store.write('mixed/_SUCCESS', '');
    await store.write('mixed/.b.parquet.crc', 'checksum');
    const all = await readDataset(store, 'mixed');
    t.deepEqual(rowsBy(all), [
      { id: 1n, extra: null },
      { id: 2n, extra: null },
      { id: 3n, extra: 'x' },
      { id: 4n, extra: 'y' },
    ]);
    t.true(all.schema.fields[1]!.nullable);
    const some = await readDataset(store, 'mixed', { filter: [['extra', '!=', 'x']] });
    t.deepEqual(ids(some), [4]);

    await writeParquet(store, 'mixed/c.parquet', new A.Table({ id: A.vectorFromArray(['5'], new A.Utf8()) }));
    const conflict = await t.throwsAsync(readDataset(store, 'mixed'), { instanceOf: InvalidFormat });
    t.regex(conflict.message, /'id' is Int64 in 'mixed\/a.parquet' but Utf8 in 'mixed\/c.parquet'/);
  });

  test(`${kind} › scanDataset yields batches in path order, honours limit and batchSize, and stops early`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeDataset(store, 'd', sales(100), { partitionBy: ['year'] });
    const sizes: number[] = [];
    const years: unknown[] = [];
    for await (const b of scanDataset(store, 'd', { batchSize: 10, columns: ['year'] })) {
      sizes.push(b.numRows);
      years.push(b.getChild('year')!.get(0));
    }
    t.deepEqual(sizes, [10, 10, 5, 10, 10, 5, 10, 10, 5, 10, 10, 5], 'a batch never spans two files');
    t.deepEqual([...new Set(years)], [2022, 2023, 2024, 2025]);
    const limited = await readDataset(store, 'd', { limit: 30 });
    t.is(limited.numRows, 30);
    let n = 0;
    for await (const b of scanDataset(store, 'd', { batchSize: 5 })) {
      n += b.numRows;
      break;
    }
    t.is(n, 5);
  });

  test(`${kind} › a glob or a single file is a dataset too`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeDataset(store, 'g', sales(40), { partitionBy: ['year'] });
    const two = await readDataset(store, 'g/year=202[45]/*.parquet');
    t.deepEqual([...new Set(column(two, 'year'))].sort(), [2024, 2025]);
    t.is(two.numRows, 20);
    const one = await readDataset(store, 'g/year=2023/part-0.parquet');
    t.is(one.numRows, 10);
    t.false(one.schema.fields.some((f) => f.name === 'year'), 'a lone file has no partition folders');
    const flat = await readDataset(store, 'g', { partitioning: null });
    t.false(flat.schema.fields.some((f) => f.name === 'year'));
  });

  test(`${kind} › writeDataset: existing 'error' refuses a non-empty folder, 'overwrite' replaces, 'delete_matching' clears what it writes to`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeDataset(store, 'w', sales(8), { partitionBy: ['year'] });
    const refused = await t.throwsAsync(writeDataset(store, 'w', sales(8), { partitionBy: ['year'] }), { instanceOf: AlreadyExists });
    t.regex(refused.message, /'w' is not empty/);
    await store.write('w/year=2022/old.parquet', await store.readBytes('w/year=2022/part-0.parquet'));
    await store.write('w/year=2023/old.parquet', await store.readBytes('w/year=2023/part-0.parquet'));

    await writeDataset(store, 'w', sales(4, 100), { partitionBy: ['year'], existing: 'overwrite' });
    t.deepEqual(ids(await readDataset(store, 'w/year=2022')).sort((a, b) => a - b), [0, 4, 100], 'part-0 replaced, old.parquet left');

    const only2022 = new A.Table({ id: A.makeVector(BigInt64Array.of(7n)), year: A.vectorFromArray([2022], new A.Int32()) });
    await writeDataset(store, 'w', only2022, { partitionBy: ['year'], existing: 'delete_matching' });
    t.deepEqual(await files(store, 'w/year=2022'), ['w/year=2022/part-0.parquet']);
    t.deepEqual(await files(store, 'w/year=2023'), ['w/year=2023/old.parquet', 'w/year=2023/part-0.parquet'], 'a folder not written to is left');
  });

  test(`${kind} › a failing source, a bad option or an abort writes nothing`, async (t) => {
    const { store } = await storeOf(t, kind);
    const table = sales(200);
    async function* failing() {
      for (const b of table.slice(0, 100).batches) yield b;
      throw new Error('source broke');
    }
    await t.throwsAsync(writeDataset(store, 'f', failing(), { partitionBy: ['year'], maxRowsPerFile: 10 }), { message: /source broke/ });
    t.deepEqual(await files(store, 'f'), []);

    const unknown = await t.throwsAsync(writeDataset(store, 'f', table, { partitionBy: ['nope'] }), { instanceOf: TypeError });
    t.regex(unknown.message, /'nope'.*id, year, region, amount, note/);
    await t.throwsAsync(writeDataset(store, 'f', table, { compression: 'zstd', compressionLevel: 99 }), { instanceOf: TypeError, message: /compressionLevel/ });
    await t.throwsAsync(writeDataset(store, 'f', table, { existing: 'replace' as never }), { instanceOf: TypeError, message: /existing/ });

    const ac = new AbortController();
    async function* slow() {
      yield table.slice(0, 50).batches[0]!;
      ac.abort();
      yield table.slice(50).batches[0]!;
    }
    const aborted = await t.throwsAsync(writeDataset(store, 'f', slow(), { partitionBy: ['year'], signal: ac.signal }));
    t.is(aborted?.name, 'AbortError');
    t.deepEqual(await files(store, 'f'), []);
  });

  test(`${kind} › a table without rows writes no file, as pyarrow's write_to_dataset, and its schema is still checked`, async (t) => {
    const { store } = await storeOf(t, kind);
    const empty = sales(20).slice(0, 0);
    t.deepEqual(await writeDataset(store, 'z', empty, { partitionBy: ['year'] }), []);
    t.deepEqual(await writeDataset(store, 'z', empty), []);
    t.deepEqual(await writeDataset(store, 'z', new A.Table(empty.schema), { partitionBy: ['year', 'region'] }), []);
    t.deepEqual(await files(store, 'z'), []);
    const unknown = await t.throwsAsync(writeDataset(store, 'z', new A.Table(empty.schema), { partitionBy: ['nope'] }), { instanceOf: TypeError });
    t.regex(unknown.message, /'nope'/);
  });

  test(`${kind} › row filters on float columns compare as pyarrow.compute does`, async (t) => {
    const { store } = await storeOf(t, kind);
    const x = [1.5, NaN, -0, 0, Infinity];
    await writeDataset(store, 'fl', new A.Table({ x: A.makeVector(Float64Array.from(x)), p: A.vectorFromArray(x.map((_, i) => i % 2), new A.Int32()) }), { partitionBy: ['p'] });
    const read = async (filter: ParquetFilter) =>
      column(await readDataset(store, 'fl', { filter }), 'x').map((v) => (Object.is(v, -0) ? '-0' : String(v))).sort();
    t.deepEqual(await read([['x', '>', 1]]), ['1.5', 'Infinity']);
    t.deepEqual(await read([['x', '>=', 0]]), ['-0', '0', '1.5', 'Infinity']);
    t.deepEqual(await read([['x', '<', 0]]), []);
    t.deepEqual(await read([['x', '!=', 1.5]]), ['-0', '0', 'Infinity', 'NaN']);
    t.deepEqual(await read([['x', '=', 0], ['p', '=', 0]]), ['-0'], 'row and partition terms together');
  });

  test(`${kind} › maxRowsPerFile rolls files over; brotli with a level reads back`, async (t) => {
    const { store } = await storeOf(t, kind);
    const results = await writeDataset(store, 'm', sales(100), { partitionBy: ['year'], maxRowsPerFile: 10, compression: 'brotli', compressionLevel: 9 });
    t.is(results.length, 12);
    t.deepEqual(await files(store, 'm/year=2022'), ['m/year=2022/part-0.parquet', 'm/year=2022/part-1.parquet', 'm/year=2022/part-2.parquet']);
    const back = await readDataset(store, 'm');
    t.deepEqual(ids(back).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
    const file = await readParquet(store, 'm/year=2022/part-0.parquet');
    t.is(file.numRows, 10);
  });

  test(`${kind} › bad input is a typed error naming the culprit`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeDataset(store, 'e', sales(20), { partitionBy: ['year'] });
    const wrongType = await t.throwsAsync(readDataset(store, 'e', { filter: [['region', '>', 5]] }), { instanceOf: TypeError });
    t.regex(wrongType.message, /'region'.*'>'.*Utf8.*number/);
    const partitionType = await t.throwsAsync(readDataset(store, 'e', { filter: [['year', '=', '2024']] }), { instanceOf: TypeError });
    t.regex(partitionType.message, /'year'.*'='.*Int32.*string/);
    const boolean = await t.throwsAsync(readDataset(store, 'e', { filter: [['id', '=', true]] }), { instanceOf: TypeError });
    t.regex(boolean.message, /'id'.*'='.*Int64.*boolean/);
    const unknownColumn = await t.throwsAsync(readDataset(store, 'e', { columns: ['nope'] }), { instanceOf: TypeError });
    t.regex(unknownColumn.message, /'nope'.*id, region, amount, note, year/);
    await t.throwsAsync(readDataset(store, 'e', { partitioning: 'directory' as never }), { instanceOf: TypeError, message: /partitioning/ });
    await t.throwsAsync(readDataset(store, 'e', { format: 'csv' as never }), { instanceOf: TypeError, message: /format/ });
    const missing = await t.throwsAsync(readDataset(store, 'nothing-here'), { instanceOf: NotFound });
    t.regex(missing.message, /nothing-here/);

    await store.write('e/year=2024/broken.parquet', 'PAR1 not really');
    const corrupt = await t.throwsAsync(readDataset(store, 'e'), { instanceOf: InvalidFormat });
    t.is(corrupt.path, 'e/year=2024/broken.parquet');
    t.regex(corrupt.message, /broken\.parquet/);
  });

  test(`${kind} › an abort ends a dataset scan with AbortError`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeDataset(store, 'a', sales(400), { partitionBy: ['year'] });
    const ac = new AbortController();
    const err = await t.throwsAsync(
      (async () => {
        for await (const _ of scanDataset(store, 'a', { batchSize: 10, signal: ac.signal })) ac.abort();
      })(),
    );
    t.is(err?.name, 'AbortError');
  });
}

test('a child store reads and writes datasets below its root, and reports store-relative paths', async (t) => {
  const { store } = await storeOf(t, 'local');
  const child = store.child('lake');
  await writeDataset(child, 'sales', sales(8), { partitionBy: ['year'] });
  t.deepEqual((await files(store, 'lake/sales')).length, 4);
  t.is((await readDataset(child, 'sales', { filter: [['year', '=', 2023]] })).numRows, 2);
  await child.write('sales/year=2024/bad.parquet', 'nope');
  const err = await t.throwsAsync(readDataset(child, 'sales'), { instanceOf: InvalidFormat });
  t.is(err.path, 'sales/year=2024/bad.parquet');
});

// ---- interop ---------------------------------------------------------------------------

const INTEROP = path.join(import.meta.dirname, 'support', 'dataset_interop.py');

function python(...args: string[]): string {
  return execFileSync(PYARROW_PYTHON, [INTEROP, ...args], { encoding: 'utf8', cwd: path.dirname(INTEROP) });
}

function readBy(reader: string, dir: string): Dumped {
  return (JSON.parse(python('read', reader, dir, 'id')) as { columns: Dumped }).columns;
}

/** A table of the types datasets are made of, with nulls and values that need escaping in paths. */
function interopTable(): A.Table {
  const n = 60;
  const ids = Array.from({ length: n }, (_, i) => i);
  return new A.Table({
    id: A.makeVector(BigInt64Array.from(ids, BigInt)),
    year: A.makeVector(BigInt64Array.from(ids, (i) => BigInt(2020 + (i % 3)))),
    region: A.vectorFromArray(ids.map((i) => ['north', 'south east', 'x/y', 'ünï'][i % 4]!), new A.Utf8()),
    amount: A.vectorFromArray(ids.map((i) => (i % 7 === 0 ? null : i / 4)), new A.Float64()),
    label: A.vectorFromArray(ids.map((i) => (i % 6 === 0 ? null : `label-${i}`)), new A.Utf8()),
    flag: A.vectorFromArray(ids.map((i) => i % 2 === 0), new A.Bool()),
    at: A.vectorFromArray(ids.map((i) => 1_700_000_000_000 + i * 1000), new A.TimestampMillisecond('UTC')),
  });
}

/** Our dump of `table` sorted by id (the same form the Python side prints). */
function sortedDump(table: A.Table): Dumped {
  const order = ids(table)
    .map((id, i) => [id, i] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, i]) => i);
  const dumped = dumpTable(table);
  return Object.fromEntries(Object.entries(dumped).map(([k, v]) => [k, { type: v.type, values: order.map((i) => v.values[i]) }]));
}

const valuesOf = (d: Dumped) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.values]));

test('readDataset reads what pyarrow.write_to_dataset wrote, with partition filters, exactly as pyarrow.dataset reads it', async (t) => {
  const { store, dir } = await storeOf(t, 'local');
  await writeParquet(store, 'src.parquet', interopTable());
  python('write', path.join(dir, 'src.parquet'), path.join(dir, 'theirs'), 'year', 'region');
  const theirs = readBy('pyarrow', path.join(dir, 'theirs'));
  const ours = sortedDump(await readDataset(store, 'theirs'));
  t.deepEqual(ours, theirs, 'same columns, types and values as pyarrow.dataset');

  const filtered = await readDataset(store, 'theirs', { filter: [['year', '=', 2021], ['region', 'in', ['x/y', 'ünï']]] });
  const expected = Object.fromEntries(
    Object.entries(theirs).map(([k, v]) => [k, { ...v, values: v.values.filter((_, i) => theirs.year!.values[i] === '2021' && ['x/y', 'ünï'].includes(theirs.region!.values[i] as string)) }]),
  );
  t.true(expected.id!.values.length > 0);
  t.deepEqual(sortedDump(filtered), expected);
});

for (const reader of ['pyarrow', 'duckdb', 'polars']) {
  test(`${reader} reads what writeDataset wrote: the same values in every column, partition keys included`, async (t) => {
    const { store, dir } = await storeOf(t, 'local');
    const table = interopTable();
    await writeDataset(store, 'ours', table, { partitionBy: ['year', 'region'], maxRowsPerFile: 4, compression: 'zstd' });
    const theirs = readBy(reader, path.join(dir, 'ours'));
    const mine = sortedDump(table);
    // Partition keys come back as each reader types them (pyarrow int32, duckdb and polars
    // int64); their values, and every other column's type and values, are ours.
    t.deepEqual(valuesOf(theirs), valuesOf(mine));
    if (reader === 'pyarrow') {
      t.is(theirs.year!.type, 'int32');
      for (const c of ['id', 'amount', 'label', 'flag', 'at']) t.is(theirs[c]!.type, mine[c]!.type, c);
    }
  });
}

test('pyarrow sees the files of a dataset written here as ordinary Parquet files with the partition columns left out', async (t) => {
  const { store, dir } = await storeOf(t, 'local');
  await writeDataset(store, 'ours', interopTable(), { partitionBy: ['year'] });
  const names = (await readdir(path.join(dir, 'ours'))).sort();
  t.deepEqual(names, ['year=2020', 'year=2021', 'year=2022']);
  const one = python('read', 'pyarrow', path.join(dir, 'ours', 'year=2020'), 'id');
  t.false(Object.keys((JSON.parse(one) as { columns: Dumped }).columns).includes('year'));
});
