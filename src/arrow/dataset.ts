/**
 * Datasets: a folder (or a glob's matches) of Parquet files read as one table, and a table
 * written as such a folder, hive-partitioned (`year=2024/month=11/part-0.parquet`), laid out
 * the way pyarrow.dataset, duckdb (`hive_partitioning`) and polars read and write it.
 *
 * Reading plans before it fetches: files whose partition values rule the filter out are
 * never requested; the others' footers are read (a few at once) and their schemas unified;
 * then the files are read concurrently (as many as a memory budget allows) by the same
 * Rust scan as `readParquet` — row groups pruned by statistics, rows filtered exactly — and
 * their batches come out in path order.
 *
 * @example
 * // ETL: read two partitions from one store, transform in JS, write a dataset to another.
 * const sales = await readDataset(lake, 'sales', {
 *   columns: ['region', 'amount', 'year'],
 *   filter: [['year', 'in', [2023, 2024]], ['amount', '>', 0]],
 * });
 * const withTax = tableFromArrays({
 *   region: sales.getChild('region')!.toArray(),
 *   year: sales.getChild('year')!.toArray(),
 *   gross: Float64Array.from(sales.getChild('amount')!.toArray(), (a) => a * 1.2),
 * });
 * await writeDataset(warehouse, 'sales_gross', withTax, { partitionBy: ['year'], compression: 'zstd' });
 */
import type * as Arrow from 'apache-arrow';
import type { SignalOptions } from '../backend';
import { AlreadyExists, RemoteStoreError, throwIfAborted } from '../errors';
import { isLiteral, literalPrefix } from '../glob';
import type { FileInfo, WriteResult } from '../models';
import {
  loadNativeBinding,
  nativeCall,
  type DatasetBinding,
  type NativeCancelToken,
  type RawDatasetOptions,
  type RawDatasetScan,
  type RawDatasetStore,
  type RawEncodedChunk,
  type RawFiles,
} from '../native';
import { checkOptions } from '../options';
import { joinKey, normalizeFolderPath, parentKey, relativeTo } from '../path';
import { describe } from '../retry';
import type { Store } from '../store';
import { emptyBatchOf, importBatchOf } from './cdata';
import { hostTypes, type ArrowModule, type ArrowSource } from './load';
import {
  collect,
  construct,
  drain,
  ENCODING_SPEC,
  encoderOptionsOf,
  inputOf,
  nativeOf,
  OpenScan,
  selectionOf,
  SELECTION_SPEC,
  storeReads,
  type Batches,
  type BatchSource,
  type ParquetEncodingOptions,
  type ParquetFilter,
} from './parquet';

export interface DatasetProgress {
  /** Files to read, after pruning by partition values. */
  filesTotal: number;
  filesDone: number;
  rows: number;
  /** Bytes fetched so far (footers included). */
  bytes: number;
}

export interface ReadDatasetOptions extends SignalOptions {
  /** The files' format; only Parquet for now. */
  format?: 'parquet';
  /** `'hive'` (default): folders named `key=value` give columns; `null`: folder names mean nothing. */
  partitioning?: 'hive' | null;
  /** Columns (of the files or partition keys) to read, in the order wanted (default: all). */
  columns?: string[];
  /** Rows to keep (pyarrow's DNF); terms on partition keys prune whole files before any request. */
  filter?: ParquetFilter;
  /** At most this many rows (after filtering). */
  limit?: number;
  /** Rows per record batch (default 65,536 for scanDataset; readDataset: up to 1,048,576). A batch never spans two files. */
  batchSize?: number;
  /** Called after each batch and at the end. */
  onProgress?: (progress: DatasetProgress) => void;
}

export interface WriteDatasetOptions extends SignalOptions, ParquetEncodingOptions {
  /** Columns whose values name the folders (`year=2024/`), outermost first; they are not stored in the files. */
  partitionBy?: string[];
  /** Rows per file, at most (default: no limit); a folder's files are `part-0.parquet`, `part-1.parquet`, … */
  maxRowsPerFile?: number;
  /**
   * What to do with what is already in the folder: `'error'` (default) refuses a non-empty
   * folder; `'overwrite'` replaces files of the same name and leaves the others (pyarrow's
   * `overwrite_or_ignore`); `'delete_matching'` also deletes the other files of each
   * partition folder written to, once the new files are all written.
   */
  existing?: 'error' | 'overwrite' | 'delete_matching';
  /** Called as files are written. */
  onProgress?: (progress: { filesWritten: number; bytes: number; rows: number }) => void;
}

