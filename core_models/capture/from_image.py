"""One still image → one body pose: "pose from this image" of the reference-image panel.

:func:`pose_from_image` runs a per-image capture pipeline (``ModelServices.capture_pipeline(variant, regressor,
mode="image", max_people=MAX_PEOPLE)``) on a photo or drawing: MediaPipe finds every person (up to
:data:`MAX_PEOPLE`), the largest one is kept, and the pipeline's pose stage (gating + the pose regressor) turns
their landmarks into a :class:`Pose`. The outcome says plainly what happened: ``"ok"``, ``"nobody"`` (no person
found: no pose), ``"several"`` (more than one person: the largest one's pose is offered, not applied without the
user's say), ``"low_confidence"`` (the landmarks or the regressor are unsure: offered likewise) or ``"failed"``
(a bad image, the detector or the regressor failed). Nothing here changes any document.

:func:`face_view` turns the recovered body about +y so that it faces the viewport camera the way the person faces
the photo's camera (the regressor's frame: facing the camera = facing +z), so the body overlays the image.
:func:`merge_body_pose` puts the recovered body rotations into the current pose, keeping its translation and hand
pose. No Qt, no torch (numpy only), safe to call from a worker thread.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from core_models.capture.landmarks import LM, Landmarks, _as_rgb_uint8
from core_models.pose import Pose, aa_to_matrix_np, matrix_to_aa_np

#: the detector looks for at most this many people (more than one is reported)
MAX_PEOPLE = 4
#: below this confidence (the pipeline's: landmark visibility x joints observed) the pose is only offered
MIN_CONFIDENCE = 0.5
#: MediaPipe landmark → PoseTailor joint with the same anatomical place (both use the person's own left/right)
LANDMARK_TO_JOINT: dict[str, int] = {
    "left_hip": 1, "right_hip": 2, "left_knee": 4, "right_knee": 5, "left_ankle": 7, "right_ankle": 8,
    "left_shoulder": 16, "right_shoulder": 17, "left_elbow": 18, "right_elbow": 19, "left_wrist": 20,
    "right_wrist": 21,
}
STATUSES = ("ok", "nobody", "several", "low_confidence", "failed")


@dataclass
class ImagePose:
    """What :func:`pose_from_image` found. ``pose`` is set for "ok", "several" and "low_confidence"."""

    status: str
    message: str
    pose: Pose | None = None
    confidence: float = 0.0
    people: int = 0
    landmarks: Landmarks | None = None  # the chosen person's (pixel coordinates of the image as given)
    image_size: tuple[int, int] = (0, 0)
    notice: str = ""  # e.g. why the geometric regressor is used instead of a learned one
    regressor: str = ""
    seconds: float = 0.0
    #: every person found, largest first: (pose or None, confidence, landmarks); ``pose`` is the first one's
    candidates: list[tuple[Pose | None, float, Landmarks]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def person_area(lm: Landmarks, gate: float = 0.5) -> float:
    """The image-space bounding-box area (fraction of the image) of a person's confident landmarks."""
    ok = lm.confidence(gate)
    if ok.sum() < 2:
        return 0.0
    xy = lm.image[ok, :2]
    span = xy.max(0) - xy.min(0)
    return float(span[0] * span[1])


