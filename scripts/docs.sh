#!/usr/bin/env bash
# Build the documentation into docs/_build/html/ (or $DOCS_OUT), offline; any Sphinx warning fails
# the build. Read it with: python -m http.server -d docs/_build/html
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh  # the test extra includes the docs extra
out=${DOCS_OUT:-docs/_build/html}
# Offline: no hub, no intersphinx; matplotlib draws to files; the examples' models run on one thread.
export HF_HUB_OFFLINE=1 MPLBACKEND=Agg OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec .venv/bin/python -m sphinx -W --keep-going -b html docs "$out" "$@"
