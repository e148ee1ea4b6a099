"""The real-MediaPipe landmark dataset: corpus and coaching poses rendered on Anny bodies, run through the real
BlazePose landmarker, stored with the exact ground truth (``python main.py data landmarks``).

Rows (one per rendered image; see :class:`LandmarkDataset`):

* **stills** — corpus poses (the farthest-point ``selected`` rows of every split, split kept) and, in the train
  split only, coaching poses (:func:`core_models.data.coaching_poses.coaching_pose_set`), each with its own random
  scene (:mod:`core_models.capture.scenes`: phenotype from a fixed pool, skin tone, clothes, light, background,
  laptop/phone camera, full or cropped framing, 640x480 / 480x640 / 1280x720) and the landmarker in IMAGE mode
  (lite / full, and heavy for 10 % of the rows when asked for);
* **sequences** — contiguous segments (``seq_frames`` ≥ 96 frames at the clip's fps) of corpus clips from every
  split, one body, look and camera per sequence, the landmarker in VIDEO mode (tracking) with the clip's real
  timestamps; the body keeps its real heading changes and translation (relative to the first frame).

Ground truth per row: ``joints`` (22, 3) = the rendered body's own joints (its phenotype's skeleton), metres,
pelvis-relative, in the canonical world frame (y up; a still faces +z); ``cam_R``/``cam_t`` map them into the
camera's OpenGL eye frame (x right, y up, z towards the viewer): ``X_cam = cam_R @ joints + cam_t``, and
``pixel = (w/2 + f X/(-Z), h/2 - f Y/(-Z))`` with ``f = (h/2) / tan(fov_deg/2)`` (:func:`project_joints`) lands on
MediaPipe's image landmarks × image size. ``root_orient`` / ``body_pose`` are the rendered pose (sequences: with
the heading change since the first frame in ``root_orient``).

Layout: ``<POSETAILOR_CACHE or ~/.cache/posetailor>/landmarks/NAME/shard_XXXX.npz`` + ``meta.json`` (settings,
counts, seconds, images/s, detection rate, phenotype labels and pool). Shards are written atomically by parallel
workers (``multiprocessing`` spawn, one EGL context and one set of detectors per process); a killed build resumes
with ``--resume`` (finished shards are kept) and every row depends only on (seed, shard, row), so a resumed or
re-run build gives the same rows.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np

from core_models.capture.landmarks import LM as LM_INDEX
from core_models.capture.scenes import PHENOTYPE_LABELS, PHENOTYPE_POOL, SIZE_P, SIZES

VERSION = 1
STILL_SHARD = 100  # rows per still shard
#: fields of a row (name → dtype kind); strings are fixed-width unicode in the shards
ROW_FIELDS = ("landmarks", "detected", "image_size", "variant", "root_orient", "body_pose", "joints", "cam_R",
              "cam_t", "fov_deg", "phenotype", "split", "source", "clip", "frame", "kind", "seq_id", "timestamp",
              "phenotype_id", "camera_kind", "framing", "background")


class LandmarkDataError(RuntimeError):
    """The dataset cannot be built or read; the message says why and what to do."""


def landmarks_root() -> Path:
    """``$POSETAILOR_LANDMARKS`` when set (``train all`` points its trainings at the datasets it builds), else
    ``$POSETAILOR_CACHE/landmarks`` (default ``~/.cache/posetailor/landmarks``)."""
    if os.environ.get("POSETAILOR_LANDMARKS"):
        return Path(os.environ["POSETAILOR_LANDMARKS"])
    return Path(os.environ.get("POSETAILOR_CACHE", Path.home() / ".cache" / "posetailor")) / "landmarks"


def dataset_dir(name: str, root: str | Path | None = None) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise LandmarkDataError(f"bad dataset name {name!r}: use a plain folder name like 'real_v1'")
    return Path(root) / name if root is not None else landmarks_root() / name


@dataclass
class BuildSettings:
    """What a build renders (stored in meta.json; ``--resume`` needs the same settings)."""

    n_still: int = 24000
    n_seq_clips: int = 60
    seq_frames: int = 96
    variants: tuple[str, ...] = ("lite", "full")
    heavy_fraction: float = 0.1
    coaching_fraction: float = 0.2
    seed: int = 0

    def variant_probs(self) -> tuple[list[str], list[float]]:
        names = [v for v in self.variants if v != "heavy"]
        if "heavy" not in self.variants:
            return names, [1.0 / len(names)] * len(names)
        if not names:
            return ["heavy"], [1.0]
        rest = (1.0 - self.heavy_fraction) / len(names)
        return [*names, "heavy"], [rest] * len(names) + [self.heavy_fraction]

    def to_json(self) -> dict:
        d = asdict(self)
        d["variants"] = list(self.variants)
        return d


# --- planning (main process) ------------------------------------------------------------------------------

@dataclass
class Job:
    """One shard to render: its poses and where they come from."""

    shard: int
    kind: str                    # still | seq
    root_orient: np.ndarray      # (n, 3)
    body_pose: np.ndarray        # (n, 21, 3)
    transl: np.ndarray           # (n, 3)
    split: list[str]
    source: list[str]
    clip: np.ndarray
    frame: np.ndarray
    timestamp: np.ndarray
    seq_id: int = -1
    seed: int = 0
    variants: tuple[list[str], list[float]] = field(default_factory=lambda: (["lite"], [1.0]))
    coaching: tuple[int, int] | None = None  # (size of the coaching set, first index): poses drawn when rendered


def _load_corpus(corpus_dir: str | Path | None):
    from core_models.data.corpus import Corpus, default_corpus_dir

    d = Path(corpus_dir) if corpus_dir else default_corpus_dir()
    try:
        return Corpus(d)
    except FileNotFoundError as e:
        raise LandmarkDataError(f"{e} (the landmark dataset renders corpus poses)") from e


_coaching_cache: dict[tuple[int, int], object] = {}


def _coaching(n: int, seed: int):
    """``coaching_pose_set(n, seed)`` (helper module of the coaching work; imported only when needed)."""
    key = (n, seed)
    if key not in _coaching_cache:
        try:
            from core_models.data.coaching_poses import coaching_pose_set
        except ImportError as e:
            raise LandmarkDataError(f"coaching poses are not available ({e}); build with --coaching-fraction 0, "
                                    "or --resume once core_models/data/coaching_poses.py exists") from e
        _coaching_cache[key] = coaching_pose_set(n, seed=seed)
    return _coaching_cache[key]


def _corpus_stills(corpus, s: BuildSettings, n: int) -> dict:
    """``n`` corpus poses from the farthest-point ``selected`` rows of every split (split kept), shuffled."""
    from core_models.data.corpus import SPLITS

    rng = np.random.default_rng([s.seed, 1])
    a = corpus.arrays
    sel = np.nonzero(a["selected"])[0]
    idx = rng.choice(sel, size=n, replace=n > len(sel))
    sources = np.array([c.get("source", "?") for c in corpus.clips] or ["?"])
    clip = a["clip"][idx]
    return dict(root_orient=a["root_orient"][idx], body_pose=a["body_pose"][idx],
                split=np.array(SPLITS)[a["split"][idx]], source=sources[np.minimum(clip, len(sources) - 1)],
                clip=clip.astype(np.int32), frame=a["frame"][idx].astype(np.int32))


def _still_jobs(corpus, s: BuildSettings) -> list[Job]:
    """Corpus still shards first, then the coaching shards (their poses are drawn when rendered, so a build can
    start before the coaching module exists and finish with --resume)."""
    n_coach = int(round(s.n_still * s.coaching_fraction))
    rows = _corpus_stills(corpus, s, s.n_still - n_coach)
    n = len(rows["clip"])
    jobs: list[Job] = []
    for lo in range(0, n, STILL_SHARD):
        sl = slice(lo, min(n, lo + STILL_SHARD))
        m = sl.stop - sl.start
        jobs.append(Job(len(jobs), "still", rows["root_orient"][sl], rows["body_pose"][sl],
                        np.zeros((m, 3), np.float32), list(rows["split"][sl]), list(rows["source"][sl]),
                        rows["clip"][sl], rows["frame"][sl], np.zeros(m, np.float64), seed=s.seed,
                        variants=s.variant_probs()))
    for lo in range(0, n_coach, STILL_SHARD):
        m = min(n_coach, lo + STILL_SHARD) - lo
        jobs.append(Job(len(jobs), "still", np.zeros((m, 3), np.float32), np.zeros((m, 21, 3), np.float32),
                        np.zeros((m, 3), np.float32), ["train"] * m, ["coaching"] * m, np.full(m, -1, np.int32),
                        np.arange(lo, lo + m, dtype=np.int32), np.zeros(m, np.float64), seed=s.seed,
                        variants=s.variant_probs(), coaching=(n_coach, lo)))
    return jobs


def _segment(corpus, c: int, mirrored: bool, start: int, n: int) -> dict:
    """Frames [start, start+n) of clip ``c``: world root orientation and translation relative to the first frame
    (heading change kept, first frame facing +z, first pelvis at the origin)."""
    from core_models.pose import aa_to_matrix_np, matrix_to_aa_np

    a = corpus.arrays
    rows = np.nonzero((a["clip"] == c) & (a["mirrored"] == mirrored))[0]
    rows = rows[np.argsort(a["frame"][rows])][start:start + n]
    dh = a["heading"][rows] - a["heading"][rows[0]]
    cy, sy = np.cos(dh), np.sin(dh)
    Ry = np.zeros((len(rows), 3, 3))
    Ry[:, 0, 0], Ry[:, 0, 2], Ry[:, 1, 1], Ry[:, 2, 0], Ry[:, 2, 2] = cy, sy, 1.0, -sy, cy
    root = matrix_to_aa_np(Ry @ aa_to_matrix_np(a["root_orient"][rows].astype(np.float64))).astype(np.float32)
    h0 = float(a["heading"][rows[0]])
    c0, s0 = np.cos(-h0), np.sin(-h0)
    R0 = np.array([[c0, 0, s0], [0, 1, 0], [-s0, 0, c0]])
    tr = (a["transl"][rows] - a["transl"][rows[0]]).astype(np.float64) @ R0.T
    return dict(rows=rows, root=root, body=a["body_pose"][rows], transl=tr.astype(np.float32),
                time=(a["time"][rows] - a["time"][rows[0]]).astype(np.float64))


def _seq_jobs(corpus, s: BuildSettings, first_shard: int) -> list[Job]:
    from core_models.data.corpus import SPLITS

    if s.n_seq_clips <= 0:
        return []
    a = corpus.arrays
    rng = np.random.default_rng([s.seed, 2])
    long_clips = [i for i, c in enumerate(corpus.clips) if int(c.get("frames", 0)) >= s.seq_frames]
    if not long_clips:
        raise LandmarkDataError(f"no corpus clip has {s.seq_frames} frames for a sequence")
    chosen = rng.choice(long_clips, size=s.n_seq_clips, replace=s.n_seq_clips > len(long_clips))
    jobs = []
    for k, c in enumerate(chosen):
        c = int(c)
        mirrored = bool(rng.random() < 0.5)
        n_frames = int(((a["clip"] == c) & (a["mirrored"] == mirrored)).sum())
        start = int(rng.integers(0, n_frames - s.seq_frames + 1))
        seg = _segment(corpus, c, mirrored, start, s.seq_frames)
        info = corpus.clips[c]
        m = len(seg["rows"])
        jobs.append(Job(first_shard + k, "seq", seg["root"], seg["body"], seg["transl"],
                        [SPLITS[int(a["split"][seg["rows"][0]])]] * m, [info.get("source", "?")] * m,
                        np.full(m, c, np.int32), a["frame"][seg["rows"]].astype(np.int32), seg["time"],
                        seq_id=k, seed=s.seed, variants=s.variant_probs()))
    return jobs


def plan(settings: BuildSettings, corpus_dir: str | Path | None = None) -> list[Job]:
    """Every shard of a build, in order (deterministic for the settings)."""
    corpus = _load_corpus(corpus_dir)
    stills = _still_jobs(corpus, settings) if settings.n_still > 0 else []
    return stills + _seq_jobs(corpus, settings, len(stills))


def render_order(jobs: list[Job]) -> list[Job]:
    """The order shards are rendered in: corpus stills, sequences and coaching stills interleaved evenly, so the
    shards finished at any time are a fair sample of the whole build (a shard's rows do not depend on it)."""
    groups = [[j for j in jobs if j.kind == "still" and j.coaching is None], [j for j in jobs if j.kind == "seq"],
              [j for j in jobs if j.coaching is not None]]
    keyed = [((i + 0.5) / len(g), gi, j) for gi, g in enumerate(groups) for i, j in enumerate(g)]
    return [j for _, _, j in sorted(keyed, key=lambda k: (k[0], k[1]))]


# --- rendering (worker processes) --------------------------------------------------------------------------

class _Worker:
    """Per-process state: one offscreen GL context, bodies of the phenotype pool, landmark detectors."""

    def __init__(self):
        from core_models.render.offscreen import OffscreenRenderer

        self.renderer = OffscreenRenderer(samples=4)
        self.renderer.scene.show_shadow = False
        self.bodies: dict[int, object] = {}
        self.subsets: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.detectors: dict[str, object] = {}
        self.backdrops: dict[tuple[int, int], object] = {}

    def body(self, i: int):
        if i not in self.bodies:
            from core_models.body.anny_body import AnnyBody

            b = self.bodies[i] = AnnyBody(dict(PHENOTYPE_POOL[i]))
            d = b.skinning
            sub = np.arange(0, len(d.rest_vertices), 11)
            rest_h = np.concatenate([d.rest_vertices[sub], np.ones((len(sub), 1), np.float32)], 1)
            self.subsets[i] = (d.weights[sub].astype(np.float32), rest_h)
        return self.bodies[i]

    def posed(self, i: int, pose) -> tuple[np.ndarray, np.ndarray]:
        """(every 11th posed vertex (K, 3), joints (22, 3)) of body ``i`` (numpy FK, no full skinning)."""
        from core_models.render.scene import pose_state

        skin, joints, _ = pose_state(self.body(i).skinning, pose)  # type: ignore[attr-defined]
        W, rest_h = self.subsets[i]
        M = (W @ skin[:22].reshape(22, 12)).reshape(-1, 3, 4)
        return np.einsum("vij,vj->vi", M, rest_h), joints

    def image_detector(self, variant: str):
        if variant not in self.detectors:
            from core_models.capture.landmarks import LandmarkDetector

            self.detectors[variant] = LandmarkDetector(variant, mode="image")
        return self.detectors[variant]

    def backdrop(self, background: np.ndarray):
        """The background as a ReferenceImage, one per image size whose texture is refilled in place (making a
        new one per image would compile its shader every time)."""
        from core_models.render.reference_image import ReferenceImage, ReferenceSettings

        h, w = background.shape[:2]
        rgba = np.concatenate([background, np.full((h, w, 1), 255, np.uint8)], axis=2)
        ref = self.backdrops.get((w, h))
        if ref is None:
            ref = self.backdrops[(w, h)] = ReferenceImage(rgba, ReferenceSettings(mode="background", opacity=1.0))
            return ref
        tex = getattr(ref, "_tex", None)
        ref.pixels = rgba  # type: ignore[attr-defined]
        if tex is not None:
            from OpenGL import GL

            GL.glBindTexture(GL.GL_TEXTURE_2D, tex)
            GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
            GL.glTexSubImage2D(GL.GL_TEXTURE_2D, 0, 0, 0, w, h, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, rgba)
            GL.glGenerateMipmap(GL.GL_TEXTURE_2D)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        return ref

    def draw(self, body, pose, shot, look, background: np.ndarray, floor_y: float) -> np.ndarray:
        sc = self.renderer.scene
        sc.albedo = (np.asarray(look.skin, np.float32) ** 2).astype(np.float32)
        sc.set_tints(look.tints())
        sc.light_rig = look.light_rig
        sc.reference = None  # keeps the other sizes' backdrops alive (render() releases a replaced one)
        return self.renderer.render(body, pose, size=shot.size, camera=shot.orbit(), grid=False, floor_y=floor_y,
                                    reference=self.backdrop(background))

    def close(self) -> None:
        for d in self.detectors.values():
            d.close()  # type: ignore[attr-defined]
        self.renderer.close()


_worker: _Worker | None = None


def _get_worker() -> _Worker:
    global _worker
    if _worker is None:
        _worker = _Worker()
    return _worker


def release_worker() -> None:
    """Close this process's renderer and landmark detectors (a build in this process ends with it: a detector
    left open is closed by MediaPipe's finaliser at interpreter exit, when its dispatcher is gone, which prints a
    TypeError traceback)."""
    global _worker
    w, _worker = _worker, None
    if w is not None:
        w.close()


def _empty_rows(n: int) -> dict[str, np.ndarray]:
    return dict(landmarks=np.zeros((n, 33, 8), np.float32), detected=np.zeros(n, bool),
                image_size=np.zeros((n, 2), np.int32), variant=np.full(n, "", "<U5"),
                root_orient=np.zeros((n, 3), np.float32), body_pose=np.zeros((n, 21, 3), np.float32),
                joints=np.zeros((n, 22, 3), np.float32), cam_R=np.zeros((n, 3, 3), np.float32),
                cam_t=np.zeros((n, 3), np.float32), fov_deg=np.zeros(n, np.float32),
                phenotype=np.zeros((n, len(PHENOTYPE_LABELS)), np.float32), split=np.full(n, "", "<U5"),
                source=np.full(n, "", "<U32"), clip=np.zeros(n, np.int32), frame=np.zeros(n, np.int32),
                kind=np.full(n, "", "<U5"), seq_id=np.full(n, -1, np.int32), timestamp=np.zeros(n, np.float64),
                phenotype_id=np.zeros(n, np.int32), camera_kind=np.full(n, "", "<U6"),
                framing=np.full(n, "", "<U7"), background=np.full(n, "", "<U8"))


def _scene(rng: np.random.Generator, job: Job):
    from core_models.capture.scenes import sample_look

    ph = int(rng.integers(len(PHENOTYPE_POOL)))
    size = SIZES[int(rng.choice(len(SIZES), p=SIZE_P))]
    names, probs = job.variants
    variant = str(names[int(rng.choice(len(names), p=probs))])
    return ph, size, variant, sample_look(rng)


def _fill(rows: dict, i: int, job: Job, j: int, lm, joints: np.ndarray, shot, meta: dict) -> None:
    """Row ``i`` of ``rows`` from pose ``j`` of ``job`` (``joints``: posed world joints incl. translation)."""
    R, t = shot.extrinsics()
    rows["landmarks"][i] = lm.to_array() if lm is not None else 0.0
    rows["detected"][i] = lm is not None
    rows["image_size"][i] = shot.size
    rows["root_orient"][i], rows["body_pose"][i] = job.root_orient[j], job.body_pose[j]
    rows["joints"][i] = joints - joints[0]
    rows["cam_R"][i], rows["cam_t"][i], rows["fov_deg"][i] = R, R @ joints[0] + t, shot.fov_deg
    rows["phenotype"][i] = [PHENOTYPE_POOL[meta["ph"]][k] for k in PHENOTYPE_LABELS]
    rows["split"][i], rows["source"][i] = job.split[j], job.source[j]
    rows["clip"][i], rows["frame"][i] = job.clip[j], job.frame[j]
    rows["kind"][i], rows["seq_id"][i], rows["timestamp"][i] = job.kind, job.seq_id, job.timestamp[j]
    rows["phenotype_id"][i], rows["variant"][i] = meta["ph"], meta["variant"]
    rows["camera_kind"][i], rows["framing"][i] = shot.kind, shot.framing
    rows["background"][i] = meta["background"]


def _render_still(w: _Worker, job: Job, j: int, rows: dict) -> None:
    from core_models.capture.scenes import apply_photometric, background_image, sample_camera
    from core_models.pose import Pose

    rng = np.random.default_rng([job.seed, job.shard, j])
    ph, size, variant, look = _scene(rng, job)
    body = w.body(ph)
    pose = Pose(job.root_orient[j], job.body_pose[j], np.zeros(3, np.float32))
    verts, joints = w.posed(ph, pose)
    floor_y = float(verts[:, 1].min())
    shot = sample_camera(rng, verts, joints, floor_y, size)
    bg, bg_kind = background_image(rng, *size)
    rgb = apply_photometric(w.draw(body, pose, shot, look, bg, floor_y), look, rng)
    lm = w.image_detector(variant).detect(rgb)  # type: ignore[attr-defined]
    _fill(rows, j, job, j, lm, joints, shot, dict(ph=ph, variant=variant, background=bg_kind))


def _phenotype_order(job: Job) -> list[int]:
    """Rows in phenotype order (the GL mesh is uploaded once per phenotype per shard); each row's scene still
    comes from its own seed, so the order changes nothing in the rows."""
    first = [int(np.random.default_rng([job.seed, job.shard, j]).integers(len(PHENOTYPE_POOL)))
             for j in range(len(job.clip))]
    return sorted(range(len(first)), key=lambda j: (first[j], j))


def _render_seq(w: _Worker, job: Job, rows: dict) -> None:
    from core_models.capture.landmarks import LandmarkDetector
    from core_models.capture.scenes import apply_photometric, background_image, sample_camera
    from core_models.pose import Pose

    rng = np.random.default_rng([job.seed, job.shard, 0])
    ph, size, variant, look = _scene(rng, job)
    body = w.body(ph)
    poses = Pose(job.root_orient, job.body_pose, job.transl)
    every = body.forward(Pose(job.root_orient[::8], job.body_pose[::8], job.transl[::8]))  # type: ignore[attr-defined]
    floor_y = float(every.vertices[..., 1].min())
    shot = sample_camera(rng, every.vertices[:, ::9].reshape(-1, 3), every.joints[0], floor_y, size,
                         framing="full")
    bg, bg_kind = background_image(rng, *size)
    noise_rng = np.random.default_rng([job.seed, job.shard, 1])
    joints = body.joints(poses)  # type: ignore[attr-defined]
    with LandmarkDetector(variant, mode="video") as det:
        for j in range(len(job.clip)):
            rgb = apply_photometric(w.draw(body, poses[j], shot, look, bg, floor_y), look, noise_rng)
            lm = det.detect(rgb, float(job.timestamp[j]))
            _fill(rows, j, job, j, lm, joints[j], shot, dict(ph=ph, variant=variant, background=bg_kind))


def shard_path(out_dir: Path, shard: int) -> Path:
    return out_dir / f"shard_{shard:04d}.npz"


def render_job(job: Job, out_dir: str | Path) -> dict:
    """Render one shard and write it atomically; returns its counts and seconds."""
    t0 = time.perf_counter()
    w = _get_worker()
    n = len(job.clip)
    rows = _empty_rows(n)
    if job.coaching is not None:
        total, lo = job.coaching
        co = _coaching(total, job.seed)
        job.root_orient = np.asarray(co.root_orient, np.float32)[lo:lo + n]  # type: ignore[attr-defined]
        job.body_pose = np.asarray(co.body_pose, np.float32)[lo:lo + n]  # type: ignore[attr-defined]
    if job.kind == "seq":
        _render_seq(w, job, rows)
    else:
        for j in _phenotype_order(job):
            _render_still(w, job, j, rows)
    path = shard_path(Path(out_dir), job.shard)
    tmp = path.with_name(path.name + ".part.npz")
    np.savez(tmp, **rows)  # type: ignore[arg-type]
    os.replace(tmp, path)
    return dict(shard=job.shard, kind=job.kind, rows=n, detected=int(rows["detected"].sum()),
                seconds=time.perf_counter() - t0)


def _init_worker() -> None:
    """One thread per worker process (the GL rasteriser, OpenCV, BLAS): ``--workers`` sets the parallelism."""
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    os.environ.setdefault("GLOG_minloglevel", "2")
    for var in ("LP_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - OpenCV is a dependency
        pass


def _safe_render(job: Job, out_dir: str | Path) -> dict:
    """render_job, but a shard that cannot be made yet (the coaching module missing) is reported, not raised,
    so the other shards go on; ``--resume`` renders it later."""
    try:
        return render_job(job, out_dir)
    except LandmarkDataError as e:
        return dict(shard=job.shard, kind=job.kind, rows=0, detected=0, seconds=0.0, error=str(e))


def _pool_run(job_and_dir) -> dict:
    job, out_dir = job_and_dir
    return _safe_render(job, out_dir)


# --- the build ----------------------------------------------------------------------------------------------

def _check_resume(out: Path, settings: BuildSettings, resume: bool) -> None:
    meta_p = out / "meta.json"
    have = sorted(out.glob("shard_[0-9][0-9][0-9][0-9].npz")) if out.is_dir() else []
    if have and not resume:
        raise LandmarkDataError(f"{out} already holds {len(have)} shards: pass --resume to finish that build, or "
                                "choose another --name")
    if resume and meta_p.is_file():
        old = json.loads(meta_p.read_text()).get("settings")
        if old is not None and old != settings.to_json():
            raise LandmarkDataError(f"--resume with different settings than {meta_p} ({old}); use the same "
                                    "options or another --name")


def _write_meta(out: Path, settings: BuildSettings, done: list[dict], seconds: float, complete: bool,
                n_jobs: int, workers: int) -> dict:
    rows = sum(d["rows"] for d in done)
    det = sum(d["detected"] for d in done)
    meta = {"version": VERSION, "settings": settings.to_json(), "complete": complete, "shards": n_jobs,
            "shards_done": len(done), "rows": rows, "detected": det,
            "detection_rate": det / rows if rows else 0.0,
            "still_rows": sum(d["rows"] for d in done if d["kind"] == "still"),
            "seq_rows": sum(d["rows"] for d in done if d["kind"] == "seq"),
            "sequences": sum(1 for d in done if d["kind"] == "seq"),
            "seconds": seconds, "images_per_s": sum(d["rows"] for d in done if d.get("new")) / max(seconds, 1e-9),
            "workers": workers, "phenotype_labels": list(PHENOTYPE_LABELS),
            "phenotype_pool": [dict(p) for p in PHENOTYPE_POOL]}
    tmp = out / "meta.json.part"
    tmp.write_text(json.dumps(meta, indent=1))
    os.replace(tmp, out / "meta.json")
    return meta


def _old_counts(out: Path, job: Job) -> dict | None:
    p = shard_path(out, job.shard)
    if not p.is_file():
        return None
    try:
        with np.load(p, allow_pickle=False) as z:
            return dict(shard=job.shard, kind=job.kind, rows=int(len(z["detected"])),
                        detected=int(z["detected"].sum()), new=False)
    except Exception:  # noqa: BLE001 - a broken shard is rendered again
        return None


def build_landmark_dataset(name: str, settings: BuildSettings | None = None, workers: int = 1,
                           resume: bool = False, root: str | Path | None = None,
                           corpus_dir: str | Path | None = None,
                           log: Callable[[str], None] = print) -> dict:
    """Build (or finish, with ``resume``) dataset ``name``; returns the meta dict (also in meta.json)."""
    s = settings or BuildSettings()
    out = dataset_dir(name, root)
    _check_resume(out, s, resume)
    jobs = plan(s, corpus_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("shard_*.part.npz"):  # a killed build's half-written shard
        stale.unlink()
    old_seconds = 0.0
    if resume and (out / "meta.json").is_file():
        old_seconds = float(json.loads((out / "meta.json").read_text()).get("seconds", 0.0))
    done, todo = [], []
    for j in jobs:
        c = _old_counts(out, j)
        (done.append(c) if c is not None else todo.append(j))
    log(f"[landmarks] {name}: {len(jobs)} shards ({len(done)} already done), {workers} worker(s) → {out}")
    t0 = time.perf_counter()
    _write_meta(out, s, done, old_seconds, False, len(jobs), workers)
    failed: list[dict] = []
    for r in _run_jobs(todo, out, workers):
        if "error" in r:
            failed.append(r)
            log(f"[landmarks] shard {r['shard']} not rendered: {r['error']}")
            continue
        r["new"] = True
        done.append(r)
        el = time.perf_counter() - t0
        new_rows = sum(d["rows"] for d in done if d.get("new"))
        log(f"[landmarks] shard {r['shard']} ({r['kind']}, {r['rows']} rows, {r['detected']} detected) "
            f"{len(done)}/{len(jobs)}; {new_rows / max(el, 1e-9):.2f} images/s")
        _write_meta(out, s, done, old_seconds + el, False, len(jobs), workers)
    meta = _write_meta(out, s, done, old_seconds + time.perf_counter() - t0, not failed, len(jobs), workers)
    if done:  # what the rows look like: detection per condition, MediaPipe's 2D error against the truth
        ds = load_landmark_dataset(name, root=out.parent)
        meta.update(detection=detection_stats(ds), landmark_error_pct_height=landmark_errors(ds))
        (out / "meta.json").write_text(json.dumps(meta, indent=1))
    log(f"[landmarks] done: {meta['rows']} rows, detection rate {meta['detection_rate']:.3f}, "
        f"{meta['seconds']:.0f} s")
    if failed:
        raise LandmarkDataError(f"{len(failed)} shard(s) not rendered ({failed[0]['error']}); the other "
                                f"{len(done)} are kept: finish with --resume")
    return meta


def _run_jobs(jobs: list[Job], out: Path, workers: int):
    if workers <= 1:
        _init_worker()
        try:
            for j in render_order(jobs):
                yield _safe_render(j, out)
        finally:
            release_worker()
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, maxtasksperchild=40) as pool:
        yield from pool.imap_unordered(_pool_run, [(j, out) for j in render_order(jobs)])


# --- reading --------------------------------------------------------------------------------------------------

@dataclass
class LandmarkDataset:
    """One row per rendered image (see the module docstring for the frames)."""

    landmarks: np.ndarray     # (N, 33, 8) Landmarks.to_array(); zeros where not detected
    detected: np.ndarray      # (N,) bool
    image_size: np.ndarray    # (N, 2) width, height
    variant: np.ndarray       # (N,) lite / full / heavy
    root_orient: np.ndarray   # (N, 3)
    body_pose: np.ndarray     # (N, 21, 3)
    joints: np.ndarray        # (N, 22, 3) pelvis-relative world joints of the rendered body
    cam_R: np.ndarray         # (N, 3, 3) world → camera (OpenGL eye frame)
    cam_t: np.ndarray         # (N, 3)
    fov_deg: np.ndarray       # (N,) vertical field of view
    phenotype: np.ndarray     # (N, P) in meta.json's phenotype_labels order
    split: np.ndarray         # (N,) train / val / test
    source: np.ndarray        # (N,) corpus source or "coaching"
    clip: np.ndarray          # (N,) corpus clip (-1: coaching)
    frame: np.ndarray         # (N,)
    kind: np.ndarray          # (N,) still / seq
    seq_id: np.ndarray        # (N,) -1 for stills
    timestamp: np.ndarray     # (N,) seconds (sequences)
    phenotype_id: np.ndarray  # (N,) index into meta.json's phenotype_pool
    camera_kind: np.ndarray   # (N,) laptop / phone
    framing: np.ndarray       # (N,) full / cropped
    background: np.ndarray    # (N,) flat / gradient / noise / photo
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(len(self.detected))

    def subset(self, mask: np.ndarray) -> "LandmarkDataset":
        return LandmarkDataset(**{f.name: getattr(self, f.name)[mask] for f in fields(self) if f.name != "meta"},
                               meta=self.meta)

    @staticmethod
    def concat(parts: "list[LandmarkDataset]") -> "LandmarkDataset":
        """The rows of several datasets one after the other (the first one's meta; ``phenotype`` columns must
        match). ValueError for an empty list."""
        if not parts:
            raise ValueError("no landmark datasets to concatenate")
        if len(parts) == 1:
            return parts[0]
        return LandmarkDataset(**{f.name: np.concatenate([getattr(d, f.name) for d in parts])
                                  for f in fields(LandmarkDataset) if f.name != "meta"}, meta=parts[0].meta)


def load_landmark_dataset(name: str, split: str | None = None, kind: str | None = None,
                          root: str | Path | None = None, exclude_source: str | None = None,
                          only_source: str | None = None) -> LandmarkDataset:
    """Every finished shard of dataset ``name`` (a build still running gives the shards done so far).

    Leave-one-source-out (``core_models.nets.training.loso``): ``exclude_source`` drops the rows rendered from that
    mocap source (``train X --exclude-source``: the landmark rows must leave with the corpus poses);
    ``only_source`` keeps that source's rows of **every** split (``eval X --loso``: the whole source is the test
    set, as in the corpus view), so give it without ``split``. An unknown source name raises
    :class:`LandmarkDataError` instead of silently filtering nothing."""
    d = dataset_dir(name, root)
    shards = sorted(d.glob("shard_[0-9][0-9][0-9][0-9].npz")) if d.is_dir() else []
    if not shards:
        have = sorted(p.name for p in landmarks_root().glob("*") if p.is_dir()) if root is None else []
        raise LandmarkDataError(f"no landmark dataset {name!r} at {d}" + (f" (have: {', '.join(have)})" if have
                                else "") + f"; build it with: python main.py data landmarks --name {name}")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ROW_FIELDS}
    for p in shards:
        with np.load(p, allow_pickle=False) as z:
            for k in ROW_FIELDS:
                parts[k].append(z[k])
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    meta = json.loads((d / "meta.json").read_text()) if (d / "meta.json").is_file() else {}
    ds = LandmarkDataset(**arrays, meta=meta)
    mask = np.ones(len(ds), bool)
    for wanted in (exclude_source, only_source):
        if wanted is not None and not np.any(ds.source == wanted):
            got = ", ".join(sorted(set(ds.source.tolist())))
            raise LandmarkDataError(f"landmark dataset {name!r} has no rows of source {wanted!r} (has: {got})")
    if exclude_source is not None:
        mask &= ds.source != exclude_source
    if only_source is not None:
        mask &= ds.source == only_source
    if split is not None:
        mask &= ds.split == split
    if kind is not None:
        mask &= ds.kind == kind
    return ds if mask.all() else ds.subset(mask)


def project_joints(ds: LandmarkDataset, rows: np.ndarray | slice | None = None) -> np.ndarray:
    """(n, 22, 2) pixel positions of the ground-truth joints in each row's image."""
    from core_models.capture.scenes import project

    sl = slice(None) if rows is None else rows
    out = []
    for J, R, t, f, s in zip(ds.joints[sl], ds.cam_R[sl], ds.cam_t[sl], ds.fov_deg[sl], ds.image_size[sl]):
        out.append(project(J, R, t, float(f), (int(s[0]), int(s[1])))[:, :2])
    return np.asarray(out, np.float32).reshape(-1, 22, 2)


def detection_stats(ds: LandmarkDataset) -> dict:
    """Rows and detection rate per variant, framing, camera kind, background, split and kind."""
    out: dict = {"rows": len(ds), "detection_rate": float(ds.detected.mean()) if len(ds) else 0.0}
    for key in ("variant", "framing", "camera_kind", "background", "split", "kind"):
        col = getattr(ds, key)
        out[key] = {str(v): {"rows": int((col == v).sum()), "detection_rate": float(ds.detected[col == v].mean())}
                    for v in sorted(set(col.tolist()))}
    return out


def landmark_errors(ds: LandmarkDataset) -> dict[str, float]:
    """Median distance, in % of the person's projected height, between MediaPipe's 2D landmark and the projected
    ground-truth joint for the 12 limb landmarks (detected rows; what synthetic jitter should be calibrated to).
    MediaPipe's hips sit a little apart from the skeleton's hip centres, so part of the hip value is a
    definition offset, not noise."""
    from core_models.capture.from_image import LANDMARK_TO_JOINT

    d = np.nonzero(ds.detected)[0]
    if len(d) == 0:
        return {}
    px = project_joints(ds, d)
    lm = ds.landmarks[d][:, :, :2] * ds.image_size[d][:, None, :].astype(np.float32)
    height = np.maximum(np.ptp(px[:, :, 1], axis=1), 1.0)
    return {name: float(np.median(np.linalg.norm(lm[:, LM_INDEX[name]] - px[:, j], axis=1) / height) * 100)
            for name, j in LANDMARK_TO_JOINT.items()}
