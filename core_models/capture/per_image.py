"""Per-image capture mode: an image folder is a set of independent photos, not a video.

A video or a camera runs in tracking mode (:func:`core_models.capture.pipeline.run_source`: MediaPipe VIDEO mode,
One-Euro smoothing, limbs held from the previous frame, a temporal regressor window). An image folder runs
:func:`run_images`: the IMAGE-mode landmarker, and the pipeline is reset before every file, so nothing (filter
state, held limbs, the regressor's frame window) is carried from one image to the next — each result is exactly
what that image alone gives. :func:`default_mode` says which mode a source gets unless the user asks otherwise,
:func:`default_variant` which MediaPipe model (per image the ``heavy+full`` cascade, ``lite`` when tracking).
"""
from __future__ import annotations

from typing import Callable, Iterator


#: the MediaPipe pose model a source gets unless the user picks one (``auto``): an image folder / still has no live
#: budget. ``full`` measured clearly better than ``lite`` on rendered stills; ``heavy`` better again on 150 val-clip
#: poses (PA-MPJPE with the fit 44.4 → 39.4 mm front, 40.3 → 38.6 three-quarter; docs/notes/capture_models.md)
#: but misses some library poses that ``full`` finds — hence the cascade: heavy, and full for an image where heavy
#: finds nobody (:class:`~core_models.capture.landmarks.CascadeDetector`). A video or a camera keeps ``lite`` for
#: the live frame rate.
PER_IMAGE_VARIANT = "heavy+full"
TRACKING_VARIANT = "lite"
AUTO_VARIANT = "auto"


def default_variant(mode: str) -> str:
    """The landmark model for a capture mode: :data:`PER_IMAGE_VARIANT` for ``"image"``, else
    :data:`TRACKING_VARIANT`."""
    return PER_IMAGE_VARIANT if mode == "image" else TRACKING_VARIANT


def resolve_variant(variant: str | None, mode: str) -> str:
    """``variant`` as asked, or :func:`default_variant` of ``mode`` when it is None, empty or ``"auto"``."""
    v = (variant or "").strip()
    return default_variant(mode) if v in ("", AUTO_VARIANT) else v


def default_mode(source_kind: str) -> str:
    """"image" (per-image) for an image folder or a single image, "video" (tracking) for a video or a camera."""
    return "image" if source_kind in ("images", "image") else "video"


def run_images(pipeline, source, text: str | Callable[[], str | None] | None = None,
               max_frames: int | None = None, should_stop: Callable[[], bool] | None = None,
               keep_frames: bool = False) -> Iterator:
    """Like :func:`~core_models.capture.pipeline.run_source`, but every frame is independent: the pipeline
    (filters, held limbs, temporal regressor state) is reset before each one. Yields one CaptureResult per file."""
    from core_models.capture.pipeline import _frames

    for frame in _frames(source, max_frames, should_stop):
        pipeline.reset()
        r = pipeline.process(frame.image, frame.timestamp, text() if callable(text) else text)
        if keep_frames:
            r.frame = frame.image
        yield r
