/**
 * Parquet on any Store, decoded and encoded in Rust, handed over as `apache-arrow` objects.
 *
 * On stores with a native data path (`s3-arrow`, `local`) the addon fetches only the byte
 * ranges it needs straight from storage; on the others it reads those ranges through the
 * Store (`readRange`). Either way the footer is read with one suffix request, row groups
 * and pages whose statistics rule the filter out are skipped, and rows are filtered exactly.
 *
 * @example
 * const table = await readParquet(store, 'events.parquet', {
 *   columns: ['id', 'kind'],
 *   filter: [['year', '>=', 2024], ['kind', 'in', ['click', 'view']]],
 * });
 * for await (const batch of scanParquet(store, 'events.parquet', { batchSize: 10_000 })) console.log(batch.numRows);
 * await writeParquet(store, 'copy.parquet', table, { compression: 'zstd' });
 */
import type * as Arrow from 'apache-arrow';
import type { ProgressCallback, SignalOptions, Unwrappable } from '../backend';
import { Capability } from '../capabilities';
import type { FileInfo, WriteResult } from '../models';
import {
  loadNativeBinding,
  mapNativeError,
  nativeCall,
  NativeObjectStore,
  type Binding,
  type NativeCancelToken,
  type RawArrowBatch,
  type RawByteSource,
  type RawFilterValue,
  type RawParquetSummary,
  type RawScanOptions,
} from '../native';
import { InvalidPath, NotFound } from '../errors';
import { checkCount, checkOptions } from '../options';
import { describe } from '../retry';
import type { Store } from '../store';
import { batchOf, dictionaryRegions, emptyBatchOf, importBatchOf, schemaOf } from './cdata';
import { hostTypes, type ArrowModule, type ArrowSource } from './load';

export type FilterValue = number | bigint | string | boolean | Date | Uint8Array;
export type FilterOp = '=' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in';
export type FilterTerm = readonly [column: string, op: FilterOp, value: FilterValue | readonly FilterValue[]];
/** pyarrow's form: a list of ANDed terms, or a list of such lists ORed together. */
export type ParquetFilter = readonly FilterTerm[] | readonly (readonly FilterTerm[])[];

export interface ReadParquetOptions extends SignalOptions {
  /** Top-level columns to read, in the order wanted (default: all). */
  columns?: string[];
  /** Rows to keep; also skips row groups and pages whose statistics cannot match. */
  filter?: ParquetFilter;
  /** Row groups to read, by index (default: all). */
  rowGroups?: number[];
  /** At most this many rows (after filtering). */
  limit?: number;
  /** Rows per record batch (default 65,536 for scanParquet; readParquet: a row group's rows, up to 1,048,576). */
  batchSize?: number;
}

/** readParquet keeps every batch anyway: fewer, larger ones cost less to hand over. */
const TABLE_BATCH_SIZE = 1 << 20;

export type ParquetCompression = 'zstd' | 'snappy' | 'lz4' | 'gzip' | 'brotli' | 'none';

/** How a Parquet file is encoded (writeParquet, writeDataset). */
export interface ParquetEncodingOptions {
  /** Default `snappy`, as pyarrow. */
  compression?: ParquetCompression;
  /** The codec's level: zstd 1–22, gzip 0–10, brotli 0–11 (default: the codec's own). */
  compressionLevel?: number;
  /** Rows per row group (default 1,048,576). */
  rowGroupSize?: number;
}

export interface WriteParquetOptions extends SignalOptions, ParquetEncodingOptions {
  /** Replace an existing file. Default false: an existing target raises AlreadyExists. */
  overwrite?: boolean;
  metadata?: Record<string, string>;
  onProgress?: ProgressCallback;
}

export interface ParquetColumnChunk {
  path: string;
  physicalType: string;
  compression: string;
  compressedSize: number;
  uncompressedSize: number;
  nullCount?: number;
  /** The chunk's minimum and maximum, formatted (top-level columns with statistics). */
  min?: string;
  max?: string;
}

export interface ParquetMetadata {
  numRows: number;
  numRowGroups: number;
  /** The file's size in bytes. */
  size: number;
  createdBy?: string;
  version: number;
  /** The file's key/value metadata (without the embedded Arrow schema). */
  keyValueMetadata: Record<string, string>;
  /** The Arrow schema the file reads as. */
  schema: Arrow.Schema;
  rowGroups: Array<{ numRows: number; totalByteSize: number; compressedSize: number; columns: ParquetColumnChunk[] }>;
  hasPageIndex: boolean;
}

