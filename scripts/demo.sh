#!/usr/bin/env bash
# The main job end to end on the built-in default. Set-up is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/kws demo "$@"
