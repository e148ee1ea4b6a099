"""Which MediaPipe landmarker a capture source gets by default (``--model auto``): ``full`` per image (an image
folder or a still has no live budget; ``eval capture --model full`` measured clearly better than lite on the
rendered stills), ``lite`` for a video or a camera (the live budget). The capture CLI, ``eval capture`` and the
capture panel's image-folder source resolve ``auto`` the same way; an explicit choice is kept."""
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
    assert PER_IMAGE_VARIANT == "full" and TRACKING_VARIANT == "lite"
    assert default_variant("image") == "full" and default_variant("video") == "lite"
    for auto in (None, "", "auto", " auto "):
        assert resolve_variant(auto, "image") == "full" and resolve_variant(auto, "video") == "lite"
    for explicit in ("lite", "full", "heavy"):
        assert resolve_variant(explicit, "image") == explicit == resolve_variant(explicit, "video")


def test_capture_cli_uses_full_for_images_and_lite_for_a_video(tmp_path):
    import main
    from tests.capture._capture_data import demo_frames, opencv_image, write_video

    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(opencv_image("basketball1.png"), folder / "b.png")
    video = write_video(tmp_path / "v.mp4", demo_frames(3))
    runs = {"images": (["--images", str(folder)], "full"), "video": (["--video", str(video)], "lite"),
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
    assert seen == {"variant": "full", "mode": "image"}
    with pytest.raises(StopHere):
        ev.evaluate_capture("library", model="lite")
    assert seen["variant"] == "lite"


def test_capture_panel_image_folder_source_gets_full_and_a_camera_lite():
    from app.panels.capture import CapturePanel

    asked = []

    class Refuse(RuntimeError):
        pass

    def capture_pipeline(variant, regressor, mode):
        asked.append((variant, mode))
        raise Refuse("stop after the variant is chosen")

    fake = SimpleNamespace(ctx=SimpleNamespace(services=SimpleNamespace(capture_pipeline=capture_pipeline)),
                           _stop=threading.Event())
    for kind, variant, expected in (("images", "auto", ("full", "image")), ("camera", "auto", ("lite", "video")),
                                    ("video", "auto", ("lite", "video")), ("images", "heavy", ("heavy", "image"))):
        closed = []
        source = SimpleNamespace(kind=kind, close=lambda closed=closed: closed.append(True))
        with pytest.raises(Refuse):
            CapturePanel._loop(fake, source, variant, "geometric")
        assert asked[-1] == expected and closed == [True], kind
