"""Target templates through the capture path (issue 15): built with real MediaPipe, cached, used by the engine
(nearest view), and the ideal-landmark fallback when the landmarker is missing."""
from __future__ import annotations

import numpy as np
import pytest

from core_models.capture.landmarks import Landmarks
from core_models.coach import CoachEngine, target_from_library
from core_models.coach import templates as T
from core_models.coach.compare import _hip_angle, _ry, target_landmarks
from core_models.coach.targets import CoachTarget, Routine

#: renders offscreen (EGL) in this process: run in their own pytest process (scripts/test.sh)
pytestmark = pytest.mark.headless_gl


def _tree():
    return target_from_library("tree").pose


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    pytest.importorskip("mediapipe")
    d = tmp_path_factory.mktemp("tmpl")
    calls = []

    def builder(pose, variant):
        calls.append(variant)
        return T.build_templates(pose, variant, views=(0.0, 60.0, -60.0))

    return T.get_templates(_tree(), "lite", cache_dir=d, builder=builder, shipped=None), d, calls


def test_built_with_real_mediapipe(built):
    t, d, calls = built
    assert t.source == "captured" and t.notice is None and calls == ["lite"]
    assert t.world.shape == (len(t.views_deg), 33, 3) and len(t.views_deg) >= 2
    ideal = target_landmarks(_tree())
    for w in t.world:  # canonical heading: hip line on +x, like the ideal landmarks
        assert abs(_hip_angle(w)) < 1e-6
        assert np.all(np.isfinite(w)) and not np.allclose(w, ideal, atol=0.02)
    assert (d / f"{T.pose_key(_tree(), 'lite')}.npz").exists()


def test_cache_hit_does_not_rebuild(built):
    t, d, _ = built

    def fail(pose, variant):
        raise AssertionError("rebuilt although cached")

    again = T.get_templates(_tree(), "lite", cache_dir=d, builder=fail, shipped=None)
    assert again.source == "captured" and again.origin == "cache" and np.allclose(again.world, t.world)
    assert T.pose_key(_tree(), "lite") != T.pose_key(_tree(), "full")


def test_nearest_view_follows_live_hip_angle():
    w = target_landmarks(_tree())
    world = np.stack([w, w + 0.01, w + 0.02])
    t = T.TargetTemplates(world, np.array([0.0, 1.0, -1.0]), np.array([0.0, 60.0, -60.0]), "captured")
    for a, k in ((0.1, 0), (0.9, 1), (-1.2, 2)):
        live = w @ _ry(a)  # hip line turned to angle a
        assert abs(_hip_angle(live) - a) < 1e-6
        assert np.array_equal(t.nearest(live), world[k])


def _lm(world):
    n = np.ones(33, np.float32)
    return Landmarks(np.full((33, 3), 0.5, np.float32), world.astype(np.float32), n, n, (320, 240))


def test_engine_uses_nearest_template(monkeypatch):
    w = target_landmarks(_tree())
    world = np.stack([w, w @ _ry(0.3).T * np.array([1.0, 0.9, 1.0])])
    tmpl = T.TargetTemplates(world, np.array([0.0, 1.0]), np.array([0.0, 60.0]), "captured")
    monkeypatch.setattr(T, "get_templates", lambda pose, variant, **kw: tmpl)
    e = CoachEngine(Routine("t", [CoachTarget("tree", _tree(), 60.0)]), corrector="rules", learned_async=False)
    picked = []
    real = tmpl.nearest
    monkeypatch.setattr(tmpl, "nearest", lambda lw: picked.append(real(lw)) or picked[-1])
    st = e.update(0.0, _tree(), _lm(w @ _ry(0.95)))
    assert st.target_source == "captured"
    assert picked and np.array_equal(picked[-1], world[1]) and e.template_notice is None
    e.update(0.1, _tree(), _lm(w))
    assert np.array_equal(picked[-1], world[0])


