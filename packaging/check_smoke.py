"""Checks what packaging/smoke_test.sh made with the bundle (runs in the repository's venv, not in the bundle).

    .venv/bin/python packaging/check_smoke.py OUT_DIR

* the edit (``edited.npz``, made by the bundle from ``mountain.npz`` with "raise your left arm") raised the left
  wrist and left the input's other files alone;
* ``edited.fbx`` read by ufbx (tests/export/ufbx_probe.py, the independent reader of the export tests): a skinned
  mesh with the body's vertex count, the 22 body bones, and vertices that match this checkout's own skinning of the
  edited pose within 1 mm (up to one constant offset: the export may ground the body);
* ``capture`` recovered a pose from a photo of a person with the bundled MediaPipe model (``captured.npz``);
* ``render`` (headless, EGL) wrote a picture of the edit that is not blank;
* the GUI drew a frame with the body: ``gui.png`` (a screenshot at that frame) is not blank.
Prints one JSON line with the numbers (start time to the first body frame included). Exit 0 = all good.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class SmokeFailure(AssertionError):
    pass


def _need(cond: bool, msg: str) -> None:
    if not cond:
        raise SmokeFailure(msg)


def check_edit(out: Path, body) -> dict:
    from core_models import skeleton as sk
    from core_models.io.npz_pose import load_pose_npz

    _need((out / "edited.npz").is_file(), "the bundle's `edit` wrote no edited.npz (see edit.txt)")
    src, _ = load_pose_npz(out / "mountain.npz")
    got, _ = load_pose_npz(out / "edited.npz")
    wrist = sk.JOINT_INDEX["left_wrist"]
    y0 = float(body.joints(src[0])[wrist, 1] - body.joints(src[0])[0, 1])
    y1 = float(body.joints(got[0])[wrist, 1] - body.joints(got[0])[0, 1])
    _need(y1 > y0 + 0.10, f"the edit did not raise the left wrist: {y0:.3f} m → {y1:.3f} m above the pelvis")
    return {"edit_left_wrist_rise_m": round(y1 - y0, 3)}


def ufbx_read(fbx: Path, out: Path) -> dict:
    dump = out / (fbx.stem + "_ufbx.npz")
    probe = ROOT / "tests" / "export" / "ufbx_probe.py"
    r = subprocess.run([sys.executable, str(probe), str(fbx), str(dump), "30", "1"], capture_output=True, text=True,
                       timeout=300)
    _need(r.returncode == 0, f"ufbx could not read {fbx.name} (exit {r.returncode}): {r.stderr[-2000:]}")
    with np.load(dump, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def check_fbx(out: Path, body) -> dict:
    from core_models import skeleton as sk
    from core_models.io.npz_pose import load_pose_npz

    fbx = out / "edited.fbx"
    _need(fbx.is_file() and fbx.stat().st_size > 0, "the bundle's `export` wrote no edited.fbx (see export.txt)")
    u = ufbx_read(fbx, out)
    n_verts = body.skinning.rest_vertices.shape[0]
    _need(u["skinned"].shape[1] == n_verts, f"FBX mesh has {u['skinned'].shape[1]} vertices, the body {n_verts}")
    _need(int(u["is_bone"].sum()) >= len(sk.JOINT_NAMES), f"FBX has {int(u['is_bone'].sum())} bones, want ≥ 22")
    _need(int(u["n_clusters"]) >= len(sk.JOINT_NAMES), f"FBX skin has {int(u['n_clusters'])} clusters, want ≥ 22")
    got, _ = load_pose_npz(out / "edited.npz")
    ref = body.forward(got[0]).vertices.astype(np.float64)
    fbx_v = u["skinned"][0]
    offset = (fbx_v - ref).mean(axis=0)
    err_mm = float(np.abs(fbx_v - ref - offset).max() * 1000.0)
    _need(err_mm < 1.0, f"FBX vertices differ from the body's own skinning of the edit by {err_mm:.3f} mm")
    return {"fbx_vertices": int(n_verts), "fbx_bones": int(u["is_bone"].sum()), "fbx_max_err_mm": round(err_mm, 4),
            "fbx_offset_m": [round(float(x), 4) for x in offset]}


def check_capture(out: Path) -> dict:
    from core_models.io.npz_pose import load_pose_npz

    _need((out / "captured.npz").is_file(), "the bundle's `capture` wrote no captured.npz (see capture.txt)")
    got, _ = load_pose_npz(out / "captured.npz")
    _need(len(got) >= 1 and bool(np.isfinite(got.full()).all()), "`capture` found no finite pose in the photo")
    return {"capture_frames": len(got)}


def _not_blank(png: Path, what: str) -> int:
    from PIL import Image

    _need(png.is_file(), f"{what}: no {png.name}")
    img = np.asarray(Image.open(png).convert("RGB"), dtype=np.float64)
    colours = len(np.unique(img.reshape(-1, 3)[::7], axis=0))
    _need(img.std() > 5.0 and colours > 200, f"{what}: {png.name} looks blank (std {img.std():.1f}, {colours} colours)")
    return colours


def check_render(out: Path) -> dict:
    return {"render_colours": _not_blank(out / "edited.png", "the bundle's `render` (see render.txt)")}


def check_gui(out: Path) -> dict:
    log = (out / "gui.txt").read_text(errors="replace") if (out / "gui.txt").is_file() else ""
    frames = [ln.split()[1] for ln in log.splitlines() if ln.startswith("BODY_FRAME ")]
    _need(bool(frames), f"the GUI drew no frame with the body; gui.txt tail:\n{log[-2000:]}")
    colours = _not_blank(out / "gui.png", "the GUI's screenshot")
    t0 = float((out / "gui_t0.txt").read_text().split()[0])
    return {"gui_start_to_body_frame_s": round(float(frames[0]) - t0, 2), "screenshot_colours": colours}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    from core_models.body import load_body

    out = Path(argv[0])
    body = load_body("anny")
    result: dict = {"info": (out / "info.txt").read_text(errors="replace").strip().splitlines()[:3],
                    "repo_and_venv": (out / "repo.txt").read_text().strip()}  # "hidden" from the bundle, or not
    try:
        for check in (lambda: check_edit(out, body), lambda: check_fbx(out, body), lambda: check_capture(out),
                      lambda: check_render(out), lambda: check_gui(out)):
            result.update(check())
    except SmokeFailure as e:
        print(f"[smoke] FAILED: {e}", file=sys.stderr)
        print(json.dumps({"smoke": "failed", **result}))
        return 1
    print(json.dumps({"smoke": "ok", **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