const OPS = new Set(['=', '==', '!=', '<', '<=', '>', '>=', 'in', 'not in']);
const COMPRESSIONS = ['zstd', 'snappy', 'lz4', 'gzip', 'brotli', 'none'];
export const ENCODING_SPEC = { compression: 'string', compressionLevel: 'count', rowGroupSize: 'count' } as const;

/**
 * The addon's encoder options, checked. Levels are checked by the addon, which knows each
 * codec's range; its refusal is a TypeError too.
 */
export function encoderOptionsOf(method: string, options: ParquetEncodingOptions): { compression: string; compressionLevel?: number; rowGroupSize?: number } {
  const compression = options.compression ?? 'snappy';
  if (!COMPRESSIONS.includes(compression)) {
    throw new TypeError(`${method}: option 'compression' must be one of ${COMPRESSIONS.join(', ')}, got ${describe(compression)}`);
  }
  if (options.rowGroupSize !== undefined && (options.rowGroupSize < 1 || options.rowGroupSize > 0xffffffff)) {
    throw new RangeError(`${method}: option 'rowGroupSize' must be between 1 and 4294967295, got ${options.rowGroupSize}`);
  }
  return { compression, compressionLevel: options.compressionLevel, rowGroupSize: options.rowGroupSize };
}

/** Runs an addon constructor; its refusal of an argument (code InvalidArgument) is a TypeError naming the method, anything else one of our error classes. */
export function construct<T>(method: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    const mapped = mapNativeError(err, undefined, 'native');
    if (mapped instanceof TypeError) throw new TypeError(`${method}: ${mapped.message}`, { cause: err });
    throw mapped;
  }
}

function filterValue(where: string, v: unknown): RawFilterValue {
  if (typeof v === 'number') return { num: v };
  if (typeof v === 'bigint') return { bigint: v.toString() };
  if (typeof v === 'string') return { str: v };
  if (typeof v === 'boolean') return { bool: v };
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new RangeError(`${where}: invalid Date`);
    return { dateMs: v.getTime() };
  }
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength) };
  throw new TypeError(`${where}: a value must be a number, bigint, string, boolean, Date or Uint8Array, got ${describe(v)}`);
}

function isTerm(x: unknown): boolean {
  return Array.isArray(x) && x.length === 3 && typeof x[0] === 'string' && typeof x[1] === 'string';
}

/** pyarrow's filter forms, checked, in the addon's shape. */
function filterOf(method: string, filter: unknown): RawScanOptions['filter'] {
  const where = `${method}: option 'filter'`;
  if (!Array.isArray(filter) || filter.length === 0) {
    throw new TypeError(`${where} must be a non-empty list of [column, op, value] terms (or a list of such lists), got ${describe(filter)}`);
  }
  const conjunctions = (isTerm(filter[0]) ? [filter] : filter) as unknown[];
  return conjunctions.map((conj, i) => {
    if (!Array.isArray(conj) || conj.length === 0) throw new TypeError(`${where}: alternative ${i} must be a non-empty list of [column, op, value] terms`);
    return conj.map((term: unknown) => {
      if (!isTerm(term)) throw new TypeError(`${where}: ${describe(term)} is not a [column, op, value] term`);
      const [column, rawOp, value] = term as [string, string, unknown];
      const op = rawOp.trim().toLowerCase();
      if (!OPS.has(op)) throw new TypeError(`${where}: unknown operator '${rawOp}' for column '${column}'; use ${[...OPS].join(', ')}`);
      const list = op === 'in' || op === 'not in';
      if (list !== Array.isArray(value)) {
        throw new TypeError(`${where}: '${op}' on column '${column}' takes ${list ? 'a list of values' : 'one value'}`);
      }
      const values = (list ? (value as unknown[]) : [value]).map((v) => filterValue(`${where} on column '${column}'`, v));
      return { column, op, values };
    });
  });
}

export const SELECTION_SPEC = { columns: 'object', filter: 'object', limit: 'count', batchSize: 'count' } as const;
const READ_SPEC = { ...SELECTION_SPEC, rowGroups: 'object' } as const;

/** What to read, as readParquet and readDataset take it: columns, filter, limit, batch size (checked). */
export interface Selection {
  columns?: string[];
  filter?: RawScanOptions['filter'];
  limit?: number;
  batchSize?: number;
}

