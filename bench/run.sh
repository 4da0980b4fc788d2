#!/usr/bin/env bash
# The benchmark, set-up included:  bash bench/run.sh [--quick] [--rounds N] [--only ids] [--peers ids]
#
# Installs what is missing (iperf3 and nginx from Debian; the library's addon and build; the S3
# test servers; the bench's own npm packages in bench/node_modules and Python packages in
# bench/.work/venv — none of them in the library's package.json), then runs bench/run.mjs in
# network and PID namespaces of its own: only the bench's traffic crosses its loopback (so
# loopback byte counters measure each cell exactly), and every server it starts dies with it.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v iperf3 >/dev/null || missing+=(iperf3)
command -v nginx >/dev/null || missing+=(nginx-light) # has the dav module the PUT ceiling uses
command -v unshare >/dev/null || missing+=(util-linux)
command -v ip >/dev/null || missing+=(iproute2)
if ((${#missing[@]})); then
  [ "$(id -u)" = 0 ] || { echo "bench: needs ${missing[*]} (apt-get install as root)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

[ -d node_modules ] || npm install --no-audit --no-fund
npm run build --silent                       # dist/, what the peers load
[ -n "$(ls native/*.node 2>/dev/null)" ] || npm run build:native
bash scripts/install-s3-servers.sh           # s3s-fs (and moto), cached in ~/.cache/remote-store
# Faster S3 servers than s3s-fs for the peers (see bench/README.md): Go modules, built once
# with the machine's Go into a cache outside the clone (MinIO takes a few minutes).
BIN="${REMOTE_STORE_BENCH_BIN:-$HOME/.cache/remote-store/bench-bin}"
[ -x "$BIN/versitygw" ] || GOBIN="$BIN" go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
[ -x "$BIN/minio" ] || GOBIN="$BIN" go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c

# `npm install`, not `npm ci`: the lock file cannot list the platform builds of opendal and
# nodejs-polars that the registry does not serve, and npm ci refuses such a lock.
(cd bench && npm install --no-audit --no-fund --silent)
[ -x bench/.work/venv/bin/python ] || python3 -m venv bench/.work/venv
bench/.work/venv/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt

exec unshare --net --pid --fork --mount-proc --kill-child \
  sh -c 'ip link set lo up && exec node --import tsx bench/run.mjs "$@"' bench "$@"
