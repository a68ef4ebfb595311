#!/usr/bin/env bash
# Set up (if needed) and run the test suite; extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/system_packages.sh
./scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
