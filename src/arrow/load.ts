/**
 * Which apache-arrow the Arrow functions build their objects with.
 *
 * `apache-arrow` ships a CommonJS build and an ES module build, and their classes are distinct:
 * a Table of one is not `instanceof` the other's Table, and `tableToIPC` or `new Table(batches)`
 * of one fail on the other's objects. So every function that makes or takes Arrow objects is
 * handed the caller's build, as an `ArrowSource`, by the entry point the caller came through
 * (see `./functions.ts`). apache-arrow is an optional peer dependency: the storage API works
 * without it, and a source loads it on first use.
 */
import type * as Arrow from 'apache-arrow';
import type { RawHostTypes } from '../native';

export type ArrowModule = typeof Arrow;

/** How an entry point loads its apache-arrow: `require()` for CommonJS, `import()` for ESM. */
export type ArrowImport = () => ArrowModule | Promise<ArrowModule>;

/** The apache-arrow versions this package is tested with. */
export const ARROW_PEER_RANGE = '>=21.2.0 <22';

/** One entry point's apache-arrow, loaded once, on first use. */
export class ArrowSource {
  #loading: Promise<ArrowModule> | undefined;

  constructor(private readonly importArrow: ArrowImport) {}

  load(): Promise<ArrowModule> {
    this.#loading ??= (async () => this.importArrow())().catch((err: unknown) => {
      this.#loading = undefined;
      throw new Error(`The Arrow and Parquet functions need the package 'apache-arrow' (${ARROW_PEER_RANGE}): npm install apache-arrow`, {
        cause: err,
      });
    });
    return this.#loading;
  }
}

/** Which optional types the given apache-arrow has; the addon casts the others before export. */
export function hostTypes(a: ArrowModule): Required<RawHostTypes> {
  const exported = a as unknown as Record<string, unknown>;
  return {
    largeList: typeof exported.LargeList === 'function',
    largeUtf8: typeof exported.LargeUtf8 === 'function',
    largeBinary: typeof exported.LargeBinary === 'function',
    decimal256: true,
  };
}
