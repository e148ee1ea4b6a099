"""The path to the app's first frame stays light: no torch (roma) is imported before the first body frame.

Not timed (tests/bench/bench_cold_start.py measures the seconds); this guards the reason the start is fast:
importing torch took 2-4 s of the former ~4 s start."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

NO_GL_CHILD = r"""
import json, sys
import app.main_window  # noqa: F401  (the GUI modules main.py imports for a plain start)
import app.panels.latent, app.panels.properties  # noqa: F401
from core_models.body import load_body
from core_models.pose import Pose, clamp_to_limits, limit_euler_deg, limit_violation_deg
from core_models.render.picking import rotate_joint_about_world_axis
from core_models.render.scene import pose_state
body = load_body("anny")
p = Pose.zeros().with_joint(16, [0.2, -0.3, 1.1])
pose_state(body.skinning, p)
body.forward(p)
limit_violation_deg(p)
limit_euler_deg(p.full())
clamp_to_limits(p)
rotate_joint_about_world_axis(p, 16, 2, 0.4, np.eye(3), limits=True)
print("RESULT", json.dumps({"torch": "torch" in sys.modules, "roma": "roma" in sys.modules}))
"""

GUI_CHILD = r"""
import json, os, sys
import app.viewport.widget as W
_orig = W.Viewport.paintGL
def paintGL(self):
    _orig(self)
    if self._body is not None and self._gl_ok:
        print("RESULT", json.dumps({"torch": "torch" in sys.modules, "roma": "roma" in sys.modules}), flush=True)
        os._exit(0)
    self.update()
W.Viewport.paintGL = paintGL
sys.argv = ["main.py"]
import main
main.main([])
"""


def _run(code: str, **env) -> dict:
    e = dict(os.environ, **env)
    e.pop("PYOPENGL_PLATFORM", None)
    r = subprocess.run([sys.executable, "-c", "import numpy as np\n" + code], cwd=ROOT, env=e,
                       capture_output=True, text=True, timeout=240)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, f"child failed (rc {r.returncode}):\n{r.stderr[-2000:]}"
    return json.loads(line[len("RESULT "):])


def test_first_frame_code_paths_import_no_torch():
    got = _run(NO_GL_CHILD, QT_QPA_PLATFORM="offscreen")
    assert got == {"torch": False, "roma": False}


@pytest.mark.gl
@pytest.mark.skipif(not os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"),
                    reason="needs an X display with GL (run under xvfb-run with QT_QPA_PLATFORM=xcb)")
def test_real_app_draws_its_first_body_frame_without_torch(tmp_path):
    from app.window_body import anny_cached

    if not anny_cached(None):
        pytest.skip("the Anny layer is not cached yet (run `python main.py warmup`)")
    got = _run(GUI_CHILD, QT_QPA_PLATFORM="xcb", POSETAILOR_DATA=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "share"))
    assert got == {"torch": False, "roma": False}


def test_latent_panel_parts_match_the_model():
    from app.panels.latent import PARTS
    from core_models.nets.qposer import PARTS as MODEL_PARTS

    assert PARTS == MODEL_PARTS


def test_numpy_paths_match_roma():
    """The first-frame numpy paths give what the roma-based helpers give."""
    from core_models.body import load_body
    from core_models.pose import Pose, aa_to_matrix, aa_to_matrix_np

    rng = np.random.default_rng(1)
    full = rng.normal(0, 0.8, (22, 3))
    np.testing.assert_allclose(aa_to_matrix_np(full), aa_to_matrix(full), atol=1e-12)
    body = load_body("anny")
    p = Pose.from_full(full.astype(np.float32))
    R = aa_to_matrix(p.full().astype(np.float64))
    from core_models import kinematics as kin

    _, J, _ = kin.fk_numpy(R, body.skinning.rest_joints.astype(np.float64), body.skinning.parents)
    np.testing.assert_allclose(body.joints(p), J, atol=1e-5)


def test_rotation_between_nearly_opposite_directions_is_exact():
    """Found by the property test in tests/core/test_pose_rotations.py: 1.2e-7 rad short of a half turn, the
    algebraic form lost 1e-7 of precision (a was mapped onto −a, not onto b)."""
    from core_models.pose import rotation_between_np

    a = np.array([1.0, 0.0, 0.0])
    rng = np.random.default_rng(0)
    for b in [np.array([-1.0, 0.0, 1.1920929e-07]), -a, *(-a + rng.normal(0, 1e-5, (20, 3)))]:
        R = rotation_between_np(a, b)
        assert np.allclose(R @ a, b / np.linalg.norm(b), atol=1e-9)
        assert np.allclose(R @ R.T, np.eye(3), atol=1e-12) and np.isclose(np.linalg.det(R), 1.0)
