"""The viewport skins the fingers: GPU (52 joints) = the CPU 52-joint skinning; no hand pose = the 22-joint body."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core_models.pose import Pose
from core_models.render.scene import NJ_SKIN, pose_state

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json
import numpy as np
from core_models import hands as H
from core_models.body import load_body
from core_models.pose import Pose
from core_models.render.offscreen import OffscreenRenderer
from core_models.render.scene import pose_state

body = load_body("anny")
r = OffscreenRenderer(samples=0)
r._ctx.make_current()
r._ensure_mesh(body)
r._target(8, 8).bind()
rng = np.random.default_rng(5)
errs, moved = [], []
for i, preset in enumerate(["fist", "point", "peace", None]):
    p = Pose(rng.normal(0, 0.4, 3).astype(np.float32), rng.normal(0, 0.4, (21, 3)).astype(np.float32),
             rng.normal(0, 0.3, 3).astype(np.float32))
    if preset is not None:
        p.hand_pose = H.preset_hand_pose(preset, "both")
    skin, joints, _ = pose_state(body.skinning, p)
    r.scene.set_state(skin, joints)
    v, _n = r.scene.skinned_vertices()
    out = body.forward(p)
    errs.append(float(np.abs(v - out.vertices).max()))
    q = p.copy()
    q.hand_pose = None
    moved.append(float(np.abs(v - body.forward(q).vertices).max()))
print("RESULT", json.dumps({"errs": errs, "moved": moved}))
r.close()
"""


def test_pose_state_has_finger_joints_and_falls_back_to_the_rest_hand(anny_body):
    p = Pose.zeros()
    p.body_pose[18] = [0.0, -0.7, 0.0]
    skin, joints, Rg = pose_state(anny_body.skinning, p)  # no hand pose: the 22-joint state, as before
    assert skin.shape == (22, 3, 4) and joints.shape == (22, 3) and Rg.shape == (22, 3, 3)
    out = anny_body.forward(p)
    assert np.allclose(skin, out.skin_transforms, atol=1e-5)
    # the rest hand pose gives the same transforms: every finger joint moves with its wrist
    q = p.copy()
    q.hand_pose = anny_body.skinning.hand_rest_pose.copy()
    skin52, joints52, _ = pose_state(anny_body.skinning, q)
    assert skin52.shape == (NJ_SKIN, 3, 4) and np.allclose(joints52, joints, atol=1e-6)
    assert np.allclose(skin52[:22], out.skin_transforms, atol=1e-5)
    assert np.allclose(skin52[22:37], skin52[20], atol=1e-5) and np.allclose(skin52[37:], skin52[21], atol=1e-5)


@pytest.mark.gl
def test_gpu_skins_the_fingers_like_the_cpu():
    env = dict(os.environ, PYOPENGL_PLATFORM="egl")
    r = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, f"the GL child failed (rc {r.returncode}):\n{r.stderr[-2000:]}"
    res = json.loads(line[len("RESULT "):])
    assert max(res["errs"]) < 1e-4, res  # metres
    assert min(res["moved"][:3]) > 0.03, res  # the presets visibly move the fingers
    assert res["moved"][3] < 1e-4, res
