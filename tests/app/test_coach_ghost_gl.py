"""The coach's target ghost in the live GL viewport (Xvfb + xcb): a translucent second body where the target's limbs
are, the live body still drawn, hidden again with None, and the offscreen scene draws it the same way."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

pytestmark = [
    pytest.mark.gl,
    pytest.mark.skipif(not os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"),
                       reason="needs an X display with GL (run under xvfb-run with QT_QPA_PLATFORM=xcb)"),
]

from core_models import skeleton as sk  # noqa: E402
from core_models.pose import Pose  # noqa: E402

W, H = 420, 420


def _pump(seconds=0.05):
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    end = time.time() + seconds
    while time.time() < end:
        loop.processEvents()
        time.sleep(0.005)


def _img(vp) -> np.ndarray:
    from PySide6.QtGui import QImage

    im = vp.grab_image().convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = im.width(), im.height(), im.bytesPerLine()
    a = np.frombuffer(im.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)[:, : w * 3]
    return a.reshape(h, w, 3).astype(np.int16)


def _arms_up() -> Pose:
    p = Pose.zeros()
    p.body_pose[sk.JOINT_INDEX["left_shoulder"] - 1] = [0.0, 0.0, 1.3]
    p.body_pose[sk.JOINT_INDEX["right_shoulder"] - 1] = [0.0, 0.0, -1.3]
    return p


def _arms_down() -> Pose:
    p = Pose.zeros()
    p.body_pose[sk.JOINT_INDEX["left_shoulder"] - 1] = [0.0, 0.0, -1.2]
    p.body_pose[sk.JOINT_INDEX["right_shoulder"] - 1] = [0.0, 0.0, 1.2]
    return p


@pytest.fixture
def vp(qapp, anny_body):
    from app.viewport.widget import Viewport

    v = Viewport(samples=0)
    v.resize(W, H)
    v.set_body(anny_body)
    v.set_pose(_arms_down())
    v.set_show_grid(False)
    v.set_show_markers(False)
    v.show()
    _pump(0.2)
    if v.gl_error:
        pytest.fail(f"viewport has no GL: {v.gl_error}")
    v.set_view("front")
    _pump(0.1)
    yield v
    v.close()
    v.deleteLater()
    _pump(0.02)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b).sum(-1) > 30


def test_ghost_appears_where_the_target_limbs_are_and_goes_away(vp):
    before = _img(vp)
    vp.set_ghost_pose(_arms_up())
    _pump(0.15)
    with_ghost = _img(vp)
    diff = _changed(before, with_ghost)
    assert diff.sum() > 300, "the ghost drew nothing"
    # the ghost's raised arms are above the live shoulders: the change is mostly in the upper third of the body
    ys = np.nonzero(diff)[0]
    assert np.median(ys) < H * 0.5
    # translucent and bluish: where it covers the background, the pixels got lighter and bluer, not opaque white
    px = with_ghost[diff]
    assert (px[:, 2] >= px[:, 0] - 5).mean() > 0.6
    assert px.max() < 255 * 3
    assert vp.ghost_pose() is not None
    vp.set_ghost_pose(None)
    _pump(0.15)
    after = _img(vp)
    assert _changed(before, after).sum() < 50
    assert vp.ghost_pose() is None


def test_the_ghost_follows_a_new_body(vp, anny_body):
    from _apptest_util import tiny_body

    vp.set_ghost_pose(_arms_up())
    vp.set_body(tiny_body())
    _pump(0.1)
    vp.set_body(anny_body)
    _pump(0.15)
    assert np.allclose(vp._scene.ghost.joints[sk.JOINT_INDEX["left_wrist"]][1],
                       vp._scene.ghost.joints[sk.JOINT_INDEX["left_shoulder"]][1], atol=0.6)
    assert vp._scene.ghost.joints[sk.JOINT_INDEX["left_wrist"], 1] > vp._scene.ghost.joints[0, 1] + 0.5


OFFSCREEN_CHILD = r"""
import json
import numpy as np
from core_models import skeleton as sk
from core_models.body import load_body
from core_models.pose import Pose
from core_models.render.ghost import GhostBody
from core_models.render.offscreen import OffscreenRenderer

def arms(z):
    p = Pose.zeros()
    p.body_pose[sk.JOINT_INDEX["left_shoulder"] - 1] = [0.0, 0.0, z]
    p.body_pose[sk.JOINT_INDEX["right_shoulder"] - 1] = [0.0, 0.0, -z]
    return p

body = load_body("anny")
r = OffscreenRenderer()
plain = r.render(body, arms(-1.2), size=(256, 256), view="front")
g = GhostBody()
g.set_pose(body.skinning, arms(1.3))
r.scene.ghost = g
ghosted = r.render(body, arms(-1.2), size=(256, 256), view="front")
r.close()
diff = np.abs(plain.astype(int) - ghosted.astype(int)).sum(-1) > 30
print("RESULT " + json.dumps({"changed": int(diff.sum()), "median_row": float(np.median(np.nonzero(diff)[0]))}))
"""


def test_offscreen_scene_draws_the_ghost():
    """The same GhostBody in the Qt-free offscreen renderer (EGL; a child process, as the other offscreen tests)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, PYOPENGL_PLATFORM="egl")
    r = subprocess.run([sys.executable, "-c", OFFSCREEN_CHILD], cwd=Path(__file__).resolve().parents[2], env=env,
                       capture_output=True, text=True, timeout=300)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, f"the GL child failed (rc {r.returncode}):\n{r.stderr[-2000:]}"
    res = json.loads(line[len("RESULT "):])
    assert res["changed"] > 100, res
    assert res["median_row"] < 128, res  # the raised ghost arms are in the upper half
