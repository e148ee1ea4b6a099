"""Frame sources: video files (incl. corrupted/truncated), image folders with broken files, missing and
unplugged/replugged cameras — never an exception, always a status message."""
from __future__ import annotations

import types

import numpy as np
import pytest

from core_models.capture import sources as S
from tests.capture._capture_data import write_video


def _frames(n, h=64, w=96):
    out = []
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, :, 0] = 40 + 5 * i  # red ramps with the frame index
        f[10:30, 10 + i:30 + i, 1] = 255
        out.append(f)
    return out


def test_video_file_frames_timestamps_and_rgb_order(tmp_path):
    path = write_video(tmp_path / "v.mp4", _frames(12), fps=25)
    src = S.open_source(str(path))
    assert isinstance(src, S.VideoFileSource)
    frames = list(src)
    assert len(frames) == 12 and src.finished and "end of" in src.status
    assert [f.index for f in frames] == list(range(12))
    assert np.allclose([f.timestamp for f in frames], np.arange(12) / 25.0, atol=1e-6)
    f0 = frames[0].image
    assert f0.shape == (64, 96, 3) and f0.dtype == np.uint8
    assert f0[:, :, 0].mean() > f0[:, :, 2].mean() + 20  # RGB, not BGR
    assert frames[-1].image[:, :, 0].mean() > f0[:, :, 0].mean() + 30
    assert src.read() is None  # after the end: None, no exception


def test_video_loop(tmp_path):
    path = write_video(tmp_path / "v.mp4", _frames(5))
    src = S.VideoFileSource(path, loop=True)
    assert src.open()
    got = [src.read() for _ in range(12)]
    assert all(f is not None for f in got) and not src.finished
    src.close()


def test_missing_and_garbage_video(tmp_path):
    missing = S.VideoFileSource(tmp_path / "nope.mp4")
    assert not missing.open() and missing.finished and "not found" in missing.status
    assert list(missing) == []
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    src = S.VideoFileSource(bad)
    assert list(src) == []
    assert src.finished and src.status


def test_truncated_video_reads_what_it_can(tmp_path):
    path = write_video(tmp_path / "v.mp4", _frames(30))
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    src = S.VideoFileSource(cut)
    frames = list(src)  # must not raise
    assert src.finished
    assert len(frames) < 30
    for f in frames:
        assert f.image.shape == (64, 96, 3)


def test_image_folder_skips_corrupted_files(tmp_path):
    import cv2

    for i, f in enumerate(_frames(3)):
        cv2.imwrite(str(tmp_path / f"img_{i}.png"), f[:, :, ::-1])
    (tmp_path / "img_1b.png").write_bytes(b"\x89PNG broken")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("ignored")
    src = S.open_source(str(tmp_path), fps=10)
    assert isinstance(src, S.ImageFolderSource)
    frames = list(src)
    assert len(frames) == 3
    assert sorted(p.name for p in src.skipped) == ["empty.jpg", "img_1b.png"]
    assert np.allclose([f.timestamp for f in frames], [0, 0.1, 0.2])
    single = S.open_source(str(tmp_path / "img_0.png"))
    assert len(list(single)) == 1
    empty = tmp_path / "none"
    empty.mkdir()
    e = S.ImageFolderSource(empty)
    assert not e.open() and "no images" in e.status and list(e) == []


def test_missing_camera_reports_instead_of_crashing():
    cam = S.open_source("97")
    assert isinstance(cam, S.CameraSource)
    assert cam.open() is False
    assert "no camera found at index 97" in cam.status
    assert not cam.finished  # cameras keep retrying (replug)
    assert cam.read() is None
    cam.close()


class _FakeCamera:
    """A camera that can be unplugged and replugged (shared state on the class)."""

    plugged = True
    frames_served = 0

    def __init__(self, index):
        self.index = index
        self._open = _FakeCamera.plugged

    def isOpened(self):
        return self._open

    def set(self, *a):
        return True

    def read(self):
        if not (_FakeCamera.plugged and self._open):
            return False, None
        _FakeCamera.frames_served += 1
        return True, np.full((48, 64, 3), 100, np.uint8)

    def release(self):
        self._open = False


def test_camera_unplug_and_replug(monkeypatch):
    fake = types.SimpleNamespace(VideoCapture=_FakeCamera, CAP_PROP_FRAME_WIDTH=3, CAP_PROP_FRAME_HEIGHT=4,
                                 CAP_PROP_FPS=5)
    monkeypatch.setattr(S, "_CV2", fake)
    _FakeCamera.plugged = True
    cam = S.CameraSource(0, reconnect_interval=0.0, max_failures=3)
    assert cam.open() and "streaming" in cam.status
    f = cam.read()
    assert f is not None and f.image.shape == (48, 64, 3)
    _FakeCamera.plugged = False  # unplug
    for _ in range(3):
        assert cam.read() is None
    assert "disconnected" in cam.status
    assert cam.read() is None and "no camera" in cam.status  # retry fails while unplugged
    _FakeCamera.plugged = True  # replug
    f2 = cam.read()
    assert f2 is not None and "streaming" in cam.status
    assert f2.index == 1 and f2.timestamp >= f.timestamp
    cam.close()


@pytest.mark.parametrize("bad", [None, np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4, 3), np.uint8),
                                 np.zeros((20, 20, 3), np.float64)])
def test_bgr_to_rgb_rejects_unusable_pictures(bad):
    assert S._bgr_to_rgb(bad) is None
