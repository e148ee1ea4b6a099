"""MediaPipe BlazePose landmarks, fully offline (Tasks API ``PoseLandmarker`` with local ``.task`` bundles).

* :class:`Landmarks` — one person in one frame: 33 image landmarks (normalised x, y in [0, 1] of the image width /
  height, z relative depth on the x scale), 33 world landmarks in metres, per-landmark visibility and presence.
  **World landmarks are stored in PoseTailor's frame**: y up, metres, origin at the hip centre, x to the image's
  right, z towards the camera — so a person facing the camera faces +z and their left side is +x, exactly the
  canonical body frame. MediaPipe's own world frame is (x right, y down, z away from the camera): ours is
  ``(x, -y, -z)`` of it (a 180° turn about x, a proper rotation).
* :class:`LandmarkDetector` — lite / full / heavy models; ``mode="video"`` (tracking between frames: about half the
  latency, needs increasing timestamps) or ``"image"`` (independent frames). ``detect(rgb)`` → Landmarks or None.
* :class:`CascadeDetector` (variant ``"heavy+full"``, per-image only) — the heavy model, and the full one for an
  image where heavy finds nobody; :func:`make_detector` builds either kind from a variant name.
* The bundles are built once at set-up (``scripts/build_mediapipe_models.sh``, see
  :mod:`core_models.capture.model_bundles`) into :func:`model_dir`; nothing downloads at run time.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VARIANTS = ("lite", "full", "heavy")
#: cascades of models (per-image only): the first model, then the next for an image where it finds nobody
CASCADES: dict[str, tuple[str, ...]] = {"heavy+full": ("heavy", "full")}

LANDMARK_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
NUM_LANDMARKS = 33
LM: dict[str, int] = {n: i for i, n in enumerate(LANDMARK_NAMES)}

#: LM_MIRROR[i]: the landmark playing landmark i's role on the other side.
def _other_side(name: str) -> str:
    """"left_eye" ↔ "right_eye", "mouth_left" ↔ "mouth_right" (the side word is a prefix or a suffix)."""
    return "_".join({"left": "right", "right": "left"}.get(w, w) for w in name.split("_"))


LM_MIRROR = np.array([LM[_other_side(n)] for n in LANDMARK_NAMES], dtype=np.int64)

#: the skeleton drawn in overlays: pairs of landmark indices
CONNECTIONS: tuple[tuple[int, int], ...] = tuple((LM[a], LM[b]) for a, b in (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_wrist", "left_index"), ("left_wrist", "left_pinky"), ("left_index", "left_pinky"),
    ("right_wrist", "right_index"), ("right_wrist", "right_pinky"), ("right_index", "right_pinky"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_heel"),
    ("left_heel", "left_foot_index"), ("left_ankle", "left_foot_index"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("right_ankle", "right_heel"),
    ("right_heel", "right_foot_index"), ("right_ankle", "right_foot_index"),
    ("left_ear", "left_eye"), ("left_eye", "nose"), ("nose", "right_eye"), ("right_eye", "right_ear"),
))

#: MediaPipe world frame → PoseTailor frame (x, -y, -z)
MP_TO_OURS = np.diag([1.0, -1.0, -1.0]).astype(np.float32)


class LandmarkerError(RuntimeError):
    """The landmark model cannot be used (missing bundle, mediapipe not installed...): the message says why
    and what to run."""


def model_dir() -> Path:
    """Where the ``pose_landmarker_{lite,full,heavy}.task`` bundles live (an ignored cache folder):
    ``$POSETAILOR_MEDIAPIPE_DIR``, the desktop bundle's own copy, or ``~/.cache/posetailor/mediapipe``."""
    env = os.environ.get("POSETAILOR_MEDIAPIPE_DIR")
    if env:
        return Path(env)
    from core_models.resources import bundled_path

    bundled = bundled_path("mediapipe")
    if bundled is not None:
        return bundled
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posetailor" / "mediapipe"


def model_path(variant: str = "lite") -> Path:
    if variant not in VARIANTS:
        raise LandmarkerError(f"unknown landmark model {variant!r}: choose one of {', '.join(VARIANTS)}")
    p = model_dir() / f"pose_landmarker_{variant}.task"
    if not p.is_file() or p.stat().st_size == 0:
        raise LandmarkerError(
            f"the MediaPipe pose model '{variant}' is not installed ({p} is missing). "
            "Build the bundles once with: bash scripts/build_mediapipe_models.sh")
    return p


