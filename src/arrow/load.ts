/**
 * `apache-arrow` is a peer dependency: the storage API works without it, and the Arrow and
 * Parquet functions load it on first use.
 */
import type * as Arrow from 'apache-arrow';

/** The apache-arrow versions this package is tested with. */
export const ARROW_PEER_RANGE = '>=21.2.0 <22';

let arrow: typeof Arrow | undefined;

export function loadArrow(): typeof Arrow {
  if (arrow) return arrow;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    arrow = require('apache-arrow') as typeof Arrow;
  } catch (err) {
    throw new Error(`The Arrow and Parquet functions need the package 'apache-arrow' (${ARROW_PEER_RANGE}): npm install apache-arrow`, {
      cause: err,
    });
  }
  return arrow;
}

/** Which optional types the installed apache-arrow has; the addon casts the others before export. */
export function hostTypes(): { largeList: boolean; largeUtf8: boolean; largeBinary: boolean; decimal256: boolean } {
  const a = loadArrow() as unknown as Record<string, unknown>;
  return {
    largeList: typeof a.LargeList === 'function',
    largeUtf8: typeof a.LargeUtf8 === 'function',
    largeBinary: typeof a.LargeBinary === 'function',
    decimal256: true,
  };
}
