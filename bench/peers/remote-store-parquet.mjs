// Parquet and dataset peer: THIS PROJECT, readParquet / readDataset / writeDataset over the
// s3-arrow backend. The op contract (see ../cell.mjs and ../lib/workloads.mjs):
//   parquet({ key, columns, filter }) → number of rows read
//   dataset({ key, columns, filter }) → number of rows read (key: the dataset's folder)
//   datasetWrite({ key, rows, partitions }) → number of files written; the table (rows × 20
//     columns of the generator's shape, plus `day`) is built before timing
//   columns: string[] | null (null = all), filter: pyarrow-style DNF, e.g. [['id', '<', 400000]]
import { createRequire } from 'node:module';
import { lib, openStore } from './remote-store.mjs';

// The apache-arrow the library loads (the clone's), so that its Table is the one writeDataset knows.
const A = createRequire(new URL('../../index.js', import.meta.url))('apache-arrow');

/** A table like parquet/generate.py's: id, kind (dictionary), f00–f14, i00–i02, and day (1…partitions). */
function table(rows, partitions) {
  const random = (n, f) => Float64Array.from({ length: n }, f);
  const cols = { id: A.makeVector(BigInt64Array.from({ length: rows }, (_, i) => BigInt(i))) };
  const kinds = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
  cols.kind = A.vectorFromArray(Array.from({ length: rows }, (_, i) => kinds[(i * 7919) % 8]), new A.Dictionary(new A.Utf8(), new A.Int32()));
  for (let c = 0; c < 15; c++) cols[`f${String(c).padStart(2, '0')}`] = A.makeVector(random(rows, () => Math.random()));
  for (let c = 0; c < 3; c++) cols[`i${String(c).padStart(2, '0')}`] = A.makeVector(BigInt64Array.from({ length: rows }, () => BigInt(Math.floor(Math.random() * 2 ** 52))));
  cols.day = A.makeVector(Int32Array.from({ length: rows }, (_, i) => 1 + Math.floor((i * partitions) / rows)));
  return new A.Table(cols);
}

export async function open(t) {
  const { registry, store } = openStore(t, 's3-arrow');
  const tables = new Map();
  const options = ({ columns, filter }) => ({ ...(columns ? { columns } : {}), ...(filter ? { filter } : {}) });
  return {
    prepare: async (ops) => {
      for (const op of ops) if (op.kind === 'datasetWrite') tables.set(op.key, table(op.rows, op.partitions));
    },
    parquet: async (op) => (await lib.readParquet(store, op.key, options(op))).numRows,
    dataset: async (op) => (await lib.readDataset(store, op.key, options(op))).numRows,
    datasetWrite: async ({ key, rows, partitions }) =>
      (await lib.writeDataset(store, key, tables.get(key) ?? table(rows, partitions), { partitionBy: ['day'], existing: 'overwrite' })).length,
    close: () => registry.close(),
  };
}
