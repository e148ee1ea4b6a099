"""`capture` sub-command: a video file, an image folder or a camera → per-frame SMPL-H poses (+ confidences).

    python main.py capture --video in.mp4 --out seq.npz [--text "my left hand touches my knee"]
    python main.py capture --images DIR --out seq.npz          (per-image: every file independent; --tracking)
    python main.py capture --camera 0 --frames 90 --out seq.npz
    (any of them with --refine / --no-refine: the 2D fitting step after the regressor; default per mode)

The .npz is a normal PoseTailor/AMASS pose file (``poses`` (N,156), ``trans``, ``mocap_framerate``, z-up like
AMASS; File > Open and ``load_pose_npz`` read it) plus ``confidences`` (N,), ``detected`` (N,) bool,
``timestamps`` (N,) seconds, ``landmarks`` (N,33,8: image xyz, world xyz in our y-up frame, visibility,
presence; zeros where nobody was found), ``regressor`` and ``landmark_model``. Frames without a person repeat
the previous pose with confidence 0. Prints a summary and ends with one JSON line.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from core_models.device import add_device_arg


def register(sub) -> None:
    p = sub.add_parser("capture", help="video / images / camera → per-frame poses (.npz) via MediaPipe",
                       description="Recover SMPL-H poses from a video file, an image folder or a camera "
                                   "(MediaPipe BlazePose landmarks, offline) and write them as a pose .npz.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", help="video file (.mp4, .avi, ...)")
    src.add_argument("--images", help="folder of images (name order) or one image file")
    src.add_argument("--camera", type=int, help="camera device index (OpenCV)")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--text", default=None, help="optional text cue for learned regressors "
                                                 "(e.g. 'my left hand touches my knee')")
    p.add_argument("--model", default="auto", choices=("auto", "lite", "full", "heavy", "heavy+full"),
                   help="MediaPipe pose model; auto (default): heavy+full per image (heavy, full where heavy "
                        "finds nobody), lite for a video or camera")
    p.add_argument("--refine", action=argparse.BooleanOptionalAction, default=None,
                   help="fit the recovered body to MediaPipe's 2D landmarks after the regressor (2D fitting step); "
                        "default: on/off as measured best for the mode (see README, capture)")
    p.add_argument("--regressor", default="auto",
                   help="pose regressor: auto (a learned one if its weights are installed, else geometric), "
                        "geometric, or a registered name")
    p.add_argument("--frames", type=int, default=None, help="stop after this many frames (needed with --camera)")
    p.add_argument("--fps", type=float, default=None, help="frame rate written to the file (default: the "
                                                           "video's, 30 for images/camera)")
    p.add_argument("--no-smooth", action="store_true", help="no One-Euro filtering of the landmarks")
    p.add_argument("--min-cutoff", type=float, default=1.0, help="One-Euro min cutoff (Hz)")
    p.add_argument("--beta", type=float, default=4.0, help="One-Euro speed coefficient")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="with --camera: give up after this many seconds without a frame (unplugged)")
    add_device_arg(p, default=None, what="the learned pose regressor")
    p.add_argument("--image-mode", action="store_true",
                   help="per-image mode: every frame independent (IMAGE-mode detector, no smoothing, nothing "
                        "carried over); the default for --images")
    p.add_argument("--tracking", action="store_true",
                   help="with --images: treat the folder as a video (tracking, smoothing, held limbs)")
    p.set_defaults(func=_run)


def _use_device(spec: str | None) -> bool:
    """Resolve ``--device`` for the pipeline's learned regressor, which reads it from the environment (like the
    GUI's). False (and why on stderr) when the device does not exist here."""
    from core_models.device import ENV_VAR, DeviceError, resolve_device

    try:
        os.environ[ENV_VAR] = str(resolve_device(spec))
    except DeviceError as e:
        print(f"error: {e}", file=sys.stderr)
        return False
    return True


def _arguments_ok(args) -> bool:
    """The checks before any work (a message on stderr for the first that fails)."""
    if Path(args.out).suffix.lower() != ".npz":
        print(f"error: --out must end in .npz, got {Path(args.out).name}", file=sys.stderr)
        return False
    if args.camera is not None and not args.frames:
        print("error: --camera needs --frames N (how many frames to record)", file=sys.stderr)
        return False
    if args.tracking and (args.image_mode or not args.images):
        print("error: --tracking is for --images (videos and cameras track already) and excludes --image-mode",
              file=sys.stderr)
        return False
    return _use_device(args.device)


def _mode(args) -> tuple[bool, str]:
    """(per image?, pipeline mode) of the source; resolves ``--model auto`` for it (full per image, lite when
    tracking)."""
    from core_models.capture.per_image import resolve_variant

    per_image = (args.image_mode or bool(args.images)) and not args.tracking
    mode = "image" if per_image else "video"
    args.model = resolve_variant(args.model, mode)
    return per_image, mode