def test_fallback_when_landmarker_missing(tmp_path, monkeypatch):
    from core_models.capture import landmarks as L

    class Missing:
        def __init__(self, *a, **k):
            raise L.LandmarkerError("no pose landmarker model file")

    monkeypatch.setattr(L, "LandmarkDetector", Missing)
    t = T.get_templates(_tree(), "lite", cache_dir=tmp_path, shipped=None)
    assert t.source == "ideal" and "no pose landmarker model file" in (t.notice or "")
    assert np.allclose(t.world[0], target_landmarks(_tree())) and not list(tmp_path.iterdir())
    monkeypatch.setattr(T, "get_templates", lambda pose, variant, **kw: T.ideal_templates(pose, "why"))
    e = CoachEngine(Routine("t", [CoachTarget("tree", _tree(), 60.0)]), corrector="rules", learned_async=False)
    st = e.update(0.0, _tree(), _lm(target_landmarks(_tree())))
    assert e.template_notice == "why" and st.score is not None and st.score > 95
    assert st.target_source == "ideal"


def test_template_blend_moves_the_target_towards_the_template(monkeypatch):
    ideal = target_landmarks(_tree())
    far = ideal.copy()
    far[:, 1] *= -1.0  # an upside-down "template": far from the ideal target everywhere
    far = far @ _ry(_hip_angle(far)).T
    tmpl = T.TargetTemplates(far[None], np.zeros(1), np.zeros(1), "captured")
    monkeypatch.setattr(T, "get_templates", lambda pose, variant, **kw: tmpl)
    scores = []
    for b in (0.0, 1.0):
        e = CoachEngine(Routine("t", [CoachTarget("tree", _tree(), 60.0)]), corrector="rules", learned_async=False)
        e.template_blend = b
        st = e.update(0.0, _tree(), _lm(ideal))
        assert st.target_source == "captured"
        scores.append(st.score)
    assert scores[0] > 95 and scores[1] < 50


# ------------------------------------------------------------------------------------------ shipped templates
def test_shipped_file_covers_the_library_for_every_variant(tmp_path):
    """Issue 15 follow-up: the GUI cannot render the target in its own process, so the library poses' templates
    ship prebuilt (tools/build_coach_templates.py): small, versioned, plain arrays, looked up before the cache."""
    from core_models.coach.targets import library_names

    f = T.SHIPPED
    assert f.is_file(), f"{f} missing: python tools/build_coach_templates.py"
    assert f.stat().st_size < 400_000, f.stat().st_size
    z = np.load(f, allow_pickle=False)
    assert str(z["format"]) == T.FORMAT and int(z["version"]) == T.VERSION
    names = library_names()
    assert len(z["keys"]) == len(names) * len(T.VARIANTS) == 51
    assert len(z["offsets"]) == len(z["keys"]) + 1 and z["offsets"][-1] == len(z["world"])

    def fail(pose, variant, **kw):
        raise AssertionError("built although shipped")

    captured = 0
    for name in names:
        pose = target_from_library(name).pose
        for v in T.VARIANTS:
            assert T.pose_key(pose, v) in set(z["keys"].tolist())
            t = T.get_templates(pose, v, cache_dir=tmp_path, builder=fail)
            assert t.source in ("captured", "ideal")
            if t.source == "captured":
                captured += 1
                assert t.origin == "shipped" and t.world.shape[1:] == (33, 3) and len(t.world) >= 1
                assert np.all(np.abs([_hip_angle(w) for w in t.world]) < 1e-3)
            else:
                assert "found nobody" in (t.notice or "")
    assert captured >= 45 and not list(tmp_path.iterdir())  # nothing was built or cached


def test_shipped_lookup_round_trip_version_and_unknown_pose(tmp_path):
    tree, chair = _tree(), target_from_library("chair").pose
    w = target_landmarks(tree)
    t = T.TargetTemplates(np.stack([w, w * 1.01]), np.array([0.1, -0.2]), np.array([0.0, 30.0]), "captured")
    f = T.write_shipped(tmp_path / "lib.npz", [("tree", "lite", tree, t), ("chair", "lite", chair, None)])
    got = T.shipped_templates(tree, "lite", f)
    assert got is not None and got.origin == "shipped" and np.allclose(got.world, t.world, atol=1e-6)
    assert np.allclose(got.views_deg, [0.0, 30.0])
    assert T.shipped_templates(tree, "full", f) is None  # not shipped for that variant
    assert T.shipped_templates(rotated_tree(), "lite", f) is None  # not a shipped pose
    nobody = T.shipped_templates(chair, "lite", f)
    assert nobody is not None and nobody.source == "ideal" and "found nobody" in nobody.notice
    z = dict(np.load(f, allow_pickle=False))
    z["version"] = np.int64(T.VERSION + 1)
    np.savez(tmp_path / "old.npz", **z)
    assert T.shipped_templates(tree, "lite", tmp_path / "old.npz") is None  # another version: ignored
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    assert T.shipped_templates(tree, "lite", tmp_path / "bad.npz") is None


