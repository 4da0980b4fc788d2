// Parquet peer: THIS PROJECT (issue 6) — the slot for readParquet over the s3-arrow backend.
// Until the package exports readParquet, open() fails with "pending: …" and results.md shows
// the row as pending. The op contract (see ../cell.mjs and ../lib/workloads.mjs):
//   parquet({ key, columns, filter }) → number of rows read
//   columns: string[] | null (null = all), filter: pyarrow-style DNF, e.g. [['id', '<', 400000]]
import { lib, openStore } from './remote-store.mjs';

export async function open(t) {
  if (typeof lib.readParquet !== 'function') throw new Error('pending: readParquet (issue 6) is not in this build');
  const { registry, store } = openStore(t, 's3-arrow');
  return {
    parquet: async ({ key, columns, filter }) => (await lib.readParquet(store, key, { ...(columns ? { columns } : {}), ...(filter ? { filter } : {}) })).numRows,
    close: () => registry.close(),
  };
}