def _run(args) -> int:
    if not _arguments_ok(args):
        return 2
    from core_models.capture.landmarks import LandmarkerError
    from core_models.capture.per_image import run_images
    from core_models.capture.pipeline import CapturePipeline, results_to_arrays, run_source
    from core_models.capture.sources import CameraSource, ImageFolderSource, VideoFileSource

    out = Path(args.out)
    source: VideoFileSource | ImageFolderSource | CameraSource
    if args.video:
        source = VideoFileSource(args.video)
    elif args.images:
        p = Path(args.images)
        source = ImageFolderSource(p) if p.is_dir() else ImageFolderSource(files=[p])
    else:
        source = CameraSource(args.camera)
    if not source.open():  # a missing camera is an error here too (the GUI keeps retrying instead)
        print(f"error: {source.status}", file=sys.stderr)
        return 1
    per_image, mode = _mode(args)
    try:
        pipe = CapturePipeline(args.model, regressor=args.regressor, smooth=not (args.no_smooth or per_image),
                               min_cutoff=args.min_cutoff, beta=args.beta, mode=mode, refine=args.refine)
    except (LandmarkerError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        source.close()
        return 1
    results = []
    t0 = time.perf_counter()
    last_frame = [t0]
    last_status = None

    def stalled() -> bool:  # a camera that stopped delivering frames (unplugged and not back)
        if time.perf_counter() - last_frame[0] > args.timeout:
            print(f"stopping: no frame for {args.timeout:g} s ({source.status})", file=sys.stderr)
            return True
        return False

    try:
        frames = (run_images(pipe, source, text=args.text, max_frames=args.frames, should_stop=stalled) if per_image
                  else run_source(pipe, source, text=args.text, max_frames=args.frames, should_stop=stalled,
                                  overlap=True))
        for r in frames:
            last_frame[0] = time.perf_counter()
            results.append(r)
            if r.message and r.message != last_status and r.message != "no person found":
                print(f"frame {r.index}: {r.message}", file=sys.stderr)
                last_status = r.message
    except KeyboardInterrupt:
        print("interrupted: writing the frames captured so far", file=sys.stderr)
    finally:
        wall = time.perf_counter() - t0
        pipe.close()
        source.close()
    if not results:
        print(f"error: no frames read ({source.status})", file=sys.stderr)
        return 1
    arrays = results_to_arrays(results)
    fps = args.fps or getattr(source, "fps", None) or 30.0
    _write(out, arrays, fps, pipe.regressor, args)
    det = arrays["detected"]
    tot = [r.timings_ms.get("total", 0.0) for r in results]
    lm = [r.timings_ms["landmarks"] for r in results if "landmarks" in r.timings_ms]
    summary = {
        "name": "capture", "out": str(out), "frames": len(results), "detected": int(det.sum()),
        "mean_confidence": float(arrays["confidences"][det].mean()) if det.any() else 0.0,
        "regressor": getattr(pipe.regressor, "name", type(pipe.regressor).__name__), "model": args.model,
        "refine": pipe.refine,
        "fps_wall": len(results) / max(wall, 1e-9), "median_total_ms": float(np.median(tot)),
        "median_landmarks_ms": float(np.median(lm)) if lm else None,
    }
    print(f"{summary['frames']} frames, person found in {summary['detected']} "
          f"(mean confidence {summary['mean_confidence']:.2f}); regressor {summary['regressor']}"
          f"{' + 2D fit' if pipe.refine else ''}, model {args.model}; {summary['fps_wall']:.1f} fps incl. decoding "
          f"(median {summary['median_total_ms']:.1f} ms/frame) → {out}")
    if isinstance(source, ImageFolderSource) and source.skipped:
        print(f"skipped unreadable images: {', '.join(p.name for p in source.skipped)}", file=sys.stderr)
    print(json.dumps(summary))
    return 0 if det.any() else 3


def _write(out: Path, arrays: dict, fps: float, regressor, args) -> None:
    """Write the pose file through the shared writer, then add the capture arrays (atomic)."""
    from core_models.io.npz_pose import save_pose_npz
    from core_models.pose import Pose

    poses = Pose.from_full(arrays["full"])
    tmp = out.with_name(out.name + ".poses.tmp.npz")
    save_pose_npz(tmp, poses, fps=float(fps))
    with np.load(tmp, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    tmp.unlink(missing_ok=True)
    data.update(confidences=arrays["confidences"], detected=arrays["detected"],
                timestamps=arrays["timestamps"], landmarks=arrays["landmarks"],
                regressor=np.array(getattr(regressor, "name", type(regressor).__name__)),
                landmark_model=np.array(args.model), text_cue=np.array(args.text or ""),
                refine=np.array(bool(getattr(regressor, "refine", False))))
    buf = io.BytesIO()
    np.savez(buf, **data)
    part = out.with_name(out.name + ".tmp")
    part.write_bytes(buf.getvalue())
    part.replace(out)
