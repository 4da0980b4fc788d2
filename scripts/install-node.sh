#!/usr/bin/env bash
# Installs, once, the Node release of one major that the test suite also runs on, from the npm
# registry's `node` package, outside the clone, and prints the path of its binary (last line).
#   node@<version> (npm) -> $REMOTE_STORE_CACHE/node-<major>/node_modules/node/bin/node
# Usage: install-node.sh MAJOR. Idempotent; fails loudly.
set -euo pipefail
INSTALLER=install-node
. "$(dirname "$0")/lib/install-common.sh"

MAJOR="${1:?usage: install-node.sh MAJOR}"
# Pinned, as the other test tools are: the newest release of each major when last updated.
case "$MAJOR" in
  20) VERSION=20.20.2 ;;
  22) VERSION=22.23.3 ;;
  24) VERSION=24.21.0 ;;
  *) die "no Node version pinned for major $MAJOR (package.json engines names it: add it here)" ;;
esac
DIR="$CACHE/node-$MAJOR"
BIN="$DIR/node_modules/node/bin/node"

if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null)" = "v$VERSION" ]; then
  say "node $VERSION already installed in $DIR" >&2
else
  say "installing node@$VERSION from the npm registry into $DIR…" >&2
  rm -rf "$DIR"
  mkdir -p "$DIR"
  # The `node` package fetches its platform binary (node-<os>-<arch>) from its preinstall script.
  (cd "$DIR" && npm install --no-save --no-package-lock --no-audit --no-fund "node@$VERSION" >&2) \
    || die "npm install node@$VERSION failed (see output above)"
  [ "$("$BIN" --version 2>/dev/null)" = "v$VERSION" ] || die "$BIN is not node $VERSION after the install"
fi
echo "$BIN"
