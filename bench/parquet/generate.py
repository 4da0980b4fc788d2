"""Writes the Parquet file of the Parquet workloads (issue 7) with pyarrow, and a JSON sidecar.

20 columns: `id` (int64, ascending, so row-group statistics can prune a range filter), `kind`
(a dictionary string of 8 values), 15 float64 and 3 int64 columns of random values (so the
file does not shrink under compression). Row groups of 1M rows (about 150 MB), snappy, pyarrow's defaults
otherwise. The sidecar holds what the bench checks against: row counts and the compressed
size of every column chunk, so that bytes on the wire can be compared with what a reader
selecting 2 columns must fetch.

Usage: python generate.py OUT.parquet --min-bytes N [--row-group ROWS]
"""

import argparse
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FLOATS = [f"f{i:02}" for i in range(15)]
INTS = [f"i{i:02}" for i in range(3)]
KINDS = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])


def row_group(start: int, n: int, rng: np.random.Generator) -> pa.Table:
    cols = {
        "id": pa.array(np.arange(start, start + n, dtype=np.int64)),
        "kind": pa.array(KINDS[rng.integers(0, len(KINDS), n)]).dictionary_encode(),
    }
    cols.update({name: pa.array(rng.random(n)) for name in FLOATS})
    cols.update({name: pa.array(rng.integers(0, 1 << 62, n, dtype=np.int64)) for name in INTS})
    return pa.table(cols)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--min-bytes", type=int, required=True)
    ap.add_argument("--row-group", type=int, default=1_000_000)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    rows = 0
    with pq.ParquetWriter(args.out, row_group(0, 1, rng).schema, compression="snappy") as writer:
        # A row is about 153 bytes in the file: estimate low so that it reaches --min-bytes.
        while rows == 0 or rows * 150 < args.min_bytes:
            writer.write_table(row_group(rows, args.row_group, rng), row_group_size=args.row_group)
            rows += args.row_group
    md = pq.ParquetFile(args.out).metadata
    chunks: dict[str, int] = {}
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        for c in range(rg.num_columns):
            col = rg.column(c)
            chunks[col.path_in_schema] = chunks.get(col.path_in_schema, 0) + col.total_compressed_size
    with open(args.out + ".json", "w") as f:
        json.dump({"rows": md.num_rows, "rowGroups": md.num_row_groups, "columns": md.num_columns, "columnChunkBytes": chunks}, f)


if __name__ == "__main__":
    main()
