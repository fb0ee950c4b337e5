#!/usr/bin/env bash
# Set up (idempotent), then run the test suite. Extra arguments go to pytest.
# By default runs everything except tests marked `slow`; KWS_TEST_ALL=1 runs those too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check kws tests
MARK=(-m "not slow")
[[ ${KWS_TEST_ALL:-0} == 1 ]] && MARK=()
exec .venv/bin/python -m pytest -n 2 "${MARK[@]}" "$@"
