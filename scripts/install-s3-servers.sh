#!/usr/bin/env bash
# Installs the real S3 servers used by the test suite, once, into a cache outside the clone:
#   s3s-fs 0.14.1 (cargo)      -> $REMOTE_STORE_CACHE/bin/s3s-fs
#   moto server (pip, in venv) -> $REMOTE_STORE_CACHE/moto-venv/bin/moto_server
# Idempotent: already-installed servers are reused. Fails loudly (non-zero exit, clear message).
set -euo pipefail

CACHE="${REMOTE_STORE_CACHE:-$HOME/.cache/remote-store}"
S3S_VERSION="0.14.1"
mkdir -p "$CACHE"

die() { echo "install-s3-servers: ERROR: $*" >&2; exit 1; }

# Test processes may call this at the same time: one installs, the others wait and reuse.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/.install.lock"
  flock 9
fi

# --- s3s-fs -------------------------------------------------------------------
S3S_BIN="$CACHE/bin/s3s-fs"
if [ -x "$S3S_BIN" ] && "$S3S_BIN" --version 2>/dev/null | grep -q "$S3S_VERSION"; then
  echo "install-s3-servers: s3s-fs $S3S_VERSION already installed at $S3S_BIN"
else
  command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust (https://rustup.rs) to build s3s-fs"
  echo "install-s3-servers: building s3s-fs $S3S_VERSION with cargo (takes several minutes)…"
  cargo install s3s-fs --version "$S3S_VERSION" --features binary --locked --root "$CACHE" \
    || die "cargo install s3s-fs --version $S3S_VERSION failed (see output above)"
  [ -x "$S3S_BIN" ] || die "cargo install finished but $S3S_BIN is missing"
fi

# --- moto server --------------------------------------------------------------
VENV="$CACHE/moto-venv"
MOTO_BIN="$VENV/bin/moto_server"
if [ -x "$MOTO_BIN" ] && "$VENV/bin/python" -c 'import moto.server, flask' 2>/dev/null; then
  echo "install-s3-servers: moto server already installed at $MOTO_BIN"
else
  PY="${PYTHON:-$(command -v python3 || true)}"
  [ -n "$PY" ] || die "python3 not found; needed for moto server"
  echo "install-s3-servers: creating venv $VENV and installing moto[server]…"
  "$PY" -m venv "$VENV" || die "could not create a Python venv at $VENV (is python3-venv installed?)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]" \
    || die "pip install moto[server] failed (see output above)"
  [ -x "$MOTO_BIN" ] || die "pip install finished but $MOTO_BIN is missing"
fi

echo "install-s3-servers: ready (S3S_FS_BIN=$S3S_BIN MOTO_SERVER_BIN=$MOTO_BIN)"
