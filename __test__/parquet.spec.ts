/**
 * Parquet and Arrow through the Store: round trips of every type, interop with pyarrow in
 * both directions, projections and filters, and the errors users meet. Each case runs on
 * the local backend (the native data path) and on the memory backend (bytes read through
 * the Store), which must give the same results.
 */
import test from 'ava';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as A from 'apache-arrow';
import {
  AlreadyExists,
  InvalidFormat,
  InvalidPath,
  LocalBackend,
  MemoryBackend,
  NotFound,
  readParquet,
  readParquetMetadata,
  scanParquet,
  Store,
  writeParquet,
  type FilterOp,
  type FilterTerm,
  type FilterValue,
} from '../src/index';
import { allTypesTable, asPyarrowStores, dumpTable, PYARROW_PYTHON, pyarrowDump, pyarrowMeta, pyarrowRewrite, pyarrowWriteMeta, withoutNaming } from './support/arrow-types';
import { tempDir } from './support/tmp';

type Kind = 'local' | 'memory';
const KINDS: Kind[] = ['local', 'memory'];

async function storeOf(t: { teardown(fn: () => unknown): void }, kind: Kind): Promise<{ store: Store; dir: string }> {
  const { dir, remove } = await tempDir('rs-pq-');
  t.teardown(remove);
  const store = new Store(kind === 'local' ? new LocalBackend({ root: dir }) : new MemoryBackend());
  t.teardown(() => store.close());
  return { store, dir };
}

/** A table of `rows` rows: id (0..rows-1), grp (id / 100), name, score (nullable). */
function sample(rows: number): A.Table {
  const ids = Array.from({ length: rows }, (_, i) => i);
  return new A.Table({
    id: A.vectorFromArray(ids, new A.Int32()),
    grp: A.vectorFromArray(ids.map((i) => Math.floor(i / 100)), new A.Int32()),
    name: A.vectorFromArray(ids.map((i) => `n${i}`), new A.Utf8()),
    score: A.vectorFromArray(ids.map((i) => (i % 7 === 0 ? null : i / 2)), new A.Float64()),
  });
}

const column = (table: A.Table, name: string): unknown[] => Array.from(table.getChild(name)!.toArray() as ArrayLike<unknown>);

test('pyarrow is installed for the interop cases', (t) => {
  t.true(existsSync(PYARROW_PYTHON), `missing ${PYARROW_PYTHON}: npm test runs scripts/install-pyarrow.sh first`);
});

