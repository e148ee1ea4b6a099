"""Closing one headless renderer leaves the others in the same process working (EGL displays are per process)."""
from __future__ import annotations

import numpy as np
import pytest

from core_models.body import load_body
from core_models.pose import Pose
from core_models.render.offscreen import OffscreenRenderer, gl_platform

#: renders offscreen (EGL) in this process: run in their own pytest process (scripts/test.sh)
pytestmark = pytest.mark.headless_gl


def test_closing_one_renderer_keeps_another_rendering():
    body, pose = load_body("anny"), Pose.zeros()
    keep = OffscreenRenderer(samples=0)
    before = keep.render(body, pose, size=(96, 96), grid=False)
    other = OffscreenRenderer(samples=0)
    other.render(body, pose, size=(96, 96), grid=False)
    other.close()
    after = keep.render(body, pose, size=(96, 96), grid=False)
    assert gl_platform() in ("egl", "osmesa")
    assert (before != before[0, 0]).any(), "the body was not drawn"
    np.testing.assert_array_equal(after, before)
    keep.close()
