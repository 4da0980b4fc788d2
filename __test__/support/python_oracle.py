"""The Python remote-store (PyPI, 0.33.0) as an oracle for the differential tests.

One job as JSON on stdin, one JSON document on stdout:
  {"cmd": "yaml", "texts": ["..."]}                     -> PyYAML safe_load of each text, tagged (see tag())
  {"cmd": "config", "file": ..., "env": {...}}          -> the loaded RegistryConfig, and what get_store says per store
  {"cmd": "scenario", "file": ..., "env": {...}, "store": name, "steps": [...]}
                                                        -> one result per step
  {"cmd": "signature"}                                  -> the option names the Python S3 backends accept
The config file is loaded as the library's users load it: RegistryConfig.from_toml (with the table
for pyproject.toml), remote_store.ext.yaml.from_yaml, or RegistryConfig.from_dict of a JSON file,
each with placeholders resolved from `env`.
"""

import base64
import datetime
import inspect
import json
import math
import os
import sys

from remote_store import Registry, RegistryConfig, RemoteStoreError, Secret, resolve_env


def tag(value):
    """A JSON form that keeps what JSON would blur: floats that are not finite, dates, bytes, Secrets."""
    if isinstance(value, Secret):
        return {"secret": value.reveal()}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return {"float": "nan"}
        if math.isinf(value):
            return {"float": "inf" if value > 0 else "-inf"}
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return {"date": value.isoformat(timespec="milliseconds") + "Z"}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat() + "T00:00:00.000Z"}
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {"map": [[str(k), tag(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [tag(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"set": sorted(str(v) for v in value)}
    return {"other": type(value).__name__}


def load(job):
    os.environ.update(job.get("env", {}))
    path = job["file"]
    if path.endswith(".json"):
        with open(path) as f:
            return RegistryConfig.from_dict(resolve_env(json.load(f)))
    if path.endswith((".yaml", ".yml")):
        from remote_store.ext.yaml import from_yaml

        return from_yaml(path, resolve_env_vars=True)
    table = ("tool", "remote-store") if os.path.basename(path) == "pyproject.toml" else ()
    return RegistryConfig.from_toml(path, table=table, resolve_env_vars=True)


def error(exc, root=""):
    if isinstance(exc, RemoteStoreError):
        path = exc.path
        # The Python library reports the backend key; this package the store-relative path.
        if path is not None and root and (path == root or path.startswith(root + "/")):
            path = path[len(root) + 1 :]
        return {"error": type(exc).__name__, "path": path}
    return {"error": "python:" + type(exc).__name__, "message": str(exc)[:300]}


def config(job):
    cfg = load(job)
    registry = Registry(cfg)
    stores = {}
    for name, profile in cfg.stores.items():
        try:
            store = registry.get_store(name)
            stores[name] = {"ok": type(store._backend).__name__}
        except Exception as exc:  # noqa: BLE001 -- what it raises is the answer
            stores[name] = error(exc)
    out = {
        "backends": {
            name: {
                "type": b.type,
                "options": tag(b.options),
                "retry": None if b.retry is None else {k: getattr(b.retry, k) for k in ("max_attempts", "backoff_base", "backoff_max", "jitter", "timeout")},
            }
            for name, b in cfg.backends.items()
        },
        "stores": {name: {"backend": s.backend, "root_path": s.root_path} for name, s in cfg.stores.items()},
        "get_store": stores,
    }
    registry.close()
    return out


def file_info(info):
    return {
        "path": str(info.path),
        "name": info.name,
        "size": info.size,
        "etag": info.etag,
        "content_type": info.content_type,
        "metadata": None if info.metadata is None else dict(info.metadata),
        "modified": info.modified_at.year > 1,
    }


def run_step(store, step):
    op, a = step["op"], step
    if op == "write":
        data = base64.b64decode(a["data"])
        kwargs = {"overwrite": a.get("overwrite", False)}
        if a.get("metadata") is not None:
            kwargs["metadata"] = a["metadata"]
        r = store.write(a["path"], data, **kwargs)
        return {"path": str(r.path), "size": r.size}
    if op == "read":
        return {"b64": base64.b64encode(store.read_bytes(a["path"])).decode()}
    if op == "readStream":
        with store.read(a["path"]) as f:
            return {"b64": base64.b64encode(f.read()).decode()}
    if op == "readRange":
        with store.read_seekable(a["path"]) as f:
            f.seek(a["offset"])
            return {"b64": base64.b64encode(f.read(a["length"])).decode()}
    if op == "exists":
        return [store.exists(a["path"]), store.is_file(a["path"]), store.is_folder(a["path"])]
    if op == "listFiles":
        kwargs = {"recursive": a.get("recursive", False)}
        if a.get("pattern") is not None:
            kwargs["pattern"] = a["pattern"]
        if a.get("maxDepth") is not None:
            kwargs["max_depth"] = a["maxDepth"]
        return sorted([str(i.path), i.name, i.size] for i in store.list_files(a["path"], **kwargs))
    if op == "listFolders":
        return sorted([str(e.path), e.name] for e in store.list_folders(a["path"]))
    if op == "children":
        return sorted([str(e.path), type(e).__name__ == "FileInfo"] for e in store.iter_children(a["path"]))
    if op == "glob":
        return sorted(str(i.path) for i in store.glob(a["pattern"]))
    if op == "info":
        return file_info(store.get_file_info(a["path"]))
    if op == "folderInfo":
        i = store.get_folder_info(a["path"])
        return {"path": str(i.path), "file_count": i.file_count, "total_size": i.total_size}
    if op == "copy":
        return store.copy(a["src"], a["dst"], overwrite=a.get("overwrite", False))
    if op == "move":
        return store.move(a["src"], a["dst"], overwrite=a.get("overwrite", False))
    if op == "delete":
        return store.delete(a["path"], missing_ok=a.get("missingOk", False))
    if op == "deleteFolder":
        return store.delete_folder(a["path"], recursive=a.get("recursive", False), missing_ok=a.get("missingOk", False))
    raise ValueError(f"unknown op {op}")


def scenario(job):
    registry = Registry(load(job))
    root = registry._config.stores[job["store"]].root_path.strip("/")
    store = registry.get_store(job["store"])
    results = []
    for step in job["steps"]:
        try:
            value = run_step(store, step)
            results.append({"ok": value})
        except Exception as exc:  # noqa: BLE001 -- the error class is the result
            results.append(error(exc, root))
    registry.close()
    return results


def signature():
    """Every option a config can give the Python S3 backends, from the installed libraries themselves."""
    import botocore.config
    import botocore.session
    import s3fs

    from remote_store.backends import S3Backend, S3PyArrowBackend

    def params(fn):
        return [p for p in inspect.signature(fn).parameters if p not in ("self", "kwargs", "args")]

    # aiobotocore's create_client takes *args, **kwargs and hands them to botocore's.
    create_client = params(botocore.session.Session.create_client)
    return {
        "S3Backend": params(S3Backend.__init__),
        "S3PyArrowBackend": params(S3PyArrowBackend.__init__),
        "s3fs": params(s3fs.S3FileSystem.__init__) + ["use_listings_cache", "listings_expiry_time", "max_paths", "skip_instance_cache", "profile"],
        "client_kwargs": [p for p in create_client if p != "service_name"],
        "config_kwargs": sorted(botocore.config.Config.OPTION_DEFAULTS),
    }


def main():
    job = json.load(sys.stdin)
    cmd = job["cmd"]
    if cmd == "yaml":
        import yaml

        out = []
        for text in job["texts"]:
            try:
                out.append({"ok": tag(yaml.safe_load(text))})
            except yaml.YAMLError as exc:
                out.append({"error": type(exc).__name__})
            except Exception as exc:  # noqa: BLE001 -- PyYAML itself failing (e.g. int('', 2) for `0b_`)
                out.append({"crash": type(exc).__name__})
        json.dump(out, sys.stdout)
    elif cmd == "config":
        json.dump(config(job), sys.stdout)
    elif cmd == "scenario":
        json.dump(scenario(job), sys.stdout)
    elif cmd == "signature":
        json.dump(signature(), sys.stdout)
    else:
        raise SystemExit(f"unknown cmd {cmd}")


if __name__ == "__main__":
    main()
