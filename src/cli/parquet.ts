import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type * as Arrow from 'apache-arrow';
import { requiredArrow } from '../arrow/functions';
import { isLiteral } from '../glob';
import type { Store } from '../store';

const { readParquet, readParquetMetadata, readDataset, readDatasetMetadata } = requiredArrow;

/** Arrow's type ids (the format's, the same in every apache-arrow build) of the types printed specially. */
const TYPE_ID = { decimal: 7, date: 8, timestamp: 10 };

/** JSON for values apache-arrow hands out: bigints as strings, bytes as hex, rows and vectors as plain data. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  return value;
}

/** A decimal's unscaled value (little-endian 32-bit words, two's complement) written with its scale: `-123.45`. */
function decimalText(words: Uint32Array, bitWidth: number, scale: number): string {
  let unscaled = 0n;
  for (let w = words.length - 1; w >= 0; w--) unscaled = (unscaled << 32n) | BigInt(words[w]!);
  unscaled = BigInt.asIntN(bitWidth, unscaled);
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString();
  if (scale <= 0) return `${unscaled < 0n ? '-' : ''}${digits}${'0'.repeat(-scale)}`;
  const padded = digits.padStart(scale + 1, '0');
  return `${unscaled < 0n ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

const TICKS_PER_SECOND = [1n, 1_000n, 1_000_000n, 1_000_000_000n];

/** A timestamp of `unit` ticks since the epoch as ISO 8601, with as many fraction digits as the unit has; `Z` when it has a time zone (values are UTC). */
function timestampText(ticks: bigint, unit: number, zoned: boolean): string {
  const per = TICKS_PER_SECOND[unit]!;
  let seconds = ticks / per;
  let frac = ticks % per;
  if (frac < 0n) {
    seconds -= 1n;
    frac += per;
  }
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const fraction = unit === 0 ? '' : `.${frac.toString().padStart(3 * unit, '0')}`;
  return `${whole}${fraction}${zoned ? 'Z' : ''}`;
}

/** The value at `i` of a column as `parquet head` shows it: decimals scaled, dates and timestamps as ISO strings. */
function cell(column: Arrow.Vector, i: number): unknown {
  if (!column.isValid(i)) return null;
  const type = column.type as Arrow.DataType;
  const data = column.data[0]!;
  switch (type.typeId as number) {
    case TYPE_ID.decimal: {
      const { bitWidth, scale } = type as Arrow.Decimal;
      const words = bitWidth / 32;
      return decimalText((data.values as Uint32Array).subarray(i * words, (i + 1) * words), bitWidth, scale);
    }
    case TYPE_ID.date:
      return new Date(column.get(i) as number).toISOString().slice(0, 10);
    case TYPE_ID.timestamp: {
      const { unit, timezone } = type as Arrow.Timestamp;
      return timestampText(BigInt((data.values as BigInt64Array)[i]!), unit, timezone != null);
    }
    default:
      return column.get(i);
  }
}

/** A table's rows as JSON lines. */
function printRows(table: Arrow.Table): void {
  const names = table.schema.fields.map((f) => f.name);
  for (const batch of table.batches) {
    const columns = names.map((_, j) => batch.getChildAt(j)!);
    for (let i = 0; i < batch.numRows; i++) {
      const row = Object.fromEntries(names.map((n, j) => [n, cell(columns[j]!, i)]));
      process.stdout.write(`${JSON.stringify(row, jsonValue)}\n`);
    }
  }
}

function rowCount(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number >= 0');
  return n;
}

/** A folder or a glob is read as a dataset; a file as one Parquet file. */
async function isDataset(store: Store, path: string): Promise<boolean> {
  return !isLiteral(path) || !(await store.isFile(path));
}

/** `remote-store parquet schema|head|count PATH`: look into Parquet files, or datasets of them, on any store. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type WithStore = (fn: (store: Store, ...args: any[]) => Promise<void>) => (...args: any[]) => Promise<void>;

export function addParquetCommands(program: Command, withStore: WithStore): void {
  const parquet = program
    .command('parquet')
    .description('look into a Parquet file, or a dataset of them (a folder or a glob): its schema, first rows or row count');

  parquet
    .command('schema')
    .description('print the columns and their Arrow types, then the row and row group (or file) counts')
    .argument('<path>')
    .action(
      withStore(async (store: Store, path: string) => {
        let fields: Arrow.Field[];
        let summary: string;
        if (await isDataset(store, path)) {
          const meta = await readDatasetMetadata(store, path);
          fields = meta.schema.fields;
          summary = `${meta.numRows} rows in ${meta.files.length} files`;
        } else {
          const meta = await readParquetMetadata(store, path);
          fields = meta.schema.fields;
          summary = `${meta.numRows} rows in ${meta.numRowGroups} row groups, ${meta.size} bytes`;
        }
        const width = Math.max(...fields.map((f) => f.name.length), 4);
        for (const f of fields) process.stdout.write(`${f.name.padEnd(width)}  ${String(f.type)}${f.nullable ? '' : ' not null'}\n`);
        process.stdout.write(`${summary}\n`);
      }),
    );

  parquet
    .command('head')
    .description('print the first rows as JSON lines (decimals scaled, dates and timestamps as ISO 8601)')
    .argument('<path>')
    .option('-n, --rows <n>', 'how many rows', rowCount, 10)
    .option('--columns <names>', 'comma-separated columns to show')
    .action(
      withStore(async (store: Store, path: string, opts: { rows: number; columns?: string }) => {
        const columns = opts.columns?.split(',').map((c) => c.trim()).filter(Boolean);
        const options = { limit: opts.rows, columns, batchSize: Math.max(1, Math.min(opts.rows, 65536)) };
        printRows(await ((await isDataset(store, path)) ? readDataset(store, path, options) : readParquet(store, path, options)));
      }),
    );

  parquet
    .command('count')
    .description('print the number of rows (from the footers; no data is read)')
    .argument('<path>')
    .action(
      withStore(async (store: Store, path: string) => {
        const rows = (await isDataset(store, path)) ? (await readDatasetMetadata(store, path)).numRows : (await readParquetMetadata(store, path)).numRows;
        process.stdout.write(`${rows}\n`);
      }),
    );
}
