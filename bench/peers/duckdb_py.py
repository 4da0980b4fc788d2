"""Peer: duckdb (Python) reading a hive-partitioned dataset over S3 with httpfs (from the
duckdb-extension-httpfs package: duckdb would otherwise download it).

  dataset({key, columns, filter}) → rows: SELECT columns FROM read_parquet('s3://bucket/key/**/*.parquet',
  hive_partitioning = true) WHERE filter — partition filters prune files before they are read.

The cell protocol of ../cell.mjs in Python, as remote_store_py.py speaks it.
"""

import json
import os
import resource
import sys
import time
from urllib.parse import urlparse

import duckdb
import duckdb_extension_httpfs

from remote_store_py import cpu_seconds, wire_bytes


def connect(t: dict) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    ext = os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions", f"v{duckdb.__version__}", "httpfs.duckdb_extension")
    con.execute(f"LOAD '{ext}'")
    # Each timed read fetches what it needs, as the other peers' do: no caches kept from the warm-up.
    for setting in ("enable_external_file_cache", "enable_http_metadata_cache", "parquet_metadata_cache"):
        con.execute(f"SET {setting} = false")
    endpoint = urlparse(t["endpoint"])
    con.execute(
        "CREATE SECRET s3 (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL ?)",
        [t["accessKey"], t["secretKey"], t["region"], endpoint.netloc, endpoint.scheme == "https"],
    )
    return con


def where(filter_: list) -> str:
    def lit(v):
        return "(" + ", ".join(lit(x) for x in v) + ")" if isinstance(v, list) else repr(v)

    return " AND ".join(f'"{c}" {op.upper()} {lit(v)}' for c, op, v in filter_)


def main() -> None:
    cell = json.loads(sys.stdin.read())
    t = {**cell["target"], **cell["peer"]["options"]}
    try:
        con = connect(t)

        def dataset(op):
            cols = ", ".join(f'"{c}"' for c in op["columns"]) if op.get("columns") else "*"
            sql = f"SELECT {cols} FROM read_parquet('s3://{t['bucket']}/{op['key']}/**/*.parquet', hive_partitioning = true)"
            if op.get("filter"):
                sql += " WHERE " + where(op["filter"])
            return len(con.execute(sql).fetch_arrow_table())

        def call(op):
            got = {"dataset": dataset}[op["kind"]](op)
            if "expect" in op and got != op["expect"]:
                raise RuntimeError(f"{op['kind']} '{op['key']}' answered {got}, expected {op['expect']}")

        for op in cell["warmup"]:
            call(op)
        cpu0, wire0 = cpu_seconds(), wire_bytes()
        times = []
        for op in cell["measured"]:
            t0 = time.perf_counter()
            call(op)
            times.append(time.perf_counter() - t0)
        result = {
            "ok": True,
            "times": times,
            "cpuSeconds": cpu_seconds() - cpu0,
            "wireBytes": wire_bytes() - wire0,
            "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "eventLoopMaxMs": None,
        }
    except Exception:
        import traceback

        result = {"ok": False, "error": traceback.format_exc()}
    print(json.dumps(result), flush=True)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