def rotated_tree():
    from tests.coach._helpers import rotated

    return rotated(_tree(), "left_elbow", 1, 60)


# ------------------------------------------------------------------------------------------ child process
def test_build_in_child_process_with_progress(tmp_path):
    """A target that is not shipped (an own pose) is built in a child Python (EGL there, plain npz both ways)."""
    pytest.importorskip("mediapipe")
    seen = []
    t = T.get_templates(rotated_tree(), "lite", cache_dir=tmp_path, builder=T.build_templates_in_child,
                        progress=lambda i, n: seen.append((i, n)))
    assert t.source == "captured" and t.origin == "built" and t.notice is None
    assert t.world.shape == (len(t.views_deg), 33, 3) and len(t.views_deg) >= 3
    assert seen and seen[-1] == (len(T.VIEWS_DEG), len(T.VIEWS_DEG))
    assert (tmp_path / f"{T.pose_key(rotated_tree(), 'lite')}.npz").exists()  # cached for next time


def test_child_process_failure_falls_back_with_the_reason(tmp_path):
    t = T.get_templates(rotated_tree(), "no_such_variant", cache_dir=tmp_path, builder=T.build_templates_in_child)
    assert t.source == "ideal" and "template process failed" in (t.notice or "")
    assert "no_such_variant" in t.notice and not list(tmp_path.iterdir())


def test_engine_builds_in_the_background_with_status(monkeypatch, tmp_path):
    """Live engines build off the calling thread, report progress in ``template_status``, compare with the ideal
    landmarks meanwhile, and switch to the captured templates when they are ready."""
    import threading

    go = threading.Event()
    w = target_landmarks(_tree())
    tmpl = T.TargetTemplates((w @ _ry(0.0).T)[None], np.zeros(1), np.zeros(1), "captured", origin="built")

    def child(pose, variant, progress=None):
        progress(1, 2)
        assert go.wait(10)
        progress(2, 2)
        return tmpl

    monkeypatch.setattr(T, "build_templates_in_child", child)
    e = CoachEngine(Routine("t", [CoachTarget("mine", rotated_tree(), 60.0)]), corrector="rules",
                    learned_async=True, template_builder="child", template_variant="full")
    monkeypatch.setattr(T, "CACHE_DIR", tmp_path)
    st = e.update(0.0, _tree(), _lm(w))
    assert st.target_source == "ideal"
    for _ in range(200):
        if e.template_status and "view 1/2" in e.template_status:
            break
        threading.Event().wait(0.01)
    assert "building the target templates for mine (full): view 1/2" == e.template_status
    go.set()
    for i in range(200):
        st = e.update(0.1 + 0.01 * i, _tree(), _lm(w))
        if st.target_source == "captured":
            break
        threading.Event().wait(0.01)
    assert st.target_source == "captured" and "1 captured views, built" in e.template_status
    assert e.template_notice is None
    with pytest.raises(Exception, match="template_builder"):
        CoachEngine(Routine("t", [CoachTarget("mine", _tree(), 60.0)]), template_builder="gui")


def test_services_engine_uses_the_panels_variant_and_a_child_builder():
    from core_models.services import ModelServices

    e = ModelServices.coach_engine(Routine("t", [CoachTarget("tree", _tree(), 60.0)]), corrector="rules",
                                   variant="heavy", measure="pose")
    assert e.template_variant == "heavy" and e.template_builder == "child" and e.learned_async
    assert e.measure == "pose"


def test_headless_run_keeps_and_logs_each_template_notice_once(caplog):
    """``python main.py coach`` shows why a target was compared with its ideal landmarks (a logged warning)."""
    import logging
    from types import SimpleNamespace

    from core_models.coach.run import CoachRun, _note_templates

    run = CoachRun(report=None)  # type: ignore[arg-type]
    eng = SimpleNamespace(template_notice=None)
    with caplog.at_level(logging.WARNING, logger="core_models.coach.run"):
        _note_templates(eng, run)
        eng.template_notice = "captured target templates unavailable (no EGL)"
        for _ in range(3):
            _note_templates(eng, run)
    assert run.template_notices == ["captured target templates unavailable (no EGL)"]
    assert [r.getMessage() for r in caplog.records] == ["coach: captured target templates unavailable (no EGL)"]
