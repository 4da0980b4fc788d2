'use strict';
/**
 * The Arrow identity checks, shared by `arrow-identity.spec.mjs` (which imports the package and
 * apache-arrow's ES module build) and `arrow-identity.spec.cjs` (which requires both, getting
 * apache-arrow's CommonJS build). Each passes its own apache-arrow `A` and package entry `api`:
 * what the package hands back must be objects of that very build.
 */

/** A value that `vector.get(i)` answered, as plain data (rows, vectors, bigints, bytes). */
function plain(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v;
  if (typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (ArrayBuffer.isView(v)) return Array.from(v, plain);
  if (v instanceof Date) return v.toISOString();
  if (typeof v.toArray === 'function' && typeof v[Symbol.iterator] === 'function') return Array.from(v, plain);
  if (typeof v.toJSON === 'function') return plain(v.toJSON());
  if (v instanceof Map) return [...v].map(([k, x]) => [plain(k), plain(x)]);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

/** Every column's `get(i)` for every row, as plain data. */
function rowsOf(table) {
  return Object.fromEntries(
    table.schema.fields.map((f) => {
      const column = table.getChild(f.name);
      return [f.name, Array.from({ length: table.numRows }, (_, i) => plain(column.get(i)))];
    }),
  );
}

/** Values `get(i)` answers that are Arrow objects themselves (list items, nested vectors). */
function foreignValues(A, table) {
  const out = [];
  for (const f of table.schema.fields) {
    const column = table.getChild(f.name);
    if (!(column instanceof A.Vector)) out.push(`${f.name}: column`);
    if (!(f instanceof A.Field) || !(f.type instanceof A.DataType)) out.push(`${f.name}: field or type`);
    for (let i = 0; i < table.numRows; i++) {
      const v = column.get(i);
      const isVectorLike = v && typeof v === 'object' && typeof v.toArray === 'function' && 'data' in v;
      if (isVectorLike && !(v instanceof A.Vector)) out.push(`${f.name}[${i}]`);
    }
  }
  return out;
}

/**
 * Writes the all-types `table` (built with `A`) as Parquet through `api`, reads it back, and
 * answers what a test asserts: each check's outcome, and the rows as `get(i)` sees them.
 */
async function identityReport(A, api, table, dir) {
  const store = new api.Store(new api.LocalBackend({ root: dir }));
  await api.writeParquet(store, 'all.parquet', table);
  const back = await api.readParquet(store, 'all.parquet');
  const ipc = A.tableFromIPC(A.tableToIPC(back));
  const rebuilt = new A.Table(back.batches);
  const scanned = [];
  for await (const batch of api.scanParquet(store, 'all.parquet', { batchSize: 4 })) scanned.push(batch);
  const meta = await api.readParquetMetadata(store, 'all.parquet');
  // Datasets: the caller's Table is accepted by writeDataset, and what comes back is of its build.
  await api.writeDataset(store, 'ds', table, { maxRowsPerFile: 3 });
  const dataset = await api.readDataset(store, 'ds');
  const datasetScanned = [];
  for await (const batch of api.scanDataset(store, 'ds')) datasetScanned.push(batch);
  const datasetMeta = await api.readDatasetMetadata(store, 'ds');
  return {
    columns: table.numCols,
    rows: table.numRows,
    instanceOf: {
      table: back instanceof A.Table,
      schema: back.schema instanceof A.Schema,
      batches: back.batches.length > 0 && back.batches.every((b) => b instanceof A.RecordBatch),
      scanned: scanned.length > 1 && scanned.every((b) => b instanceof A.RecordBatch),
      metadataSchema: meta.schema instanceof A.Schema,
      dataset: dataset instanceof A.Table && dataset.batches.every((b) => b instanceof A.RecordBatch),
      datasetScanned: datasetScanned.length > 1 && datasetScanned.every((b) => b instanceof A.RecordBatch),
      datasetSchema: datasetMeta.schema instanceof A.Schema,
    },
    foreign: foreignValues(A, back),
    rebuiltRows: rebuilt.numRows,
    expected: rowsOf(table),
    read: rowsOf(back),
    ipc: rowsOf(ipc),
    rebuilt: rowsOf(rebuilt),
    dataset: rowsOf(dataset),
  };
}

/** The ava assertions on a report, with one log line a reader can compare across Node majors. */
function assertReport(t, report, flavour) {
  t.deepEqual(report.instanceOf, {
    table: true,
    schema: true,
    batches: true,
    scanned: true,
    metadataSchema: true,
    dataset: true,
    datasetScanned: true,
    datasetSchema: true,
  });
  t.deepEqual(report.foreign, []);
  t.is(report.rebuiltRows, report.rows);
  for (const name of Object.keys(report.expected)) {
    t.deepEqual(report.read[name], report.expected[name], `readParquet: column ${name}`);
    t.deepEqual(report.ipc[name], report.expected[name], `tableToIPC/tableFromIPC: column ${name}`);
    t.deepEqual(report.rebuilt[name], report.expected[name], `new Table(t.batches): column ${name}`);
    t.deepEqual(report.dataset[name], report.expected[name], `writeDataset/readDataset: column ${name}`);
  }
  t.log(
    `${flavour} on Node ${process.version}: ${report.columns} columns x ${report.rows} rows; instanceof Table/Schema/RecordBatch, ` +
      'tableToIPC+tableFromIPC, new Table(t.batches) and vector.get(i) of every column match the written table',
  );
}

module.exports = { identityReport, assertReport, plain };