/** The selection options (see SELECTION_SPEC, which `checkOptions` has checked the kinds of), checked and in the addon's shape. */
export function selectionOf(method: string, options: Omit<ReadParquetOptions, 'rowGroups'>): Selection {
  const out: Selection = {};
  if (options.columns !== undefined) {
    if (!Array.isArray(options.columns) || options.columns.some((c) => typeof c !== 'string' || c === '')) {
      throw new TypeError(`${method}: option 'columns' must be a list of column names, got ${describe(options.columns)}`);
    }
    out.columns = [...options.columns];
  }
  if (options.filter !== undefined) out.filter = filterOf(method, options.filter);
  if (options.limit !== undefined) out.limit = options.limit;
  if (options.batchSize !== undefined) {
    if (options.batchSize < 1 || options.batchSize > 0x7fffffff) {
      throw new RangeError(`${method}: option 'batchSize' must be between 1 and 2147483647, got ${options.batchSize}`);
    }
    out.batchSize = options.batchSize;
  }
  return out;
}

function scanOptionsOf(method: string, options: ReadParquetOptions): RawScanOptions {
  checkOptions(method, options, READ_SPEC);
  const out: RawScanOptions = selectionOf(method, options);
  if (options.rowGroups !== undefined) {
    if (!Array.isArray(options.rowGroups)) throw new TypeError(`${method}: option 'rowGroups' must be a list of row group indices`);
    out.rowGroups = options.rowGroups.map((g) => {
      const n = checkCount(`${method}: option 'rowGroups'`, g);
      if (n > 0xffffffff) throw new RangeError(`${method}: option 'rowGroups' holds ${n}, beyond any file's row groups`);
      return n;
    });
  }
  return out;
}

/** The addon's native store behind `store`, if its backend has one. */
export function nativeOf(store: Store): NativeObjectStore | undefined {
  try {
    return store.unwrap(NativeObjectStore as unknown as Unwrappable<NativeObjectStore>);
  } catch {
    return undefined;
  }
}

/** A byte source reading one object through the Store. */
function storeSource(store: Store, path: string, key: string, signal: AbortSignal | undefined) {
  const reads = storeReads(store, signal);
  const source: RawByteSource = {
    path: key,
    suffix: (n) => reads.suffix(path, n),
    ranges: (ranges) => reads.ranges(path, ranges),
  };
  return { source, failure: reads.failure };
}

/**
 * Suffix and range reads of a store's objects through the Store, for the addon's byte sources.
 * The first failure is kept, so that the caller gets the store's own error (NotFound,
 * BackendUnavailable, …) rather than the addon's rendering of it. `known` sizes (from a
 * listing) save a request per object.
 */
export function storeReads(store: Store, signal: AbortSignal | undefined, known?: Map<string, FileInfo>) {
  let failure: unknown;
  const keep = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err) => {
      failure ??= err;
      throw err;
    });
  return {
    suffix: (path: string, n: number) =>
      keep(
        (async () => {
          const info = known?.get(path) ?? (await store.getFileInfo(path, { signal }));
          const start = Math.max(0, info.size - n);
          const data = info.size === 0 ? Buffer.alloc(0) : await store.readRange(path, { offset: start, length: info.size - start, signal });
          return { data, size: info.size, etag: info.etag };
        })(),
      ),
    ranges: (path: string, ranges: { offset: number; length: number }[]) =>
      keep(Promise.all(ranges.map((r) => store.readRange(path, { offset: r.offset, length: r.length, signal })))),
    failure: () => failure,
  };
}

interface Opened<T> {
  value: T;
  backend: string;
}

/**
 * Runs `open` against the store's native data path, or through a JS byte source. The store's
 * own checks come first on hierarchical backends (local: a folder is InvalidPath, a symlink
 * out of the root is refused) where they cost a stat, not a request.
 */
async function withSource<T>(
  store: Store,
  path: string,
  signal: AbortSignal | undefined,
  viaNative: (native: NativeObjectStore, key: string, binding: Binding) => Promise<T>,
  viaSource: (source: RawByteSource, binding: Binding) => Promise<T>,
): Promise<Opened<T>> {
  const binding = loadNativeBinding();
  const native = nativeOf(store);
  const backend = store.backend.name;
  if (native) {
    if (store.backend.hierarchical) await store.getFileInfo(path, { signal });
    try {
      const value = await store.withFileKey(path, signal, (key) => viaNative(native, key, binding));
      return { value, backend };
    } catch (err) {
      // On a flat store a folder is a prefix, not an object: say what it is.
      if (err instanceof NotFound && !store.backend.hierarchical && (await store.isFolder(path, { signal }))) {
        throw new InvalidPath(`'${path}' is a folder, not a Parquet file`, { path, backend, cause: err });
      }
      throw err;
    }
  }
  store.backend.capabilities.require(Capability.SEEKABLE_READ, backend);
  const value = await store.withFileKey(path, signal, async (key) => {
    const { source, failure } = storeSource(store, path, key, signal);
    try {
      return await viaSource(source, binding);
    } catch (err) {
      throw failure() ?? err;
    }
  });
  return { value, backend };
}

