# Sourced by the installers in scripts/: the cache root outside the clone, loud failures, one
# installer run at a time, and a venv holding one pip package. Set INSTALLER (the script's name
# for its messages) before sourcing.

CACHE="${REMOTE_STORE_CACHE:-$HOME/.cache/remote-store}"
mkdir -p "$CACHE"

say() { echo "$INSTALLER: $*"; }
die() { echo "$INSTALLER: ERROR: $*" >&2; exit 1; }

# Test processes may call an installer at the same time: one installs, the others wait and reuse.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/.$INSTALLER.lock"
  flock 9
fi

# pip_venv VENV SPEC WHY: creates the venv VENV and pip-installs SPEC into it; WHY names what
# needs it, for the error when python3 is missing.
pip_venv() {
  local venv="$1" spec="$2" why="$3"
  local py="${PYTHON:-$(command -v python3 || true)}"
  [ -n "$py" ] || die "python3 not found; needed for $why"
  say "creating venv $venv and installing $spec…"
  "$py" -m venv "$venv" || die "could not create a Python venv at $venv (is python3-venv installed?)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec" \
    || die "pip install $spec failed (see output above)"
}
