#!/usr/bin/env bash
# Installs pyarrow, once, into its own venv outside the clone: the Parquet interop tests write
# files with pyarrow and read ours with it.
#   pyarrow (pip, in venv) -> $REMOTE_STORE_CACHE/pyarrow-venv/bin/python
# Idempotent; fails loudly.
set -euo pipefail

CACHE="${REMOTE_STORE_CACHE:-$HOME/.cache/remote-store}"
PYARROW_VERSION="26.0.1"
VENV="$CACHE/pyarrow-venv"
mkdir -p "$CACHE"

die() { echo "install-pyarrow: ERROR: $*" >&2; exit 1; }

if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/.install-pyarrow.lock"
  flock 9
fi

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import pyarrow, sys; sys.exit(pyarrow.__version__ != '$PYARROW_VERSION')" 2>/dev/null; then
  echo "install-pyarrow: pyarrow $PYARROW_VERSION already installed in $VENV"
  exit 0
fi
PY="${PYTHON:-$(command -v python3 || true)}"
[ -n "$PY" ] || die "python3 not found; needed for the pyarrow interop tests"
echo "install-pyarrow: creating venv $VENV and installing pyarrow $PYARROW_VERSION…"
"$PY" -m venv "$VENV" || die "could not create a Python venv at $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pyarrow==$PYARROW_VERSION" \
  || die "pip install pyarrow==$PYARROW_VERSION failed (see output above)"
echo "install-pyarrow: ready ($VENV/bin/python)"
