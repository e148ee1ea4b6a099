"""``python main.py eval coach``: the coach measured on rendered clips with ground truth
(``tools/render_coach_clips.py``), with the true poses and through real MediaPipe capture.

Per clip:

* **first instruction** = the first one issued while the deviated pose is shown (the "deviated" segment); if none
  is issued there, the one on screen at the end of it. Right part + side, right direction (as the clip's JSON says).
* **gated**: instructions naming a joint that is out of the picture at that moment (ground truth), and
  instructions naming a joint the engine itself gated out (status 2) — both must be 0.
* **hold error** = |hold timer at the end − ground-truth time within tolerance| (the target's hold is 60 s, so it
  never completes inside a clip).
* **changes/s**: phase changes and message changes per second of video.
* **latency**: when the body leaves the pose (the jump to the "break" pose) — the video time until the score has
  fallen half way to its break value, plus the processing time of that frame (capture + engine).
* tight clips (feet out of the picture): whether the coach asked to step back ("… see your feet").
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from core_models import skeleton as sk
from core_models.coach.engine import CoachPhase
from core_models.coach.run import CoachRun, run_coach_detailed, run_poses
from core_models.coach.targets import CoachTarget, Routine, target_from_library

EVAL_HOLD_S = 60.0


def landmarks_from_out_of_frame(oof: np.ndarray):
    """Synthetic landmarks for true-pose runs: every landmark seen, except those of joints out of the picture."""
    from core_models.capture.landmarks import LM, Landmarks
    from core_models.coach.compare import JOINT_LANDMARKS

    pres = np.ones(33, np.float32)
    img = np.full((33, 3), 0.5, np.float32)
    for j in np.nonzero(oof)[0]:
        name = sk.JOINT_NAMES[j]
        own = [lm for lm in JOINT_LANDMARKS[name] if lm.startswith(name.split("_")[0]) or lm == name]
        for lm in own if name in LM else JOINT_LANDMARKS[name][-1:]:
            pres[LM[lm]] = 0.0
            img[LM[lm], :2] = (0.5, 1.3)
    return Landmarks(img, np.zeros((33, 3), np.float32), pres.copy(), pres, (320, 240))


def _routine(gt: dict) -> Routine:
    t = target_from_library(gt["target"])
    return Routine(t.name, [CoachTarget(t.name, t.pose, EVAL_HOLD_S, library=t.library)])


def _run(clip: Path, gt: dict, mode: str, **kw) -> CoachRun:
    from core_models.pose import Pose

    z = np.load(clip.parent / gt["poses_file"], allow_pickle=False)
    if mode == "true":
        poses = Pose.from_full(z["poses"], z["transl"])
        lms = [landmarks_from_out_of_frame(o) for o in z["out_of_frame"]]
        return run_poses(poses, z["times"], _routine(gt), strictness=kw["strictness"], corrector=kw["corrector"],
                         landmarks=lms)
    return run_coach_detailed(clip.parent / gt["video"], _routine(gt), regressor=kw["regressor"], model=kw["model"],
                              strictness=kw["strictness"], corrector=kw["corrector"], measure=kw["measure"],
                              depth_weight=kw.get("depth_weight"), max_people=1,
                              templates=kw.get("templates", "captured"), template_blend=kw.get("template_blend"),
                              smooth=kw.get("smooth", True))


def _segment(gt: dict, name: str) -> tuple[float, float]:
    s = next(x for x in gt["segments"] if x["name"] == name)
    return float(s["start"]), float(s["end"])


def _first_instruction(run: CoachRun, gt: dict):
    a, b = _segment(gt, "deviated")
    shown = None
    for st in run.states:
        if st.instruction is not None and a <= st.instruction.issued_at < b:
            return st.instruction
        if st.t < b:
            shown = st.instruction
    return shown


def _gated(run: CoachRun, oof: np.ndarray) -> tuple[int, int]:
    by_gt = by_engine = 0
    seen_ids: set[int] = set()
    for i, st in enumerate(run.states):
        ins = st.instruction
        if ins is None or id(ins) in seen_ids:
            continue
        seen_ids.add(id(ins))
        by_gt += int(any(oof[min(i, len(oof) - 1), j] for j in ins.joints))
        by_engine += int(any(st.joint_status[j] == 2 for j in ins.joints))
    return by_gt, by_engine


def _changes(run: CoachRun) -> tuple[float, float]:
    dur = max(run.states[-1].t - run.states[0].t, 1e-6)
    ph = sum(a.phase != b.phase for a, b in zip(run.states, run.states[1:]))
    msg = sum(a.message != b.message for a, b in zip(run.states, run.states[1:]))
    return ph / dur, msg / dur


def _latency(run: CoachRun, gt: dict) -> dict | None:
    """When the body leaves the held pose (the jump to the "break" pose, half-way between two frames): how long
    until the score on screen has fallen half way to its break value, in three parts — ``frame_ms``: from the jump
    to the first frame after it (the frame period's quantisation: half a frame on average), ``lag_ms``: from that
    frame to the first frame whose score is past half way (landmark smoothing in MediaPipe and the One-Euro filter;
    the engine does not smooth the score), ``proc_ms``: that frame's processing (capture + engine). None when the
    score does not drop by 10 or more."""
    a, b = _segment(gt, "break")
    hold = [s.score for s in run.states if a - 1.0 <= s.t < a and s.score is not None]
    brk = [s.score for s in run.states if a + 0.6 <= s.t < b and s.score is not None]
    if not hold or not brk or np.mean(hold) - np.mean(brk) < 10:
        return None
    half = (np.mean(hold) + np.mean(brk)) / 2
    first = next((s.t for s in run.states if s.t >= a), None)
    for i, s in enumerate(run.states):
        if s.t >= a and s.score is not None and s.score <= half:
            proc = (run.capture_ms[i] if run.capture_ms else 0.0) + run.engine_ms[i]
            frame = (first - a) * 1000.0 if first is not None else 0.0
            lag = (s.t - (first if first is not None else a)) * 1000.0
            return {"total_ms": max(0.0, frame + lag) + proc, "frame_ms": frame, "lag_ms": lag, "proc_ms": proc}
    return None


def evaluate_clip(clip: Path, mode: str, **kw) -> dict:
    gt = json.loads(clip.read_text())
    t0 = time.perf_counter()
    run = _run(clip, gt, mode, **kw)
    wall = time.perf_counter() - t0
    oof = np.load(clip.parent / gt["poses_file"], allow_pickle=False)["out_of_frame"]
    dev = gt["deviation"]
    ins = _first_instruction(run, gt)
    ph_rate, msg_rate = _changes(run)
    by_gt, by_engine = _gated(run, oof)
    lat = _latency(run, gt)
    out = {"clip": clip.stem, "target": gt["target"], "tight": gt["tight"], "expected": dev,
           "first": None if ins is None else {"text": ins.text, "part": ins.part, "side": ins.side,
                                              "direction": ins.direction, "source": ins.source,
                                              "t": ins.issued_at},
           "part_side_ok": ins is not None and ins.part == dev["part"] and ins.side == dev["side"],
           "direction_ok": ins is not None and ins.part == dev["part"] and ins.side == dev["side"]
           and ins.direction == dev["direction"],
           "hold_error_s": abs(run.states[-1].hold_elapsed - gt["expected_hold_s"]),
           "phase_changes_per_s": ph_rate, "message_changes_per_s": msg_rate,
           "gated_gt": by_gt, "gated_engine": by_engine, "latency_ms": None if lat is None else lat["total_ms"],
           "latency_parts_ms": lat,
           "asked_step_back": any(s.phase == CoachPhase.PARTIAL and "feet" in s.message for s in run.states),
           "frames": len(run.states), "wall_s": wall, "regressor": run.regressor,
           "engine_ms_median": float(np.median(run.engine_ms)),
           "capture_ms_median": float(np.median(run.capture_ms)) if run.capture_ms else 0.0}
    return out


def evaluate_clips(clips: list[Path], mode: str, **kw) -> list[dict]:
    out = []
    for c in clips:
        r = evaluate_clip(c, mode, **kw)
        first = r["first"]["text"] if r["first"] else "—"
        print(f"[{mode}] {r['clip']:<40} {'✔' if r['part_side_ok'] else '✘'}{'✔' if r['direction_ok'] else '✘'} "
              f"{first!r:<44} hold err {r['hold_error_s']:.2f} s", flush=True)
        out.append(r)
    return out


def _summary(rows: list[dict]) -> dict:
    main = [r for r in rows if not r["tight"]]
    tight = [r for r in rows if r["tight"]]
    lat = [r["latency_ms"] for r in rows if r["latency_ms"] is not None]
    parts = [r["latency_parts_ms"] for r in rows if r.get("latency_parts_ms")]
    return {"clips": len(main), "targets": len({r["target"] for r in main}),
            "part_side": float(np.mean([r["part_side_ok"] for r in main])) if main else None,
            "direction": float(np.mean([r["direction_ok"] for r in main])) if main else None,
            "gated_gt": int(sum(r["gated_gt"] for r in rows)),
            "gated_engine": int(sum(r["gated_engine"] for r in rows)),
            "hold_error_mean_s": float(np.mean([r["hold_error_s"] for r in main])) if main else None,
            "hold_error_max_s": float(np.max([r["hold_error_s"] for r in main])) if main else None,
            "phase_changes_per_s_max": float(np.max([r["phase_changes_per_s"] for r in rows])),
            "message_changes_per_s_max": float(np.max([r["message_changes_per_s"] for r in rows])),
            "latency_ms_median": float(np.median(lat)) if lat else None,
            "latency_ms_max": float(np.max(lat)) if lat else None,
            **{f"latency_{k}_median": float(np.median([p[k] for p in parts])) if parts else None
               for k in ("frame_ms", "lag_ms", "proc_ms")},
            "tight_clips": len(tight), "tight_asked_step_back": int(sum(r["asked_step_back"] for r in tight)),
            "learned_first": int(sum(1 for r in main if r["first"] and r["first"]["source"] == "learned")),
            "regressor": rows[0]["regressor"] if rows else None}


def print_summary(results: dict[str, list[dict]]) -> dict:
    out = {}
    for mode, rows in results.items():
        s = _summary(rows)
        out[mode] = s
        print(f"\n== {mode} poses ({s['regressor']}): {s['clips']} clips, {s['targets']} targets")
        print(f"first instruction: part+side {100 * (s['part_side'] or 0):.1f} %, direction "
              f"{100 * (s['direction'] or 0):.1f} %  (learned text used first in {s['learned_first']})")
        print(f"instructions about joints out of the picture: {s['gated_gt']}; about gated joints: "
              f"{s['gated_engine']}")
        print(f"hold timer error: mean {s['hold_error_mean_s']:.2f} s, max {s['hold_error_max_s']:.2f} s")
        print(f"changes per second (max over clips): phase {s['phase_changes_per_s_max']:.2f}, message "
              f"{s['message_changes_per_s_max']:.2f}")
        if s["latency_ms_median"] is not None:
            print(f"latency pose change → score: median {s['latency_ms_median']:.0f} ms, "
                  f"max {s['latency_ms_max']:.0f} ms (medians: frame step {s['latency_frame_ms_median']:.0f}, "
                  f"smoothing lag {s['latency_lag_ms_median']:.0f}, processing {s['latency_proc_ms_median']:.0f} ms)")
        print(f"tight clips asking to step back: {s['tight_asked_step_back']} / {s['tight_clips']}")
    return out
