"""The capture pipeline's learned-regressor plugins and its fallback to the geometric solver."""
from __future__ import annotations

import importlib
import logging

import numpy as np
import torch

from core_models.capture import pipeline as pl
from core_models.capture.landmarks import NUM_LANDMARKS, Landmarks


def test_every_listed_plugin_module_defines_the_factory():
    for name in pl.LEARNED_REGRESSOR_MODULES:
        factory = getattr(importlib.import_module(name), "make_capture_regressor", None)
        assert callable(factory), f"{name} is listed as a regressor plugin but defines no make_capture_regressor"


def _broken(**_):
    raise RuntimeError("weights are corrupt")


def test_fallback_is_a_warning_with_the_reason(monkeypatch, caplog):
    monkeypatch.setattr(pl, "_REGISTRY", {"geometric": pl.GeometricRegressor, "broken": _broken})
    monkeypatch.setattr(pl, "LEARNED_REGRESSOR_MODULES", ("core_models.capture.no_such_plugin",))
    with caplog.at_level(logging.INFO, logger=pl.__name__):
        reg = pl.make_regressor("auto")
    assert isinstance(reg, pl.GeometricRegressor)
    assert reg.fallback_reason is not None
    assert "weights are corrupt" in reg.fallback_reason and "no_such_plugin" in reg.fallback_reason
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "weights are corrupt" in warnings[0].getMessage()


class _NoDetector:
    def detect(self, rgb, ts):
        return None

    def close(self):
        pass


def test_pipeline_tells_the_user_once(monkeypatch):
    monkeypatch.setattr(pl, "_REGISTRY", {"geometric": pl.GeometricRegressor, "broken": _broken})
    monkeypatch.setattr(pl, "LEARNED_REGRESSOR_MODULES", ())
    pipe = pl.CapturePipeline(regressor="auto", detector=_NoDetector())  # type: ignore[arg-type]
    assert pipe.fallback_reason and "weights are corrupt" in pipe.fallback_reason
    frame = np.zeros((8, 8, 3), np.uint8)
    first, second = pipe.process(frame, 0.0), pipe.process(frame, 0.1)
    assert first.notice == pipe.fallback_reason
    assert second.notice == ""
    # an explicitly chosen geometric regressor is no fallback
    assert pl.CapturePipeline(regressor="geometric", detector=_NoDetector()).fallback_reason is None  # type: ignore


def _landmarks() -> Landmarks:
    rng = np.random.default_rng(0)
    n = NUM_LANDMARKS
    return Landmarks(image=rng.uniform(0.3, 0.7, (n, 3)), world=rng.normal(0, 0.3, (n, 3)),
                     visibility=np.ones(n, np.float32), presence=np.ones(n, np.float32))


def test_learned_regressor_leaves_the_global_thread_count_alone():
    from core_models.capture.regressor import LearnedRegressor

    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        reg = LearnedRegressor()  # the shipped weights must load
        assert torch.get_num_threads() == 3
        scoped = LearnedRegressor(threads=1)
        assert torch.get_num_threads() == 3
        pose, conf = scoped.predict(_landmarks())
        assert torch.get_num_threads() == 3  # set to 1 only while predicting
        assert pose.body_pose.shape == (21, 3) and 0.0 <= conf <= 1.0
        assert reg.threads is None
    finally:
        torch.set_num_threads(before)