/** readDataset keeps every batch anyway: fewer, larger ones cost less to hand over. */
const TABLE_BATCH_SIZE = 1 << 20;

const READ_SPEC = { ...SELECTION_SPEC, format: 'string', partitioning: 'object', onProgress: 'function' } as const;

function datasetOptionsOf(method: string, options: ReadDatasetOptions): RawDatasetOptions {
  const { partitioning, format } = options;
  // `partitioning: null` is an object to checkOptions; 'hive' is checked here.
  checkOptions(method, { ...options, partitioning: undefined }, READ_SPEC);
  if (format !== undefined && format !== 'parquet') throw new TypeError(`${method}: option 'format' must be 'parquet', got ${describe(format)}`);
  if (partitioning !== undefined && partitioning !== null && partitioning !== 'hive') {
    throw new TypeError(`${method}: option 'partitioning' must be 'hive' or null, got ${describe(partitioning)}`);
  }
  return { ...selectionOf(method, options), hive: partitioning !== null };
}

/** The dataset's files (store paths) and the folder they lie below: a folder, a glob's matches, or one file. */
async function listDataset(store: Store, path: string, signal: AbortSignal | undefined): Promise<{ base: string; files: FileInfo[] }> {
  if (typeof path !== 'string') throw new TypeError(`dataset path must be a string, got ${describe(path)}`);
  if (!isLiteral(path)) {
    const files: FileInfo[] = [];
    for await (const f of store.glob(path, { signal })) files.push(f);
    return { base: normalizeFolderPath(literalPrefix(path)), files };
  }
  const base = normalizeFolderPath(path);
  const files: FileInfo[] = [];
  for await (const f of store.listFiles(base, { recursive: true, signal })) files.push(f);
  if (files.length === 0 && base !== '' && (await store.isFile(base, { signal }))) {
    return { base: parentKey(base), files: [await store.getFileInfo(base, { signal })] };
  }
  return { base, files };
}

/** `err` with its path as a store path. */
function rebased(err: unknown, storePath: (path: string) => string): unknown {
  if (err instanceof RemoteStoreError && err.path !== undefined) err.rebase(storePath(err.path));
  return err;
}

