"""README figure for the text editor: library pose → instruction → mean edit + 3 alternatives.

    .venv/bin/python tools/figure_editor.py [--out docs/editor/before_after.png]

Uses the shipped editor weights and the headless renderer; one row per instruction (before | mean edit |
three samples), the instruction printed under the row's label.
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROWS = [
    ("Mountain (Tadasana)", "Raise your left arm above your head."),
    ("Mountain (Tadasana)", "Bend your right knee and lift the right foot."),
    ("Warrior II (Virabhadrasana II)", "Lower your arms and straighten your front leg."),
    ("A-pose", "Lean forward and bend both knees."),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/editor/before_after.png")
    ap.add_argument("--size", type=int, default=200)
    args = ap.parse_args()
    import torch
    from PIL import Image, ImageDraw

    torch.set_num_threads(1)
    from core_models.body import load_body
    from core_models.library import load_builtin
    from core_models.nets.editor import load_editor
    from core_models.render.offscreen import render_pose_image

    lib = {p.name: p.pose for p in load_builtin()}
    body, ed = load_body("anny"), load_editor()
    T, cols, label_h = args.size, 5, 34
    sheet = Image.new("RGB", (T * cols, (T + label_h) * len(ROWS)), "white")
    d = ImageDraw.Draw(sheet)
    for r, (name, text) in enumerate(ROWS):
        pose = next(p for n, p in lib.items() if n.startswith(name))
        res = ed.edit(pose, text, n_samples=3, seed=1)
        y = r * (T + label_h)
        for k, p in enumerate([pose, res.mean] + [res.samples[i] for i in range(3)]):
            img = render_pose_image(body, p, size=(T, T), view="three_quarter")
            sheet.paste(Image.fromarray(img), (k * T, y))
            d.text((k * T + 4, y + 4), ["before", "edit (mean)", "alt. 1", "alt. 2", "alt. 3"][k],
                   fill=(255, 255, 255))
        d.multiline_text((6, y + T + 3), "\n".join(textwrap.wrap(f"{name}: \"{text}\"", 150)), fill=(0, 0, 0))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
