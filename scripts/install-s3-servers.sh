#!/usr/bin/env bash
# Installs the real S3 servers used by the test suite, once, into a cache outside the clone:
#   s3s-fs 0.14.1 (cargo)      -> $REMOTE_STORE_CACHE/bin/s3s-fs
#   moto server 5.2.5 (pip, in venv) -> $REMOTE_STORE_CACHE/moto-venv/bin/moto_server
#   versitygw v1.8.0 (go install)    -> $REMOTE_STORE_CACHE/bench-bin/versitygw
#     (atomic conditional writes: the create-only races are judged on it; bench/run.sh and the
#     Rust tests use the same binary)
# Idempotent: already-installed servers are reused. Fails loudly (non-zero exit, clear message).
set -euo pipefail

INSTALLER=install-s3-servers
. "$(dirname "$0")/lib/install-common.sh"

S3S_VERSION="0.14.1"
MOTO_VERSION="5.2.5"

# --- s3s-fs -------------------------------------------------------------------
S3S_BIN="$CACHE/bin/s3s-fs"
if [ -x "$S3S_BIN" ] && "$S3S_BIN" --version 2>/dev/null | grep -q "$S3S_VERSION"; then
  say "s3s-fs $S3S_VERSION already installed at $S3S_BIN"
else
  command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust (https://rustup.rs) to build s3s-fs"
  say "building s3s-fs $S3S_VERSION with cargo (takes several minutes)…"
  cargo install s3s-fs --version "$S3S_VERSION" --features binary --locked --root "$CACHE" \
    || die "cargo install s3s-fs --version $S3S_VERSION failed (see output above)"
  [ -x "$S3S_BIN" ] || die "cargo install finished but $S3S_BIN is missing"
fi

# --- moto server --------------------------------------------------------------
VENV="$CACHE/moto-venv"
MOTO_BIN="$VENV/bin/moto_server"
if [ -x "$MOTO_BIN" ] && "$VENV/bin/python" -c "import moto.server, flask, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  say "moto server $MOTO_VERSION already installed at $MOTO_BIN"
else
  pip_venv "$VENV" "moto[server]==$MOTO_VERSION" "the moto server"
  [ -x "$MOTO_BIN" ] || die "pip install finished but $MOTO_BIN is missing"
fi

# --- versitygw -----------------------------------------------------------------
VGW_VERSION="v1.8.0"
VGW_BIN="$CACHE/bench-bin/versitygw"
# A go-installed build reports no version ("Version: git"): the binary's presence is the check.
if [ -x "$VGW_BIN" ]; then
  say "versitygw $VGW_VERSION already installed at $VGW_BIN"
else
  command -v go >/dev/null 2>&1 || die "go not found; needed to build versitygw (go install)"
  say "building versitygw $VGW_VERSION with go install (takes a few minutes)…"
  GOBIN="$CACHE/bench-bin" go install "github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION" \
    || die "go install versitygw@$VGW_VERSION failed (see output above)"
  [ -x "$VGW_BIN" ] || die "go install finished but $VGW_BIN is missing"
fi

say "ready (S3S_FS_BIN=$S3S_BIN MOTO_SERVER_BIN=$MOTO_BIN VERSITYGW_BIN=$VGW_BIN)"