def available_variants() -> list[str]:
    return [v for v in VARIANTS if (model_dir() / f"pose_landmarker_{v}.task").is_file()]


@dataclass
class Landmarks:
    """One detected person in one frame (float32 arrays). See the module docstring for the frames."""

    image: np.ndarray        # (33, 3) normalised x, y (0..1 of width/height), z relative depth
    world: np.ndarray        # (33, 3) metres, our frame (y up, z towards the camera), hip centre at the origin
    visibility: np.ndarray   # (33,) 0..1: likely visible (not occluded) in the image
    presence: np.ndarray     # (33,) 0..1: likely inside the image
    image_size: tuple[int, int] = (0, 0)  # (width, height) in pixels
    timestamp: float = 0.0   # seconds

    def __post_init__(self):
        self.image = np.asarray(self.image, dtype=np.float32).reshape(NUM_LANDMARKS, 3)
        self.world = np.asarray(self.world, dtype=np.float32).reshape(NUM_LANDMARKS, 3)
        self.visibility = np.asarray(self.visibility, dtype=np.float32).reshape(NUM_LANDMARKS)
        self.presence = np.asarray(self.presence, dtype=np.float32).reshape(NUM_LANDMARKS)
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))

    def pixels(self) -> np.ndarray:
        """(33, 2) image landmarks in pixels."""
        w, h = self.image_size
        return self.image[:, :2] * np.array([w, h], dtype=np.float32)

    def confidence(self, threshold: float = 0.5) -> np.ndarray:
        """(33,) bool: landmarks that are both visible and present above ``threshold``."""
        return (self.visibility >= threshold) & (self.presence >= threshold)

    def copy(self) -> "Landmarks":
        return Landmarks(self.image.copy(), self.world.copy(), self.visibility.copy(), self.presence.copy(),
                         self.image_size, self.timestamp)

    def mirrored(self) -> "Landmarks":
        """The horizontally flipped observation (left/right swapped), as MediaPipe would see the flipped image."""
        img = self.image[LM_MIRROR].copy()
        img[:, 0] = 1.0 - img[:, 0]
        wld = self.world[LM_MIRROR].copy()
        wld[:, 0] = -wld[:, 0]
        return Landmarks(img, wld, self.visibility[LM_MIRROR], self.presence[LM_MIRROR], self.image_size,
                         self.timestamp)

    def to_array(self) -> np.ndarray:
        """(33, 8): image xyz, world xyz, visibility, presence (for .npz files)."""
        return np.concatenate([self.image, self.world, self.visibility[:, None], self.presence[:, None]], axis=1)

    @classmethod
    def from_array(cls, a: np.ndarray, image_size=(0, 0), timestamp: float = 0.0) -> "Landmarks":
        a = np.asarray(a, dtype=np.float32).reshape(NUM_LANDMARKS, 8)
        return cls(a[:, 0:3], a[:, 3:6], a[:, 6], a[:, 7], image_size, timestamp)


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Validate a frame: (H, W, 3) uint8 RGB (a (H, W) grey or (H, W, 4) RGBA frame is converted)."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"a frame must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"a frame must be uint8, got {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.shape[0] < 8 or image.shape[1] < 8:
        raise ValueError(f"a frame must be (H, W, 3) RGB with H, W >= 8, got shape {image.shape}")
    if image.shape[2] == 4:
        image = image[:, :, :3]
    return np.ascontiguousarray(image)


