#!/usr/bin/env bash
# Installs pyarrow, once, into its own venv outside the clone: the Parquet interop tests write
# files with pyarrow and read ours with it.
#   pyarrow (pip, in venv) -> $REMOTE_STORE_CACHE/pyarrow-venv/bin/python
# The same venv holds the Python remote-store (with s3fs and PyYAML), which the differential
# suite (__test__/s3/python-differential.spec.ts) runs next to this package.
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

# The Python remote-store the differential suite compares with, pinned with what it talks to S3 through.
REMOTE_STORE_PY=("remote-store[s3,s3-pyarrow,yaml]==0.33.0" "s3fs==2026.9.0" "PyYAML==6.0.4")
if "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('remote-store') != '0.33.0' or m.version('s3fs') != '2026.9.0')" 2>/dev/null; then
  say "Python remote-store 0.33.0 already installed in $VENV"
else
  say "installing ${REMOTE_STORE_PY[*]} into $VENV…"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REMOTE_STORE_PY[@]}" "pyarrow==$PYARROW_VERSION" \
    || die "pip install ${REMOTE_STORE_PY[*]} failed (see output above)"
fi
say "ready ($VENV/bin/python)"
