#!/usr/bin/env bash
# Builds the MediaPipe PoseLandmarker .task bundles (lite, full, heavy) used by webcam capture
# (core_models/capture/landmarks.py) into an ignored cache folder; nothing is committed, nothing downloads at run time.
# Source: the Apache-2.0 npm package @mediapipe/pose@0.5.1675469404 (landmark models + person detector), fetched
# with `npm pack`; core_models/capture/model_bundles.py adds the Tasks metadata and packs the bundles.
#   bash scripts/build_mediapipe_models.sh            # idempotent: skips when the bundles are there
#   POSETAILOR_MEDIAPIPE_DIR=/some/dir bash scripts/build_mediapipe_models.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PKG="@mediapipe/pose@0.5.1675469404"
OUT=$(.venv/bin/python -c "from core_models.capture.landmarks import model_dir; print(model_dir())")
STAMP="$OUT/.built-from"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PKG" ] && [ -s "$OUT/pose_landmarker_lite.task" ] \
   && [ -s "$OUT/pose_landmarker_full.task" ] && [ -s "$OUT/pose_landmarker_heavy.task" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "[mediapipe] installing nodejs + npm (to fetch $PKG)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "[mediapipe] building pose_landmarker_{lite,full,heavy}.task from npm $PKG into $OUT"
(cd "$TMP" && npm pack --silent "$PKG" >/dev/null && tar xzf ./*.tgz)
.venv/bin/python -m core_models.capture.model_bundles --npm-dir "$TMP/package" --out "$OUT"
echo "$PKG" > "$STAMP"
