"""Real-input evaluation of webcam capture (``python main.py eval capture``): render known poses, run the real
MediaPipe landmarker on the images, recover the pose, compare with the truth.

:func:`evaluate_capture` — the pose set (``library``: the 17 shipped poses of ``resources/poses``; ``test``:
``n_test`` poses drawn with a fixed seed from test-split clips of the corpus; or a folder of pose files) is rendered
on the default Anny body exactly like ``python main.py render --view V --size 640x480 --no-grid``; every image goes
through MediaPipe once (IMAGE mode, no smoothing, nothing carried from one image to the next) and then through each
regressor's per-image pipeline stage (:meth:`CapturePipeline.pose_stage` after a reset, as
:func:`~core_models.capture.from_image.pose_from_image` does). Rows: the chosen regressor, the geometric fallback
and a constant-pose baseline (always answers the library's Mountain pose).

Metrics (22 SMPL-H joints of the same default body, mm; poses where nobody was detected are left out of the errors
and counted in the detection rate):

* **PA-MPJPE**: after the best similarity transform (rotation, translation, scale; Umeyama);
* **MPJPE**: after root alignment (pelvis on pelvis) and heading alignment (the best rotation about the vertical
  axis): the recovered pose is in the camera's frame, the truth in the body's, so the camera's azimuth is taken
  out but a wrong tilt or a wrong lean still counts;
* per-part PA errors: arms (shoulders, elbows, wrists), legs (hips, knees, ankles, feet), torso (pelvis, spine,
  collars), head (neck, head).

:func:`evaluate_photos` — real photos and a real video (the opencv-doc photos and the sports2d demo video the tests
use) have no 3D truth, so the recovered body is checked against MediaPipe's own 2D landmarks: its 12 limb joints
(camera frame: x to the image's right, y up) are projected with the weak-perspective camera (scale s and image
offset (tx, ty): ``u = s x + tx``, ``v = -s y + ty``) that fits them best in least squares, and the mean residual is
reported in pixels and in % of the person's landmark bounding-box height.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core_models.pose import Pose

PARTS: dict[str, tuple[int, ...]] = {
    "arms": (16, 17, 18, 19, 20, 21),
    "legs": (1, 2, 4, 5, 7, 8, 10, 11),
    "torso": (0, 3, 6, 9, 13, 14),
    "head": (12, 15),
}
VIEWS = ("front", "three_quarter")
#: iterations of the ``+lift`` ablation row (``--fit-ablation``): the 3D step alone at a live-affordable cost
LIFT_ONLY_ITERS = 3
IMAGE_SIZE = (640, 480)
BASELINE_POSE = "mountain"


class CaptureEvalError(ValueError):
    """Bad input to the evaluation (an unknown pose folder, no corpus...): the message says why."""


@dataclass
class PoseSet:
    names: list[str]
    poses: list[Pose]
    source: str


# --- pose sets ------------------------------------------------------------------------------------------------

def library_poses() -> PoseSet:
    from core_models.library import load_builtin

    items = sorted(load_builtin(), key=lambda p: p.slug)
    return PoseSet([p.slug for p in items], [_bare(p.pose) for p in items], "library")


def _bare(p: Pose) -> Pose:
    return Pose(p.root_orient.astype(np.float32), p.body_pose.astype(np.float32), np.zeros(3, np.float32))


def test_poses(n: int = 200, seed: int = 0, corpus_dir: str | Path | None = None) -> PoseSet:
    from core_models.data.corpus import Corpus, default_corpus_dir

    d = Path(corpus_dir) if corpus_dir else default_corpus_dir()
    try:
        c = Corpus(d)
    except FileNotFoundError as e:
        raise CaptureEvalError(str(e)) from e
    idx = c.indices("test")
    if len(idx) == 0:
        raise CaptureEvalError(f"the corpus at {d} has no test-split poses")
    pick = np.sort(np.random.default_rng(seed).choice(idx, size=min(n, len(idx)), replace=False))
    return PoseSet([f"test_{int(i)}" for i in pick], [_bare(c.poses(int(i))) for i in pick], "test")


def folder_poses(folder: str | Path) -> PoseSet:
    from core_models.io.pose_file import read_pose_file

    d = Path(folder)
    if not d.is_dir():
        raise CaptureEvalError(f"--poses {folder}: not 'library', 'test' or an existing folder of pose files")
    files = sorted(p for p in d.iterdir() if p.suffix.lower() in (".json", ".npz"))
    names, poses, bad = [], [], []
    for f in files:
        try:
            poses.append(_bare(read_pose_file(f).pose))
            names.append(f.stem)
        except Exception as e:  # noqa: BLE001 - a bad file is reported, the others are evaluated
            bad.append(f"{f.name}: {e}")
    if not poses:
        raise CaptureEvalError(f"no readable pose file (.json / .npz) in {d}" + (f" ({'; '.join(bad)})" if bad
                                                                                  else ""))
    return PoseSet(names, poses, str(d))


def pose_set(which: str, n_test: int = 200, seed: int = 0, corpus_dir=None) -> PoseSet:
    if which == "library":
        return library_poses()
    if which == "test":
        return test_poses(n_test, seed, corpus_dir)
    return folder_poses(which)


# --- metrics -------------------------------------------------------------------------------------------------

def similarity_align(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x`` (N, 3) aligned onto ``y`` by the best rotation, translation and uniform scale (Umeyama)."""
    mx, my = x.mean(0), y.mean(0)
    xc, yc = x - mx, y - my
    U, S, Vt = np.linalg.svd(yc.T @ xc)
    d = np.sign(np.linalg.det(U @ Vt))
    D = np.diag([1.0, 1.0, d])
    R = U @ D @ Vt
    s = float(np.trace(np.diag(S) @ D) / max((xc ** 2).sum(), 1e-12))
    return s * xc @ R.T + my


