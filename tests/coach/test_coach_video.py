"""End to end through real MediaPipe on one tiny rendered clip (tests/data/coach, made by
``tools/render_coach_clips.py --out tests/data/coach --only 0 --fps 5``): from the T-pose ("Lower both arms") into
Mountain with the right knee bent → "Straighten your right knee" → corrected → "Hold it" with the timer counting →
break (T-pose) → an instruction about the arms → resume → hold."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core_models.coach import CoachPhase, CoachTarget, Routine, run_coach_detailed, target_from_library

CLIP = Path(__file__).resolve().parents[1] / "data" / "coach" / "000_mountain_knee_bend_right.json"


@pytest.fixture(scope="module")
def coached():
    pytest.importorskip("mediapipe")
    from core_models.capture.landmarks import model_path

    model_path("lite")  # a clear error (what to run) when the MediaPipe bundle is missing
    gt = json.loads(CLIP.read_text())
    t = target_from_library(gt["target"])
    routine = Routine(t.name, [CoachTarget(t.name, t.pose, 60.0, library=t.library)])
    run = run_coach_detailed(CLIP.parent / gt["video"], routine, regressor="geometric", corrector="rules",
                             max_people=1)
    return gt, run


def _at(run, a: float, b: float):
    return [s for s in run.states if a <= s.t < b]


def test_enter_instruction_corrected_hold_break_resume(coached):
    gt, run = coached
    assert len(run.states) == gt["frames"]
    seg = {s["name"]: (s["start"], s["end"]) for s in gt["segments"]}
    enter = _at(run, 0.0, seg["enter"][1])
    assert enter[0].instruction is not None and enter[0].instruction.part == "arm"  # entering from the T-pose
    issued = [s.instruction for s in _at(run, *seg["deviated"])
              if s.instruction is not None and s.instruction.issued_at >= seg["deviated"][0]]
    assert issued, [s.message for s in run.states]
    first = issued[0]
    dev = gt["deviation"]
    assert (first.part, first.side, first.direction) == (dev["part"], dev["side"], dev["direction"])
    assert first.text.startswith("Straighten your right knee")
    hold = _at(run, seg["hold"][0] + 1.0, seg["hold"][1])
    assert hold and all(s.phase == CoachPhase.HOLDING and s.message == "Hold it" for s in hold)
    brk = _at(run, seg["break"][0] + 0.6, seg["break"][1])
    assert brk and all(s.phase == CoachPhase.ADJUSTING for s in brk)
    assert brk[-1].instruction is not None and brk[-1].instruction.part == "arm"
    assert brk[-1].hold_blocked_reason  # says why the timer is not counting
    assert brk[-1].hold_elapsed == pytest.approx(brk[0].hold_elapsed)  # paused during the break
    assert run.states[-1].phase == CoachPhase.HOLDING


def test_hold_timer_and_no_flicker(coached):
    gt, run = coached
    err = abs(run.states[-1].hold_elapsed - gt["expected_hold_s"])
    assert err <= 0.6, (run.states[-1].hold_elapsed, gt["expected_hold_s"])
    dur = run.states[-1].t - run.states[0].t
    phase_changes = sum(a.phase != b.phase for a, b in zip(run.states, run.states[1:]))
    assert phase_changes / dur <= 1.0


def test_nothing_said_about_unseen_joints(coached):
    gt, run = coached
    oof = np.load(CLIP.parent / gt["poses_file"])["out_of_frame"]
    for i, s in enumerate(run.states):
        if s.instruction is not None:
            assert not any(oof[i, j] or s.joint_status[j] == 2 for j in s.instruction.joints)
    assert all(s.message for s in run.states)