for (const kind of KINDS) {
  test(`${kind} › every listed type round-trips through writeParquet and readParquet`, async (t) => {
    const { store } = await storeOf(t, kind);
    const table = allTypesTable();
    const result = await writeParquet(store, 'all/types.parquet', table, { compression: 'zstd' });
    t.is(result.path, 'all/types.parquet');
    t.true(result.size > 0);
    const back = await readParquet(store, 'all/types.parquet');
    t.deepEqual(dumpTable(back), dumpTable(table));
  });

  test(`${kind} › pyarrow reads what writeParquet wrote: same values, same types as its own files`, async (t) => {
    const { store, dir } = await storeOf(t, kind);
    const table = allTypesTable();
    await writeParquet(store, 'ours.parquet', table);
    const file = path.join(dir, 'ours.parquet');
    if (kind === 'memory') await writeFile(file, await store.readBytes('ours.parquet'));
    t.deepEqual(withoutNaming(pyarrowDump(file)), withoutNaming(asPyarrowStores(dumpTable(table))));
  });

  test(`${kind} › readParquet reads what pyarrow wrote: same values, same types as pyarrow reads`, async (t) => {
    const { store } = await storeOf(t, kind);
    const scratch = await storeOf(t, 'local');
    const table = allTypesTable();
    await writeParquet(scratch.store, 'ours.parquet', table);
    const theirs = path.join(scratch.dir, 'theirs.parquet');
    pyarrowRewrite(path.join(scratch.dir, 'ours.parquet'), theirs);
    await store.write('theirs.parquet', await readFile(theirs));
    const back = await readParquet(store, 'theirs.parquet');
    t.deepEqual(withoutNaming(dumpTable(back)), withoutNaming(asPyarrowStores(dumpTable(table))));
    const meta = await readParquetMetadata(store, 'theirs.parquet');
    t.regex(meta.createdBy ?? '', /parquet-cpp-arrow/);
    t.true(meta.numRowGroups > 1, 'pyarrow wrote several row groups (row_group_size=5)');
  });

  test(`${kind} › columns, filter, rowGroups and limit select like pyarrow`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeParquet(store, 's.parquet', sample(1000), { rowGroupSize: 100 });
    const picked = await readParquet(store, 's.parquet', {
      columns: ['name', 'id'],
      filter: [
        [['grp', '==', 3], ['id', '<', 305]],
        [['name', 'in', ['n999', 'n5']]],
      ],
    });
    t.deepEqual(picked.schema.fields.map((f) => f.name), ['name', 'id']);
    t.deepEqual([...column(picked, 'id')], [5, 300, 301, 302, 303, 304, 999]);
    t.deepEqual([...column(picked, 'name')], ['n5', 'n300', 'n301', 'n302', 'n303', 'n304', 'n999']);

    // Nulls never match a comparison; 'not in' and '!=' keep the other non-null values.
    const scores = await readParquet(store, 's.parquet', { columns: ['id'], filter: [['score', '!=', 1], ['id', '<', 10]] });
    t.deepEqual([...column(scores, 'id')], [1, 3, 4, 5, 6, 8, 9]);

    const groups = await readParquet(store, 's.parquet', { columns: ['id'], rowGroups: [9, 0], limit: 3 });
    t.deepEqual([...column(groups, 'id')], [900, 901, 902], 'row groups are read in the order given');

    const floats = await readParquet(store, 's.parquet', { columns: ['id'], filter: [['id', '>', 997.5]] });
    t.deepEqual([...column(floats, 'id')], [998, 999], 'an integer column compared with 997.5 is not truncated to 997');

    const meta = await readParquetMetadata(store, 's.parquet');
    t.is(meta.numRows, 1000);
    t.is(meta.numRowGroups, 10);
    t.is(meta.rowGroups[3]!.columns[0]!.min, '300');
    t.is(meta.rowGroups[3]!.columns[0]!.max, '399');
    t.deepEqual(meta.schema.fields.map((f) => String(f.type)), ['Int32', 'Int32', 'Utf8', 'Float64']);
  });

  test(`${kind} › 'not in' keeps nulls, as pyarrow's filters do, even where statistics show only the excluded value`, async (t) => {
    const { store } = await storeOf(t, kind);
    const table = new A.Table({ id: A.makeVector(Int32Array.from([1, 2, 3, 4])), v: A.vectorFromArray([1, null, 1, 2], new A.Int32()) });
    // Row group [1, null] has min = max = 1 and one null.
    await writeParquet(store, 'n.parquet', table, { rowGroupSize: 2 });
    const ids = async (filter: FilterTerm) => [...column(await readParquet(store, 'n.parquet', { columns: ['id'], filter: [filter] }), 'id')];
    t.deepEqual(await ids(['v', 'not in', [1]]), [2, 4]);
    t.deepEqual(await ids(['v', '!=', 1]), [4]);
    t.deepEqual(await ids(['v', 'in', [1]]), [1, 3]);
  });

  test(`${kind} › float filters compare as pyarrow.compute does: NaN matches only != and not in, -0 equals 0`, async (t) => {
    const { store } = await storeOf(t, kind);
    const values = [1.5, NaN, -0, 0, Infinity, 2.5];
    const table = new A.Table({ x: A.makeVector(Float64Array.from(values)), y: A.makeVector(Float32Array.from(values)) });
    // Row groups [1.5, NaN], [-0, 0], [Infinity, 2.5]: the first one's statistics say 1.5..1.5.
    await writeParquet(store, 'f.parquet', table, { rowGroupSize: 2 });
    const cases: Array<[FilterOp, FilterValue | FilterValue[], number[]]> = [
      ['>', 1, [1.5, Infinity, 2.5]],
      ['>=', 0, [1.5, -0, 0, Infinity, 2.5]],
      ['=', 0, [-0, 0]],
      ['<', 0, []],
      ['<=', -0, [-0, 0]],
      ['!=', 1.5, [NaN, -0, 0, Infinity, 2.5]],
      ['=', NaN, []],
      ['!=', NaN, [1.5, NaN, -0, 0, Infinity, 2.5]],
      ['in', [NaN], [NaN]],
      ['in', [-0], [-0]],
      ['not in', [0, 2.5], [1.5, NaN, -0, Infinity]],
    ];
    for (const name of ['x', 'y']) {
      for (const [op, value, want] of cases) {
        const got = column(await readParquet(store, 'f.parquet', { columns: [name], filter: [[name, op, value]] }), name);
        const same = got.length === want.length && got.every((v, i) => Object.is(v, want[i]));
        t.true(same, `${name} ${op} ${String(value)}: got [${got.map((v) => (Object.is(v, -0) ? '-0' : String(v)))}]`);
      }
    }
  });

  test(`${kind} › zero-row tables, with or without batches, write empty files pyarrow reads with the same schema`, async (t) => {
    const { store, dir } = await storeOf(t, kind);
    const all = allTypesTable();
    const inputs: Array<[string, A.Table]> = [
      ['slice', all.slice(0, 0)],
      ['no batches', new A.Table(all.schema)],
      ['empty arrays', A.tableFromArrays({ id: new Int32Array(0), f: new Float64Array(0) })],
    ];
    for (const [name, table] of inputs) {
      const file = `${name.replace(' ', '-')}.parquet`;
      await writeParquet(store, file, table);
      const back = await readParquet(store, file);
      t.is(back.numRows, 0, name);
      t.deepEqual(dumpTable(back), dumpTable(table), name);
      const local = path.join(dir, file);
      if (kind === 'memory') await writeFile(local, await store.readBytes(file));
      t.deepEqual(withoutNaming(pyarrowDump(local)), withoutNaming(asPyarrowStores(dumpTable(table))), name);
    }
  });

  test(`${kind} › a file with a valid footer over damaged pages is InvalidFormat naming it`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeParquet(store, 'ok.parquet', sample(1000), { compression: 'none' });
    const bytes = Buffer.from(await store.readBytes('ok.parquet'));
    for (let i = 4; i < 200; i++) bytes[i]! ^= 0xff;
    await store.write('corrupt.parquet', bytes);
    const err = await t.throwsAsync(readParquet(store, 'corrupt.parquet'), { instanceOf: InvalidFormat });
    t.is(err.path, 'corrupt.parquet');
    t.regex(err.message, /corrupt\.parquet/);
  });

  test(`${kind} › scanParquet yields bounded batches and can stop early`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeParquet(store, 's.parquet', sample(1000), { rowGroupSize: 250 });
    const sizes: number[] = [];
    for await (const batch of scanParquet(store, 's.parquet', { batchSize: 100, columns: ['id'] })) {
      t.true(batch instanceof A.RecordBatch);
      sizes.push(batch.numRows);
      if (sizes.length === 4) break;
    }
    t.deepEqual(sizes, [100, 100, 50, 100], 'a batch never spans two row groups');
  });

  test(`${kind} › writeParquet takes batches from an async iterable and honours overwrite`, async (t) => {
    const { store } = await storeOf(t, kind);
    const table = sample(300);
    async function* batches() {
      for (const b of table.slice(0, 120).batches) yield b;
      for (const b of table.slice(120).batches) yield b;
    }
    await writeParquet(store, 'b.parquet', batches(), { rowGroupSize: 100, compression: 'lz4' });
    await t.throwsAsync(writeParquet(store, 'b.parquet', table), { instanceOf: AlreadyExists });
    await writeParquet(store, 'b.parquet', table.slice(0, 10), { overwrite: true, compression: 'gzip' });
    t.deepEqual([...column(await readParquet(store, 'b.parquet'), 'id')], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const meta = await readParquetMetadata(store, 'b.parquet');
    t.is(meta.rowGroups[0]!.columns[0]!.compression, 'GZIP(GzipLevel(6))');
  });

  test(`${kind} › a failing batch source writes nothing`, async (t) => {
    const { store } = await storeOf(t, kind);
    const table = sample(200);
    async function* failing() {
      yield table.batches[0]!;
      throw new Error('source broke');
    }
    await t.throwsAsync(writeParquet(store, 'f.parquet', failing()), { message: /source broke/ });
    t.false(await store.exists('f.parquet'));
  });

  test(`${kind} › bad input is a typed error naming the culprit`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeParquet(store, 's.parquet', sample(10));
    await store.write('notes.txt', 'not parquet, just text');
    await store.write('dir/x.txt', 'x');
    const unknown = await t.throwsAsync(readParquet(store, 's.parquet', { columns: ['nope'] }), { instanceOf: TypeError });
    t.regex(unknown.message, /'nope'.*id, grp, name, score/);
    const badValue = await t.throwsAsync(readParquet(store, 's.parquet', { filter: [['id', '>', 'abc']] }), { instanceOf: TypeError });
    t.regex(badValue.message, /'abc'.*'id'/);
    await t.throwsAsync(readParquet(store, 's.parquet', { filter: [['id', '~', 1]] as never }), { instanceOf: TypeError, message: /operator '~'/ });
    await t.throwsAsync(readParquet(store, 's.parquet', { filter: [['id', 'in', 1]] as never }), { instanceOf: TypeError, message: /list of values/ });
    await t.throwsAsync(readParquet(store, 's.parquet', { rowGroups: [5] }), { instanceOf: TypeError, message: /1 row groups/ });
    await t.throwsAsync(readParquet(store, 's.parquet', { batchSize: 0 }), { instanceOf: RangeError, message: /batchSize/ });
    await t.throwsAsync(readParquet(store, 's.parquet', { colums: ['id'] } as never), { instanceOf: TypeError, message: /unknown option 'colums'/ });
    const notParquet = await t.throwsAsync(readParquet(store, 'notes.txt'), { instanceOf: InvalidFormat });
    t.is(notParquet.path, 'notes.txt');
    const missing = await t.throwsAsync(readParquet(store, 'missing.parquet'), { instanceOf: NotFound });
    t.is(missing.path, 'missing.parquet');
    await t.throwsAsync(readParquet(store, 'dir'), { instanceOf: InvalidPath });
    await t.throwsAsync(readParquet(store, '../escape.parquet'), { instanceOf: InvalidPath });
    await t.throwsAsync(writeParquet(store, 'w.parquet', sample(3), { compression: 'lzo' as never }), { instanceOf: TypeError, message: /option 'compression' must be one of zstd, .*got a string/ });
    await t.throwsAsync(writeParquet(store, 'w.parquet', sample(3), { compression: 'snappy', compressionLevel: 3 }), { instanceOf: TypeError, message: /snappy has no levels/ });
    await t.throwsAsync(writeParquet(store, 'w.parquet', sample(3), { compression: 'brotli', compressionLevel: 12 }), { instanceOf: TypeError, message: /brotli takes a level in 0..=11/ });
    // Values of another kind than the column's are mistakes, not comparisons (issue 18).
    const numberOnString = await t.throwsAsync(readParquet(store, 's.parquet', { filter: [['name', '>', 5]] }), { instanceOf: TypeError });
    t.regex(numberOnString.message, /\['name', '>', 5\] compares column 'name' of type Utf8 with a number/);
    const boolOnInt = await t.throwsAsync(readParquet(store, 's.parquet', { filter: [['id', '=', true]] }), { instanceOf: TypeError });
    t.regex(boolOnInt.message, /\['id', '=', true\] compares column 'id' of type Int32 with a boolean/);
    await t.throwsAsync(readParquet(store, 's.parquet', { filter: [['id', '=', '5']] }), { instanceOf: TypeError, message: /with a string/ });
    await t.throwsAsync(readParquet(store, 's.parquet', { filter: [['id', '<', new Date(0)]] }), { instanceOf: TypeError, message: /with a Date/ });
    t.deepEqual([...column(await readParquet(store, 's.parquet', { filter: [['id', '<', 3n]] }), 'id')], [0, 1, 2], 'a bigint against an integer column is fine');
    await t.throwsAsync(writeParquet(store, 'w.parquet', 'text' as never), { instanceOf: TypeError, message: /Table/ });
    t.false(await store.exists('w.parquet'));
  });

  test(`${kind} › writeParquet keeps schema and field metadata (GeoParquet's geo) where pyarrow looks for them`, async (t) => {
    const { store, dir } = await storeOf(t, kind);
    const geo = JSON.stringify({ version: '1.1.0', primary_column: 'geometry', columns: { geometry: { encoding: 'WKB' } } });
    const schema = new A.Schema(
      [new A.Field('id', new A.Int32(), false, new Map([['unit', 'count']])), new A.Field('geometry', new A.Binary(), true, new Map([['crs', 'EPSG:4326']]))],
      new Map([['geo', geo], ['pandas', '{"index_columns": []}']]),
    );
    const table = new A.Table(schema, new A.RecordBatch(schema, A.makeData({
      type: new A.Struct(schema.fields),
      length: 2,
      children: [
        A.makeData({ type: new A.Int32(), length: 2, data: Int32Array.of(1, 2) }),
        A.makeData({ type: new A.Binary(), length: 2, valueOffsets: Int32Array.of(0, 1, 3), data: Uint8Array.of(1, 2, 3) }),
      ],
    })));
    await writeParquet(store, 'geo.parquet', table, { compression: 'zstd', compressionLevel: 9 });
    const back = await readParquet(store, 'geo.parquet');
    t.is(back.schema.metadata.get('geo'), geo);
    t.is(back.schema.metadata.get('pandas'), '{"index_columns": []}');
    t.is(back.schema.fields[0]!.metadata.get('unit'), 'count');
    t.is(back.schema.fields[1]!.metadata.get('crs'), 'EPSG:4326');
    const meta = await readParquetMetadata(store, 'geo.parquet');
    t.is(meta.keyValueMetadata.geo, geo, 'geo is a key/value entry of the file, as GeoParquet requires');
    t.is(meta.rowGroups[0]!.columns[0]!.compression.slice(0, 4), 'ZSTD');

    const file = path.join(dir, 'geo.parquet');
    if (kind === 'memory') await writeFile(file, await store.readBytes('geo.parquet'));
    const theirs = pyarrowMeta(file);
    t.is(theirs.kv.geo, geo);
    t.deepEqual(theirs.fields, { id: { unit: 'count' }, geometry: { crs: 'EPSG:4326' } });
  });

  test(`${kind} › readParquet puts a pyarrow file's key/value metadata on the schema and reads brotli; brotli writes read in pyarrow`, async (t) => {
    const { store, dir } = await storeOf(t, kind);
    const theirs = path.join(dir, 'theirs-brotli.parquet');
    pyarrowWriteMeta(theirs);
    if (kind === 'memory') await store.write('theirs-brotli.parquet', await readFile(theirs));
    const table = await readParquet(store, 'theirs-brotli.parquet');
    t.deepEqual([...column(table, 'id')], [1n, 2n, 3n]);
    t.is(table.schema.metadata.get('owner'), 'pyarrow');
    t.regex(table.schema.metadata.get('geo') ?? '', /primary_column/);
    t.is(table.schema.fields[1]!.metadata.get('crs'), 'EPSG:4326');

    // A file does not record its level; what it does is seen in the size.
    const sizes = [];
    for (const level of [0, 11]) sizes.push((await writeParquet(store, `b${level}.parquet`, sample(20_000), { compression: 'brotli', compressionLevel: level })).size);
    t.true(sizes[1]! < 0.8 * sizes[0]!, `brotli level 11 (${sizes[1]} bytes) compresses harder than level 0 (${sizes[0]} bytes)`);
    await writeParquet(store, 'ours-brotli.parquet', sample(500), { compression: 'brotli', compressionLevel: 5 });
    const ours = path.join(dir, 'ours-brotli.parquet');
    if (kind === 'memory') await writeFile(ours, await store.readBytes('ours-brotli.parquet'));
    t.deepEqual(pyarrowMeta(ours).codecs, ['BROTLI']);
    t.deepEqual(pyarrowDump(ours).id!.values.slice(0, 3), ['0', '1', '2']);
  });

  test(`${kind} › an abort ends a scan with AbortError`, async (t) => {
    const { store } = await storeOf(t, kind);
    await writeParquet(store, 's.parquet', sample(1000), { rowGroupSize: 100 });
    const ac = new AbortController();
    const seen: number[] = [];
    const err = await t.throwsAsync(
      (async () => {
        for await (const b of scanParquet(store, 's.parquet', { batchSize: 50, signal: ac.signal })) {
          seen.push(b.numRows);
          ac.abort();
        }
      })(),
    );
    t.is(err?.name, 'AbortError');
    t.deepEqual(seen, [50]);
  });
}

