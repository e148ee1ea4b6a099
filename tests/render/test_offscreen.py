"""Headless rendering (EGL/OSMesa) through the `render` CLI and the thumbnail batcher.

These run in child processes: PyOpenGL picks its platform (EGL here, GLX for Qt) once per process, and the
Qt viewport tests share the pytest process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra):
    env = dict(os.environ)
    env.pop("PYOPENGL_PLATFORM", None)
    env.update(extra)
    return env


def _run(args, timeout=120, **env):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(**env), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def pose_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("poses")
    poses = np.zeros((2, 156), np.float32)
    poses[1, 16 * 3 + 2] = 1.2  # frame 1: left arm raised
    poses[1, 4 * 3 + 0] = 1.0  # and left knee bent
    p = d / "two.npz"
    np.savez(p, poses=poses, trans=np.zeros((2, 3), np.float32), up_axis=np.array("y"))  # our y-up frame
    return p


def _load_png(path):
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB")).astype(np.int16)


@pytest.mark.gl
def test_render_cli_front_and_side(pose_file, tmp_path):
    front, side = tmp_path / "front.png", tmp_path / "side.png"
    r1 = _run(["main.py", "render", "--pose", str(pose_file), "--out", str(front), "--size", "256x320",
               "--frame", "1"])
    assert r1.returncode == 0, r1.stderr
    r2 = _run(["main.py", "render", "--pose", str(pose_file), "--out", str(side), "--view", "side",
               "--size", "256x320", "--frame", "1"])
    assert r2.returncode == 0, r2.stderr
    a, b = _load_png(front), _load_png(side)
    assert a.shape == (320, 256, 3) and b.shape == (320, 256, 3)
    for img in (a, b):
        body = (img[..., 0] - img[..., 2]) > 40
        assert 0.03 < body.mean() < 0.7  # a body silhouette, not a blank image
        assert img.std() > 10
    assert np.abs(a - b).mean() > 5  # front and side differ
    wa = ((a[..., 0] - a[..., 2]) > 40).any(0).sum()  # silhouette width: arms spread in front, narrow from the side
    wb = ((b[..., 0] - b[..., 2]) > 40).any(0).sum()
    assert wa > wb * 1.3


def _cli(argv):
    import argparse

    from core_models.cli import render as render_cli

    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers()
    render_cli.register(sub)
    args = ap.parse_args(["render", *argv])
    return args.func(args)


def test_render_cli_bad_input_is_a_clear_error(tmp_path, capsys):
    # these fail before any GL is touched, so they run in-process
    out = tmp_path / "x.png"
    assert _cli(["--pose", str(tmp_path / "missing.npz"), "--out", str(out)]) == 2
    assert "missing.npz" in capsys.readouterr().err and not out.exists()
    bad = tmp_path / "obj.npz"
    np.savez(bad, poses=np.array([{"a": 1}], dtype=object))  # would need unpickling
    assert _cli(["--pose", str(bad), "--out", str(out)]) == 2
    assert "pickle" in capsys.readouterr().err and not out.exists()
    good = tmp_path / "good.npz"
    np.savez(good, poses=np.zeros((1, 156), np.float32), up_axis=np.array("y"))
    assert _cli(["--pose", str(good), "--out", str(out), "--size", "big"]) == 2
    assert "--size" in capsys.readouterr().err
    assert _cli(["--pose", str(good), "--out", str(out), "--frame", "3"]) == 2
    assert "frame" in capsys.readouterr().err
    assert _cli(["--pose", str(good), "--out", str(tmp_path / "x.jpg")]) == 2
    assert ".png" in capsys.readouterr().err


SCRIPT = r"""
import json, sys, numpy as np
from core_models.render.offscreen import render_pose_image, shared_renderer
from core_models.render.thumbnails import render_thumbnails
from core_models.body import load_body
from core_models.pose import Pose
body = load_body("anny")
z = Pose.zeros()
up = z.with_joint(16, np.array([0, 0, 1.5707963], np.float32))
a = render_pose_image(body, z, size=(160, 200), view="front", alpha=True)
b = render_pose_image(body, up, size=(160, 200), view="front")
m = lambda im: (im[..., 0].astype(int) - im[..., 2].astype(int)) > 40
th = render_thumbnails(body, Pose.stack([z, up, z.with_joint(1, np.array([-1.2, 0, 0], np.float32))]), size=(64, 64))
r = shared_renderer()
print(json.dumps({"a_shape": a.shape, "b_shape": b.shape, "alpha_max": int(a[..., 3].max()),
                  "xor": float((m(a) ^ m(b)).mean()), "body": float(m(a).mean()),
                  "th_shape": th.shape, "th_diff01": float(np.abs(th[0].astype(int) - th[1]).mean()),
                  "th_diff02": float(np.abs(th[0].astype(int) - th[2]).mean()),
                  "th_body": [float(m(t).mean()) for t in th], "gl": r.gl_version}))
"""


@pytest.mark.gl
@pytest.mark.parametrize("platform", ["egl", "osmesa"])
def test_offscreen_api_and_thumbnails(platform):
    r = _run(["-c", SCRIPT], PYOPENGL_PLATFORM=platform)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["a_shape"] == [200, 160, 4] and res["b_shape"] == [200, 160, 3]
    assert res["alpha_max"] == 255
    assert res["body"] > 0.03
    assert res["xor"] > 0.005  # raising the arm changes the silhouette
    assert res["th_shape"] == [3, 64, 64, 4]
    assert res["th_diff01"] > 0.5 and res["th_diff02"] > 0.5
    assert min(res["th_body"]) > 0.03
    assert "3.3" in res["gl"] or "4." in res["gl"]
