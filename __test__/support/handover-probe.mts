/**
 * Measures the Arrow handover in a process of its own (so that RSS means something), run by
 * `__test__/arrow-handover.spec.ts` and usable by hand:
 *
 *   node --expose-gc --import tsx __test__/support/handover-probe.mts prepare DIR MIB
 *   node --expose-gc --import tsx __test__/support/handover-probe.mts measure DIR MIB [WARMUP_FILE]
 *   node --expose-gc --import tsx __test__/support/handover-probe.mts stress DIR TABLES
 *
 * `prepare` writes DIR/h-MIB.parquet: 4 Int64 columns, MIB MiB of values, 8 row groups.
 * `measure` reads it back as one Table (after one warm-up read) and prints JSON: the JS
 * thread's busy time during the read (event-loop utilisation: decoding runs on Rust threads,
 * so this is the handover) and the garbage collector's share of it, RSS before, after, and
 * after dropping the table and collecting garbage.
 * `stress` reads a small file TABLES times, dropping each table, and prints RSS figures, with the
 * part of RSS that V8 holds for its own heap (heapTotal), whose size differs by Node major.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import * as A from 'apache-arrow';
import { batchOf, schemaOf } from '../../src/arrow/cdata';
import { LocalBackend, NativeObjectStore, readParquet, Store, writeParquet } from '../../src/index';
import { loadNativeBinding } from '../../src/native';
import { settleNativeMemory } from './settle';

const [mode, dir, arg] = process.argv.slice(2);
const store = new Store(new LocalBackend({ root: dir! }));
const COLUMNS = 4;
const GROUPS = 8;
const MiB = 1024 * 1024;
const rss = () => process.memoryUsage().rss;
const gc = globalThis.gc as () => void;


function rowsFor(mib: number): number {
  return Math.floor((mib * MiB) / (8 * COLUMNS));
}

async function prepare(mib: number): Promise<void> {
  const rows = rowsFor(mib);
  const perGroup = Math.ceil(rows / GROUPS);
  async function* batches() {
    const step = Math.min(perGroup, 1 << 20);
    for (let start = 0; start < rows; start += step) {
      const n = Math.min(step, rows - start);
      const cols: Record<string, A.Vector> = {};
      for (let c = 0; c < COLUMNS; c++) {
        const v = new BigInt64Array(n);
        for (let i = 0; i < n; i++) v[i] = BigInt(start + i) * BigInt(c + 1);
        cols[`c${c}`] = A.makeVector(v);
      }
      yield new A.Table(cols).batches[0]!;
    }
  }
  await writeParquet(store, `h-${mib}.parquet`, batches(), { compression: 'none', rowGroupSize: perGroup, overwrite: true });
}

async function measure(mib: number, warmup: string): Promise<void> {
  // The first read pays for loading and compiling; measure a warm path.
  await readParquet(store, warmup);
  await settleNativeMemory();
  const before = rss();
  let gcMs = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gcs.observe({ entryTypes: ['gc'] });
  const elu0 = performance.eventLoopUtilization();
  const started = performance.now();
  let table: A.Table | undefined = await readParquet(store, `h-${mib}.parquet`, { batchSize: Math.ceil(rowsFor(mib) / GROUPS) });
  const wallMs = performance.now() - started;
  const jsMs = performance.eventLoopUtilization(elu0).active;
  await new Promise((r) => setImmediate(r));
  gcs.disconnect();
  const after = rss();
  const rows = table.numRows;
  const last = table.getChild('c3')!.get(rows - 1);
  const batches = table.batches.length;
  table = undefined;
  await settleNativeMemory();
  const dropped = rss();
  // The handover alone, batch by batch: wrap the native memory (export) and build the
  // apache-arrow objects. Node tells V8 about each external buffer, and V8 may collect garbage
  // right there; that pause (reported as a 'gc' entry) is V8's reaction to memory held, not
  // handover work, so it is subtracted.
  const binding = loadNativeBinding();
  const native = store.unwrap(NativeObjectStore as never) as NativeObjectStore;
  const token = () => new binding.CancelToken();
  const scan = await native.rawStore().parquetOpen(`h-${mib}.parquet`, { batchSize: Math.ceil(rowsFor(mib) / GROUPS) }, token());
  const schema = schemaOf(A, scan.schema().export());
  const pauses: { startTime: number; duration: number }[] = [];
  const observer = new PerformanceObserver((list) => pauses.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const windows: [number, number][] = [];
  const kept: A.RecordBatch[] = [];
  for (let b = await scan.next(token()); b; b = await scan.next(token())) {
    const t0 = performance.now();
    kept.push(batchOf(A, b.export(), schema));
    windows.push([t0, performance.now()]);
  }
  await new Promise((r) => setTimeout(r, 50));
  observer.disconnect();
  const handoverMs = windows.map(([from, to]) => {
    const inGc = pauses.reduce((sum, p) => sum + Math.max(0, Math.min(to, p.startTime + p.duration) - Math.max(from, p.startTime)), 0);
    return to - from - inGc;
  });
  const handoverGcMs = windows.reduce((sum, [from, to]) => sum + (to - from), 0) - handoverMs.reduce((a, b) => a + b, 0);
  kept.length = 0;
  process.stdout.write(
    JSON.stringify({ mib, rows, batches, check: String(last) === String(BigInt(rows - 1) * 4n), wallMs, jsMs, gcMs, handoverMs, handoverGcMs, before, after, dropped, tableBytes: rows * 8 * COLUMNS }),
  );
}

async function stress(tables: number): Promise<void> {
  const small = new A.Table({
    id: A.vectorFromArray(Array.from({ length: 2000 }, (_, i) => i), new A.Int32()),
    s: A.vectorFromArray(Array.from({ length: 2000 }, (_, i) => `v${i % 10}`), new A.Dictionary(new A.Utf8(), new A.Int16())),
  });
  await writeParquet(store, 'small.parquet', small, { overwrite: true, rowGroupSize: 500 });
  // Warm up allocators and caches before the baseline.
  for (let i = 0; i < 50; i++) await readParquet(store, 'small.parquet', { batchSize: 100 });
  await settleNativeMemory();
  const before = rss();
  const heapBefore = process.memoryUsage().heapTotal;
  let rows = 0;
  for (let i = 0; i < tables; i++) {
    const t = await readParquet(store, 'small.parquet', { batchSize: 100 });
    rows += t.numRows;
    if (i % 500 === 0) gc();
  }
  const peak = rss();
  await settleNativeMemory();
  process.stdout.write(JSON.stringify({ tables, rows, before, peak, after: rss(), heapBefore, heapAfter: process.memoryUsage().heapTotal }));
}

const n = Number(arg);
if (mode === 'prepare') await prepare(n);
else if (mode === 'measure') await measure(n, process.argv[5] ?? `h-${n}.parquet`);
else if (mode === 'stress') await stress(n);
else throw new Error(`unknown mode ${mode}`);
await store.close();
