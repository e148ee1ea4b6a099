"""The session report: per target the best similarity, the hold time, the instructions with their times, and the
best-held pose next to the target.

``SessionReport.save(folder)`` writes ``report.json``, ``best_poses.npz`` (an AMASS-style pose file, one frame per
target, that File > Open reads; plus ``target_names``, ``target_poses`` (T,22,3), ``best_scores``, ``has_pose``),
``summary.png`` (thumbnails: best-held pose | target, rendered offscreen) and ``summary.html``. A folder that
cannot be written is a :class:`~core_models.coach.targets.CoachError` before anything is written; a failed
rendering leaves the PNG out and says why in the JSON (``"png_error"``) and in the HTML.
"""
from __future__ import annotations

import html
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core_models.coach.targets import CoachError
from core_models.pose import Pose


@dataclass
class TargetRecord:
    name: str
    hold_target: float
    target_pose: Pose
    best_score: float | None = None
    best_t: float | None = None
    best_pose: Pose | None = None
    best_held_score: float | None = None
    best_held_pose: Pose | None = None
    hold_s: float = 0.0
    completed_at: float | None = None
    instructions: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        return {"name": self.name, "hold_target_s": self.hold_target, "hold_s": round(self.hold_s, 3),
                "completed": self.completed_at is not None, "completed_at": self.completed_at,
                "best_similarity": None if self.best_score is None else round(self.best_score, 2),
                "best_at": self.best_t,
                "best_held_similarity": None if self.best_held_score is None else round(self.best_held_score, 2),
                "instructions": self.instructions, "events": self.events}


def _copy(p: Pose) -> Pose:
    return Pose(np.array(p.root_orient, np.float32), np.array(p.body_pose, np.float32),
                np.array(p.transl, np.float32))


