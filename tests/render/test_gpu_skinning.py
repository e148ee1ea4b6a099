"""The viewport's GPU skinning agrees with the CPU skinning the exporters use (8 influences per vertex).

The GL check reads back, through transform feedback, the vertices produced by the very attributes, weights and
skinning code the body shaders draw with, in a headless EGL child process (PyOpenGL picks its platform once per
process; the Qt viewport tests share the pytest process)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core_models.body.base import SkinningData, shader_weights
from core_models.render.shaders import SKIN_INFLUENCES

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys
import numpy as np
from core_models.body import load_body
from core_models.pose import Pose
from core_models.render.offscreen import OffscreenRenderer
from core_models.render.scene import pose_state

body = load_body("anny")
r = OffscreenRenderer(samples=0)
r._ctx.make_current()
r._ensure_mesh(body)
r._target(8, 8).bind()
rng = np.random.default_rng(3)
errs, nerrs = [], []
for i in range(4):
    p = Pose(rng.normal(0, 0.5, 3).astype(np.float32), rng.normal(0, 0.6, (21, 3)).astype(np.float32),
             rng.normal(0, 0.5, 3).astype(np.float32))
    skin, joints, _ = pose_state(body.skinning, p)
    r.scene.set_state(skin, joints)
    v, n = r.scene.skinned_vertices()
    out = body.forward(p)
    errs.append(float(np.abs(v - out.vertices).max()))
    # normals: the blended rotation applied to the rest normal (what the CPU would do with the same weights)
    M = np.einsum("vj,jab->vab", body.skinning.weights, out.skin_transforms[:, :, :3])
    nc = np.einsum("vab,vb->va", M, body.skinning.rest_normals)
    nerrs.append(float(np.abs(n - nc).max()))
print("RESULT", json.dumps({"max_err": max(errs), "max_normal_err": max(nerrs), "n": int(v.shape[0])}))
r.close()
"""


def _skinning(W: np.ndarray) -> SkinningData:
    V = W.shape[0]
    z = np.zeros((V, 3), np.float32)
    return SkinningData(rest_vertices=z, rest_normals=z, faces=np.zeros((0, 3), np.int32),
                        rest_joints=np.zeros((22, 3), np.float32), parents=np.zeros(22, np.int64),
                        joint_names=tuple(str(i) for i in range(22)), weights=W.astype(np.float32),
                        weight_idx=np.zeros((V, 4), np.int32), weight_val=np.zeros((V, 4), np.float32))


def test_shader_weights_are_exact_up_to_eight_influences():
    rng = np.random.default_rng(0)
    W = np.zeros((50, 22))
    for v in range(50):
        k = 1 + v % 8
        W[v, rng.choice(22, k, replace=False)] = rng.random(k) + 0.01
    W /= W.sum(1, keepdims=True)
    idx, val = shader_weights(_skinning(W))
    assert idx.shape == val.shape == (50, SKIN_INFLUENCES) == (50, 8)
    dense = np.zeros_like(W)
    np.add.at(dense, (np.repeat(np.arange(50), 8), idx.ravel()), val.ravel())
    np.testing.assert_allclose(dense, W, atol=1e-7)
    assert np.all(np.diff(val, axis=1) <= 0)  # largest first, zero padded


def test_shader_weights_renormalise_beyond_eight():
    W = np.full((1, 22), 1.0 / 22)
    idx, val = shader_weights(_skinning(W))
    assert val.sum() == pytest.approx(1.0, abs=1e-6)
    assert len(set(idx[0].tolist())) == 8


@pytest.mark.gl
def test_gpu_skinning_matches_cpu_skinning_within_0_1_mm():
    env = dict(os.environ, PYOPENGL_PLATFORM="egl")
    r = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, f"the GL child failed (rc {r.returncode}):\n{r.stderr[-2000:]}"
    res = json.loads(line[len("RESULT "):])
    assert res["n"] == 13718
    assert res["max_err"] < 1e-4, res  # metres; top-4 weights were off by 5.7 mm
    assert res["max_normal_err"] < 1e-4, res
