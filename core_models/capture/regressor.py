"""Learned landmarks → SMPL-H pose regressor for the capture pipeline (a ``PoseRegressor``:
``predict(landmarks, text=None) -> (Pose, confidence)``).

Chain: the last ``window`` MediaPipe observations → :func:`core_models.capture.synth.landmarks_features` →
frozen lifter ("visual" encoding) → PoseEmbroider x̄ from {keypoints} or {keypoints, text cue} → iterative
residual SMPL-H head → heading-normalised pose; the heading is put back from the lifted hip line (camera-aligned
frame: facing the camera = heading 0). Weights: ``resources/weights/lifter.pt`` and ``embroider.pt``
(a missing/corrupt file raises :class:`core_models.nets.common.weights.WeightsError` with the message to show).
The model side (loading, lifter → embroider → head) is :class:`core_models.nets.embroider.CaptureModel`; this
module adds the landmark window, the text cue cache and the heading, and is the capture pipeline's learned
regressor plugin (:func:`make_capture_regressor`).

``representation="aligner"`` uses the Aligner baseline instead of the PoseEmbroider (for comparisons);
``representation="direct"`` the real-landmark lifter variant with its own pose head (image 2D + MediaPipe's world
landmarks + visibility in; ``python main.py train lifter --landmarks NAME``).
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from core_models.capture.landmarks import LM, Landmarks
from core_models.capture.synth import LandmarkModel, landmarks_features
from core_models.kinematics import fk_torch
from core_models.nets.common.text_encoder import get_text_encoder
from core_models.device import default_spec
from core_models.nets.embroider.infer import CaptureModel, load_capture_model
from core_models.pose import Pose, apply_heading, matrix_to_aa

_CORE = np.array([LM[f"{s}_{n}"] for s in ("left", "right")
                  for n in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")])


def _hip_heading(left_hip: np.ndarray, right_hip: np.ndarray) -> float:
    """Yaw (radians about +y) of the forward direction (left × up) of a hip line."""
    lat = np.asarray(left_hip, np.float64) - np.asarray(right_hip, np.float64)
    fwd = np.cross(lat, [0.0, 1.0, 0.0])
    return float(np.arctan2(fwd[0], fwd[2]))


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads and restore the previous count afterwards (``None``: leave
    torch's setting alone). torch's thread count is process-wide, so this scopes it to the block instead of
    changing it for the whole application."""
    if not n:
        yield
        return
    prev = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(prev)


