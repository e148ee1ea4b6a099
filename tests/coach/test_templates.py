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

    return T.get_templates(_tree(), "lite", cache_dir=d, builder=builder), d, calls


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

    again = T.get_templates(_tree(), "lite", cache_dir=d, builder=fail)
    assert again.source == "captured" and np.allclose(again.world, t.world)
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
    monkeypatch.setattr(T, "get_templates", lambda pose, variant: tmpl)
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
    t = T.get_templates(_tree(), "lite", cache_dir=tmp_path)
    assert t.source == "ideal" and "no pose landmarker model file" in (t.notice or "")
    assert np.allclose(t.world[0], target_landmarks(_tree())) and not list(tmp_path.iterdir())
    monkeypatch.setattr(T, "get_templates", lambda pose, variant: T.ideal_templates(pose, "why"))
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
    monkeypatch.setattr(T, "get_templates", lambda pose, variant: tmpl)
    scores = []
    for b in (0.0, 1.0):
        e = CoachEngine(Routine("t", [CoachTarget("tree", _tree(), 60.0)]), corrector="rules", learned_async=False)
        e.template_blend = b
        st = e.update(0.0, _tree(), _lm(ideal))
        assert st.target_source == "captured"
        scores.append(st.score)
    assert scores[0] > 95 and scores[1] < 50
