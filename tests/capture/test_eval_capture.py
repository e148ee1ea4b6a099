"""``eval capture`` (core_models.capture.evaluate): rendered library poses → real MediaPipe → recovered pose vs
truth, the constant baseline row, the metrics' alignment maths, the 2D reprojection fit, and clear errors; plus
the per-image default of ``capture --images`` (item 6 of issue 14)."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from core_models.capture import evaluate as ev

POSES = Path(__file__).resolve().parents[2] / "resources" / "poses"


def _two_poses(tmp_path) -> Path:
    d = tmp_path / "poses"
    d.mkdir()
    for name in ("tree.json", "warrior_ii.json"):
        shutil.copy(POSES / name, d / name)
    return d


@pytest.mark.headless_gl
def test_eval_capture_on_two_library_poses(tmp_path, capsys):
    import main

    out = tmp_path / "res.json"
    rc = main.main(["eval", "capture", "--poses", str(_two_poses(tmp_path)), "--views", "front",
                    "--regressor", "geometric", "--json", str(out)])
    assert rc == 0
    table = capsys.readouterr().out
    assert "constant (mountain)" in table and "| geometric | front | 2/2 |" in table
    res = json.loads(out.read_text())
    assert set(res["rows"]) == {"geometric", "constant (mountain)"}
    for row in res["rows"].values():
        s = row["front"]
        assert s["detected"] == 2 and s["detection_rate"] == 1.0
        for k in ("pa_mpjpe", "mpjpe", "pa_arms", "pa_legs", "pa_torso", "pa_head"):
            assert math.isfinite(s[k]) and 0 < s[k] < 1000, (k, s[k])
    geo, const = res["rows"]["geometric"]["front"], res["rows"]["constant (mountain)"]["front"]
    assert geo["pa_mpjpe"] < const["pa_mpjpe"]  # recovering the pose beats always answering Mountain
    assert res["settings"]["mode"] == "image" and res["settings"]["smoothing"] is False
    assert {p["pose"] for p in res["per_pose"]} == {"tree", "warrior_ii"}


def test_metric_alignments_are_exact_on_transformed_copies():
    rng = np.random.default_rng(0)
    y = rng.normal(0, 0.3, (22, 3))
    th = 0.7
    Ry = np.array([[math.cos(th), 0, math.sin(th)], [0, 1, 0], [-math.sin(th), 0, math.cos(th)]])
    x = 1.3 * (y @ Ry.T) + np.array([0.4, -0.2, 1.0])
    np.testing.assert_allclose(ev.similarity_align(x, y), y, atol=1e-9)
    pa, mp = ev.joint_errors(y @ Ry.T + 0.5, y)  # turned about the vertical and moved: both errors vanish
    assert pa.max() < 1e-6 and mp.max() < 1e-6
    tilt = np.array([[1, 0, 0], [0, math.cos(0.5), -math.sin(0.5)], [0, math.sin(0.5), math.cos(0.5)]])
    pa, mp = ev.joint_errors(y @ tilt.T, y)  # a tilt is kept by MPJPE (heading only), removed by PA
    assert pa.max() < 1e-6 and mp.mean() > 50


def test_weak_perspective_fit_recovers_scale_and_offset():
    rng = np.random.default_rng(1)
    J = rng.normal(0, 0.4, (12, 3))
    px = np.stack([300 * J[:, 0] + 320, -300 * J[:, 1] + 240], 1)
    err, (s, tx, ty) = ev.weak_perspective_error(J, px)
    assert err < 1e-6 and s == pytest.approx(300) and tx == pytest.approx(320) and ty == pytest.approx(240)
    err, _ = ev.weak_perspective_error(J, px + rng.normal(0, 3, px.shape))
    assert 1.0 < err < 6.0


def test_bad_input_gives_clear_errors(tmp_path, capsys):
    import main

    with pytest.raises(ev.CaptureEvalError, match="not 'library', 'test' or an existing folder"):
        ev.pose_set(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ev.CaptureEvalError, match="no readable pose file"):
        ev.pose_set(str(tmp_path / "empty"))
    with pytest.raises(ev.CaptureEvalError, match="no corpus"):
        ev.pose_set("test", corpus_dir=tmp_path / "no_corpus")
    assert main.main(["eval", "capture", "--poses", str(tmp_path / "nowhere")]) == 2
    assert "not 'library', 'test'" in capsys.readouterr().err
    assert main.main(["eval", "capture", "--views", "sideways", "--poses", str(_two_poses(tmp_path))]) == 2
    assert "unknown view" in capsys.readouterr().err


def test_capture_images_defaults_to_per_image_mode(tmp_path):
    """An image folder is a set of independent photos: the second file's pose is what that file alone gives
    (no smoothing, held limbs or regressor window carried over); --tracking treats it as a video instead."""
    import main
    from tests.capture._capture_data import opencv_image

    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(opencv_image("messi5.jpg"), folder / "a.jpg")
    shutil.copy(opencv_image("basketball1.png"), folder / "b.png")
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(opencv_image("basketball1.png"), alone / "b.png")
    outs = {}
    for name, src, extra in (("folder", folder, []), ("alone", alone, []), ("tracked", folder, ["--tracking"])):
        outs[name] = tmp_path / f"{name}.npz"
        assert main.main(["capture", "--images", str(src), "--out", str(outs[name]), "--regressor", "geometric",
                          *extra]) == 0
    with np.load(outs["folder"]) as f, np.load(outs["alone"]) as a, np.load(outs["tracked"]) as t:
        assert f["detected"].all()
        np.testing.assert_allclose(f["landmarks"][1], a["landmarks"][0], atol=1e-5)
        np.testing.assert_allclose(f["poses"][1], a["poses"][0], atol=1e-5)
        assert not np.allclose(t["poses"][1], a["poses"][0], atol=1e-3)  # tracking carries state over


def test_capture_tracking_option_is_checked(tmp_path, capsys):
    import main

    assert main.main(["capture", "--video", str(tmp_path / "x.mp4"), "--tracking", "--out",
                      str(tmp_path / "o.npz")]) == 2
    assert "--tracking is for --images" in capsys.readouterr().err
