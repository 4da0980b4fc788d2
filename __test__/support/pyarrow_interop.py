"""pyarrow's side of the Parquet interop tests.

  python pyarrow_interop.py dump FILE            print FILE's columns (type and values) as JSON
  python pyarrow_interop.py rewrite SRC DST      read SRC with pyarrow, write it again as DST
  python pyarrow_interop.py meta FILE            print FILE's key/value metadata and its fields' metadata as JSON
  python pyarrow_interop.py write-meta DST       write a brotli file with schema, field and key/value metadata

Values are printed in a form both sides can produce exactly: integers and temporal values as
decimal strings of their storage integers, decimals as unscaled integers, bytes as hex, floats
as numbers (NaN as "NaN"), dictionaries decoded, maps as [key, value] pairs.
"""
import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def dump_array(arr: pa.Array) -> list:
    t = arr.type
    if pa.types.is_dictionary(t):
        return dump_array(arr.dictionary_decode())
    if pa.types.is_null(t):
        return [None] * len(arr)
    if pa.types.is_integer(t):
        return [None if v is None else str(v) for v in arr.to_pylist()]
    if pa.types.is_date32(t) or pa.types.is_time32(t):
        return [None if v is None else str(v) for v in arr.cast(pa.int32()).to_pylist()]
    if pa.types.is_date64(t) or pa.types.is_time64(t) or pa.types.is_timestamp(t) or pa.types.is_duration(t):
        return [None if v is None else str(v) for v in arr.cast(pa.int64()).to_pylist()]
    if pa.types.is_floating(t):
        out = []
        for v in arr.to_pylist():
            if v is None:
                out.append(None)
            elif v != v:
                out.append("NaN")
            elif v in (float("inf"), float("-inf")):
                out.append("Infinity" if v > 0 else "-Infinity")
            else:
                out.append(float(v))
        return out
    if pa.types.is_decimal(t):
        return [None if v is None else str(int(v.scaleb(t.scale))) for v in arr.to_pylist()]
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return [None if v is None else v.hex() for v in arr.to_pylist()]
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        out = []
        for i in range(len(arr)):
            out.append(None if not arr[i].is_valid else dump_array(arr[i].values))
        return out
    if pa.types.is_map(t):
        out = []
        for i in range(len(arr)):
            if not arr[i].is_valid:
                out.append(None)
                continue
            entries = arr[i].values
            keys = dump_array(entries.field(0))
            vals = dump_array(entries.field(1))
            out.append([[k, v] for k, v in zip(keys, vals)])
        return out
    if pa.types.is_struct(t):
        fields = {t.field(j).name: dump_array(arr.field(j)) for j in range(t.num_fields)}
        valid = arr.is_valid().to_pylist()
        return [None if not valid[i] else {k: v[i] for k, v in fields.items()} for i in range(len(arr))]
    # strings, booleans
    return arr.to_pylist()


def dump(path: str) -> dict:
    table = pq.read_table(path)
    return {
        "columns": {
            name: {"type": str(table.schema.field(name).type), "values": dump_array(table.column(name).combine_chunks())}
            for name in table.column_names
        }
    }


def main() -> None:
    cmd = sys.argv[1]
    if cmd == "dump":
        json.dump(dump(sys.argv[2]), sys.stdout)
    elif cmd == "rewrite":
        table = pq.read_table(sys.argv[2])
        pq.write_table(table, sys.argv[3], compression="zstd", use_dictionary=True, row_group_size=5)
    elif cmd == "meta":
        f = pq.ParquetFile(sys.argv[2])
        kv = {k.decode(): v.decode() for k, v in (f.metadata.metadata or {}).items() if k != b"ARROW:schema"}
        schema = f.schema_arrow
        fields = {fd.name: {k.decode(): v.decode() for k, v in (fd.metadata or {}).items()} for fd in schema}
        codecs = sorted({f.metadata.row_group(0).column(i).compression for i in range(f.metadata.num_columns)})
        json.dump({"kv": kv, "fields": fields, "codecs": codecs}, sys.stdout)
    elif cmd == "write-meta":
        schema = pa.schema(
            [pa.field("id", pa.int64(), metadata={"unit": "count"}), pa.field("geometry", pa.binary(), metadata={"crs": "EPSG:4326"})],
            metadata={"geo": '{"version": "1.1.0", "primary_column": "geometry"}', "owner": "pyarrow"},
        )
        table = pa.table({"id": [1, 2, 3], "geometry": [b"\x01", b"\x02", None]}, schema=schema)
        pq.write_table(table, sys.argv[2], compression="brotli")
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
