"""The yoga / fitness coach: a live pose against a target pose, one correction at a time, a hold timer, routines
and a session report (issue 15). Qt-free; the Coach panel (``app/``) and ``python main.py coach`` run the same
:class:`CoachEngine`.

* :mod:`.targets` — :class:`CoachTarget`, :class:`Routine`, routine files, library targets;
* :mod:`.compare` — the 3D comparison (heading alignment, per-joint deviations, visibility gating, similarity);
* :mod:`.instruct` — one short step (rules, or the learned corrector when the judge is confident);
* :mod:`.engine` — the state machine (tolerance hysteresis, cooldown, hold timer, routine, problem states);
* :mod:`.report` — the session report files; :mod:`.run` — headless runs over a video / image folder;
* ``speech`` — offline text-to-speech (imported on its own; not loaded here).
"""
from .compare import Comparison, compare, pose_weights
from .engine import TOLERANCE_DEG, CoachEngine, CoachPhase, CoachState, Strictness
from .instruct import Instruction
from .report import SessionReport
from .run import CoachRun, run_coach, run_coach_detailed, run_poses
from .targets import CoachError, CoachTarget, Routine, library_names, load_routine, save_routine, target_from_library

__all__ = ["TOLERANCE_DEG", "CoachEngine", "CoachError", "CoachPhase", "CoachRun", "CoachState", "CoachTarget",
           "Comparison", "Instruction", "Routine", "SessionReport", "Strictness", "compare", "library_names",
           "load_routine", "pose_weights", "run_coach", "run_coach_detailed", "run_poses", "save_routine",
           "target_from_library"]
