#!/usr/bin/env bash
# Installs pyarrow, once, into its own venv outside the clone: the Parquet interop tests write
# files with pyarrow and read ours with it.
#   pyarrow (pip, in venv) -> $REMOTE_STORE_CACHE/pyarrow-venv/bin/python
# The dataset interop tests also read our datasets with duckdb and polars, from the same venv.
# Idempotent; fails loudly.
set -euo pipefail
INSTALLER=install-pyarrow
. "$(dirname "$0")/lib/install-common.sh"

PYARROW_VERSION="26.0.1"
VENV="$CACHE/pyarrow-venv"

DATASET_READERS=("duckdb==2.0.0" "polars==2.1.0")
dataset_readers() {
  "$VENV/bin/python" -c "import duckdb, polars, sys; sys.exit(f'duckdb=={duckdb.__version__}' != '${DATASET_READERS[0]}' or f'polars=={polars.__version__}' != '${DATASET_READERS[1]}')" 2>/dev/null \
    || "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${DATASET_READERS[@]}" \
    || die "pip install ${DATASET_READERS[*]} failed (see output above)"
}
[ -x "$VENV/bin/python" ] && dataset_readers

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import pyarrow, sys; sys.exit(pyarrow.__version__ != '$PYARROW_VERSION')" 2>/dev/null; then
  say "pyarrow $PYARROW_VERSION already installed in $VENV"
  exit 0
fi
pip_venv "$VENV" "pyarrow==$PYARROW_VERSION" "the pyarrow interop tests"
dataset_readers
say "ready ($VENV/bin/python)"
