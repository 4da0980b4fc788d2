#!/usr/bin/env bash
# Installs the Python oracles of the test suite, once, into one venv outside the clone:
#   pyarrow (the Parquet interop tests write files with it and read ours with it),
#   duckdb and polars (the dataset interop tests read our datasets with them),
#   the Python remote-store with s3fs and PyYAML (the differential suite,
#   __test__/s3/python-differential.spec.ts, runs it next to this package)
#   -> $REMOTE_STORE_CACHE/pyarrow-venv/bin/python
# Idempotent; fails loudly.
set -euo pipefail
INSTALLER=install-pyarrow
. "$(dirname "$0")/lib/install-common.sh"

PYARROW_VERSION="26.0.1"
VENV="$CACHE/pyarrow-venv"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import pyarrow, sys; sys.exit(pyarrow.__version__ != '$PYARROW_VERSION')" 2>/dev/null; then
  say "pyarrow $PYARROW_VERSION already installed in $VENV"
else
  pip_venv "$VENV" "pyarrow==$PYARROW_VERSION" "the pyarrow interop tests"
fi

# Installs the pinned packages unless `check` (Python code exiting 0) says they are there.
pip_pinned() {
  local check="$1" what="$2"
  shift 2
  if "$VENV/bin/python" -c "$check" 2>/dev/null; then
    say "$what already installed in $VENV"
  else
    say "installing $* into $VENV…"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" "pyarrow==$PYARROW_VERSION" \
      || die "pip install $* failed (see output above)"
  fi
}

pip_pinned "import duckdb, polars, sys; sys.exit(duckdb.__version__ != '2.0.0' or polars.__version__ != '2.1.0')" \
  "duckdb 2.0.0 and polars 2.1.0" "duckdb==2.0.0" "polars==2.1.0"

# The Python remote-store the differential suite compares with, pinned with what it talks to S3 through.
pip_pinned "import importlib.metadata as m, sys; sys.exit(m.version('remote-store') != '0.33.0' or m.version('s3fs') != '2026.9.0')" \
  "Python remote-store 0.33.0" "remote-store[s3,s3-pyarrow,yaml]==0.33.0" "s3fs==2026.9.0" "PyYAML==6.0.4"

say "ready ($VENV/bin/python)"
