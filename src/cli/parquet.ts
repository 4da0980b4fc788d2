import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { requiredArrow } from '../arrow/functions';
import type { Store } from '../store';

const { readParquet, readParquetMetadata } = requiredArrow;

/** JSON for values apache-arrow hands out: bigints as strings, bytes as hex, rows and vectors as plain data. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  return value;
}

function rowCount(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number >= 0');
  return n;
}

/** `remote-store parquet schema|head|count PATH`: look into Parquet files on any store. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type WithStore = (fn: (store: Store, ...args: any[]) => Promise<void>) => (...args: any[]) => Promise<void>;

export function addParquetCommands(program: Command, withStore: WithStore): void {
  const parquet = program.command('parquet').description('look into a Parquet file: its schema, first rows or row count');

  parquet
    .command('schema')
    .description('print the columns and their Arrow types, then the row and row group counts')
    .argument('<path>')
    .action(
      withStore(async (store: Store, path: string) => {
        const meta = await readParquetMetadata(store, path);
        const width = Math.max(...meta.schema.fields.map((f) => f.name.length), 4);
        for (const f of meta.schema.fields) process.stdout.write(`${f.name.padEnd(width)}  ${String(f.type)}${f.nullable ? '' : ' not null'}\n`);
        process.stdout.write(`${meta.numRows} rows in ${meta.numRowGroups} row groups, ${meta.size} bytes\n`);
      }),
    );

  parquet
    .command('head')
    .description('print the first rows as JSON lines')
    .argument('<path>')
    .option('-n, --rows <n>', 'how many rows', rowCount, 10)
    .option('--columns <names>', 'comma-separated columns to show')
    .action(
      withStore(async (store: Store, path: string, opts: { rows: number; columns?: string }) => {
        const columns = opts.columns?.split(',').map((c) => c.trim()).filter(Boolean);
        const table = await readParquet(store, path, { limit: opts.rows, columns, batchSize: Math.max(1, Math.min(opts.rows, 65536)) });
        for (const row of table.toArray()) process.stdout.write(`${JSON.stringify(row, jsonValue)}\n`);
      }),
    );

  parquet
    .command('count')
    .description('print the number of rows (from the footer; no data is read)')
    .argument('<path>')
    .action(
      withStore(async (store: Store, path: string) => {
        process.stdout.write(`${(await readParquetMetadata(store, path)).numRows}\n`);
      }),
    );
}
