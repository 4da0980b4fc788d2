"""Writes the Parquet file of the Parquet workloads (issue 7) with pyarrow, and a JSON sidecar.

20 columns: `id` (int64, ascending, so row-group statistics can prune a range filter), `kind`
(a dictionary string of 8 values), 15 float64 and 3 int64 columns of random values (so the
file does not shrink under compression). Row groups of 1M rows (about 150 MB), snappy, pyarrow's defaults
otherwise. The sidecar holds what the bench checks against: row counts and the compressed
size of every column chunk, so that bytes on the wire can be compared with what a reader
selecting 2 columns must fetch.

With --dataset, writes instead a hive-partitioned dataset of the same columns into the folder
OUT: `day=1/part-0.parquet` … `day=P/part-(F-1).parquet` (P partitions of F files of R rows, one
row group each); the sidecar OUT.json lists every file with its rows and column chunk ranges.

Usage: python generate.py OUT.parquet --min-bytes N [--row-group ROWS]
       python generate.py OUT_DIR --dataset --partitions P --files F --rows R
"""

import argparse
import json
import os

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


def chunks_of(path: str) -> dict:
    """Rows and, per column, each row group's column chunk as [offset, length] (what a reader
    selecting that column must fetch)."""
    md = pq.ParquetFile(path).metadata
    ranges: dict[str, list] = {}
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        for c in range(rg.num_columns):
            col = rg.column(c)
            start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
            ranges.setdefault(col.path_in_schema, []).append([start, col.total_compressed_size])
    return {"rows": md.num_rows, "rowGroups": md.num_row_groups, "columns": md.num_columns, "chunkRanges": ranges}


def dataset(args) -> None:
    rng = np.random.default_rng(11)
    files = []
    start = 0
    for p in range(1, args.partitions + 1):
        os.makedirs(os.path.join(args.out, f"day={p}"), exist_ok=True)
        for f in range(args.files):
            rel = f"day={p}/part-{f}.parquet"
            pq.write_table(row_group(start, args.rows, rng), os.path.join(args.out, rel), compression="snappy", row_group_size=args.rows)
            start += args.rows
            files.append({"path": rel, "partition": p, **chunks_of(os.path.join(args.out, rel))})
    with open(args.out + ".json", "w") as f:
        json.dump({"files": files}, f)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--min-bytes", type=int, default=0)
    ap.add_argument("--row-group", type=int, default=1_000_000)
    ap.add_argument("--dataset", action="store_true")
    ap.add_argument("--partitions", type=int, default=10)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    if args.dataset:
        dataset(args)
        return
    rng = np.random.default_rng(7)
    rows = 0
    with pq.ParquetWriter(args.out, row_group(0, 1, rng).schema, compression="snappy") as writer:
        # A row is about 153 bytes in the file: estimate low so that it reaches --min-bytes.
        while rows == 0 or rows * 150 < args.min_bytes:
            writer.write_table(row_group(rows, args.row_group, rng), row_group_size=args.row_group)
            rows += args.row_group
    info = chunks_of(args.out)
    info["columnChunkBytes"] = {c: sum(n for _, n in r) for c, r in info["chunkRanges"].items()}
    with open(args.out + ".json", "w") as f:
        json.dump(info, f)


if __name__ == "__main__":
    main()
