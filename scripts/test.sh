#!/usr/bin/env bash
# Sets up (idempotent) and runs the whole test suite; GL tests run in a real Xvfb window.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=xcb
unset PYOPENGL_PLATFORM
exec xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m pytest -q "$@"
