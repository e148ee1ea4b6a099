#!/usr/bin/env bash
# Smoke test of the built desktop bundle, run the way a user's machine runs it: the archive is unpacked into a
# fresh folder under /tmp, HOME is an empty folder (no ~/.cache/posetailor: the bundle must bring its own body
# cache and MediaPipe bundles), the environment is cleared (env -i, PATH=/usr/bin:/bin) and, where the kernel
# allows a private mount namespace (root or user namespaces), the repository - with its .venv - is hidden under an
# empty tmpfs for the bundle's processes. Under Xvfb the bundle then
#   1. prints `info`;  2. applies a text edit (`edit`);  3. exports the edited pose to FBX (`export`);
#   4. recovers a pose from a photo (`capture`: the bundled MediaPipe model);  5. renders the edit headless
#   (`render`, EGL);  6. starts the GUI, waits for the first frame that shows the body, grabs the screen and quits;
# and the results are checked from the repository's venv by packaging/check_smoke.py (the FBX read by ufbx, the
# independent reader of tests/export; the edit moved the arm; the screenshot shows a body).
#   bash packaging/smoke_test.sh [ARCHIVE.tar.gz | BUNDLE_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SRC=${1:-$(ls -t dist/PoseTailor-*.tar.gz 2>/dev/null | head -1)}
SRC=${SRC:-dist/PoseTailor}
OUT=${2:-$(mktemp -d /tmp/posetailor-smoke-out.XXXXXX)}
[ -e "$SRC" ] || { echo "smoke: no bundle at '$SRC': build it with bash packaging/build.sh" >&2; exit 2; }
SRC=$(cd "$(dirname "$SRC")" && pwd)/$(basename "$SRC")
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/posetailor-smoke.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home" "$WORK/run"
t0=$(date +%s.%N)
if [ -d "$SRC" ]; then cp -a "$SRC" "$WORK/PoseTailor"; else tar -C "$WORK" -xzf "$SRC"; fi
echo "[smoke] unpacked $(basename "$SRC") in $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}") s: $(du -sm "$WORK/PoseTailor" | cut -f1) MiB"
cp packaging/smoke/mountain.npz "$WORK/run/"
PHOTO=/usr/share/doc/opencv-doc/examples/data/basketball1.png  # a photo of a person (Debian opencv-doc, setup --test)
[ -f "$PHOTO" ] || { echo "smoke: $PHOTO missing: bash scripts/setup.sh --test installs opencv-doc" >&2; exit 2; }
cp "$PHOTO" "$WORK/run/person.png"

cat > "$WORK/run/steps.sh" <<'STEPS'
set -eu
cd "$W/run"
B="$W/PoseTailor/PoseTailor"
if [ -e "$HIDE/.venv" ]; then echo visible > repo.txt; else echo hidden > repo.txt; fi  # what the bundle saw
"$B" info > info.txt 2>&1
"$B" edit --pose mountain.npz --text "raise your left arm" --samples 0 --out edited.npz > edit.txt 2>&1
"$B" export --pose edited.npz --out edited.fbx > export.txt 2>&1
"$B" export --pose mountain.npz --out mountain.fbx > export0.txt 2>&1
"$B" capture --images person.png --out captured.npz > capture.txt 2>&1
"$B" render --pose edited.npz --out edited.png --size 320x320 > render.txt 2>&1
t=$(date +%s.%N)
POSETAILOR_SMOKE_SHOT="$W/run/gui.png" timeout 240 "$B" > gui.txt 2>&1
echo "$t" > gui_t0.txt
STEPS
ENVV=(env -i HOME="$WORK/home" PATH=/usr/bin:/bin LANG=C.UTF-8 W="$WORK" HIDE="$ROOT" QT_QPA_PLATFORM=xcb)
XVFB=(xvfb-run -a -s "-screen 0 1920x1080x24" sh "$WORK/run/steps.sh")
set +e
if unshare -m true 2>/dev/null; then  # a private mount namespace: the repository is an empty tmpfs in there
  unshare -m sh -c 'mount -t tmpfs none "$0" && exec "$@"' "$ROOT" "${ENVV[@]}" "${XVFB[@]}"
else
  echo "[smoke] no private mount namespace here: the repository stays visible (env -i and an empty HOME only)"
  "${ENVV[@]}" "${XVFB[@]}"
fi
rc=$?
set -e
cp -a "$WORK/run/." "$OUT/"
for f in info edit export export0 capture render gui; do
  [ -f "$OUT/$f.txt" ] && { echo "--- $f"; tail -n 15 "$OUT/$f.txt"; }
done
[ "$rc" = 0 ] || { echo "[smoke] FAILED: a bundle step exited with $rc (logs in $OUT)" >&2; exit 1; }
.venv/bin/python packaging/check_smoke.py "$OUT"