class LearnedRegressor:
    """Thread-safe for one caller at a time. ``reset()`` when the stream restarts (clears the window).

    ``threads``: torch CPU threads used *while predicting* (set and restored around each call, see
    :func:`torch_threads`); ``None`` (default) keeps the process-wide setting. Building a regressor never changes
    the global thread count."""

    name = "embroider"

    def __init__(self, weights_dir: str | Path | None = None, representation: str = "embroider",
                 threads: int | None = None, device=None):
        wd = Path(weights_dir) if weights_dir else None
        self.threads = threads
        # device None: $POSETAILOR_DEVICE (the GUI / ``capture --device`` set it), else the CPU
        self.model: CaptureModel = load_capture_model(wd, representation,
                                                      device if device is not None else default_spec(fallback="cpu"))
        self.window = self.model.window
        self.name = representation
        self._buf: deque[Landmarks] = deque(maxlen=self.window)
        self._text_cache: dict[str, torch.Tensor] = {}
        self._lock = threading.Lock()
        self._rest = torch.from_numpy(LandmarkModel().rest_joints.astype(np.float32))  # the heads' rest skeleton
        self.last_lifted: np.ndarray | None = None

    def reset(self) -> None:
        with self._lock:
            self._buf.clear()

    def _text(self, text: str) -> torch.Tensor:
        t = " ".join(text.split())
        if t not in self._text_cache:
            if len(self._text_cache) > 256:
                self._text_cache.clear()
            self._text_cache[t] = get_text_encoder().encode_pooled([t]).float()
        return self._text_cache[t]

    @torch.no_grad()
    def predict(self, landmarks: Landmarks, text: str | None = None) -> tuple[Pose, float]:
        with self._lock:
            self._buf.append(landmarks)
            seq = list(self._buf)
        seq = [seq[0]] * (self.window - len(seq)) + seq
        kp = torch.from_numpy(landmarks_features(seq, world=self.model.uses_world)).unsqueeze(0)  # (1, T, 33, F)
        with torch_threads(self.threads):
            R, lifted = self.model.predict(kp, self._text(text) if text and text.strip() else None)
        pose = Pose.from_full(np.asarray(matrix_to_aa(R.numpy()), np.float32))  # heading-normalised pose
        # heading: lifted hips (camera-aligned) vs the predicted body's hips
        Jp = fk_torch(R.unsqueeze(0), self._rest)[1][0].numpy()
        lj = lifted.numpy()
        dh = _hip_heading(lj[1], lj[2]) - _hip_heading(Jp[1], Jp[2])
        pose = apply_heading(pose, np.float32(dh))
        self.last_lifted = lj.reshape(22, 3).copy()  # the lifter's own 3D joints (camera frame), for a fit step
        conf = float(np.mean(landmarks.visibility[_CORE] * landmarks.presence[_CORE]))
        return pose, conf

    def predict_sequence(self, seq: list[Landmarks | None], text: str | None = None):
        """Poses and confidences for a list of observations (None = no person: the previous pose, confidence 0)."""
        self.reset()
        poses, confs, last = [], [], None
        for lm in seq:
            if lm is None:
                poses.append(last if last is not None else Pose(np.zeros(3, np.float32), np.zeros((21, 3), np.float32)))
                confs.append(0.0)
                continue
            last, c = self.predict(lm, text)
            poses.append(last)
            confs.append(c)
        return poses, np.array(confs, np.float32)


#: the live default of :func:`make_capture_regressor` (the capture pipeline's ``auto``): the representation that
#: measured best on real MediaPipe input (``python main.py eval capture``; see docs/notes/capture_models.md)
LIVE_DEFAULT = "direct"
#: environment override of :data:`LIVE_DEFAULT` (``direct``, ``embroider``, ``aligner`` or ``geometric``), e.g. to
#: compare them with ``POSETAILOR_CAPTURE_MODEL=direct python main.py eval capture``
CAPTURE_MODEL_ENV = "POSETAILOR_CAPTURE_MODEL"
REPRESENTATIONS = ("direct", "embroider", "aligner", "geometric")


def live_representation() -> str:
    """The representation :func:`make_capture_regressor` builds ($POSETAILOR_CAPTURE_MODEL, else
    :data:`LIVE_DEFAULT`); an unknown name raises ValueError."""
    import os

    rep = os.environ.get(CAPTURE_MODEL_ENV, "").strip() or LIVE_DEFAULT
    if rep not in REPRESENTATIONS:
        raise ValueError(f"{CAPTURE_MODEL_ENV}={rep!r}: expected one of {', '.join(REPRESENTATIONS)}")
    return rep


def make_capture_regressor(**kw):
    """The capture pipeline's learned regressor (``core_models.capture.pipeline.make_regressor("auto")`` looks
    for this): :func:`live_representation` — ``direct`` (the real-landmark lifter with its pose head),
    ``embroider`` / ``aligner`` (lifter → PoseEmbroider / Aligner → SMPL-H head, text cue accepted) or
    ``geometric`` (the weight-free solver, chosen on purpose). Raises WeightsError when the weights are missing
    (the pipeline then falls back to the geometric solver and says why)."""
    rep = kw.pop("representation", None) or live_representation()
    if rep == "geometric":
        from core_models.capture.pipeline import GeometricRegressor

        return GeometricRegressor()
    return LearnedRegressor(representation=rep, **kw)
