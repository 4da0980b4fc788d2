"""Peer: the Python `remote-store` (PyPI) with its `s3` (s3fs) or `s3-pyarrow` backend.

The cell protocol of ../cell.mjs in Python: the cell comes as JSON on stdin; one JSON line out.
A batch runs its ops on a thread pool of `concurrency` threads (the library's API is
synchronous). There is no event loop to measure here.
"""

import json
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from remote_store import Store
from remote_store.backends import S3Backend, S3PyArrowBackend


def wire_bytes() -> int:
    """Bytes sent on loopback (see cell.mjs: the bench has a network namespace of its own)."""
    with open("/proc/net/dev") as f:
        line = next(l for l in f if l.strip().startswith("lo:"))
    return int(line.split(":", 1)[1].split()[8])


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    cell = json.loads(sys.stdin.read())
    t = {**cell["target"], **cell["peer"]["options"]}
    backend_class = S3PyArrowBackend if t["type"] == "s3-pyarrow" else S3Backend
    store = Store(
        backend_class(t["bucket"], endpoint_url=t["endpoint"], key=t["accessKey"], secret=t["secretKey"], region_name=t["region"])
    )
    bodies: dict[str, bytes] = {}

    def put_file(op):
        with open(op["source"], "rb") as f:
            store.write(op["key"], f, overwrite=True)

    ops = {
        "get": lambda op: len(store.read_bytes(op["key"])),
        "put": lambda op: store.write(op["key"], bodies[op["source"]], overwrite=True),
        "putCreate": lambda op: store.write(op["key"], bodies[op["source"]], overwrite=False),
        "putFile": put_file,
        "head": lambda op: store.get_file_info(op["key"]).size,
        "exists": lambda op: store.exists(op["key"]),
        "list": lambda op: sum(1 for _ in store.list_files(op["key"], recursive=True)),
        "copy": lambda op: store.copy(op["key"], op["dst"], overwrite=True),
    }

    def call(op):
        got = ops[op["kind"]](op)
        if "expect" in op and got != op["expect"]:
            raise RuntimeError(f"{op['kind']} '{op['key']}' answered {got}, expected {op['expect']}")

    pool = ThreadPoolExecutor(max_workers=cell["concurrency"])

    def run(entry):
        if "batch" in entry:
            for f in [pool.submit(call, op) for op in entry["batch"]]:
                f.result()
        else:
            call(entry)

    try:
        for entry in cell["warmup"] + cell["measured"]:
            for op in entry.get("batch", [entry]):
                if op["kind"] in ("put", "putCreate") and op["source"] not in bodies:
                    with open(op["source"], "rb") as f:
                        bodies[op["source"]] = f.read()
        for entry in cell["warmup"]:
            run(entry)
        cpu0, wire0 = cpu_seconds(), wire_bytes()
        times = []
        for entry in cell["measured"]:
            t0 = time.perf_counter()
            run(entry)
            times.append(time.perf_counter() - t0)
        wire = wire_bytes() - wire0
        cpu = cpu_seconds() - cpu0
        result = {
            "ok": True,
            "times": times,
            "cpuSeconds": cpu,
            "wireBytes": wire,
            "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "eventLoopMaxMs": None,
        }
    except Exception as err:  # reported to the orchestrator, which fails the cell loudly
        import traceback

        result = {"ok": False, "error": traceback.format_exc() or repr(err)}
    pool.shutdown(wait=False)
    print(json.dumps(result), flush=True)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
