"""The other side of the dataset interop tests: pyarrow writes hive-partitioned datasets, and
pyarrow.dataset, duckdb and polars read ours.

  python dataset_interop.py write SRC.parquet DIR COL [COL...]   pq.write_to_dataset(SRC, DIR, partition_cols=COLs)
  python dataset_interop.py read READER DIR SORT_COLUMN          print DIR read by READER as JSON (see pyarrow_interop.dump)

READER is pyarrow (pyarrow.dataset, hive partitioning), duckdb (read_parquet with
hive_partitioning) or polars (scan_parquet with hive_partitioning); rows come sorted by
SORT_COLUMN, each column in the form pyarrow_interop prints.
"""
import json
import sys

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pyarrow_interop import dump_array


def read(reader: str, path: str) -> pa.Table:
    if reader == "pyarrow":
        return ds.dataset(path, format="parquet", partitioning="hive").to_table()
    if reader == "duckdb":
        import duckdb

        table = duckdb.sql(f"SELECT * FROM read_parquet('{path}/**/*.parquet', hive_partitioning = true)").to_arrow_table()
        # duckdb's TIMESTAMP is in microseconds: compare in the file's milliseconds (a safe
        # cast, which fails if any value had a finer part).
        for i, field in enumerate(table.schema):
            if pa.types.is_timestamp(field.type):
                table = table.set_column(i, field.name, table.column(i).cast(pa.timestamp("ms", field.type.tz)))
        return table
    if reader == "polars":
        import polars as pl

        return pl.scan_parquet(f"{path}/**/*.parquet", hive_partitioning=True).collect().to_arrow()
    raise SystemExit(f"unknown reader {reader}")


def main() -> None:
    cmd = sys.argv[1]
    if cmd == "write":
        table = pq.read_table(sys.argv[2])
        pq.write_to_dataset(table, sys.argv[3], partition_cols=sys.argv[4:])
    elif cmd == "read":
        table = read(sys.argv[2], sys.argv[3]).sort_by(sys.argv[4])
        columns = {
            name: {"type": str(table.schema.field(name).type), "values": dump_array(table.column(name).combine_chunks())}
            for name in table.column_names
        }
        json.dump({"columns": columns}, sys.stdout)
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
