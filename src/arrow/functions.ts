/**
 * The public functions that make or take apache-arrow objects, bound to one entry point's
 * apache-arrow build (see `./load.ts` for why the build matters).
 *
 * Each is written once, with an `ArrowSource` as its first parameter, and listed in
 * `ARROW_FUNCTIONS`; the entry points bind that parameter: `index.js` (CommonJS, and this
 * package's own CLI) with `require('apache-arrow')`, `index.mjs` with `import('apache-arrow')`.
 * Everything else (Store, errors, backends) is one copy shared by both entries.
 * /work/notes/arrow-identity.md (in the team's notes) walks through adding a function.
 */
import { ArrowSource, type ArrowImport } from './load';
import { readDataset, readDatasetMetadata, scanDataset, writeDataset } from './dataset';
import { readParquet, readParquetMetadata, scanParquet, writeParquet } from './parquet';

const ARROW_FUNCTIONS = { readParquet, scanParquet, readParquetMetadata, writeParquet, readDataset, scanDataset, readDatasetMetadata, writeDataset };

/** A function with its leading `ArrowSource` parameter bound. */
type Bound<F> = F extends (arrow: ArrowSource, ...args: infer A) => infer R ? (...args: A) => R : never;

export type ArrowFunctions = { readonly [K in keyof typeof ARROW_FUNCTIONS]: Bound<(typeof ARROW_FUNCTIONS)[K]> };

/** The names of the Arrow functions, which each entry point exports bound to its own apache-arrow. */
export const ARROW_FUNCTION_NAMES = Object.keys(ARROW_FUNCTIONS) as (keyof ArrowFunctions)[];

/** Every Arrow function, building its objects with the apache-arrow that `importArrow` loads. */
export function bindArrowFunctions(importArrow: ArrowImport): ArrowFunctions {
  const arrow = new ArrowSource(importArrow);
  const bound: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(ARROW_FUNCTIONS) as [string, (arrow: ArrowSource, ...args: unknown[]) => unknown][]) {
    bound[name] = Object.defineProperty((...args: unknown[]) => fn(arrow, ...args), 'name', { value: name });
  }
  return bound as ArrowFunctions;
}

/** The CommonJS build of apache-arrow: for `require('remote-store')` and the CLI. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const requiredArrow = bindArrowFunctions(() => require('apache-arrow'));