class DatasetReader implements Batches {
  private constructor(
    /** A path the addon names as the store path: native stores name backend keys. */
    readonly storePath: (path: string) => string,
    readonly scan: OpenScan<RawDatasetScan>,
    private readonly failure: () => unknown,
    private readonly onProgress: ((p: DatasetProgress) => void) | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  get schema(): Arrow.Schema {
    return this.scan.schema;
  }

  static async open(a: ArrowModule, store: Store, path: string, options: RawDatasetOptions, given: ReadDatasetOptions): Promise<DatasetReader> {
    const { signal } = given;
    const raw = { ...options, host: hostTypes(a) };
    store.backend.checkOpen();
    const binding = loadNativeBinding() as ReturnType<typeof loadNativeBinding> & DatasetBinding;
    const backend = store.backend.name;
    const { base, files } = await listDataset(store, path, signal);
    const native = nativeOf(store);
    const storePath = native ? (key: string) => relativeTo(key, store.rootPath) ?? key : (path: string) => path;
    let failure: () => unknown = () => undefined;
    let open: (t: NativeCancelToken) => Promise<RawDatasetScan>;
    if (native) {
      const keys = files.map((f) => joinKey(store.rootPath, f.path));
      open = (t) => (native.rawStore() as unknown as RawDatasetStore).datasetOpen(joinKey(store.rootPath, base), keys, raw, t);
    } else {
      const reads = storeReads(store, signal, new Map(files.map((f) => [f.path, f])));
      const source: RawFiles = { suffix: ({ path, n }) => reads.suffix(path, n), ranges: ({ path, ranges }) => reads.ranges(path, ranges) };
      failure = reads.failure;
      open = (t) => binding.datasetOpenSource(source, base, files.map((f) => f.path), raw, t);
    }
    try {
      const scan = await nativeCall(binding, base, backend, signal, open);
      return new DatasetReader(storePath, new OpenScan(a, scan, binding, base, backend), failure, given.onProgress, signal);
    } catch (err) {
      throw rebased(failure() ?? err, storePath);
    }
  }

  async next(): Promise<Arrow.RecordBatch | null> {
    const { signal } = this;
    try {
      const batch = await this.scan.next(signal);
      if (this.onProgress) {
        const { filesTotal, filesDone, rows, bytes } = this.scan.raw.progress();
        this.onProgress({ filesTotal, filesDone, rows, bytes });
      }
      return batch;
    } catch (err) {
      throw rebased(signal?.aborted ? err : (this.failure() ?? err), this.storePath);
    }
  }

  close(): Promise<void> {
    return this.scan.close();
  }
}

/**
 * The record batches of a dataset, one at a time, in path order (all of one schema: the
 * files' columns unified, then the partition keys). Stop early by breaking out of the loop.
 */
export function scanDataset(arrow: ArrowSource, store: Store, path: string, options: ReadDatasetOptions = {}): AsyncIterable<Arrow.RecordBatch> {
  const raw = datasetOptionsOf('scanDataset', options);
  return (async function* () {
    yield* drain(await DatasetReader.open(await arrow.load(), store, path, raw, options));
  })();
}

/** A whole dataset (or the selected part of it) as one apache-arrow Table. */
export async function readDataset(arrow: ArrowSource, store: Store, path: string, options: ReadDatasetOptions = {}): Promise<Arrow.Table> {
  const raw = datasetOptionsOf('readDataset', options);
  raw.batchSize ??= TABLE_BATCH_SIZE;
  const a = await arrow.load();
  const reader = await DatasetReader.open(a, store, path, raw, options);
  return collect(a, reader.schema, reader);
}

export interface DatasetMetadata {
  /** The schema batches are read with: the files' columns unified, then the partition keys. */
  schema: Arrow.Schema;
  /** The files read (after pruning by partition values, when a filter is given), in reading order. */
  files: string[];
  /** Their rows, from their footers (before any row filter). */
  numRows: number;
}

/** What a dataset holds, from its listing and its files' footers: no data is read. */
export async function readDatasetMetadata(
  arrow: ArrowSource,
  store: Store,
  path: string,
  options: Pick<ReadDatasetOptions, 'partitioning' | 'filter' | 'signal'> = {},
): Promise<DatasetMetadata> {
  const raw = datasetOptionsOf('readDatasetMetadata', options);
  const reader = await DatasetReader.open(await arrow.load(), store, path, raw, options);
  try {
    const files = reader.scan.raw.files().map(reader.storePath);
    return { schema: reader.schema, files, numRows: reader.scan.raw.numRows() };
  } finally {
    await reader.close();
  }
}

// ---- writing ---------------------------------------------------------------------------

/**
 * The bytes of one file on their way into `store.write`. The write's source stays open after
 * the file's last bytes until `commit()`: every file of a dataset is committed only once all
 * were encoded, and `fail()` makes every pending write abort (nothing is left behind).
 */
class FileSink {
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  #error: unknown;
  #wake: (() => void) | undefined;
  #drained: (() => void) | undefined;
  #committed = false;
  readonly result: Promise<WriteResult>;