class LandmarkDetector:
    """MediaPipe PoseLandmarker: one person (``num_poses`` > 1: up to that many, see :meth:`detect_all`).
    Thread-safe for one caller at a time; close it when done."""

    def __init__(self, variant: str = "lite", mode: str = "video", min_detection_confidence: float = 0.5,
                 min_presence_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 model_file: str | os.PathLike | None = None, num_poses: int = 1):
        if mode not in ("video", "image"):
            raise ValueError("mode must be 'video' or 'image'")
        path = Path(model_file) if model_file is not None else model_path(variant)
        try:
            from mediapipe.tasks.python import vision
            from mediapipe.tasks.python.core.base_options import BaseOptions
        except ImportError as e:  # pragma: no cover - depends on the install
            raise LandmarkerError(f"mediapipe is not installed ({e}); run bash scripts/setup.sh") from e
        self.variant, self.mode = variant, mode
        opts = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE,
            num_poses=max(1, int(num_poses)), min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_presence_confidence, min_tracking_confidence=min_tracking_confidence)
        try:
            self._lm = vision.PoseLandmarker.create_from_options(opts)
        except Exception as e:  # noqa: BLE001 - a broken bundle gives a clear message
            raise LandmarkerError(f"cannot load the MediaPipe pose model {path}: {e}") from e
        self._lock = threading.Lock()
        self._last_ms = -1
        self._closed = False

    def detect(self, image: np.ndarray, timestamp: float | None = None) -> Landmarks | None:
        """Landmarks of the most prominent person in ``image`` ((H, W, 3) uint8 RGB), or None if nobody is
        found. ``timestamp`` (seconds) is needed in video mode; non-increasing stamps are nudged forward."""
        people = self.detect_all(image, timestamp)
        return people[0] if people else None

    def detect_all(self, image: np.ndarray, timestamp: float | None = None) -> list[Landmarks]:
        """Every person found (at most ``num_poses``, MediaPipe's order), as for :meth:`detect`."""
        import mediapipe as mp

        rgb = _as_rgb_uint8(image)
        h, w = rgb.shape[:2]
        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        with self._lock:
            if self._closed:
                raise LandmarkerError("the landmark detector was closed")
            if self.mode == "video":
                ms = int(round((timestamp if timestamp is not None else (self._last_ms + 34) / 1000) * 1000))
                ms = max(ms, self._last_ms + 1)
                self._last_ms = ms
                res = self._lm.detect_for_video(mp_image, ms)
            else:
                res = self._lm.detect(mp_image)
        out = []
        for i, lms in enumerate(res.pose_landmarks or []):
            img = np.array([(p.x, p.y, p.z) for p in lms], dtype=np.float32)
            vis = np.array([p.visibility if p.visibility is not None else 0.0 for p in lms], dtype=np.float32)
            pres = np.array([p.presence if p.presence is not None else 0.0 for p in lms], dtype=np.float32)
            if res.pose_world_landmarks and i < len(res.pose_world_landmarks):
                wld = np.array([(p.x, p.y, p.z) for p in res.pose_world_landmarks[i]], dtype=np.float32) @ MP_TO_OURS
            else:  # pragma: no cover - the Tasks API always fills both
                wld = np.zeros((NUM_LANDMARKS, 3), np.float32)
            out.append(Landmarks(img, wld, vis, pres, (w, h), float(timestamp or 0.0)))
        return out

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._lm.close()

    def __enter__(self) -> "LandmarkDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass


class CascadeDetector:
    """IMAGE-mode detection through several models in turn (:data:`CASCADES`): the first model's landmarks, or the
    next model's for an image where it found nobody. Same interface as :class:`LandmarkDetector`; ``used`` counts
    the images answered by each model. A cascade model that is not installed is left out (at least one must be)."""

    def __init__(self, variant: str = "heavy+full", num_poses: int = 1, **kw):
        if variant not in CASCADES:
            raise LandmarkerError(f"unknown landmark cascade {variant!r}: choose one of {', '.join(CASCADES)}")
        self.variant, self.mode = variant, "image"
        self.detectors: list[LandmarkDetector] = []
        errors = []
        for v in CASCADES[variant]:
            try:
                self.detectors.append(LandmarkDetector(v, mode="image", num_poses=num_poses, **kw))
            except LandmarkerError as e:
                errors.append(str(e))
        if not self.detectors:
            raise LandmarkerError("; ".join(errors))
        self.used: dict[str, int] = {d.variant: 0 for d in self.detectors}

    def detect(self, image: np.ndarray, timestamp: float | None = None) -> Landmarks | None:
        people = self.detect_all(image, timestamp)
        return people[0] if people else None

    def detect_all(self, image: np.ndarray, timestamp: float | None = None) -> list[Landmarks]:
        for d in self.detectors:
            people = d.detect_all(image, timestamp)
            if people:
                self.used[d.variant] += 1
                return people
        return []

    def close(self) -> None:
        for d in self.detectors:
            d.close()

    def __enter__(self) -> "CascadeDetector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_detector(variant: str = "lite", mode: str = "video", num_poses: int = 1,
                  **kw) -> LandmarkDetector | CascadeDetector:
    """A :class:`LandmarkDetector` for a model name, a :class:`CascadeDetector` for a cascade name (IMAGE mode only:
    tracking needs one model's state from frame to frame)."""
    if variant in CASCADES:
        if mode != "image":
            raise LandmarkerError(f"the landmark cascade {variant!r} works per image only, not in {mode} mode")
        return CascadeDetector(variant, num_poses=num_poses, **kw)
    return LandmarkDetector(variant, mode=mode, num_poses=num_poses, **kw)
