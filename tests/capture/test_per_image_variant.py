"""Which MediaPipe landmarker a capture source gets by default (``--model auto``): the ``heavy+full`` cascade per
image (an image folder or a still has no live budget; heavy measured better than full, full better than lite on
rendered stills, and full finds some people heavy misses), ``lite`` for a video or a camera (the live budget). The
capture CLI, ``eval capture`` and the capture panel's image-folder source resolve ``auto`` the same way; an
explicit choice is kept."""
from __future__ import annotations

import shutil
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from core_models.capture.per_image import (
    PER_IMAGE_VARIANT,
    TRACKING_VARIANT,
    default_variant,
    resolve_variant,
)


def test_default_variant_per_mode():
    assert PER_IMAGE_VARIANT == "heavy+full" and TRACKING_VARIANT == "lite"
    assert default_variant("image") == "heavy+full" and default_variant("video") == "lite"
    for auto in (None, "", "auto", " auto "):
        assert resolve_variant(auto, "image") == "heavy+full" and resolve_variant(auto, "video") == "lite"
    for explicit in ("lite", "full", "heavy", "heavy+full"):
        assert resolve_variant(explicit, "image") == explicit == resolve_variant(explicit, "video")


def test_capture_cli_uses_the_cascade_for_images_and_lite_for_a_video(tmp_path):
    import main
    from tests.capture._capture_data import demo_frames, opencv_image, write_video

    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(opencv_image("basketball1.png"), folder / "b.png")
    video = write_video(tmp_path / "v.mp4", demo_frames(3))
    runs = {"images": (["--images", str(folder)], "heavy+full"), "video": (["--video", str(video)], "lite"),
            "images-lite": (["--images", str(folder), "--model", "lite"], "lite"),
            "tracked-images": (["--images", str(folder), "--tracking"], "lite")}
    for name, (src, expected) in runs.items():
        out = tmp_path / f"{name}.npz"
        assert main.main(["capture", *src, "--out", str(out), "--regressor", "geometric"]) == 0, name
        with np.load(out) as f:
            assert str(f["landmark_model"]) == expected, name
            assert f["detected"].any(), name


def test_eval_capture_resolves_auto_to_the_per_image_model(monkeypatch):
    from core_models.capture import evaluate as ev

    seen = {}

    class StopHere(Exception):
        pass

    class FakeDetector:
        def __init__(self, variant, mode="video", **_kw):
            seen["variant"], seen["mode"] = variant, mode
            raise StopHere

    import core_models.capture.landmarks as lm

    monkeypatch.setattr(lm, "LandmarkDetector", FakeDetector)
    monkeypatch.setattr(ev, "_render_all", lambda *a, **k: {})
    monkeypatch.setattr(ev, "pose_set", lambda *a, **k: SimpleNamespace(poses=[], source="none"))
    with pytest.raises(StopHere):
        ev.evaluate_capture("library")
    assert seen == {"variant": "heavy", "mode": "image"}  # the cascade's first model
    with pytest.raises(StopHere):
        ev.evaluate_capture("library", model="lite")
    assert seen["variant"] == "lite"


def test_capture_panel_image_folder_source_gets_the_cascade_and_a_camera_lite():
    from app.panels.capture import CapturePanel

    asked = []

    class Refuse(RuntimeError):
        pass

    def capture_pipeline(variant, regressor, mode):
        asked.append((variant, mode))
        raise Refuse("stop after the variant is chosen")

    fake = SimpleNamespace(ctx=SimpleNamespace(services=SimpleNamespace(capture_pipeline=capture_pipeline)),
                           _stop=threading.Event())
    for kind, variant, expected in (("images", "auto", ("heavy+full", "image")), ("camera", "auto", ("lite", "video")),
                                    ("video", "auto", ("lite", "video")), ("images", "heavy", ("heavy", "image"))):
        closed = []
        source = SimpleNamespace(kind=kind, close=lambda closed=closed: closed.append(True))
        with pytest.raises(Refuse):
            CapturePanel._loop(fake, source, variant, "geometric")
        assert asked[-1] == expected and closed == [True], kind


class _FakeModel:
    """Stands in for one MediaPipe model: finds a person only in images whose first pixel is in ``sees``."""

    made: list[str] = []

    def __init__(self, variant, mode="video", num_poses=1, **_kw):
        self.variant, self.mode = variant, mode
        _FakeModel.made.append(variant)
        self.closed = False

    def detect_all(self, image, timestamp=None):
        return [f"{self.variant}-person"] if int(image[0, 0, 0]) in {"heavy": {1}, "full": {1, 2}}[self.variant] else []

    def close(self):
        self.closed = True


def test_cascade_falls_back_to_full_only_where_heavy_finds_nobody(monkeypatch):
    import core_models.capture.landmarks as lm

    monkeypatch.setattr(lm, "LandmarkDetector", _FakeModel)
    img = {k: np.full((4, 4, 3), k, np.uint8) for k in (0, 1, 2)}
    with lm.make_detector("heavy+full", mode="image") as det:
        assert isinstance(det, lm.CascadeDetector)
        assert det.detect(img[1]) == "heavy-person"  # heavy finds them: full is not asked
        assert det.detect(img[2]) == "full-person"  # heavy misses, full finds
        assert det.detect(img[0]) is None and det.detect_all(img[0]) == []  # nobody for either
        assert det.used == {"heavy": 1, "full": 1}
    assert all(d.closed for d in det.detectors)
    with pytest.raises(lm.LandmarkerError, match="per image only"):
        lm.make_detector("heavy+full", mode="video")
    with pytest.raises(lm.LandmarkerError, match="unknown landmark cascade"):
        lm.CascadeDetector("lite+nothing")
    assert isinstance(lm.make_detector("lite", mode="video"), _FakeModel)


def test_cascade_without_the_heavy_bundle_uses_full_alone(monkeypatch):
    import core_models.capture.landmarks as lm

    class NoHeavy(_FakeModel):
        def __init__(self, variant, **kw):
            if variant == "heavy":
                raise lm.LandmarkerError("the MediaPipe pose model 'heavy' is not installed")
            super().__init__(variant, **kw)

    monkeypatch.setattr(lm, "LandmarkDetector", NoHeavy)
    det = lm.make_detector("heavy+full", mode="image")
    assert [d.variant for d in det.detectors] == ["full"]
    assert det.detect(np.full((4, 4, 3), 2, np.uint8)) == "full-person"

    class NoModels(_FakeModel):
        def __init__(self, variant, **kw):
            raise lm.LandmarkerError(f"the MediaPipe pose model '{variant}' is not installed")

    monkeypatch.setattr(lm, "LandmarkDetector", NoModels)
    with pytest.raises(lm.LandmarkerError, match="'heavy' is not installed.*'full' is not installed"):
        lm.make_detector("heavy+full", mode="image")
