/**
 * Parquet on a real S3 server (s3s-fs on 127.0.0.1), with the bytes counted on the wire by a
 * proxy between the client and the server: a projection fetches only its column chunks, a
 * selective filter only the row group that can match. Both S3 backends give the same rows.
 */
import test from 'ava';
import * as A from 'apache-arrow';
import { S3ArrowBackend } from '../../src/backends/s3-arrow';
import { S3Backend } from '../../src/backends/s3';
import { InvalidPath, NotFound, readParquet, readParquetMetadata, Store, writeParquet } from '../../src/index';
import { FaultProxy } from '../support/fault-proxy';
import { createBucket, startServer, type S3Server } from '../support/s3-servers';

const COLUMNS = 20;
const GROUPS = 8;
const ROWS_PER_GROUP = 25_000;

let server: Promise<S3Server> | undefined;
// moto keeps a flat key space like S3 (s3s-fs stores keys as files, and answers a GET of a
// "folder" with 500): the folder case runs there.
let flatServer: Promise<S3Server> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
  if (flatServer) await (await flatServer).stop();
});

/** 20 Int64 columns; c0 is the row number (so row groups hold disjoint ranges of it), the rest vary. */
function wideTable(): A.Table {
  const rows = GROUPS * ROWS_PER_GROUP;
  const cols: Record<string, A.Vector> = {};
  for (let c = 0; c < COLUMNS; c++) {
    const values = new BigInt64Array(rows);
    for (let r = 0; r < rows; r++) values[r] = c === 0 ? BigInt(r) : BigInt(r * 7919 + c * 104729) % 1000003n;
    cols[`c${c}`] = A.makeVector(values);
  }
  return new A.Table(cols);
}

const BACKENDS = { 's3-arrow': S3ArrowBackend, s3: S3Backend } as const;

async function setup(kind: keyof typeof BACKENDS, on: 's3s-fs' | 'moto' = 's3s-fs') {
  const s = await (on === 'moto' ? (flatServer ??= startServer('moto')) : (server ??= startServer('s3s-fs')));
  const bucket = await createBucket(s);
  const proxy = await FaultProxy.start(s.endpoint);
  const store = new Store(
    new BACKENDS[kind]({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: proxy.url, region_name: s.region }),
  );
  return { store, proxy, done: async () => (await store.close(), await proxy.stop()) };
}

for (const kind of Object.keys(BACKENDS) as (keyof typeof BACKENDS)[]) {
  test(`${kind} › 2 of 20 columns transfer at most 15% of the file; a one-row-group filter about one row group`, async (t) => {
    const { store, proxy, done } = await setup(kind);
    t.teardown(done);
    const table = wideTable();
    await writeParquet(store, 'wide.parquet', table, { rowGroupSize: ROWS_PER_GROUP, compression: 'zstd' });
    const meta = await readParquetMetadata(store, 'wide.parquet');
    t.is(meta.numRowGroups, GROUPS);
    t.is(meta.schema.fields.length, COLUMNS);
    const size = meta.size;

    proxy.resetStats();
    const two = await readParquet(store, 'wide.parquet', { columns: ['c3', 'c11'] });
    const projected = proxy.stats.bytesDown;
    t.is(two.numRows, GROUPS * ROWS_PER_GROUP);
    t.deepEqual([...(two.getChild('c3')!.toArray() as BigInt64Array).slice(0, 3)], [...(table.getChild('c3')!.toArray() as BigInt64Array).slice(0, 3)]);
    const chunks = meta.rowGroups.reduce((sum, g) => sum + g.columns[3]!.compressedSize + g.columns[11]!.compressedSize, 0);
    t.log(`${kind}: 2 of 20 columns: ${projected} of ${size} bytes on the wire (${((100 * projected) / size).toFixed(1)}%), ` +
      `selected chunks ${chunks} bytes (${(projected / chunks).toFixed(3)}×), ${proxy.stats.requests} requests`);
    t.true(projected <= 0.15 * size, `${projected} bytes on the wire for a ${size}-byte file`);
    t.true(projected >= chunks, 'the selected column chunks did cross the wire');

    proxy.resetStats();
    const lo = 5 * ROWS_PER_GROUP + 10;
    const filtered = await readParquet(store, 'wide.parquet', { filter: [['c0', '>=', lo], ['c0', '<', lo + 5]] });
    const selective = proxy.stats.bytesDown;
    t.deepEqual([...(filtered.getChild('c0')!.toArray() as BigInt64Array)], [0, 1, 2, 3, 4].map((i) => BigInt(lo + i)));
    const group = meta.rowGroups[5]!.compressedSize;
    t.log(`${kind}: filter on one row group: ${selective} bytes on the wire, that row group is ${group} bytes (${(selective / group).toFixed(3)}×)`);
    t.true(selective <= 1.15 * group + 64 * 1024, `${selective} bytes for a ${group}-byte row group`);
  });
}

for (const kind of Object.keys(BACKENDS) as (keyof typeof BACKENDS)[]) {
  test(`${kind} › a missing file is NotFound, a folder InvalidPath`, async (t) => {
    const { store, done } = await setup(kind, 'moto');
    t.teardown(done);
    await writeParquet(store, 'dir/a.parquet', wideTable().slice(0, 10));
    const missing = await t.throwsAsync(readParquet(store, 'nope.parquet'), { instanceOf: NotFound });
    t.is(missing.path, 'nope.parquet');
    const folder = await t.throwsAsync(readParquet(store, 'dir'), { instanceOf: InvalidPath });
    t.is(folder.path, 'dir');
  });
}
