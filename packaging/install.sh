#!/usr/bin/env bash
# Installs the unpacked PoseTailor bundle for the current user: a launcher in ~/.local/bin, the .desktop entry
# (application menu) and the icon. The bundle stays where it is; run again after moving it.
#   ./install.sh            # install
#   ./install.sh --remove   # remove the launcher, menu entry and icon (the bundle folder is left alone)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
BIN="$HOME/.local/bin"
if [ "${1:-}" = "--remove" ]; then
  rm -f "$BIN/PoseTailor" "$DATA/applications/posetailor.desktop" "$DATA/icons/hicolor/scalable/apps/posetailor.svg" \
        "$DATA/icons/hicolor/256x256/apps/posetailor.png"
  echo "PoseTailor: launcher, menu entry and icon removed"
  exit 0
fi
mkdir -p "$BIN" "$DATA/applications" "$DATA/icons/hicolor/scalable/apps" "$DATA/icons/hicolor/256x256/apps"
ln -sf "$HERE/PoseTailor" "$BIN/PoseTailor"
cp "$HERE/posetailor.svg" "$DATA/icons/hicolor/scalable/apps/posetailor.svg"
cp "$HERE/posetailor.png" "$DATA/icons/hicolor/256x256/apps/posetailor.png"
sed "s|^Exec=.*|Exec=\"$HERE/PoseTailor\" %F|; s|^TryExec=.*|TryExec=$HERE/PoseTailor|" \
  "$HERE/posetailor.desktop" > "$DATA/applications/posetailor.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA/applications" || true
echo "PoseTailor installed: menu entry $DATA/applications/posetailor.desktop, launcher $BIN/PoseTailor"
