/**
 * Datasets on a real S3 server (s3s-fs on 127.0.0.1), bytes counted on the wire by a proxy:
 * a partition filter fetches nothing of the other partitions, a projection only its column
 * chunks; a failed write leaves no object. Both S3 backends (s3-arrow reads in Rust, s3
 * through the Store) give the same rows.
 */
import test from 'ava';
import * as A from 'apache-arrow';
import { S3ArrowBackend } from '../../src/backends/s3-arrow';
import { S3Backend } from '../../src/backends/s3';
import { InvalidFormat, readDataset, readDatasetMetadata, readParquetMetadata, Store, writeDataset } from '../../src/index';
import { FaultProxy } from '../support/fault-proxy';
import { createBucket, startServer, type S3Server } from '../support/s3-servers';

let server: Promise<S3Server> | undefined;
test.after.always(async () => {
  if (server) await (await server).stop();
});

const BACKENDS = { 's3-arrow': S3ArrowBackend, s3: S3Backend } as const;

async function setup(kind: keyof typeof BACKENDS) {
  const s = await (server ??= startServer('s3s-fs'));
  const bucket = await createBucket(s);
  const proxy = await FaultProxy.start(s.endpoint);
  const store = new Store(new BACKENDS[kind]({ bucket, key: s.accessKey, secret: s.secretKey, endpoint_url: proxy.url, region_name: s.region }));
  return { store, proxy, done: async () => (await store.close(), await proxy.stop()) };
}

/** 10 columns of 2,000 rows per day, 10 days: `day` is the partition key. */
function events(): A.Table {
  const rows = 20_000;
  const cols: Record<string, A.Vector> = {
    id: A.makeVector(BigInt64Array.from({ length: rows }, (_, i) => BigInt(i))),
    day: A.vectorFromArray(Array.from({ length: rows }, (_, i) => 1 + Math.floor(i / 2000)), new A.Int32()),
  };
  for (let c = 0; c < 8; c++) cols[`v${c}`] = A.makeVector(Float64Array.from({ length: rows }, (_, i) => Math.sin(i * (c + 1))));
  return new A.Table(cols);
}

for (const kind of Object.keys(BACKENDS) as (keyof typeof BACKENDS)[]) {
  test(`${kind} › a filter on 2 of 10 partitions fetches only their footers and selected column chunks`, async (t) => {
    const { store, proxy, done } = await setup(kind);
    t.teardown(done);
    const written = await writeDataset(store, 'events', events(), { partitionBy: ['day'], compression: 'zstd' });
    t.is(written.length, 10);

    const meta = await readDatasetMetadata(store, 'events', { filter: [['day', 'in', [3, 7]]] });
    t.deepEqual(meta.files, ['events/day=3/part-0.parquet', 'events/day=7/part-0.parquet']);
    let chunks = 0;
    let sizes = 0;
    for (const f of meta.files) {
      const m = await readParquetMetadata(store, f);
      sizes += m.size;
      for (const g of m.rowGroups) chunks += g.columns.filter((c) => c.path === 'id' || c.path === 'v5').reduce((s, c) => s + c.compressedSize, 0);
    }

    proxy.resetStats();
    const table = await readDataset(store, 'events', { columns: ['id', 'v5', 'day'], filter: [['day', 'in', [3, 7]]] });
    const wire = proxy.stats.bytesDown;
    t.is(table.numRows, 4000);
    const ids = Array.from(table.getChild('id')!.toArray() as BigInt64Array, Number);
    t.deepEqual([ids[0], ids[1999], ids[2000], ids[3999]], [4000, 5999, 12000, 13999]);
    t.deepEqual([...new Set(table.getChild('day')!.toArray() as Int32Array)], [3, 7]);
    t.log(`${kind}: 2 of 10 partitions, 2 of 10 columns: ${wire} bytes on the wire; selected chunks ${chunks}, those files ${sizes}; ${proxy.stats.requests} requests`);
    t.true(wire >= chunks, 'the selected chunks crossed the wire');
    t.true(wire < sizes, 'less than the two files: the other columns were not fetched, and no other file was');
  });

  test(`${kind} › a failing write leaves no object; a corrupt member is named`, async (t) => {
    const { store, done } = await setup(kind);
    t.teardown(done);
    const table = events();
    async function* failing() {
      yield* table.slice(0, 10_000).batches;
      throw new Error('source broke');
    }
    await t.throwsAsync(writeDataset(store, 'fail', failing(), { partitionBy: ['day'] }), { message: /source broke/ });
    const left: string[] = [];
    for await (const f of store.listFiles('fail', { recursive: true })) left.push(f.path);
    t.deepEqual(left, []);

    await writeDataset(store, 'ok', table.slice(0, 4000), { partitionBy: ['day'] });
    // Larger than the footer request: s3s-fs answers a suffix range longer than the object with 500.
    await store.write('ok/day=2/zz.parquet', 'garbage, not parquet '.repeat(5000));
    const err = await t.throwsAsync(readDataset(store, 'ok'), { instanceOf: InvalidFormat });
    t.is(err.path, 'ok/day=2/zz.parquet');
    t.is((await readDataset(store, 'ok', { filter: [['day', '=', 1]] })).numRows, 2000, 'the corrupt partition pruned away reads fine');
  });
}