/** What the addon's Parquet and dataset scans have in common. */
export interface RawScan {
  next(token: NativeCancelToken): Promise<RawArrowBatch | null>;
  schema(): RawArrowBatch;
  close(): Promise<void>;
}

/**
 * A scan opened on the native side, with its schema as apache-arrow sees it. Batches of one
 * column chunk share its dictionary: the ArrayBuffer over a dictionary is kept (weakly) and
 * handed back to the addon, so that each allocation has one ArrayBuffer.
 */
export class OpenScan<R extends RawScan = RawScan> {
  readonly schema: Arrow.Schema;
  readonly #dictionaries = new Map<string, WeakRef<ArrayBuffer>>();

  constructor(
    private readonly a: ArrowModule,
    readonly raw: R,
    private readonly binding: Binding,
    private readonly path: string,
    private readonly backend: string,
  ) {
    this.schema = schemaOf(a, raw.schema().export());
  }

  async next(signal: AbortSignal | undefined): Promise<Arrow.RecordBatch | null> {
    const batch = await nativeCall(this.binding, this.path, this.backend, signal, (t) => this.raw.next(t));
    if (!batch) return null;
    const keys = batch.regionKeys();
    const reuse = keys.map(({ key, length }) => {
      const held = this.#dictionaries.get(key)?.deref();
      return held && held.byteLength >= length ? held : null;
    });
    const exported = batch.export(reuse);
    for (const i of dictionaryRegions(exported.root)) {
      if (!reuse[i]) this.#dictionaries.set(keys[i]!.key, new WeakRef(exported.regions[i]!));
    }
    return batchOf(this.a, exported, this.schema);
  }

  close(): Promise<void> {
    return this.raw.close();
  }
}

async function openScan(a: ArrowModule, store: Store, path: string, scan: RawScanOptions, signal: AbortSignal | undefined): Promise<OpenScan> {
  const options = { ...scan, host: hostTypes(a) };
  const { value, backend } = await withSource(
    store,
    path,
    signal,
    (native, key, b) => nativeCall(b, key, store.backend.name, signal, (t) => native.rawStore().parquetOpen(key, options, t)),
    (source, b) => nativeCall(b, source.path, store.backend.name, signal, (t) => b.parquetOpenSource(source, options, t)),
  );
  return new OpenScan(a, value, loadNativeBinding(), path, backend);
}

/**
 * The record batches of a Parquet file, one at a time. Memory stays bounded by the few row
 * groups being decoded at once (2 to 4, by the number of cores) of the selected columns.
 * Stop early by breaking out of the loop.
 */
export function scanParquet(arrow: ArrowSource, store: Store, path: string, options: ReadParquetOptions = {}): AsyncIterable<Arrow.RecordBatch> {
  const raw = scanOptionsOf('scanParquet', options);
  const { signal } = options;
  return (async function* () {
    yield* drain(fileBatches(store, path, await openScan(await arrow.load(), store, path, raw, signal), signal));
  })();
}

/** A whole Parquet file (or the selected part of it) as one apache-arrow Table. */
export async function readParquet(arrow: ArrowSource, store: Store, path: string, options: ReadParquetOptions = {}): Promise<Arrow.Table> {
  const raw = scanOptionsOf('readParquet', options);
  raw.batchSize ??= TABLE_BATCH_SIZE;
  const { signal } = options;
  const a = await arrow.load();
  const scan = await openScan(a, store, path, raw, signal);
  return collect(a, scan.schema, fileBatches(store, path, scan, signal));
}

/** A scan's batches, with errors made store-relative. */
function fileBatches(store: Store, path: string, scan: OpenScan, signal: AbortSignal | undefined): Batches {
  return { next: () => store.withFileKey(path, signal, () => scan.next(signal)), close: () => scan.close() };
}

/** Where batches come from, one at a time, until null. */
export interface Batches {
  next(): Promise<Arrow.RecordBatch | null>;
  close(): Promise<void>;
}

/** Every batch of `batches`; they are closed at the end, or when the caller stops early. */
export async function* drain(batches: Batches): AsyncGenerator<Arrow.RecordBatch> {
  try {
    for (;;) {
      const batch = await batches.next();
      if (!batch) return;
      yield batch;
    }
  } finally {
    await batches.close();
  }
}

