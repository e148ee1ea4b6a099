"""In-app thumbnails: rendered off the GUI thread (Qt GL worker, or the child-process fallback)."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from core_models.pose import Pose

pytestmark = pytest.mark.gl


def _arr(img):
    from PySide6.QtGui import QImage

    im = img.convertToFormat(QImage.Format.Format_RGBA8888)
    return np.frombuffer(im.constBits(), np.uint8, count=im.bytesPerLine() * im.height()).reshape(
        im.height(), -1, 4)[:, : im.width()].astype(int)


def _poses():
    z = Pose.zeros()
    return [z, z.with_joint(16, np.array([0, 0, 1.4], np.float32)), z.with_joint(2, np.array([-1.3, 0, 0], np.float32))]


def _collect(qapp, thumbs, keys, timeout=60.0):
    got = {}
    thumbs.thumbnailReady.connect(lambda k, im: got.__setitem__(k, im))
    t0 = time.perf_counter()
    thumbs.request_many([(k, p) for k, p in zip(keys, _poses())])
    queued_ms = (time.perf_counter() - t0) * 1000
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    end = time.time() + timeout
    while len(got) < len(keys) and time.time() < end:
        loop.processEvents()
        time.sleep(0.01)
    return got, queued_ms


@pytest.mark.skipif(not os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"),
                    reason="needs an X display with GL")
def test_qt_gl_thumbnails_off_the_gui_thread(qapp, anny_body):
    from app.viewport.thumbnails import ThumbnailRenderer

    th = ThumbnailRenderer(anny_body, size=(96, 112))
    try:
        got, queued_ms = _collect(qapp, th, ["a", "b", "c"])
        assert queued_ms < 100  # the request returns at once; the work happens in the worker thread
        assert set(got) == {"a", "b", "c"}
        assert not th.uses_subprocess
        imgs = {k: _arr(v) for k, v in got.items()}
        for a in imgs.values():
            assert a.shape == (112, 96, 4)
            assert ((a[..., 0] - a[..., 2]) > 40).mean() > 0.03  # a body is there
        assert np.abs(imgs["a"] - imgs["b"]).mean() > 0.5
        assert np.abs(imgs["a"] - imgs["c"]).mean() > 0.5
        one = th.render_now(Pose.zeros())
        assert np.array_equal(_arr(one), imgs["a"])  # deterministic
    finally:
        th.shutdown()


def test_subprocess_fallback(qapp, anny_body):
    from app.viewport.thumbnails import ThumbnailRenderer

    th = ThumbnailRenderer(anny_body, size=(48, 48), use_qt_gl=False)
    try:
        got, _ = _collect(qapp, th, [1, 2, 3], timeout=120)
        assert th.uses_subprocess
        assert set(got) == {1, 2, 3}
        a = _arr(got[1])
        assert a.shape == (48, 48, 4) and ((a[..., 0] - a[..., 2]) > 40).mean() > 0.03
    finally:
        th.shutdown()
