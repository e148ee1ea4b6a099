"""Live capture pipeline: frame → MediaPipe landmarks → gating + One-Euro → pose regressor → :class:`Pose`.

The regressor is pluggable (:class:`PoseRegressor`: ``predict(landmarks, text) -> (Pose, confidence)``).
:class:`GeometricRegressor` (closed-form bone-direction fit, :mod:`core_models.capture.geometric`) needs no
weights and is always available. Learned regressors plug in through :func:`register_regressor`, or by
defining ``make_capture_regressor(**kw) -> PoseRegressor`` in one of :data:`LEARNED_REGRESSOR_MODULES` (the
PoseEmbroider SMPL head of :mod:`core_models.capture.regressor`); ``make_regressor("auto")`` takes the first
learned one whose weights load and falls back to the geometric one, logging a WARNING and recording why on the
fallback (``GeometricRegressor.fallback_reason``, ``CapturePipeline.fallback_reason``, and the ``notice`` of
the first :class:`CaptureResult`) so the user is told.

Everything is synchronous and Qt-free: the GUI runs :meth:`CapturePipeline.process` / :func:`run_source` in a
worker thread. A bad frame, a lost person or a failing regressor give a :class:`CaptureResult` with
``pose=None`` and a ``message``, never an exception.
"""
from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol, runtime_checkable

import numpy as np

from core_models.capture.filters import LandmarkFilter
from core_models.capture.landmarks import (
    LM,
    CascadeDetector,
    LandmarkDetector,
    Landmarks,
    _as_rgb_uint8,
    make_detector,
)
from core_models.pose import Pose

log = logging.getLogger(__name__)

#: modules that may define ``make_capture_regressor(**kw)`` (tried in this order by ``make_regressor("auto")``)
LEARNED_REGRESSOR_MODULES = ("core_models.capture.regressor",)