/** Every batch of `batches` as one Table. */
export async function collect(a: ArrowModule, schema: Arrow.Schema, batches: Batches): Promise<Arrow.Table> {
  const all: Arrow.RecordBatch[] = [];
  for await (const batch of drain(batches)) all.push(batch);
  return new a.Table(schema, all);
}

/** The footer of a Parquet file: schema, row groups, column chunks and their statistics. */
export async function readParquetMetadata(arrow: ArrowSource, store: Store, path: string, options: SignalOptions = {}): Promise<ParquetMetadata> {
  checkOptions('readParquetMetadata', options, {});
  const a = await arrow.load();
  const { signal } = options;
  const host = hostTypes(a);
  const { value } = await withSource<RawParquetSummary>(
    store,
    path,
    signal,
    (native, key, b) => nativeCall(b, key, store.backend.name, signal, (t) => native.rawStore().parquetSummary(key, host, t)),
    (source, b) => nativeCall(b, source.path, store.backend.name, signal, () => b.parquetSummarySource(source, host)),
  );
  const { schema, rowGroups, ...rest } = value;
  return { ...rest, numRowGroups: rowGroups.length, rowGroups, schema: schemaOf(a, schema.export()) };
}

export type BatchSource = Arrow.Table | Arrow.RecordBatch | Iterable<Arrow.RecordBatch> | AsyncIterable<Arrow.RecordBatch>;

/**
 * What a write takes, checked: its batches, each an apache-arrow RecordBatch of the caller's
 * build (checked as they come), and the schema when the input is a Table.
 */
export function inputOf(a: ArrowModule, method: string, data: BatchSource): { schema?: Arrow.Schema; batches: AsyncIterable<Arrow.RecordBatch> } {
  let schema: Arrow.Schema | undefined;
  let items: Iterable<unknown> | AsyncIterable<unknown>;
  if (data instanceof a.Table) {
    schema = data.schema;
    items = data.batches;
  } else if (data instanceof a.RecordBatch) {
    items = [data];
  } else if (data && typeof data === 'object' && (Symbol.asyncIterator in data || Symbol.iterator in data)) {
    items = data;
  } else {
    throw new TypeError(`${method}: data must be an apache-arrow Table, a RecordBatch or an iterable of RecordBatches, got ${describe(data)}`);
  }
  async function* batches() {
    for await (const item of items) {
      if (!(item instanceof a.RecordBatch)) throw new TypeError(`${method}: expected apache-arrow RecordBatches, got ${describe(item)}`);
      yield item as Arrow.RecordBatch;
    }
  }
  return { schema, batches: batches() };
}

/**
 * Writes a Table, a RecordBatch or a (possibly async) iterable of batches as a Parquet file,
 * encoded in Rust from the batches' own memory (no IPC round trip) and streamed to the store
 * one row group at a time. `overwrite` works as for `write`; a failing source writes nothing.
 */
export async function writeParquet(
  arrow: ArrowSource,
  store: Store,
  path: string,
  data: BatchSource,
  options: WriteParquetOptions = {},
): Promise<WriteResult> {
  checkOptions('writeParquet', options, { ...ENCODING_SPEC, overwrite: 'boolean', metadata: 'object', onProgress: 'function' });
  const encoding = encoderOptionsOf('writeParquet', options);
  const a = await arrow.load();
  const { schema, batches } = inputOf(a, 'writeParquet', data);
  const binding = loadNativeBinding();
  const encoder = construct('writeParquet', () => new binding.ParquetEncoderHandle(path, encoding));
  const backend = store.backend.name;
  // The store reports a failing source in its own words; the caller gets ours.
  let failure: unknown;
  const encode = <T>(work: () => Promise<T>): Promise<T> =>
    nativeCall(binding, path, backend, undefined, work).catch((err) => {
      failure ??= err;
      throw err;
    });

  async function* encoded(): AsyncGenerator<Buffer> {
    let wrote = false;
    try {
      for await (const batch of batches) {
        wrote = true;
        const bytes = await encode(() => encoder.write(importBatchOf(a, batch, schema)));
        if (bytes.length > 0) yield bytes;
      }
    } catch (err) {
      throw (failure ??= err);
    }
    if (!wrote && !schema) throw (failure = new TypeError('writeParquet: no batches to write and no schema to write an empty file with'));
    yield await encode(() => encoder.finish(wrote ? null : importBatchOf(a, emptyBatchOf(a, schema!))));
  }
  const { compression: _c, compressionLevel: _l, rowGroupSize: _r, ...writeOptions } = options;
  try {
    return await store.write(path, encoded(), writeOptions);
  } catch (err) {
    throw failure ?? err;
  }
}
