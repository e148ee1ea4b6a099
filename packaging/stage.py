"""Build-time staging for packaging/build.sh (runs in the project's venv, never in the bundle).

    python packaging/stage.py body-cache OUT_DIR     # the default body's cached SMPL-H layer (built if missing)
    python packaging/stage.py icons SVG OUT_DIR       # posetailor.png (256 px), .ico (Windows), .icns (macOS)
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stage_body_cache(out: Path) -> Path:
    from core_models.body.anny_body import DEFAULT_PHENOTYPE, _cache_dir, _cache_key, load_anny_layer

    name = f"anny_smplh_{_cache_key(DEFAULT_PHENOTYPE)}.npz"
    src = _cache_dir() / name
    if not src.is_file():
        load_anny_layer(DEFAULT_PHENOTYPE)  # builds and writes the user cache (a minute, once)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, out / name)
    return out / name


def stage_icons(svg: Path, out: Path) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"stage: cannot read the icon {svg}")
    img = QImage(256, 256, QImage.Format.Format_RGBA8888)
    img.fill(Qt.GlobalColor.transparent)
    painter = QPainter(img)
    renderer.render(painter)
    painter.end()
    out.mkdir(parents=True, exist_ok=True)
    png = out / "posetailor.png"
    if not img.save(str(png)):
        raise SystemExit(f"stage: cannot write {png}")
    del app
    im = Image.open(png)
    im.save(out / "posetailor.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    im.save(out / "posetailor.icns")
    return [png, out / "posetailor.ico", out / "posetailor.icns"]


def main(argv: list[str]) -> int:
    if argv[:1] == ["body-cache"] and len(argv) == 2:
        print(f"[stage] {stage_body_cache(Path(argv[1]))}")
        return 0
    if argv[:1] == ["icons"] and len(argv) == 3:
        for p in stage_icons(Path(argv[1]), Path(argv[2])):
            print(f"[stage] {p}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
