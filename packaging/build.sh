#!/usr/bin/env bash
# Builds the PoseTailor desktop bundle: a PyInstaller one-folder app in dist/PoseTailor/ and the archive
# dist/PoseTailor-<version>-<os>-<arch>.tar.gz (the folder + a .desktop entry, the icon and install.sh).
#   bash packaging/build.sh            # needs the project's .venv (bash scripts/setup.sh)
#   bash packaging/build.sh --no-archive
# Steps (the same on Windows and macOS, see packaging/README.md): stage the MediaPipe task bundles and the default
# body's cache, render the icon, run PyInstaller on packaging/posetailor.spec, add the desktop files, archive.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-.venv/bin/python}
ARCHIVE=1
[ "${1:-}" = "--no-archive" ] && ARCHIVE=0
[ -x "$PY" ] || { echo "build: $PY not found; run bash scripts/setup.sh first" >&2; exit 1; }
t0=$(date +%s)
PYI_VERSION=$(sed -n 's/.*"pyinstaller==\([0-9.]*\)".*/\1/p' pyproject.toml | head -1)
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
  echo "[build] installing pyinstaller==$PYI_VERSION (the [packaging] extra)"
  "$PY" -m pip install -q "pyinstaller==$PYI_VERSION" "$(sed -n 's/.*"\(pyinstaller-hooks-contrib==[0-9.]*\)".*/\1/p' pyproject.toml)"
fi
STAGE="$ROOT/build/stage"
rm -rf "$STAGE" && mkdir -p "$STAGE/mediapipe" "$STAGE/body_cache"
export POSETAILOR_STAGE="$STAGE"

echo "[build] staging MediaPipe task bundles"
bash scripts/build_mediapipe_models.sh
MP_DIR=$("$PY" -c "from core_models.capture.landmarks import model_dir; print(model_dir())")
cp "$MP_DIR"/pose_landmarker_{lite,full,heavy}.task "$STAGE/mediapipe/"

echo "[build] staging the default body's cached layer"
"$PY" packaging/stage.py body-cache "$STAGE/body_cache"
echo "[build] rendering the icon (PNG 256, ICO, ICNS)"
"$PY" packaging/stage.py icons resources/icons/posetailor.svg "$STAGE"

echo "[build] PyInstaller (one-folder)"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/posetailor.spec
APP=dist/PoseTailor
cp packaging/posetailor.desktop packaging/install.sh "$APP/"
cp resources/icons/posetailor.svg "$STAGE/posetailor.png" "$APP/"
chmod +x "$APP/install.sh" "$APP/PoseTailor"
SIZE=$(du -sm "$APP" | cut -f1)
echo "[build] bundle: $APP (${SIZE} MiB)"
if [ "$ARCHIVE" = 1 ]; then
  VERSION=$("$PY" -c "import tomllib; print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])")
  TAR="dist/PoseTailor-$VERSION-$(uname -s | tr 'A-Z' 'a-z')-$(uname -m).tar.gz"
  tar -C dist -czf "$TAR" PoseTailor
  echo "[build] archive: $TAR ($(du -sm "$TAR" | cut -f1) MiB)"
fi
echo "[build] done in $(( $(date +%s) - t0 )) s"
