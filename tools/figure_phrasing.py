"""README figure: five long, human-style instructions applied in the Text Edit panel.

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python tools/figure_phrasing.py \
        [--out docs/editor/phrasing_panel.png]

One row per sentence: the start pose and the result (headless renderer, three-quarter view), and a grab of
the real Text Edit panel after Apply (the input echoed with ignored words struck through and unusable clauses
in red, the table of clauses as understood, the status line). Uses the shipped editor through the app's own
path (``ModelServices.edit_sentence``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SENTENCES = [
    ("Mountain", "Okay so raise your left arm out to the side to about shoulder height, then bend your right knee "
                 "maybe 30 degrees, keep your left leg where it is and look a little to the right please"),
    ("T-pose", "Lower both arms down by your sides, then turn your head to the left and lean forward slightly. "
               "Don't move your legs at all, and smile!"),
    ("Chair", "straighten ur left leg and bring the right foot forward about 6 inches, keep both arms up where "
              "they are, then sit up a bit taller"),
    ("Warrior II", "Straighten the front knee, twist your torso to the right about 20 degrees, lower the left arm "
                   "a little and hum quietly"),
    ("Mountain", "Step your right foot out to the side about a foot, bend the left elbow so your hand comes toward "
                 "your shoulder, then do the same with the other one and tilt your head to the left"),
]
PANEL = (640, 470)
RENDER = (300, 470)


def _pump(app, until, timeout: float) -> bool:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        app.processEvents()
        if until():
            return True
        time.sleep(0.01)
    return False


def _qimage_to_pil(img):
    from PIL import Image
    from PySide6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return Image.frombuffer("RGB", (w, h), bytes(img.constBits()), "raw", "RGB", bpl, 1)


def apply_in_panel(app, panel, doc, start, text: str):
    """Put ``start`` in the document, type ``text``, press Enter, wait; returns (result pose, panel grab)."""
    doc.push_pose(start.copy(), "start")
    panel.input.setEditText(text)
    panel.input.lineEdit().returnPressed.emit()
    _pump(app, lambda: False, 0.05)
    if not _pump(app, lambda: not panel._busy and panel._loading is None, 300):
        raise RuntimeError(f"the edit did not finish: {panel.status.text()}")
    _pump(app, lambda: False, 0.2)
    return doc.pose().copy(), _qimage_to_pil(panel.grab().toImage())


def _row(body, start, after, grab, label: str):
    from PIL import Image, ImageDraw

    from core_models.render.offscreen import render_pose_image

    row = Image.new("RGB", (RENDER[0] * 2 + PANEL[0], PANEL[1]), "white")
    for k, (pose, name) in enumerate(((start, f"{label}: before"), (after, "after"))):
        row.paste(Image.fromarray(render_pose_image(body, pose, size=RENDER, view="three_quarter")),
                  (k * RENDER[0], 0))
        ImageDraw.Draw(row).text((k * RENDER[0] + 6, 6), name, fill=(255, 255, 255))
    row.paste(grab.resize(PANEL), (RENDER[0] * 2, 0))
    return row


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/editor/phrasing_panel.png")
    args = ap.parse_args()
    import torch
    from PIL import Image
    from PySide6.QtWidgets import QApplication

    torch.set_num_threads(1)
    from app.commands import Document
    from app.context import PanelContext
    from app.panels.text_edit import TextEditPanel
    from core_models.body import load_body
    from core_models.services import ModelServices
    from core_models.text.phrasing_eval import resolve_start

    app = QApplication.instance() or QApplication(sys.argv)
    doc, services, body = Document(), ModelServices(), load_body("anny")
    panel = TextEditPanel(PanelContext.for_document(doc, services=services))
    panel.samples.setValue(6)
    panel.resize(*PANEL)
    panel.show()
    rows = []
    for name, text in SENTENCES:
        start = resolve_start(name)
        after, grab = apply_in_panel(app, panel, doc, start, text)
        rows.append(_row(body, start, after, grab, name))
        print(f"{name}: {panel.status.text()}")
    sheet = Image.new("RGB", (rows[0].width, sum(r.height + 6 for r in rows)), (200, 200, 200))
    for i, r in enumerate(rows):
        sheet.paste(r, (0, i * (r.height + 6)))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