class SessionReport:
    def __init__(self, routine_name: str, names: list[str], holds: list[float], poses: list[Pose]):
        self.routine_name = routine_name
        self.targets = [TargetRecord(n, float(h), p) for n, h, p in zip(names, holds, poses)]
        self.finished_at: float | None = None

    # ---------------------------------------------------------------- recording (called by the engine)
    def observe(self, i: int, t: float, score: float | None, pose: Pose | None, holding: bool) -> None:
        r = self.targets[i]
        if score is None or pose is None:
            return
        if r.best_score is None or score > r.best_score:
            r.best_score, r.best_t, r.best_pose = score, t, _copy(pose)
        if holding and (r.best_held_score is None or score > r.best_held_score):
            r.best_held_score, r.best_held_pose = score, _copy(pose)

    def instruct(self, i: int, ins) -> None:
        self.targets[i].instructions.append({"t": round(float(ins.issued_at), 3), "text": ins.text,
                                             "source": ins.source, "part": ins.part, "side": ins.side,
                                             "direction": ins.direction})

    def event(self, i: int, t: float, text: str) -> None:
        self.targets[min(i, len(self.targets) - 1)].events.append({"t": round(float(t), 3), "event": text})

    def set_hold(self, i: int, hold: float) -> None:
        self.targets[i].hold_s = float(hold)

    def complete(self, i: int, t: float, hold: float) -> None:
        self.targets[i].completed_at, self.targets[i].hold_s = round(float(t), 3), float(hold)

    # ---------------------------------------------------------------- views
    def timeline(self) -> list[dict]:
        """Every instruction of the session in time order, with its target's name."""
        out = [dict(x, target=r.name) for r in self.targets for x in r.instructions]
        return sorted(out, key=lambda x: x["t"])

    def to_dict(self) -> dict:
        return {"format": "posetailor-coach-report", "version": 1, "routine": self.routine_name,
                "finished_at": self.finished_at, "targets": [r.summary() for r in self.targets]}

    # ---------------------------------------------------------------- files
    def save(self, folder: str | os.PathLike, images: bool = True, size: int = 192) -> dict[str, Path]:
        """Write the report files into ``folder`` (created if its parent exists); returns their paths."""
        out = Path(folder)
        if out.exists() and not out.is_dir():
            raise CoachError(f"cannot write the report: {out} is a file, not a folder")
        if not out.exists():
            if not out.parent.is_dir():
                raise CoachError(f"cannot write the report: folder {out.parent} does not exist")
            try:
                out.mkdir()
            except OSError as e:
                raise CoachError(f"cannot create the report folder {out}: {e}") from None
        if not os.access(out, os.W_OK):
            raise CoachError(f"cannot write the report: folder {out} is not writable")
        paths = {"json": out / "report.json", "npz": out / "best_poses.npz", "html": out / "summary.html"}
        data = self.to_dict()
        if images:
            try:
                self._write_png(out / "summary.png", size)
                paths["png"] = out / "summary.png"
            except Exception as e:  # noqa: BLE001 - no GL here: the other files are still written, the reason kept
                data["png_error"] = f"{type(e).__name__}: {e}"
        _atomic(paths["json"], json.dumps(data, indent=1).encode())
        self._write_npz(paths["npz"])
        _atomic(paths["html"], self._html(data, "png" in paths).encode())
        return paths

    def _write_npz(self, path: Path) -> None:
        from core_models.io.npz_pose import save_pose_npz

        best: list[Pose] = []
        for r in self.targets:
            got = _first(r.best_held_pose, r.best_pose)
            best.append(r.target_pose if got is None else got)
        batch = Pose(np.stack([np.asarray(p.root_orient, np.float32) for p in best]),
                     np.stack([np.asarray(p.body_pose, np.float32) for p in best]),
                     np.stack([np.asarray(p.transl, np.float32) for p in best]))
        tmp = path.with_name(path.name + ".poses.tmp.npz")
        save_pose_npz(tmp, batch, fps=1.0)
        with np.load(tmp, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        tmp.unlink(missing_ok=True)
        tp = np.stack([np.concatenate([np.asarray(r.target_pose.root_orient).reshape(1, 3),
                                       np.asarray(r.target_pose.body_pose).reshape(21, 3)]) for r in self.targets])
        arrays.update(target_names=np.array([r.name for r in self.targets]), target_poses=tp.astype(np.float32),
                      best_scores=np.array([np.nan if r.best_score is None else r.best_score for r in self.targets]),
                      has_pose=np.array([_first(r.best_held_pose, r.best_pose) is not None for r in self.targets]))
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        _atomic(path, buf.getvalue())

    def _write_png(self, path: Path, size: int) -> None:
        rows = [(_label(r.name, _first(r.best_held_score, r.best_score), r.hold_s, r.hold_target),
                 _first(r.best_held_pose, r.best_pose), r.target_pose) for r in self.targets]
        _render_summary(path, rows, size)

    def _html(self, data: dict, has_png: bool) -> str:
        return _report_html(data, has_png)


def _report_html(data: dict, has_png: bool) -> str:
    e = html.escape
    rows = []
    for t in data["targets"]:
        ins = "".join(f"<li>{x['t']:.1f} s — {e(x['text'])} <small>({e(x['source'])})</small></li>"
                      for x in t["instructions"]) or "<li>none</li>"
        best = "–" if t["best_similarity"] is None else f"{t['best_similarity']:.0f}"
        rows.append(f"<tr><td>{e(t['name'])}</td><td>{best}</td><td>{t['hold_s']:.1f} / "
                    f"{t['hold_target_s']:g} s{' ✔' if t['completed'] else ''}</td><td><ul>{ins}</ul></td></tr>")
    img = ('<p><img src="summary.png" alt="best-held pose | target"></p>' if has_png
           else f"<p>No thumbnails: {e(data.get('png_error', 'not rendered'))}</p>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Coach session</title></head><body>"
            f"<h1>Coach session: {e(data['routine'])}</h1>{img}<table border='1' cellpadding='4'>"
            "<tr><th>Target</th><th>Best similarity</th><th>Hold</th><th>Instructions</th></tr>"
            + "".join(rows) + "</table></body></html>")


def add_summary_picture(folder: str | os.PathLike, size: int = 192) -> Path:
    """Render ``summary.png`` for a report already saved in ``folder`` (``report.json`` + ``best_poses.npz``, both
    plain data: nothing is unpickled) and rewrite its HTML to show it. Used by a separate process where the caller
    cannot host the headless GL renderer (the Qt GUI)."""
    from core_models.io.npz_pose import load_pose_npz

    out = Path(folder)
    try:
        data = json.loads((out / "report.json").read_text())
        best, _ = load_pose_npz(out / "best_poses.npz")
        with np.load(out / "best_poses.npz", allow_pickle=False) as z:
            target = np.asarray(z["target_poses"], np.float32)
            has_pose = np.asarray(z["has_pose"], bool)
    except (OSError, ValueError, KeyError) as e:
        raise CoachError(f"cannot read the report in {out}: {e}") from None
    targets = data.get("targets", [])
    if not (len(targets) == len(target) == len(has_pose) == best.batch_shape[0]):
        raise CoachError(f"the report in {out} is inconsistent: {len(targets)} targets, {len(target)} target poses")
    rows = []
    for k, t in enumerate(targets):
        score = _first(t.get("best_held_similarity"), t.get("best_similarity"))
        got = Pose(best.root_orient[k], best.body_pose[k]) if has_pose[k] else None
        rows.append((_label(str(t["name"]), score, float(t["hold_s"]), float(t["hold_target_s"])), got,
                     Pose(target[k, 0], target[k, 1:])))
    path = out / "summary.png"
    _render_summary(path, rows, size)
    data.pop("png_error", None)
    _atomic(out / "report.json", json.dumps(data, indent=1).encode())
    _atomic(out / "summary.html", _report_html(data, True).encode())
    return path


def _label(name: str, score: float | None, hold_s: float, hold_target: float) -> str:
    shown = "–" if score is None else f"{score:.0f}"
    return f"{name}: best {shown}, held {hold_s:.1f}/{hold_target:g} s | target"


def _render_summary(path: Path, rows: list[tuple[str, Pose | None, Pose]], size: int) -> None:
    """One row per target: the best-held pose | the target, rendered offscreen, with a label above."""
    from PIL import Image, ImageDraw

    from core_models.body import load_body
    from core_models.render.offscreen import render_pose_image

    body = load_body("anny")
    label_h = 22
    canvas = Image.new("RGB", (2 * size, len(rows) * (size + label_h)), (30, 32, 36))
    draw = ImageDraw.Draw(canvas)
    for k, (label, best, target) in enumerate(rows):
        imgs = []
        for p in (best, target):
            if p is None:
                imgs.append(np.full((size, size, 3), 60, np.uint8))
                continue
            imgs.append(render_pose_image(body, Pose(p.root_orient, p.body_pose), size=(size, size), view="front",
                                          grid=False))
        y = k * (size + label_h)
        draw.text((4, y + 4), label, fill=(235, 235, 235))
        canvas.paste(Image.fromarray(np.concatenate(imgs, axis=1)), (0, y + label_h))
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    _atomic(path, buf.getvalue())


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as e:
        raise CoachError(f"cannot write {path}: {e}") from None


__all__ = ["SessionReport", "TargetRecord", "add_summary_picture"]