  constructor(write: (source: AsyncIterable<Uint8Array>) => Promise<WriteResult>) {
    this.result = write(this.#source());
    // Failures are read from `result` where they matter; do not let one go unhandled meanwhile.
    this.result.catch(() => undefined);
  }

  get queued(): number {
    return this.#queued;
  }

  push(data: Buffer): void {
    this.#queue.push(data);
    this.#queued += data.length;
    this.#wakeUp();
  }

  end(): void {
    this.#ended = true;
  }

  commit(): void {
    this.#committed = true;
    this.#wakeUp();
  }

  fail(err: unknown): void {
    this.#error ??= err;
    this.#wakeUp();
  }

  /** Resolves once the write has taken every queued chunk. */
  drained(): Promise<void> {
    if (this.#queued === 0 || this.#error !== undefined) return Promise.resolve();
    return new Promise((resolve) => (this.#drained = resolve));
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *#source(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      const next = this.#queue.shift();
      if (next) {
        this.#queued -= next.length;
        if (this.#queued === 0) {
          this.#drained?.();
          this.#drained = undefined;
        }
        yield next;
        continue;
      }
      if (this.#ended && this.#committed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

/** Bytes a file may have waiting for its write before encoding pauses. */
const SINK_HIGH_WATER = 16 * 1024 * 1024;


const WRITE_SPEC = { ...ENCODING_SPEC, partitionBy: 'object', maxRowsPerFile: 'count', existing: 'string', onProgress: 'function' } as const;
const EXISTING = ['error', 'overwrite', 'delete_matching'];

/**
 * Writes a Table, a RecordBatch or a (possibly async) iterable of batches as a dataset in the
 * folder `path`: hive-partitioned by `partitionBy`, Parquet files encoded in Rust and streamed
 * to the store. Every file is committed only after the whole input was encoded: when the
 * source, the encoder or any write fails (or the signal fires), nothing is written.
 * Returns one WriteResult per file, in the order the files were started.
 */
export async function writeDataset(
  arrow: ArrowSource,
  store: Store,
  path: string,
  data: BatchSource,
  options: WriteDatasetOptions = {},
): Promise<WriteResult[]> {
  checkOptions('writeDataset', options, WRITE_SPEC);
  const a = await arrow.load();
  const encoder = encoderOptionsOf('writeDataset', options);
  const existing = options.existing ?? 'error';
  if (!EXISTING.includes(existing)) throw new TypeError(`writeDataset: option 'existing' must be one of ${EXISTING.join(', ')}, got ${describe(existing)}`);
  const partitionBy = options.partitionBy ?? [];
  if (!Array.isArray(partitionBy) || partitionBy.some((c) => typeof c !== 'string' || c === '')) {
    throw new TypeError(`writeDataset: option 'partitionBy' must be a list of column names, got ${describe(partitionBy)}`);
  }
  if (options.maxRowsPerFile === 0) throw new RangeError('writeDataset: option maxRowsPerFile must be at least 1');
  const { schema, batches } = inputOf(a, 'writeDataset', data);
  const { signal } = options;
  const folder = normalizeFolderPath(path);
  store.backend.checkOpen();
  if (existing === 'error') {
    for await (const file of store.listFiles(folder, { recursive: true, signal })) {
      throw new AlreadyExists(`writeDataset: the folder '${folder}' is not empty (it holds '${file.path}'); use existing: 'overwrite' or 'delete_matching'`, {
        path: folder,
        backend: store.backend.name,
      });
    }
  }
  const binding = loadNativeBinding() as ReturnType<typeof loadNativeBinding> & DatasetBinding;
  const writer = construct('writeDataset', () => new binding.DatasetWriterHandle({ partitionBy, maxRowsPerFile: options.maxRowsPerFile, encoder }));
  const backend = store.backend.name;
  const sinks = new Map<string, FileSink>();
  let bytes = 0;
  let rows = 0;
  let filesWritten = 0;

  const route = async (chunks: RawEncodedChunk[]): Promise<void> => {
    for (const c of chunks) {
      let sink = sinks.get(c.path);
      if (!sink) {
        const target = joinKey(folder, c.path);
        sink = new FileSink((source) => store.write(target, source, { overwrite: existing !== 'error', signal }));
        sinks.set(c.path, sink);
      }
      sink.push(c.data);
      bytes += c.data.length;
      if (c.last) {
        sink.end();
        filesWritten++;
      }
    }
    options.onProgress?.({ filesWritten, bytes, rows });
    // Encoding waits for writes that fall behind.
    for (const s of sinks.values()) if (s.queued > SINK_HIGH_WATER) await Promise.race([s.drained(), s.result]);
  };
  const encode = (work: () => Promise<RawEncodedChunk[]>) => nativeCall(binding, folder, backend, signal, work);

  try {
    let wrote = false;
    for await (const batch of batches) {
      throwIfAborted(signal, folder);
      wrote = true;
      rows += batch.numRows;
      await route(await encode(() => writer.write(importBatchOf(a, batch, schema))));
    }
    await route(await encode(() => writer.finish(wrote || !schema ? null : importBatchOf(a, emptyBatchOf(a, schema)))));
    throwIfAborted(signal, folder);
  } catch (err) {
    for (const s of sinks.values()) s.fail(err);
    await Promise.allSettled([...sinks.values()].map((s) => s.result));
    throw err;
  }

  for (const s of sinks.values()) s.commit();
  const settled = await Promise.allSettled([...sinks.values()].map((s) => s.result));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed) {
    // Some files were committed before another failed: take them back (best effort).
    await Promise.allSettled(results.map((r) => store.delete(r.path, { missingOk: true })));
    throw failed.reason;
  }
  if (existing === 'delete_matching') await deleteOthers(store, folder, [...sinks.keys()], signal);
  return results;
}

/** Deletes the files of each written folder that this write did not write. */
async function deleteOthers(store: Store, folder: string, written: string[], signal: AbortSignal | undefined): Promise<void> {
  const keep = new Set(written.map((p) => joinKey(folder, p)));
  const folders = new Set(written.map((p) => joinKey(folder, parentKey(p))));
  for (const dir of folders) {
    const stale: string[] = [];
    for await (const f of store.listFiles(dir, { signal })) if (!keep.has(f.path)) stale.push(f.path);
    for (const p of stale) await store.delete(p, { missingOk: true, signal });
  }
}
