"""Helpers for the export tests: test poses and the independent readers.

Readers (installed by ``bash scripts/setup.sh --test``; a test skips, saying why, only when one is missing):
  * Autodesk FBX SDK 2019.2 inside FBX2glTF 0.9.7 (npm ``fbx2gltf``, in ``.tools/``);
  * ufbx 0.0.5 (PyPI), always in a subprocess (tests/export/ufbx_probe.py);
  * Khronos glTF-Validator (npm ``gltf-validator``, in ``.tools/``), run with node;
  * bvhio 1.5.4 (PyPI) and PoseTailor's own BVH importer.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core_models.pose import Pose

from .gltf_reader import GLB

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools" / "node_modules"
HERE = Path(__file__).resolve().parent
SETUP_HINT = "run `bash scripts/setup.sh --test` to install it"


def make_poses(n: int, seed: int = 0, scale: float = 0.45, spin: bool = True) -> Pose:
    """A sequence with sizeable joint rotations, a root that turns through more than 360° (Euler unwrapping)
    and moves (translation)."""
    rng = np.random.default_rng(seed)
    body = rng.normal(0.0, scale, (n, 21, 3))
    root = rng.normal(0.0, 0.3, (n, 3))
    if spin and n > 1:
        from core_models.pose import aa_to_matrix, matrix_to_aa

        yaw = np.linspace(0.0, 2.6 * np.pi, n)
        Ry = aa_to_matrix(np.stack([np.zeros(n), yaw, np.zeros(n)], -1))
        root = matrix_to_aa(Ry @ aa_to_matrix(root))
    transl = np.cumsum(rng.normal(0.0, 0.05, (n, 3)), axis=0)
    return Pose(root, body, transl)


# --- FBX SDK (FBX2glTF) ---------------------------------------------------------------------------------

def fbx2gltf_bin() -> Path:
    exe = TOOLS / "fbx2gltf" / "bin" / ("Linux" if sys.platform.startswith("linux") else
                                        "Darwin" if sys.platform == "darwin" else "Windows_NT")
    exe = exe / ("FBX2glTF.exe" if os.name == "nt" else "FBX2glTF")
    if not exe.exists():
        pytest.skip(f"FBX2glTF (npm fbx2gltf, the Autodesk FBX SDK) not installed in .tools/: {SETUP_HINT}")
    if not os.access(exe, os.X_OK):
        try:
            exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError as e:
            pytest.skip(f"FBX2glTF is not executable and chmod failed ({e}): {SETUP_HINT}")
    return exe


def fbx_sdk_to_glb(fbx: Path, out_dir: Path):
    """Convert with the FBX SDK (FBX2glTF, baked at 30 fps) and return the GLB (tests.export.gltf_reader)."""
    exe = fbx2gltf_bin()
    out = out_dir / (fbx.stem + "_fbxsdk")
    r = subprocess.run([str(exe), "-b", "--anim-framerate", "bake30", "-i", str(fbx), "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"FBX2glTF failed ({r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}"
    glb = out.with_suffix(".glb")
    assert glb.exists(), f"FBX2glTF wrote no GLB: {r.stdout[-2000:]}"
    return GLB.load(glb)


# --- ufbx -----------------------------------------------------------------------------------------------

def ufbx_probe(fbx: Path, out_dir: Path, fps: float, n: int) -> dict:
    try:
        import importlib.util

        if importlib.util.find_spec("ufbx") is None:
            raise ImportError
    except ImportError:
        pytest.skip(f"ufbx (PyPI ufbx==0.0.5) not installed: {SETUP_HINT}")
    out = out_dir / (fbx.stem + "_ufbx.npz")
    r = subprocess.run([sys.executable, str(HERE / "ufbx_probe.py"), str(fbx), str(out), str(fps), str(n)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"ufbx probe failed (exit {r.returncode}): {r.stderr[-3000:]}"
    with np.load(out, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


# --- glTF validator -------------------------------------------------------------------------------------

def gltf_validate(glb: Path) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip(f"node (for the Khronos glTF validator) not found: {SETUP_HINT}")
    mod = TOOLS / "gltf-validator"
    if not (mod / "package.json").exists():
        pytest.skip(f"Khronos gltf-validator (npm) not installed in .tools/: {SETUP_HINT}")
    r = subprocess.run([node, str(HERE / "gltf_validate.js"), str(mod), str(glb)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, f"gltf-validator failed: {r.stderr[-2000:]}"
    return json.loads(r.stdout)


# --- references: PoseTailor's own LBS (core_models.body), not the exporter's maths ---------------------

def reference_vertices(body, poses: Pose, dense: bool = True) -> np.ndarray:
    """(N,V,3) posed vertices from the body model's own skinning transforms (``forward``): Σ_j w_vj A_j v with
    the full weight matrix (``dense``, what FBX/GLB carry) or with the model's top-4 weights (``weight_idx``/
    ``weight_val``, what 4-influence readers such as FBX2glTF keep)."""
    out = body.forward(poses)
    d = body.skinning
    A = out.skin_transforms.astype(np.float64)  # (N,J,3,4)
    if dense:
        W = d.weights.astype(np.float64)
    else:
        W = np.zeros(d.weights.shape, np.float64)
        np.put_along_axis(W, d.weight_idx.astype(np.int64), d.weight_val.astype(np.float64), axis=1)
    M = np.einsum("vj,njab->nvab", W, A)
    v = d.rest_vertices.astype(np.float64)
    return np.einsum("nvab,vb->nva", M[..., :3], v) + M[..., 3]


def match_vertices(reader_rest: np.ndarray, rest_vertices: np.ndarray, tol: float = 1e-5) -> np.ndarray:
    """Index of our vertex for each of a reader's vertices (readers split vertices at UV seams)."""
    from scipy.spatial import cKDTree

    dist, idx = cKDTree(np.asarray(rest_vertices, np.float64)).query(np.asarray(reader_rest, np.float64))
    assert dist.max() < tol, f"reader's rest vertices do not match ours (max distance {dist.max():.3g} m)"
    return idx


def glb_check_skinning(glb: GLB, body, poses: Pose, fps: float, dense: bool, tol: float = 1e-4) -> float:
    """Skinned positions of a GLB at every exported frame vs our LBS; returns the max error (metres)."""
    ref = reference_vertices(body, poses, dense=dense)
    idx = match_vertices(glb.skinned_positions(None, 0.0), body.skinning.rest_vertices)
    worst = 0.0
    for f in range(len(poses)):
        v = glb.skinned_positions(0, f / fps)
        err = float(np.abs(v - ref[f][idx]).max())
        assert err < tol, f"frame {f}: skinned vertices off by {err:.3g} m"
        worst = max(worst, err)
    return worst


def glb_hierarchy(glb: GLB) -> dict[str, str]:
    """joint name → parent joint name ('' for the skeleton root) over the skin's joints."""
    node, skin = glb.skinned_mesh()
    joints = glb.json["skins"][skin]["joints"]
    par = glb.parents()
    names = {j: glb.nodes[j].get("name", "") for j in joints}
    return {names[j]: names.get(int(par[j]), "") for j in joints}


def expected_hierarchy(names, parents) -> dict[str, str]:
    return {names[j]: (names[parents[j]] if parents[j] >= 0 else "") for j in range(len(names))}