def heading_align(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x`` pelvis-centred and turned about +y to best match pelvis-centred ``y`` (closed form)."""
    xc, yc = x - x[0], y - y[0]
    a = float(np.sum(xc[:, 2] * yc[:, 0] - xc[:, 0] * yc[:, 2]))
    b = float(np.sum(xc[:, 0] * yc[:, 0] + xc[:, 2] * yc[:, 2]))
    th = np.arctan2(a, b)
    c, s = np.cos(th), np.sin(th)
    R = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return xc @ R.T + yc[0]


def joint_errors(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(PA per-joint errors (22,), root+heading-aligned per-joint errors (22,)) in mm."""
    pa = np.linalg.norm(similarity_align(pred, truth) - truth, axis=1) * 1000
    mp = np.linalg.norm(heading_align(pred, truth) - (truth - truth[0]), axis=1) * 1000
    return pa, mp


def summarise(pa: list[np.ndarray], mp: list[np.ndarray], detected: int, total: int) -> dict:
    out: dict = {"detected": detected, "total": total, "detection_rate": detected / total if total else 0.0}
    if not pa:
        return {**out, "pa_mpjpe": None, "mpjpe": None, **{f"pa_{k}": None for k in PARTS}}
    P, M = np.stack(pa), np.stack(mp)
    out.update(pa_mpjpe=float(P.mean()), mpjpe=float(M.mean()))
    for k, idx in PARTS.items():
        out[f"pa_{k}"] = float(P[:, list(idx)].mean())
    return out


# --- running --------------------------------------------------------------------------------------------------

def _pipelines(regressors: list[str], detector, refine: bool = False, fit_ablation: bool = False) -> dict:
    """One per-image pipeline per regressor (no fitting step); with ``refine`` also ``"<first>+fit"``: the first
    regressor's own instance followed by the fitting steps (same landmarks, same run); ``fit_ablation`` adds
    ``"<first>+fit-2d"``: the 2D fit alone, without the 3D step onto the lifted joints, and ``"<first>+lift"``:
    the 3D step alone at :data:`LIFT_ONLY_ITERS` iterations (what the live path could afford; measured and not
    adopted there, docs/notes/capture_fitting.md)."""
    from core_models.capture.pipeline import CapturePipeline

    pipes = {r: CapturePipeline(regressor=r, detector=detector, smooth=False, mode="image", refine=False)
             for r in regressors}
    if refine:
        from core_models.capture.fitting import FitConfig, FittingRegressor

        first = regressors[0]
        fits = {"+fit": FitConfig()} | ({"+fit-2d": FitConfig(lift_ik=False),
                                         "+lift": FitConfig(fit_2d=False, lift_iters=LIFT_ONLY_ITERS)}
                                        if fit_ablation else {})
        for suffix, cfg in fits.items():
            pipes[first + suffix] = CapturePipeline(regressor=FittingRegressor(pipes[first].regressor, cfg),
                                                    detector=detector, smooth=False, mode="image", refine=False)
    return pipes


def _recover(pipe, lm, size) -> Pose | None:
    from core_models.capture.pipeline import CaptureResult

    pipe.reset()  # an independent image: nothing carried over from the previous one
    res = pipe.pose_stage(CaptureResult(0, 0.0, image_size=size, raw_landmarks=lm))
    return res.pose


def _render_all(ps: PoseSet, views, body, log) -> dict[str, list[np.ndarray]]:
    from core_models.render.offscreen import render_pose_image

    images: dict[str, list[np.ndarray]] = {}
    for v in views:
        images[v] = [render_pose_image(body, p, size=IMAGE_SIZE, view=v, grid=False) for p in ps.poses]
        log(f"[eval capture] rendered {len(ps.poses)} poses, view {v}")
    return images


def _baseline_joints(body) -> np.ndarray:
    from core_models.library import load_builtin

    for item in load_builtin():
        if item.slug == BASELINE_POSE:
            return body.joints(_bare(item.pose))
    raise CaptureEvalError(f"the library pose {BASELINE_POSE!r} (constant baseline) is missing")


def evaluate_capture(poses: str = "library", views=VIEWS, regressor: str = "auto", model: str = "auto",
                     n_test: int = 200, seed: int = 0, corpus_dir=None, log=lambda m: None,
                     keep_per_pose: bool = True, refine: bool = False, fit_ablation: bool = False) -> dict:
    """Render ``poses`` from each view, detect, recover with ``regressor`` (and the geometric fallback), compare
    with the truth; see the module docstring. ``refine=True`` adds the row ``"<regressor>+fit"`` (the 2D fitting
    step after the same regressor, on the same landmarks: per-image capture's default, see
    :data:`~core_models.capture.pipeline.PER_IMAGE_REFINE`); the ``regressor`` row is always the regressor alone.
    Returns {"settings", "rows": {name: {view: summary}}, "per_pose"}."""
    from core_models.body import load_body
    from core_models.capture.landmarks import make_detector
    from core_models.capture.per_image import resolve_variant

    model = resolve_variant(model, "image")  # auto: the per-image default (heavy, full where heavy finds nobody)
    bad = [v for v in views if v not in ("front", "side", "back", "three_quarter", "top")]
    if bad:
        raise CaptureEvalError(f"unknown view(s) {', '.join(bad)}; use front, three_quarter, side, back, top")
    t0 = time.perf_counter()
    ps = pose_set(poses, n_test, seed, corpus_dir)
    body = load_body("anny")
    truths = [body.joints(p) for p in ps.poses]
    images = _render_all(ps, views, body, log)
    regs = [regressor] + ([] if regressor == "geometric" else ["geometric"])
    with make_detector(model, mode="image") as det:
        pipes = _pipelines(regs, det, refine, fit_ablation)
        names = {r: str(getattr(p.regressor, "name", r)) for r, p in pipes.items()}
        base = _baseline_joints(body)
        rows, per_pose = _score(ps, views, images, truths, pipes, det, body, base)
    regs = [*regs[:1], *[r for r in pipes if r not in regs], *regs[1:]]
    label = {r: (f"{r} ({names[r]})" if r.startswith("auto") else r) for r in regs}
    out_rows = {label[r]: rows[r] for r in regs}
    out_rows[f"constant ({BASELINE_POSE})"] = rows["constant"]
    return {"settings": {"poses": ps.source, "n_poses": len(ps.poses), "views": list(views), "regressor": regressor,
                         "regressor_used": names[regressor], "model": model, "image_size": list(IMAGE_SIZE),
                         "mode": "image", "smoothing": False, "refine": refine,
                         "fallback_reason": pipes[regressor].fallback_reason, "seconds": time.perf_counter() - t0},
            "rows": out_rows, "per_pose": per_pose if keep_per_pose else []}


def _score(ps, views, images, truths, pipes, det, body, base):
    acc: dict = {r: {v: ([], []) for v in views} for r in [*pipes, "constant"]}
    detected = {v: 0 for v in views}
    per_pose = []
    for v in views:
        for i, img in enumerate(images[v]):
            lm = det.detect(img)
            entry = {"pose": ps.names[i], "view": v, "detected": lm is not None}
            if lm is None:
                per_pose.append(entry)
                continue
            detected[v] += 1
            for r, pipe in pipes.items():
                pose = _recover(pipe, lm, IMAGE_SIZE)
                if pose is None:
                    continue
                pa, mp = joint_errors(body.joints(_bare(pose)), truths[i])
                acc[r][v][0].append(pa)
                acc[r][v][1].append(mp)
                entry[f"{r}_pa_mpjpe"] = float(pa.mean())
            pa, mp = joint_errors(base, truths[i])
            acc["constant"][v][0].append(pa)
            acc["constant"][v][1].append(mp)
            per_pose.append(entry)
    n = len(ps.poses)
    rows = {r: {v: summarise(*acc[r][v], detected[v], n) for v in views} for r in acc}
    return rows, per_pose


# --- real photos / video --------------------------------------------------------------------------------------

def weak_perspective_error(joints: np.ndarray, px: np.ndarray) -> tuple[float, np.ndarray]:
    """Fit ``u = s x + tx``, ``v = -s y + ty`` (least squares) of camera-frame joints (K, 3) to pixels (K, 2);
    returns (mean residual in pixels, the fitted (s, tx, ty))."""
    K = len(joints)
    A = np.zeros((2 * K, 3))
    A[0::2, 0], A[0::2, 1] = joints[:, 0], 1.0
    A[1::2, 0], A[1::2, 2] = -joints[:, 1], 1.0
    b = px.reshape(-1)
    sol, *_ = np.linalg.lstsq(A, b, rcond=None)
    res = (A @ sol - b).reshape(K, 2)
    return float(np.linalg.norm(res, axis=1).mean()), sol


def _reprojection(pose: Pose, lm, body) -> tuple[float, float] | None:
    """(mean px error, % of the landmark box height) of ``pose``'s limb joints against ``lm``'s 2D landmarks."""
    from core_models.capture.from_image import joint_correspondences

    px, idx = joint_correspondences(lm)
    if len(idx) < 4:
        return None
    J = body.joints(_bare(pose))
    J = J - J[0]
    err, _ = weak_perspective_error(J[idx], px)
    height = float(np.ptp(px[:, 1])) or 1.0
    return err, 100.0 * err / height


def _photo_inputs(video_frames: int) -> list[tuple[str, str, Path]]:
    """(name, kind, path) of the real inputs the capture tests use (kind: photo | video)."""
    import importlib.util

    from core_models.capture.scenes import PHOTO_DIR

    out = [(n, "photo", PHOTO_DIR / n) for n in ("basketball1.png", "basketball2.png", "messi5.jpg")
           if (PHOTO_DIR / n).is_file()]
    spec = importlib.util.find_spec("Sports2D")
    if spec is not None and spec.submodule_search_locations and video_frames > 0:
        p = Path(list(spec.submodule_search_locations)[0]) / "Demo" / "demo.mp4"
        if p.is_file():
            out.append(("sports2d_demo.mp4", "video", p))
    if not out:
        raise CaptureEvalError("no real photos or video found (Debian opencv-doc, PyPI sports2d): run "
                               "bash scripts/setup.sh --test")
    return out


def _video_errors(path: Path, regressor: str, model: str, frames: int, body,
                  refine: bool = False) -> list[tuple[float, float]]:
    """Tracking mode (VIDEO landmarker, One-Euro smoothing, temporal regressor): the video default."""
    from core_models.capture.pipeline import CapturePipeline, run_source
    from core_models.capture.sources import VideoFileSource

    from core_models.capture.per_image import resolve_variant

    errs = []
    with CapturePipeline(resolve_variant(model, "video"), regressor=regressor, mode="video", refine=refine) as pipe:
        for r in run_source(pipe, VideoFileSource(path), max_frames=frames):
            if r.pose is not None and r.raw_landmarks is not None:
                e = _reprojection(r.pose, r.raw_landmarks, body)
                if e is not None:
                    errs.append(e)
    return errs


def _photo_errors(path: Path, regressor: str, model: str, body, refine: bool = False) -> list[tuple[float, float]]:
    """Image mode (per-image pipeline, the largest person): the image default."""
    import cv2

    from core_models.capture.from_image import pose_from_image
    from core_models.capture.per_image import resolve_variant
    from core_models.capture.pipeline import CapturePipeline

    model = resolve_variant(model, "image")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        return []
    with CapturePipeline(model, regressor=regressor, smooth=False, mode="image", max_people=4,
                         refine=refine) as pipe:
        r = pose_from_image(np.ascontiguousarray(bgr[:, :, ::-1]), pipe)
    if r.pose is None or r.landmarks is None:
        return []
    e = _reprojection(r.pose, r.landmarks, body)
    return [] if e is None else [e]


def evaluate_photos(regressor: str = "auto", model: str = "auto", video_frames: int = 120,
                    log=lambda m: None, refine: bool = False) -> dict:
    """2D reprojection error of the recovered body on real photos and video (see the module docstring);
    ``refine`` adds the row ``"<regressor>+fit"`` (the 2D fitting step after it, photos and video)."""
    from core_models.body import load_body

    body = load_body("anny")
    regs = [(regressor, False)] + ([(regressor, True)] if refine else []) + (
        [] if regressor == "geometric" else [("geometric", False)])
    rows: dict = {}
    for name, kind, path in _photo_inputs(video_frames):
        for reg, fit in regs:
            r = f"{reg}+fit" if fit else reg
            errs = (_video_errors(path, reg, model, video_frames, body, fit) if kind == "video"
                    else _photo_errors(path, reg, model, body, fit))
            rows.setdefault(r, {})[name] = {
                "kind": kind, "frames_scored": len(errs),
                "reproj_px": float(np.mean([e[0] for e in errs])) if errs else None,
                "reproj_pct_height": float(np.mean([e[1] for e in errs])) if errs else None}
            log(f"[eval capture] {name} {r}: {rows[r][name]}")
    return {"settings": {"mode": "photos", "regressor": regressor, "model": model, "video_frames": video_frames,
                         "refine": refine,
                         "camera": "weak perspective (scale + image offset), least squares on the 12 limb joints"},
            "rows": rows}