def pose_from_image(image: np.ndarray, pipeline, min_confidence: float = MIN_CONFIDENCE,
                    text: str | None = None) -> ImagePose:
    """Run ``pipeline`` (a per-image :class:`~core_models.capture.pipeline.CapturePipeline`) on one RGB image;
    see the module docstring for the outcomes. Never raises for a bad image or a failing model."""
    t0 = time.perf_counter()
    try:
        rgb = _as_rgb_uint8(image)
    except ValueError as e:
        return ImagePose("failed", f"the image cannot be used: {e}")
    size = (int(rgb.shape[1]), int(rgb.shape[0]))
    regressor = str(getattr(pipeline.regressor, "name", "?"))
    notice = pipeline.fallback_reason or ""
    pipeline.reset()  # an independent image: no smoothing with, or limbs held from, a previous one
    try:
        people = pipeline.detector.detect_all(rgb)
    except Exception as e:  # noqa: BLE001 - a detector failure is reported, never raised into the GUI
        return ImagePose("failed", f"person detection failed: {e}", image_size=size, notice=notice)
    if not people:
        return ImagePose("nobody", "Nobody found in the image: the pose is unchanged. A photo or drawing of one "
                         "whole person, not too small, works best.", image_size=size, notice=notice,
                         regressor=regressor, seconds=time.perf_counter() - t0)
    from core_models.capture.pipeline import CaptureResult

    candidates: list[tuple[Pose | None, float, Landmarks]] = []
    messages = []
    for lm in sorted(people, key=person_area, reverse=True):
        pipeline.reset()
        res = pipeline.pose_stage(CaptureResult(0, 0.0, image_size=size, raw_landmarks=lm), text)
        candidates.append((res.pose, res.confidence, lm))
        messages.append(res.message)
    pose, conf, chosen = candidates[0]
    out = ImagePose("ok", "", pose, conf, len(people), chosen, size, notice, regressor, candidates=candidates)
    out.seconds = time.perf_counter() - t0
    if pose is None:
        out.status, out.message = "failed", messages[0] or "the pose regressor gave no pose"
    elif len(people) > 1:
        out.status = "several"
        out.message = (f"{len(people)} people found in the image: the pose is not applied yet. Choose the person "
                       "(the largest one first) and apply, or crop the image to one person.")
    elif out.confidence < min_confidence:
        out.status = "low_confidence"
        out.message = (f"Low confidence ({out.confidence:.2f} < {min_confidence:.2f}): parts of the body are hidden "
                       "or unclear, so the pose is not applied yet. Apply it anyway, or use a clearer image.")
    else:
        out.message = f"Posed from the image (confidence {out.confidence:.2f}, {regressor})."
    return out


def candidate(r: ImagePose, i: int) -> ImagePose:
    """``r`` with person ``i`` (0 = the largest) as its pose, confidence and landmarks."""
    pose, conf, lm = r.candidates[i]
    return replace(r, pose=pose, confidence=conf, landmarks=lm)


def person_label(r: ImagePose, i: int) -> str:
    """"Person 2 (right)": where person ``i`` stands across the image (by their confident landmarks)."""
    lm = r.candidates[i][2]
    ok = lm.confidence(0.5)
    x = float(np.mean(lm.image[ok, 0] if ok.any() else lm.image[:, 0]))
    where = "left" if x < 1 / 3 else "right" if x > 2 / 3 else "middle"
    return f"Person {i + 1} ({'largest, ' if i == 0 else ''}{where})"


def face_view(pose: Pose, azimuth_deg: float) -> Pose:
    """``pose`` turned about +y by the camera's azimuth: a body that faced the photo's camera (+z) now faces
    the viewport camera (which sits at ``azimuth_deg`` about +y from +z). Translation unchanged."""
    a = math.radians(float(azimuth_deg))
    c, s = math.cos(a), math.sin(a)
    Ry = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    R = aa_to_matrix_np(pose.root_orient.astype(np.float64))
    out = pose.copy()
    out.root_orient = matrix_to_aa_np(Ry @ R).astype(np.float32)
    return out


def merge_body_pose(current: Pose, recovered: Pose) -> Pose:
    """The current pose with the recovered root orientation and body joints; translation and hands kept."""
    out = current.copy()
    out.root_orient = recovered.root_orient.astype(np.float32).copy()
    out.body_pose = recovered.body_pose.astype(np.float32).copy()
    return out


def joint_correspondences(lm: Landmarks, gate: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(landmark pixels (K, 2), joint indices (K,)) of the confident landmarks that have a matching joint."""
    ok = lm.confidence(gate)
    px = lm.pixels()
    names = [n for n in LANDMARK_TO_JOINT if ok[LM[n]]]
    return (px[[LM[n] for n in names]].astype(np.float64).reshape(-1, 2),
            np.array([LANDMARK_TO_JOINT[n] for n in names], np.int64))
