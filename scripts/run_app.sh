#!/usr/bin/env bash
# Sets up (idempotent) and launches the PoseTailor GUI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python main.py "$@"
