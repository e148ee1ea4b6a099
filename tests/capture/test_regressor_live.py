"""The live default of the capture pipeline's ``auto`` regressor (``make_capture_regressor``): the representation
that measured best on real MediaPipe input (``LIVE_DEFAULT``), overridable with $POSETAILOR_CAPTURE_MODEL."""
import numpy as np
import pytest

from core_models.capture import regressor as R
from core_models.capture.pipeline import GeometricRegressor, make_regressor


def test_the_environment_overrides_the_live_default(monkeypatch):
    monkeypatch.delenv(R.CAPTURE_MODEL_ENV, raising=False)
    assert R.live_representation() == R.LIVE_DEFAULT
    monkeypatch.setenv(R.CAPTURE_MODEL_ENV, "geometric")
    assert R.live_representation() == "geometric"
    reg = R.make_capture_regressor()
    assert isinstance(reg, GeometricRegressor) and reg.fallback_reason is None   # chosen, not a fallback
    monkeypatch.setenv(R.CAPTURE_MODEL_ENV, "bogus")
    with pytest.raises(ValueError, match="POSETAILOR_CAPTURE_MODEL"):
        R.live_representation()


def test_auto_builds_the_live_default_from_the_shipped_weights(monkeypatch):
    from core_models.capture.geometric import landmarks_from_joints
    from core_models.pose import Pose

    monkeypatch.delenv(R.CAPTURE_MODEL_ENV, raising=False)
    reg = make_regressor("auto")
    assert reg.name == R.LIVE_DEFAULT        # the shipped weights load: no fallback
    lm = landmarks_from_joints(Pose(np.zeros(3, np.float32), np.zeros((21, 3), np.float32)))
    pose, conf = reg.predict(lm)
    assert np.all(np.isfinite(pose.full())) and 0.0 <= conf <= 1.0
