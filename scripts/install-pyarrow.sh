#!/usr/bin/env bash
# Installs pyarrow, once, into its own venv outside the clone: the Parquet interop tests write
# files with pyarrow and read ours with it.
#   pyarrow (pip, in venv) -> $REMOTE_STORE_CACHE/pyarrow-venv/bin/python
# Idempotent; fails loudly.
set -euo pipefail
INSTALLER=install-pyarrow
. "$(dirname "$0")/lib/install-common.sh"

PYARROW_VERSION="26.0.1"
VENV="$CACHE/pyarrow-venv"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import pyarrow, sys; sys.exit(pyarrow.__version__ != '$PYARROW_VERSION')" 2>/dev/null; then
  say "pyarrow $PYARROW_VERSION already installed in $VENV"
  exit 0
fi
pip_venv "$VENV" "pyarrow==$PYARROW_VERSION" "the pyarrow interop tests"
say "ready ($VENV/bin/python)"
