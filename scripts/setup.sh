#!/usr/bin/env bash
# Create .venv (once) and install the package with the tested, pinned stack (constraints.txt).
# Re-running is cheap: it reinstalls only when pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  echo "setup.sh: $PYTHON is $("$PYTHON" --version 2>&1); torch 2.11 needs Python >= 3.10 (set PYTHON=...)." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.asteroid-deepmask-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip "setuptools<81" wheel
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test]"
  echo "$want" > "$stamp"
fi
# The runtime of `asteroid-deepmask web`'s page (onnxruntime-web, pinned and checked) into the user's cache,
# where npm is installed; its browser tests use the cache. Without npm, `web` says how to get it.
if command -v npm >/dev/null 2>&1; then
  .venv/bin/python -m asteroid_deepmask.deployment.web_runtime
fi
