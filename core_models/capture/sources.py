"""Frame sources with one interface: a webcam (OpenCV device index), a video file, an image folder (or one image).

``src.open()`` → ``src.read()`` returns a :class:`Frame` (RGB uint8, timestamp in seconds, index) or ``None``;
``src.status`` says why there is no frame ("no camera at index 0", "camera disconnected — retrying",
"end of video"...) and ``src.finished`` is True when no more frames will come (end of a file or folder). Nothing
here raises on a missing camera, an unplugged camera or a corrupted frame/file: the caller shows ``status``.
:func:`open_source` builds a source from a user string (``"0"`` → camera 0, a folder, a video or an image file).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")


@dataclass
class Frame:
    image: np.ndarray  # (H, W, 3) uint8 RGB
    timestamp: float   # seconds since the source started (video: frame time)
    index: int         # running frame number (0, 1, ...)


_CV2 = None


def _cv2():
    """cv2 with its own console warnings (e.g. 'can't open camera by index' on every retry) turned down to
    errors: sources report problems through ``status`` instead."""
    global _CV2
    if _CV2 is None:
        import cv2  # opencv-python-headless

        try:
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        except AttributeError:  # pragma: no cover - older builds
            pass
        _CV2 = cv2
    return _CV2


def _bgr_to_rgb(img) -> np.ndarray | None:
    """A decoded OpenCV image → (H, W, 3) uint8 RGB, or None when it is not a usable picture."""
    if img is None or not isinstance(img, np.ndarray) or img.size == 0:
        return None
    if img.dtype != np.uint8:
        if img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        else:
            return None
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    if img.ndim != 3 or img.shape[2] not in (3, 4) or min(img.shape[:2]) < 8:
        return None
    return np.ascontiguousarray(img[:, :, 2::-1])


class FrameSource:
    """Base class. Subclasses implement ``_open() -> bool`` and ``_read() -> np.ndarray | None`` (RGB)."""

    kind = "source"

    def __init__(self):
        self.status = "not opened"
        self.finished = False
        self.opened = False
        self._index = 0

    @property
    def description(self) -> str:
        return self.kind

    def open(self) -> bool:
        """Open the source; False (with ``status`` set) when it cannot be opened. Never raises."""
        try:
            self.opened = bool(self._open())
        except Exception as e:  # noqa: BLE001 - a source must never crash the app
            log.warning("cannot open %s: %s", self.description, e)
            self.status, self.opened = f"cannot open {self.description}: {e}", False
        if not self.opened:
            self.finished = self.finished or not self.retries
        return self.opened

    retries = False  # cameras retry (replug), files do not

    def read(self) -> Frame | None:
        """The next frame, or None (see ``status`` / ``finished``). Never raises."""
        if self.finished:
            return None
        try:
            out = self._read()
        except Exception as e:  # noqa: BLE001
            log.warning("reading %s failed: %s", self.description, e)
            self.status = f"read error: {e}"
            out = None
        if out is None:
            return None
        image, ts = out
        f = Frame(image, ts, self._index)
        self._index += 1
        return f

    def close(self) -> None:
        self.opened = False

    def __iter__(self):
        if not self.opened and not self.open():
            return
        while not self.finished:
            f = self.read()
            if f is not None:
                yield f
            elif self.finished:
                return

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    # subclass hooks
    def _open(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _read(self):  # pragma: no cover - abstract
        raise NotImplementedError


class CameraSource(FrameSource):
    """An OpenCV capture device. A missing camera or one that stops delivering frames (unplugged) is reported
    in ``status``; ``read()`` then retries opening it every ``reconnect_interval`` seconds (replug)."""

    kind = "camera"
    retries = True

    def __init__(self, index: int = 0, width: int | None = 640, height: int | None = 480, fps: float | None = 30,
                 reconnect_interval: float = 1.0, max_failures: int = 5):
        super().__init__()
        self.index, self.width, self.height, self.fps = int(index), width, height, fps
        self.reconnect_interval, self.max_failures = reconnect_interval, max_failures
        self._cap = None
        self._fails = 0
        self._next_retry = 0.0
        self._t0: float | None = None

    @property
    def description(self) -> str:
        return f"camera {self.index}"

    def _open(self) -> bool:
        cv2 = _cv2()
        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            cap.release()
            self.status = (f"no camera found at index {self.index} (is one plugged in and not used by another "
                           "program?)")
            self._next_retry = time.monotonic() + self.reconnect_interval
            return False
        if self.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, int(self.width))
        if self.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, int(self.height))
        if self.fps:
            cap.set(cv2.CAP_PROP_FPS, float(self.fps))
        self._cap, self._fails = cap, 0
        self._t0 = self._t0 if self._t0 is not None else time.monotonic()
        self.status = f"camera {self.index} streaming"
        return True

    def _read(self):
        if self._cap is None:
            if time.monotonic() < self._next_retry:
                time.sleep(min(0.05, max(0.0, self._next_retry - time.monotonic())))
                return None
            if not self.open():
                return None
        ok, img = self._cap.read()
        rgb = _bgr_to_rgb(img) if ok else None
        if rgb is None:
            self._fails += 1
            if self._fails >= self.max_failures:  # unplugged: drop it and retry later
                self._release()
                self.status = f"camera {self.index} disconnected — waiting for it to come back"
                self._next_retry = time.monotonic() + self.reconnect_interval
            return None
        self._fails = 0
        return rgb, time.monotonic() - self._t0

    def _release(self):
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        self._release()
        super().close()
        self.status = "closed"


class VideoFileSource(FrameSource):
    """A video file decoded with OpenCV; timestamps are frame times (index / fps). Undecodable frames are
    skipped (counted in ``skipped``); a file that cannot be opened sets ``status`` and ``finished``."""

    kind = "video"

    def __init__(self, path: str | Path, loop: bool = False, max_bad_frames: int = 30):
        super().__init__()
        self.path, self.loop, self.max_bad_frames = Path(path), loop, max_bad_frames
        self._cap = None
        self.fps = 30.0
        self.frame_count = 0
        self.skipped = 0
        self._pos = 0

    @property
    def description(self) -> str:
        return f"video {self.path.name}"

    def _open(self) -> bool:
        if not self.path.is_file():
            self.status = f"video file not found: {self.path}"
            return False
        cv2 = _cv2()
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            self.status = f"cannot decode video {self.path.name} (unsupported or corrupted file)"
            return False
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and np.isfinite(fps) and 1 <= fps <= 1000 else 30.0
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._cap, self._pos = cap, 0
        self.status = f"{self.description}: {self.frame_count} frames at {self.fps:.1f} fps"
        return True

    def _read(self):
        if self._cap is None:
            self.finished = True
            return None
        bad = 0
        while True:
            ok, img = self._cap.read()
            if not ok:
                if self.loop and self._pos > 0:
                    self._cap.set(_cv2().CAP_PROP_POS_FRAMES, 0)
                    self._pos = 0
                    continue
                self.finished = True
                self.status = f"end of {self.description} ({self._pos} frames, {self.skipped} skipped)"
                return None
            pos = self._pos
            self._pos += 1
            rgb = _bgr_to_rgb(img)
            if rgb is not None:
                return rgb, pos / self.fps
            self.skipped += 1
            bad += 1
            if bad >= self.max_bad_frames:
                self.finished = True
                self.status = f"{self.description}: too many undecodable frames, stopped"
                return None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        super().close()


class ImageFolderSource(FrameSource):
    """Images of a folder in name order (or an explicit list of files), one frame each at ``fps``. Files that
    cannot be decoded are skipped and listed in ``skipped``."""

    kind = "images"

    def __init__(self, folder: str | Path | None = None, files: list[str | Path] | None = None, fps: float = 30.0):
        super().__init__()
        self.folder = Path(folder) if folder is not None else None
        self._files = [Path(f) for f in files] if files is not None else None
        self.fps = float(fps)
        self.skipped: list[Path] = []
        self._i = 0

    @property
    def description(self) -> str:
        if self.folder is not None:
            return f"image folder {self.folder.name}"
        return f"{len(self._files or [])} image(s)"

    def _open(self) -> bool:
        if self._files is None:
            if self.folder is None or not self.folder.is_dir():
                self.status = f"image folder not found: {self.folder}"
                return False
            self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)
        if not self._files:
            self.status = f"no images in {self.description}"
            self.finished = True
            return False
        self._i = 0
        self.status = f"{self.description}: {len(self._files)} images"
        return True

    def _read(self):
        cv2 = _cv2()
        while self._files is not None and self._i < len(self._files):
            p = self._files[self._i]
            self._i += 1
            img = None
            try:
                data = np.fromfile(str(p), dtype=np.uint8)
                if data.size:
                    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
            except (OSError, ValueError, cv2.error) as e:
                log.warning("cannot read %s: %s", p, e)
            rgb = _bgr_to_rgb(img)
            if rgb is None:
                self.skipped.append(p)
                self.status = f"skipped unreadable image {p.name}"
                continue
            return rgb, (self._index) / self.fps
        self.finished = True
        self.status = f"end of {self.description} ({len(self.skipped)} skipped)"
        return None


def open_source(spec: str | int | Path, **kw) -> FrameSource:
    """A source from a user string: an int / digit string → camera index; a folder → images; a file → video
    or single image (by extension). The source is returned unopened."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        return CameraSource(int(spec), **kw)
    p = Path(spec)
    if p.is_dir():
        return ImageFolderSource(p, **kw)
    if p.suffix.lower() in IMAGE_EXTS:
        return ImageFolderSource(files=[p], **kw)
    return VideoFileSource(p, **kw)
