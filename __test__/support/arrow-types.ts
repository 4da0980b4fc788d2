/**
 * A table with every Arrow type the Parquet layer promises to carry, nulls in every column,
 * and a dump of tables in the same form `pyarrow_interop.py` prints, so that values and types
 * can be compared across writers and readers exactly.
 */
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as A from 'apache-arrow';
import type * as Arrow from 'apache-arrow';

const DefaultArrow = A;

const ROWS = 6;
/** Row 2 is null in every nullable column; row 4 too in a few. */
const NULL_ROWS = new Set([2]);

function bitmap(valid: boolean[]): Uint8Array {
  const out = new Uint8Array((valid.length + 7) >> 3);
  valid.forEach((v, i) => {
    if (v) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

const validity = (n = ROWS) => Array.from({ length: n }, (_, i) => !NULL_ROWS.has(i));

function decimal128(unscaled: bigint[]): Uint32Array {
  const out = new Uint32Array(unscaled.length * 4);
  const view = new DataView(out.buffer);
  unscaled.forEach((v, i) => {
    const twos = BigInt.asUintN(128, v);
    view.setBigUint64(i * 16, twos & 0xffffffffffffffffn, true);
    view.setBigUint64(i * 16 + 8, twos >> 64n, true);
  });
  return out;
}

const withNulls = <T>(values: T[]): (T | null)[] => values.map((v, i) => (NULL_ROWS.has(i) ? null : v));
const i64 = (xs: number[]) => BigInt64Array.from(xs.map(BigInt));

/** The table, built with the given apache-arrow build (ESM or CommonJS; default: this file's). */
export function allTypesTable(A: typeof Arrow = DefaultArrow): Arrow.Table {
  const enc = new TextEncoder();
  /** A fixed-width column from raw storage values (one per row; the null row's value is ignored). */
  function fixed(type: Arrow.DataType, data: ArrayBufferView): Arrow.Vector {
    const valid = validity();
    return A.makeVector(
      A.makeData({ type, length: ROWS, nullCount: valid.filter((v) => !v).length, nullBitmap: bitmap(valid), data } as never) as Arrow.Data,
    );
  }
  const cols: Record<string, Arrow.Vector> = {
    i8: A.vectorFromArray(withNulls([-128, -1, 0, 1, 127, 5]), new A.Int8()),
    i16: A.vectorFromArray(withNulls([-32768, -2, 0, 2, 32767, 6]), new A.Int16()),
    i32: A.vectorFromArray(withNulls([-2147483648, -3, 0, 3, 2147483647, 7]), new A.Int32()),
    i64: fixed(new A.Int64(), BigInt64Array.from([-(2n ** 63n), -4n, 0n, 4n, 2n ** 63n - 1n, 9007199254740993n])),
    u8: A.vectorFromArray(withNulls([0, 1, 2, 128, 255, 9]), new A.Uint8()),
    u16: A.vectorFromArray(withNulls([0, 1, 2, 40000, 65535, 9]), new A.Uint16()),
    u32: A.vectorFromArray(withNulls([0, 1, 2, 3000000000, 4294967295, 9]), new A.Uint32()),
    u64: fixed(new A.Uint64(), BigUint64Array.from([0n, 1n, 2n, 2n ** 63n, 2n ** 64n - 1n, 9n])),
    f16: A.vectorFromArray(withNulls([0.5, -2, 0, 1024, 65504, -0.25]), new A.Float16()),
    f32: A.vectorFromArray(withNulls([1.5, -2.25, 0, 3.4e38, Number.NaN, 1e-30]), new A.Float32()),
    f64: A.vectorFromArray(withNulls([Math.PI, -1e300, 0, Number.NaN, Number.POSITIVE_INFINITY, 5e-324]), new A.Float64()),
    bool: A.vectorFromArray(withNulls([true, false, true, true, false, true]), new A.Bool()),
    utf8: A.vectorFromArray(withNulls(['', 'a', 'b', 'ünïcödé ✓', 'x'.repeat(300), '\u0000nul']), new A.Utf8()),
    large_utf8: A.vectorFromArray(withNulls(['L', '', 'b', 'large', 'strings', '✓']), new A.LargeUtf8()),
    binary: A.vectorFromArray(withNulls([enc.encode(''), Uint8Array.of(0, 255), Uint8Array.of(1), enc.encode('bin'), Uint8Array.of(7, 7, 7), Uint8Array.of(0)]), new A.Binary()),
    fixed_binary: A.vectorFromArray(withNulls([Uint8Array.of(1, 2, 3), Uint8Array.of(0, 0, 0), Uint8Array.of(9, 9, 9), Uint8Array.of(255, 254, 253), Uint8Array.of(4, 5, 6), Uint8Array.of(7, 8, 9)]), new A.FixedSizeBinary(3)),
    date32: fixed(new A.DateDay(), Int32Array.from([0, 19000, 0, -1, 20000, 738000])),
    date64: fixed(new A.DateMillisecond(), i64([0, 1641600000000, 0, -86400000, 1728000000000, 86400000])),
    time32_s: fixed(new A.TimeSecond(), Int32Array.from([0, 1, 0, 3600, 86399, 43200])),
    time32_ms: fixed(new A.TimeMillisecond(), Int32Array.from([0, 1, 0, 3600000, 86399999, 43200123])),
    time64_us: fixed(new A.TimeMicrosecond(), i64([0, 1, 0, 3600000000, 86399999999, 43200123456])),
    time64_ns: fixed(new A.TimeNanosecond(), BigInt64Array.from([0n, 1n, 0n, 3600000000000n, 86399999999999n, 43200123456789n])),
    ts_s: fixed(new A.Timestamp(A.TimeUnit.SECOND), i64([0, 1700000000, 0, -1, 2000000000, 1])),
    ts_ms_utc: fixed(new A.Timestamp(A.TimeUnit.MILLISECOND, 'UTC'), i64([0, 1700000000123, 0, -1, 2000000000000, 1])),
    ts_us_paris: fixed(new A.Timestamp(A.TimeUnit.MICROSECOND, 'Europe/Paris'), i64([0, 1700000000123456, 0, -1, 2000000000000000, 1])),
    ts_ns: fixed(new A.Timestamp(A.TimeUnit.NANOSECOND), BigInt64Array.from([0n, 1700000000123456789n, 0n, -1n, 2000000000000000000n, 1n])),
    dur_s: fixed(new A.Duration(A.TimeUnit.SECOND), i64([0, 1, 0, -5, 86400, 42])),
    dur_ms: fixed(new A.Duration(A.TimeUnit.MILLISECOND), i64([0, 1, 0, -5, 86400000, 42])),
    dur_us: fixed(new A.Duration(A.TimeUnit.MICROSECOND), i64([0, 1, 0, -5, 86400000000, 42])),
    dur_ns: fixed(new A.Duration(A.TimeUnit.NANOSECOND), i64([0, 1, 0, -5, 86400000000000, 42])),
    decimal: fixed(new A.Decimal(2, 10, 128), decimal128([12345n, -1n, 0n, 9999999999n, -9999999999n, 100n])),
    list: A.vectorFromArray(withNulls([[1, 2], [], [3], [null, 4], [5, 6, 7], [8]]), new A.List(new A.Field('item', new A.Int32(), true))),
    large_list: A.vectorFromArray(withNulls([['a'], [], ['b'], ['c', null], ['d', 'e'], ['f']]), new A.LargeList(new A.Field('item', new A.Utf8(), true))),
    fixed_list: A.vectorFromArray(withNulls([[1, 2], [3, 4], [5, 6], [7, null], [9, 10], [11, 12]]), new A.FixedSizeList(2, new A.Field('item', new A.Int16(), true))),
    struct: A.vectorFromArray(
      withNulls([{ a: 1, b: 'x' }, { a: null, b: 'y' }, { a: 3, b: 'z' }, { a: 4, b: null }, { a: 5, b: 'w' }, { a: 6, b: 'v' }]),
      new A.Struct([new A.Field('a', new A.Int32(), true), new A.Field('b', new A.Utf8(), true)]),
    ),
    map: A.vectorFromArray(
      withNulls([new Map([['k', 1n]]), new Map(), new Map([['x', 2n]]), new Map([['a', 3n], ['b', null]]), new Map([['z', 4n]]), new Map([['q', 5n]])]),
      new A.Map_<Arrow.Utf8, Arrow.Int64>(
        new A.Field('entries', new A.Struct<{ key: Arrow.Utf8; value: Arrow.Int64 }>([new A.Field('key', new A.Utf8(), false), new A.Field('value', new A.Int64(), true)]), false),
      ),
    ),
    dict: A.vectorFromArray(withNulls(['red', 'green', 'red', 'blue', 'green', 'red']), new A.Dictionary(new A.Utf8(), new A.Int8())),
    nulls: A.makeVector(A.makeData({ type: new A.Null(), length: ROWS } as never) as Arrow.Data),
  };
  return new A.Table(cols);
}

// ---- dump ----------------------------------------------------------------------------

export type Dumped = Record<string, { type: string; values: unknown[] }>;

/** pyarrow's name for a type, as `str(pa.DataType)` prints it. */
export function pyarrowTypeName(t: A.DataType): string {
  const unit = (u: A.TimeUnit) => ['s', 'ms', 'us', 'ns'][u]!;
  if (A.DataType.isDictionary(t)) return `dictionary<values=${pyarrowTypeName(t.dictionary)}, indices=${pyarrowTypeName(t.indices)}, ordered=${t.isOrdered ? 1 : 0}>`;
  if (A.DataType.isNull(t)) return 'null';
  if (A.DataType.isInt(t)) return `${t.isSigned ? '' : 'u'}int${t.bitWidth}`;
  if (A.DataType.isFloat(t)) return ['halffloat', 'float', 'double'][t.precision]!;
  if (A.DataType.isBool(t)) return 'bool';
  if (A.DataType.isUtf8(t)) return 'string';
  if (A.DataType.isLargeUtf8(t)) return 'large_string';
  if (A.DataType.isBinary(t)) return 'binary';
  if (A.DataType.isLargeBinary(t)) return 'large_binary';
  if (A.DataType.isFixedSizeBinary(t)) return `fixed_size_binary[${t.byteWidth}]`;
  if (A.DataType.isDate(t)) return t.unit === A.DateUnit.DAY ? 'date32[day]' : 'date64[ms]';
  if (A.DataType.isTime(t)) return `time${t.bitWidth}[${unit(t.unit)}]`;
  if (A.DataType.isTimestamp(t)) return `timestamp[${unit(t.unit)}${t.timezone ? `, tz=${t.timezone}` : ''}]`;
  if (A.DataType.isDuration(t)) return `duration[${unit(t.unit)}]`;
  if (A.DataType.isDecimal(t)) return `decimal${t.bitWidth}(${t.precision}, ${t.scale})`;
  const child = (f: A.Field) => `${f.name}: ${pyarrowTypeName(f.type)}`;
  if (A.DataType.isList(t)) return `list<${child(t.children[0]!)}>`;
  if (A.DataType.isLargeList(t)) return `large_list<${child(t.children[0]!)}>`;
  if (A.DataType.isFixedSizeList(t)) return `fixed_size_list<${child(t.children[0]!)}>[${t.listSize}]`;
  if (A.DataType.isStruct(t)) return `struct<${t.children.map(child).join(', ')}>`;
  if (A.DataType.isMap(t)) {
    const [k, v] = t.children[0]!.type.children;
    return `map<${pyarrowTypeName(k!.type)}, ${pyarrowTypeName(v!.type)}>`;
  }
  return String(t);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** One Data's rows as the Python dump prints them (storage integers for temporal types). */
function dumpData(d: A.Data): unknown[] {
  // apache-arrow's placeholder for a Table without batches has a dictionary column with no
  // dictionary Data: nothing to dump either way.
  if (d.length === 0) return [];
  const t = d.type;
  const n = d.length;
  const vec = A.makeVector(d);
  const rows = (f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => (d.getValid(i) ? f(i) : null));
  const bytes = (v: ArrayBufferView) => new DataView(v.buffer, v.byteOffset, v.byteLength);
  if (A.DataType.isNull(t)) return Array(n).fill(null);
  if (A.DataType.isDictionary(t)) {
    const dict = d.dictionary!.data.flatMap(dumpData);
    const idx = d.values as ArrayLike<number | bigint>;
    return rows((i) => dict[Number(idx[i])]);
  }
  if (A.DataType.isInt(t)) return rows((i) => String(vec.get(i)));
  if (A.DataType.isDate(t) || A.DataType.isTime(t) || A.DataType.isTimestamp(t) || A.DataType.isDuration(t)) {
    const width = d.values.byteLength / n;
    const view = bytes(d.values);
    return rows((i) => String(width === 4 ? view.getInt32(i * 4, true) : view.getBigInt64(i * 8, true)));
  }
  if (A.DataType.isFloat(t)) return rows((i) => (Number.isFinite(vec.get(i)) ? vec.get(i) : String(vec.get(i))));
  if (A.DataType.isDecimal(t)) {
    const view = bytes(d.values);
    return rows((i) => String(BigInt.asIntN(128, (view.getBigUint64(i * 16 + 8, true) << 64n) | view.getBigUint64(i * 16, true))));
  }
  if (A.DataType.isBinary(t) || A.DataType.isLargeBinary(t) || A.DataType.isFixedSizeBinary(t)) return rows((i) => hex(vec.get(i) as Uint8Array));
  if (A.DataType.isList(t) || A.DataType.isLargeList(t) || A.DataType.isMap(t)) {
    const child = dumpData(d.children[0]!);
    const off = d.valueOffsets as ArrayLike<number | bigint>;
    const entries = (i: number) => child.slice(Number(off[i]), Number(off[i + 1]));
    if (A.DataType.isMap(t)) return rows((i) => entries(i).map((e) => [(e as { key: unknown }).key, (e as { value: unknown }).value]));
    return rows(entries);
  }
  if (A.DataType.isFixedSizeList(t)) {
    const child = dumpData(d.children[0]!);
    return rows((i) => child.slice(i * t.listSize, (i + 1) * t.listSize));
  }
  if (A.DataType.isStruct(t)) {
    const fields = t.children.map((f, j) => [f.name, dumpData(d.children[j]!)] as const);
    return rows((i) => Object.fromEntries(fields.map(([name, values]) => [name, values[i]])));
  }
  return rows((i) => vec.get(i));
}

export function dumpTable(table: A.Table): Dumped {
  const out: Dumped = {};
  for (const field of table.schema.fields) {
    const col = table.getChild(field.name)!;
    out[field.name] = { type: pyarrowTypeName(field.type), values: col.data.flatMap(dumpData) };
  }
  return out;
}

// ---- pyarrow ---------------------------------------------------------------------------

export const PYARROW_PYTHON = process.env.PYARROW_PYTHON || join(homedir(), '.cache', 'remote-store', 'pyarrow-venv', 'bin', 'python');
const SCRIPT = join(import.meta.dirname, 'pyarrow_interop.py');

export function pyarrowDump(file: string): Dumped {
  return (JSON.parse(execFileSync(PYARROW_PYTHON, [SCRIPT, 'dump', file], { encoding: 'utf8' })) as { columns: Dumped }).columns;
}

/** What pyarrow reads of a file's metadata: key/value pairs (without the embedded Arrow schema), each field's, and the codecs used. */
export function pyarrowMeta(file: string): { kv: Record<string, string>; fields: Record<string, Record<string, string>>; codecs: string[] } {
  return JSON.parse(execFileSync(PYARROW_PYTHON, [SCRIPT, 'meta', file], { encoding: 'utf8' }));
}

/** Has pyarrow write a brotli file with schema, field and key/value metadata (see pyarrow_interop.py). */
export function pyarrowWriteMeta(file: string): void {
  execFileSync(PYARROW_PYTHON, [SCRIPT, 'write-meta', file]);
}

export function pyarrowRewrite(src: string, dst: string): void {
  execFileSync(PYARROW_PYTHON, [SCRIPT, 'rewrite', src, dst], { encoding: 'utf8' });
}

/**
 * `dumped` as pyarrow represents it, for its own files too: it stores date64 as days and
 * second-resolution timestamps and times in milliseconds, and reads them back that way (this
 * library restores the original types of the files it wrote; pyarrow does not).
 */
export function asPyarrowStores(dumped: Dumped): Dumped {
  const out: Dumped = {};
  for (const [name, col] of Object.entries(dumped)) {
    const scale = (f: (v: bigint) => bigint) => col.values.map((v) => (v === null ? null : String(f(BigInt(v as string)))));
    if (col.type === 'date64[ms]') out[name] = { type: 'date32[day]', values: scale((v) => v / 86_400_000n) };
    else if (/^timestamp\[s[,\]]/.test(col.type)) out[name] = { type: col.type.replace('timestamp[s', 'timestamp[ms'), values: scale((v) => v * 1000n) };
    else if (col.type === 'time32[s]') out[name] = { type: 'time32[ms]', values: scale((v) => v * 1000n) };
    else out[name] = col;
  }
  return out;
}

/**
 * Type names without what differs only in naming: the list item field is 'item' in Arrow and
 * 'element' in the Parquet spec (pyarrow writes the latter), and pyarrow annotates maps it
 * reads with their Parquet group's name.
 */
export function withoutNaming(dumped: Dumped): Dumped {
  return Object.fromEntries(
    Object.entries(dumped).map(([name, col]) => [name, { ...col, type: col.type.replaceAll('<element: ', '<item: ').replace(/ \('[^']*'\)>$/, '>') }]),
  );
}