# landmarks whose visibility makes the overall confidence (torso + limbs)
_CONF_LMS = np.array([LM[f"{s}_{n}"] for s in ("left", "right")
                      for n in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")])


#: whether the 2D fitting step (:mod:`core_models.capture.fitting`) runs after the regressor unless the user says
#: (``refine=None``), per capture mode: on per image (it lowered PA-MPJPE on rendered val poses and on the test-clip
#: poses), off when tracking (it would halve the live frame rate); see docs/notes/capture_fitting.md
PER_IMAGE_REFINE = True
TRACKING_REFINE = False


def resolve_refine(refine: bool | None, mode: str) -> bool:
    """``refine`` as asked, or the default of ``mode`` (:data:`PER_IMAGE_REFINE` for ``"image"``, else
    :data:`TRACKING_REFINE`) when it is None."""
    if refine is None:
        return PER_IMAGE_REFINE if mode == "image" else TRACKING_REFINE
    return bool(refine)


@runtime_checkable
class PoseRegressor(Protocol):
    """Landmarks (+ optional text cue) → (Pose with transl 0, confidence in [0, 1])."""

    name: str

    def predict(self, landmarks: Landmarks, text: str | None = None) -> tuple[Pose, float]:
        ...


def landmark_confidence(lm: Landmarks) -> float:
    """Mean of visibility × presence over the 12 torso/limb landmarks (0..1)."""
    return float(np.mean(lm.visibility[_CONF_LMS] * lm.presence[_CONF_LMS]))


class GeometricRegressor:
    """The weight-free fallback: :class:`~core_models.capture.geometric.GeometricSolver` on the world landmarks.
    Ignores the text cue. Unseen limbs keep their previous frame's rotation (``temporal=True``) or a neutral
    pose; confidence = landmark confidence × the fraction of the 22 joints actually observed."""

    name = "geometric"

    def __init__(self, rest_joints: np.ndarray | None = None, gate: float = 0.5, temporal: bool = True):
        from core_models.capture.geometric import GeometricSolver

        self.solver = GeometricSolver(rest_joints, gate=gate)
        self.temporal = temporal
        #: why ``make_regressor("auto")`` fell back to this solver (None: chosen on purpose)
        self.fallback_reason: str | None = None
        self._prev: Pose | np.ndarray | None = None  # previous frame (local matrices)

    def reset(self) -> None:
        self._prev = None

    def predict(self, landmarks: Landmarks, text: str | None = None) -> tuple[Pose, float]:
        pose, seen, local = self.solver.solve_local(landmarks, self._prev if self.temporal else None)
        if self.temporal:
            self._prev = local
        return pose, landmark_confidence(landmarks) * float(seen.mean())


_REGISTRY: dict[str, Callable[..., PoseRegressor]] = {"geometric": GeometricRegressor}


def register_regressor(name: str, factory: Callable[..., PoseRegressor]) -> None:
    """Make ``make_regressor(name)`` available (learned models register here)."""
    _REGISTRY[name] = factory


def regressor_names() -> list[str]:
    return ["auto", *_REGISTRY]


def _learned_regressor(kw: dict) -> tuple[PoseRegressor | None, list[str]]:
    """The first learned regressor that loads, and why each one tried before it did not."""
    failures: list[str] = []
    for n, factory in _REGISTRY.items():
        if n == "geometric":
            continue
        try:
            return factory(**kw), failures
        except Exception as e:  # noqa: BLE001 - missing weights etc.: try the next one
            failures.append(f"{n}: {type(e).__name__}: {e}")
    for mod_name in LEARNED_REGRESSOR_MODULES:
        try:
            plugin = getattr(importlib.import_module(mod_name), "make_capture_regressor", None)
            if plugin is None:
                failures.append(f"{mod_name}: defines no make_capture_regressor")
                continue
            return plugin(**kw), failures
        except Exception as e:  # noqa: BLE001
            failures.append(f"{mod_name}: {type(e).__name__}: {e}")
    return None, failures


def make_regressor(name: str = "auto", **kw) -> PoseRegressor:
    """A regressor by name. ``"auto"``: the first learned regressor that loads (registered ones, then
    ``make_capture_regressor`` of :data:`LEARNED_REGRESSOR_MODULES`), else the geometric one, with a WARNING
    logged and the reason in its ``fallback_reason``."""
    if name != "auto":
        if name not in _REGISTRY:
            raise ValueError(f"unknown pose regressor {name!r}; available: {', '.join(regressor_names())}")
        return _REGISTRY[name](**kw)
    learned, failures = _learned_regressor(kw)
    if learned is not None:
        return learned
    fallback = GeometricRegressor()
    fallback.fallback_reason = ("no learned pose regressor could be loaded ("
                                + ("; ".join(failures) or "none installed") + "): using the geometric solver")
    log.warning("%s", fallback.fallback_reason)
    return fallback


@dataclass
class CaptureResult:
    index: int
    timestamp: float
    image_size: tuple[int, int] = (0, 0)
    landmarks: Landmarks | None = None      # after gating + filtering
    raw_landmarks: Landmarks | None = None  # MediaPipe's output
    pose: Pose | None = None
    confidence: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)  # landmarks, filter, regress, total
    message: str = ""
    notice: str = ""                   # a one-time note for the user (e.g. why the geometric fallback is used)
    frame: np.ndarray | None = None  # the RGB frame (only with run_source(..., keep_frames=True))

    @property
    def detected(self) -> bool:
        return self.pose is not None


class CapturePipeline:
    """One camera stream. ``process(image, timestamp, text)`` → :class:`CaptureResult`."""

    def __init__(self, variant: str = "lite", regressor: PoseRegressor | str | None = "auto",
                 detector: LandmarkDetector | CascadeDetector | None = None, smooth: bool = True,
                 min_cutoff: float = 1.0, beta: float = 4.0, gate: float = 0.5, hold: float = 0.5,
                 mode: str = "video", max_people: int = 1, refine: bool | None = None):
        self.detector = (detector if detector is not None
                         else make_detector(variant, mode=mode, num_poses=max_people))
        if regressor is None or isinstance(regressor, str):
            regressor = make_regressor(regressor or "auto")
        #: the 2D fitting step after the regressor (``refine``; None: the mode's default, see per_image)
        self.refine = resolve_refine(refine, mode)
        if self.refine:
            from core_models.capture.fitting import FittingRegressor

            regressor = FittingRegressor(regressor)
        self.regressor = regressor
        #: why the learned regressor is not used (None when it is, or when a regressor was chosen explicitly)
        self.fallback_reason: str | None = getattr(regressor, "fallback_reason", None)
        self._notice_pending = self.fallback_reason is not None
        self.filter = LandmarkFilter(min_cutoff=min_cutoff, beta=beta, gate=gate, hold=hold, smooth=smooth)
        self._index = 0
        self._lost = True

    def reset(self) -> None:
        self.filter.reset()
        reset = getattr(self.regressor, "reset", None)
        if callable(reset):
            reset()
        self._lost = True

    def process(self, image, timestamp: float | None = None, text: str | None = None) -> CaptureResult:
        """One frame through the whole pipeline (``detect_stage`` then ``pose_stage``)."""
        return self.pose_stage(self.detect_stage(image, timestamp), text)

    def detect_stage(self, image, timestamp: float | None = None) -> CaptureResult:
        """Frame validation + MediaPipe (the part that may run in another thread, see ``run_source``)."""
        t0 = time.perf_counter()
        idx = self._index
        self._index += 1
        ts = float(timestamp) if timestamp is not None else idx / 30.0
        res = CaptureResult(idx, ts)
        if self._notice_pending and self.fallback_reason:
            res.notice, self._notice_pending = self.fallback_reason, False
        res.timings_ms["_t0"] = t0
        try:
            rgb = _as_rgb_uint8(image)
        except ValueError as e:
            res.message = f"corrupted frame skipped: {e}"
            return res
        res.image_size = (rgb.shape[1], rgb.shape[0])
        try:
            res.raw_landmarks = self.detector.detect(rgb, ts)
        except Exception as e:  # noqa: BLE001 - MediaPipe errors on odd frames must not stop a stream
            res.message = f"landmark detection failed: {e}"
            return res
        res.timings_ms["landmarks"] = (time.perf_counter() - t0) * 1000
        if res.raw_landmarks is None:
            res.message = "no person found"
        return res

    def pose_stage(self, res: CaptureResult, text: str | None = None) -> CaptureResult:
        """Gating + One-Euro + the pose regressor, in frame order (stateful)."""
        t0 = res.timings_ms.pop("_t0", time.perf_counter())
        raw = res.raw_landmarks
        if raw is None:
            if res.message == "no person found" and not self._lost:
                self.reset()
            res.timings_ms["total"] = (time.perf_counter() - t0) * 1000
            return res
        self._lost = False
        t1 = time.perf_counter()
        lm = self.filter(raw)
        res.landmarks = lm
        t2 = time.perf_counter()
        res.timings_ms["filter"] = (t2 - t1) * 1000
        try:
            pose, conf = self.regressor.predict(lm, text or None)
            res.pose, res.confidence = pose, float(np.clip(conf, 0.0, 1.0))
        except Exception as e:  # noqa: BLE001
            log.warning("pose regressor %s failed: %s", getattr(self.regressor, "name", "?"), e)
            res.message = f"pose regression failed: {e}"
        t3 = time.perf_counter()
        res.timings_ms["regress"] = (t3 - t2) * 1000
        res.timings_ms["total"] = (t3 - t0) * 1000
        return res

    def close(self) -> None:
        self.detector.close()

    def __enter__(self) -> "CapturePipeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def run_source(pipeline: CapturePipeline, source, text: str | Callable[[], str | None] | None = None,
               max_frames: int | None = None, should_stop: Callable[[], bool] | None = None,
               keep_frames: bool = False, overlap: bool = False) -> Iterator[CaptureResult]:
    """Run ``pipeline`` over a :class:`~core_models.capture.sources.FrameSource` (opened if needed); yields one
    result per frame. A camera that is missing or unplugged yields nothing while it is away (its ``status``
    says why); the loop ends at the end of a file/folder, after ``max_frames`` or when ``should_stop()``.
    ``text`` may be a callable (read each frame: a hint box edited while capturing). ``keep_frames``: attach
    each RGB frame to its result (previews). ``overlap``: read + detect the next frame in a second thread
    while this one runs the filter + regressor (MediaPipe releases the GIL): higher throughput, same order."""
    frames = _frames(source, max_frames, should_stop)
    if not overlap:
        for frame in frames:
            r = pipeline.process(frame.image, frame.timestamp, text() if callable(text) else text)
            if keep_frames:
                r.frame = frame.image
            yield r
        return
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    done = object()

    def producer():
        try:
            for frame in frames:
                if stop.is_set():
                    break
                r = pipeline.detect_stage(frame.image, frame.timestamp)
                if keep_frames:
                    r.frame = frame.image
                while not stop.is_set():
                    try:
                        q.put(r, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as e:  # noqa: BLE001 - re-raised in the consumer
            q.put(e)
        finally:
            q.put(done)

    th = threading.Thread(target=producer, name="capture-detect", daemon=True)
    th.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield pipeline.pose_stage(item, text() if callable(text) else text)
    finally:
        stop.set()
        while th.is_alive():
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass
        th.join()


def _frames(source, max_frames, should_stop):
    if not source.opened:
        source.open()
    n = 0
    while not source.finished and (max_frames is None or n < max_frames):
        if should_stop is not None and should_stop():
            return
        frame = source.read()
        if frame is None:
            if not source.retries:
                if source.finished:
                    return
                continue
            if not source.opened:
                time.sleep(0.05)  # camera away: do not spin
            continue
        n += 1
        yield frame


def results_to_arrays(results: list[CaptureResult], hold_last: bool = True) -> dict[str, np.ndarray]:
    """Per-frame arrays for a ``.npz``: poses (N, 66) axis-angle, confidences, detected, timestamps and the
    raw landmarks (N, 33, 8). Frames without a person repeat the last pose (``hold_last``) or are zero."""
    n = len(results)
    full = np.zeros((n, 22, 3), np.float32)
    conf = np.zeros(n, np.float32)
    det = np.zeros(n, bool)
    ts = np.zeros(n, np.float64)
    lms = np.zeros((n, 33, 8), np.float32)
    last = np.zeros((22, 3), np.float32)
    for i, r in enumerate(results):
        ts[i] = r.timestamp
        if r.raw_landmarks is not None:
            lms[i] = r.raw_landmarks.to_array()
        if r.pose is not None:
            last = r.pose.full().reshape(22, 3)
            det[i], conf[i] = True, r.confidence
            full[i] = last
        elif hold_last:
            full[i] = last
    return {"full": full, "confidences": conf, "detected": det, "timestamps": ts, "landmarks": lms}