test('batches hand over memory without copying: columns are views into external regions, sliced columns share one', async (t) => {
  const { store } = await storeOf(t, 'local');
  await writeParquet(store, 'big.parquet', sample(100_000), { rowGroupSize: 100_000, compression: 'none' });
  const table = await readParquet(store, 'big.parquet', { batchSize: 100_000 });
  const ids = table.getChild('id')!.data[0]!;
  // A decoded column is a view over the addon's allocation: its ArrayBuffer is that region.
  t.is(ids.values.byteLength, 400_000);
  t.true(ids.values.buffer.byteLength >= 400_000);
  t.is(ids.values[99_999], 99_999);
  // The same data read twice gives two independent tables (no shared mutable state).
  const again = await readParquet(store, 'big.parquet', { columns: ['id'], limit: 10 });
  t.not(again.getChild('id')!.data[0]!.values.buffer, ids.values.buffer);
});

test('batches of one column chunk share one ArrayBuffer for their shared dictionary', async (t) => {
  const { store } = await storeOf(t, 'local');
  const words = ['alpha', 'beta', 'gamma', 'delta'];
  const n = 20_000;
  const table = new A.Table({ k: A.vectorFromArray(Array.from({ length: n }, (_, i) => words[i % 4]!), new A.Dictionary(new A.Utf8(), new A.Int32())) });
  await writeParquet(store, 'd.parquet', table, { rowGroupSize: n });
  const back = await readParquet(store, 'd.parquet', { batchSize: 1000 });
  const chunks = back.getChild('k')!.data;
  t.is(chunks.length, 20);
  t.is(new Set(chunks.map((d) => d.dictionary!.data[0]!.values.buffer)).size, 1);
  t.deepEqual([back.getChild('k')!.get(0), back.getChild('k')!.get(n - 1)], ['alpha', 'delta']);
});
