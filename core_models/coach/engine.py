"""The coach's state machine: one live pose (+ landmarks) per update → what to show and say now.

Pure and deterministic for ``corrector="rules"`` (no I/O, no clock: the caller passes the time ``t`` in seconds).
``"auto"``/``"learned"`` load the learned corrector and judge once per process, on the first correction; the
proposal runs in a worker thread (``learned_async=True``, the default: live use) — the new step is then shown when
the proposal is ready, or in the rule words after ``learned_wait_s`` (1 s), so ``update`` never waits for the
network — or inside ``update`` (``learned_async=False``: the headless runs, reproducible).

Rules (all the numbers are attributes of :class:`CoachEngine`):

* **Tolerance with hysteresis**: a joint becomes *off* when its deviation exceeds the strictness tolerance
  (:data:`TOLERANCE_DEG`: beginner 30°, standard 20°, advanced 12°) and is *ok* again only below
  ``exit_factor`` × tolerance (0.8): noise around the threshold does not toggle colours.
* **Phases are debounced**: a new phase must be observed for ``dwell_s`` (0.3 s) and the shown one must have been
  shown for ``min_show_s`` (1 s) before the phase changes — at most one phase change per second. The hold timer
  is back-dated over the debounce, so it counts exactly the time spent within tolerance.
* **Instructions**: the current step stays until its joints are within tolerance (or a step twice as important
  appears); a new step replaces an old one no sooner than ``cooldown_s`` (2 s) after the last change of text.
  ``speak`` is True on the update where a new message should be spoken (at most one per ``cooldown_s``; a message
  that changed during the cooldown is spoken when it ends, if it is still current).
* **No silence**: nobody in view (NO_PERSON), several people (SEVERAL_PEOPLE), body parts that matter outside
  the picture (PARTIAL: "Step back so I can see your feet"), low landmark confidence (LOW_LIGHT) each give a
  message, and the hold timer says why it is not counting (``hold_blocked_reason``).
* **Routine**: when the hold time is reached the target is COMPLETE ("Well done!"); ``complete_pause_s`` later
  the next target starts; after the last one the engine is FINISHED.
* **Inactivity**: ``inactivity_reset_s`` (15 s) without a person in view resets the current hold timer.
* **Mirror** (``mirror=True``): the poses and landmarks come from a horizontally flipped (mirror-view) camera
  picture, so the captured body is the person's mirror image. The engine flips them back before comparing, so
  the words always name the person's own sides ("your left knee" is the user's left knee); every per-joint array
  in :class:`CoachState`, ``live_pose``, ``aligned_target`` and ``Instruction.joints`` stay in the frame of the
  poses passed in (the mirror view the screen shows).
"""
from __future__ import annotations

import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from core_models import skeleton as sk
from core_models.coach.compare import (
    COACHED,
    DEPTH_WEIGHT,
    TOL_SCALE,
    Comparison,
    compare,
    geometry,
    has_world,
    pose_weights,
    target_landmarks,
)
from core_models.coach.instruct import Instruction, LearnedCoach, rule_instruction
from core_models.coach.report import SessionReport
from core_models.coach.targets import CoachError, CoachTarget, Routine
from core_models.pose import Pose, mirror

N = sk.NUM_JOINTS
J = sk.JOINT_INDEX


class Strictness(str, Enum):
    BEGINNER = "beginner"
    STANDARD = "standard"
    ADVANCED = "advanced"


TOLERANCE_DEG = {Strictness.BEGINNER: 30.0, Strictness.STANDARD: 20.0, Strictness.ADVANCED: 12.0}


_WORKERS: dict[str, ThreadPoolExecutor] = {}
_WORKER_LOCK = threading.Lock()


def _pool(name: str) -> ThreadPoolExecutor:
    """One background thread per kind of work, shared by every engine: ``"learned"`` proposals
    (``learned_async``) and target ``"templates"`` (a build takes seconds; learned proposals must not wait)."""
    with _WORKER_LOCK:
        if name not in _WORKERS:
            _WORKERS[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"coach-{name}")
        return _WORKERS[name]


def _worker() -> ThreadPoolExecutor:
    return _pool("learned")


def _template_worker() -> ThreadPoolExecutor:
    return _pool("templates")


class CoachPhase(str, Enum):
    NO_PERSON = "no_person"
    SEVERAL_PEOPLE = "several_people"
    PARTIAL = "partial"
    LOW_LIGHT = "low_light"
    ADJUSTING = "adjusting"
    HOLDING = "holding"
    COMPLETE = "complete"
    FINISHED = "finished"


PROBLEMS = (CoachPhase.NO_PERSON, CoachPhase.SEVERAL_PEOPLE, CoachPhase.PARTIAL, CoachPhase.LOW_LIGHT)
MESSAGES = {
    CoachPhase.NO_PERSON: "I can't see anyone: step in front of the camera",
    CoachPhase.SEVERAL_PEOPLE: "I can see more than one person: only one in the picture, please",
    CoachPhase.LOW_LIGHT: "I can't see you clearly: add some light or face the camera",
}
HOLD_TEXT = "Hold it"
BLOCKED = {
    CoachPhase.NO_PERSON: "paused: nobody in view",
    CoachPhase.SEVERAL_PEOPLE: "paused: more than one person in view",
    CoachPhase.PARTIAL: "paused: part of your body is out of the picture",
    CoachPhase.LOW_LIGHT: "paused: I can't see you clearly",
}
#: out-of-frame regions → what to ask (checked in this order)
_REGIONS = (("feet", ("left_knee", "right_knee", "left_hip", "right_hip")),
            ("head", ("neck", "head")),
            ("hands", ("left_elbow", "right_elbow", "left_shoulder", "right_shoulder")))


@dataclass
class CoachState:
    t: float
    phase: CoachPhase
    score: float | None
    message: str
    instruction: Instruction | None
    joint_status: np.ndarray          # (22,) int8: 0 ok, 1 off, 2 unseen
    joint_deviation_deg: np.ndarray   # (22,) float32
    hold_elapsed: float
    hold_target: float
    hold_blocked_reason: str | None
    target_index: int
    target_name: str
    live_pose: Pose | None
    aligned_target: Pose
    speak: bool
    #: what the live landmarks were compared with: "captured" (the target through the capture path), "ideal" (the
    #: body model's own landmarks) or "pose" (no landmarks: regressed pose vs target pose)
    target_source: str = "pose"


@dataclass
class _Frame:
    phase: CoachPhase
    comparison: Comparison | None = None
    message: str = ""


class CoachEngine:
    cooldown_s: float
    dwell_s = 0.3
    min_show_s = 1.0
    exit_factor = 0.8
    low_confidence = 0.3
    complete_pause_s = 2.0
    inactivity_reset_s = 15.0
    upgrade_factor = 2.0
    depth_weight = DEPTH_WEIGHT
    learned_wait_s = 1.0
    #: how much of the captured template's difference from the ideal target landmarks is used (1: all of it; 0.5
    #: measured best on the coach clips, see docs/notes/coach_core.md)
    template_blend = 0.5

    def __init__(self, routine: Routine, strictness: Strictness | str = Strictness.STANDARD, cooldown_s: float = 2.0,
                 corrector: str = "auto", mirror: bool = False, measure: str = "landmarks",
                 learned_async: bool = True, templates: str = "captured", template_variant: str = "lite",
                 template_builder: str = "inline"):
        if not isinstance(routine, Routine):
            raise CoachError(f"CoachEngine needs a Routine, got {type(routine).__name__}")
        if measure not in ("landmarks", "pose"):
            raise CoachError(f"measure must be 'landmarks' or 'pose', got {measure!r}")
        self.measure = measure
        if templates not in ("captured", "ideal"):
            raise CoachError(f"templates must be 'captured' or 'ideal', got {templates!r}")
        #: landmark measure: the target through the same capture path (``templates.py``) or its ideal landmarks
        self.templates, self.template_variant = templates, template_variant
        if template_builder not in ("inline", "child"):
            raise CoachError(f"template_builder must be 'inline' or 'child', got {template_builder!r}")
        #: where templates that are neither shipped nor cached are built: in this process ("inline": needs a
        #: headless GL platform) or in a child Python ("child": the GUI, whose PyOpenGL serves Qt)
        self.template_builder = template_builder
        #: why the target is compared with its ideal landmarks (None while the captured templates are used)
        self.template_notice: str | None = None
        #: what the templates of the current target are doing, for a status line ("building … view 3/7", "shipped")
        self.template_status: str | None = None
        if corrector not in ("rules", "learned", "auto"):
            raise CoachError(f"corrector must be 'rules', 'learned' or 'auto', got {corrector!r}")
        if not (isinstance(cooldown_s, (int, float)) and math.isfinite(cooldown_s) and cooldown_s >= 0):
            raise CoachError(f"cooldown_s must be a non-negative number, got {cooldown_s!r}")
        try:
            self.strictness = Strictness(strictness)
        except ValueError:
            raise CoachError(f"strictness must be one of {', '.join(s.value for s in Strictness)}, "
                             f"got {strictness!r}") from None
        self.routine, self.cooldown_s, self.corrector, self.mirror = routine, float(cooldown_s), corrector, mirror
        self.learned = LearnedCoach() if corrector != "rules" else None
        self.learned_async = learned_async
        self._learned_job: tuple[Future, Instruction, float] | None = None
        self.reset()

    # ------------------------------------------------------------------ public
    @property
    def tolerance(self) -> float:
        return TOLERANCE_DEG[self.strictness]

    @property
    def report(self) -> SessionReport:
        return self._report

    def reset(self) -> None:
        """Back to the first target; the report starts again."""
        self._report = SessionReport(self.routine.name, [t.name for t in self.routine.targets],
                                     [t.hold_s for t in self.routine.targets], [t.pose for t in self.routine.targets])
        self._start_target(0, t=None)
        self._last_t: float | None = None
        self._spoken_text: str | None = None
        self._spoken_t = -math.inf
        self._absent_since: float | None = None
        self._live_anat: Pose | None = None

    def skip(self) -> None:
        """Go to the next target now (FINISHED after the last)."""
        self._advance(self._last_t if self._last_t is not None else 0.0)

    # ------------------------------------------------------------------ targets
    def _start_target(self, index: int, t: float | None) -> None:
        self.index = index
        self._finished = index >= len(self.routine.targets)
        tgt = self.routine.targets[min(index, len(self.routine.targets) - 1)]
        self._target: CoachTarget = tgt
        self._tpose = tgt.pose
        self._tgeom = geometry(self._tpose)
        self._tgeom_lm: np.ndarray | None = None
        self._templates = None
        self._templates_job: Future | None = None
        self.template_notice = None
        self._source = "pose"
        self._weights = tgt.weights if tgt.weights is not None else pose_weights(self._tpose)
        self._off = np.zeros(N, bool)
        self._hold = 0.0
        self._phase: CoachPhase | None = None
        self._phase_since = -math.inf if t is None else t
        self._pending: CoachPhase | None = None
        self._pending_since = 0.0
        self._instruction: Instruction | None = None
        self._message = ""
        self._message_t = -math.inf
        self._complete_t: float | None = None
        self._hold_done = False
        self._last_cmp: Comparison | None = None

    def _advance(self, t: float) -> None:
        self._start_target(self.index + 1, t)
        if self._finished:
            self._phase, self._message = CoachPhase.FINISHED, "Routine complete: well done!"
            self._report.finished_at = t

    # ------------------------------------------------------------------ per-frame analysis
    def _frame(self, pose: Pose | None, landmarks, n_people: int, confidence: float) -> _Frame:
        if pose is None or n_people <= 0:
            return _Frame(CoachPhase.NO_PERSON, message=MESSAGES[CoachPhase.NO_PERSON])
        if n_people > 1:
            return _Frame(CoachPhase.SEVERAL_PEOPLE, message=MESSAGES[CoachPhase.SEVERAL_PEOPLE])
        if not (confidence >= self.low_confidence):
            return _Frame(CoachPhase.LOW_LIGHT, message=MESSAGES[CoachPhase.LOW_LIGHT])
        if self.mirror:
            pose = mirror(Pose(pose.root_orient, pose.body_pose, pose.transl))
            landmarks = landmarks.mirrored() if landmarks is not None else None
        self._live_anat = pose
        lm_mode = self.measure == "landmarks" and has_world(landmarks)
        self._source = "pose"
        c = compare(pose, self._tpose, landmarks, self._weights, self._tgeom, use_landmarks=lm_mode,
                    target_world=self._target_world(landmarks) if lm_mode else None, depth_weight=self.depth_weight)
        coached = np.zeros(N, bool)
        coached[list(COACHED)] = True
        oof = c.out_of_frame & coached & (c.weights >= 0.5)
        if oof.any():
            return _Frame(CoachPhase.PARTIAL, c, self._partial_message(oof))
        if c.score is None:
            return _Frame(CoachPhase.LOW_LIGHT, c, MESSAGES[CoachPhase.LOW_LIGHT])
        self._update_off(c)
        return _Frame(CoachPhase.ADJUSTING if self._off.any() else CoachPhase.HOLDING, c)

    def _target_world(self, landmarks) -> np.ndarray:
        """The target's landmarks for this frame: the captured template of the view nearest the live one, or the
        ideal landmarks (``templates="ideal"``, while the templates are being made, or when they cannot be)."""
        if self.templates == "captured" and self._templates is None:
            self._templates = self._fetch_templates()
            if self._templates is not None and self._templates.notice:
                self.template_notice = self._templates.notice
        if self._tgeom_lm is None:
            self._tgeom_lm = target_landmarks(self._tpose)
        self._source = "ideal"
        if self._templates is not None and self._templates.source == "captured":
            w = self._templates.nearest(landmarks.world)
            self._source = "captured"
            b = self.template_blend
            return w if b >= 1.0 else self._tgeom_lm + b * (w - self._tgeom_lm)
        return self._tgeom_lm

    def _fetch_templates(self):
        """Made inline for headless runs; in a worker thread for live use (``learned_async``: ideal meanwhile)."""
        if not self.learned_async:
            return self._get_templates(self._target.name)
        if self._templates_job is None:
            self.template_status = f"target templates for {self._target.name}: looking them up…"
            self._templates_job = _template_worker().submit(self._get_templates, self._target.name)
        return self._templates_job.result() if self._templates_job.done() else None

    def _get_templates(self, name: str):
        """Shipped / cached / built templates of the current target; ``template_status`` follows the build."""
        from core_models.coach import templates as T

        def progress(i: int, n: int) -> None:
            self.template_status = (f"building the target templates for {name} ({self.template_variant}): "
                                    f"view {i}/{n}")

        builder = T.build_templates_in_child if self.template_builder == "child" else T.build_templates
        t = T.get_templates(self._tpose, self.template_variant, builder=builder, progress=progress)
        self.template_status = (t.notice if t.source != "captured" else
                                f"target {name} compared through MediaPipe ({self.template_variant}): "
                                f"{len(t.world)} captured views, {t.origin}")
        return t

    @staticmethod
    def _partial_message(oof: np.ndarray) -> str:
        for what, names in _REGIONS:
            if any(oof[J[n]] for n in names):
                return f"Step back so I can see your {what}"
        return "Step back so I can see all of you"

    @property
    def tolerances(self) -> np.ndarray:
        """(22,) the tolerance of each joint (degrees): the strictness tolerance × ``compare.TOL_SCALE``."""
        return (self.tolerance * TOL_SCALE).astype(np.float32)

    def _update_off(self, c: Comparison) -> None:
        tol = self.tolerances
        limit = np.where(self._off, self.exit_factor * tol, tol)
        off = (c.deviation_deg > limit) & c.seen & (c.weights >= 0.5)
        mask = np.zeros(N, bool)
        mask[list(COACHED)] = True
        self._off = off & mask

    # ------------------------------------------------------------------ update
    def update(self, t: float, pose: Pose | None, landmarks=None, n_people: int = 1,
               confidence: float = 1.0) -> CoachState:
        t = float(t)
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t if self._last_t is None else max(t, self._last_t)
        if self._finished:
            return self._state(t, None, pose)
        if self._hold_done:
            if t - self._message_t >= self.min_show_s:
                self._complete(t)
            return self._state(t, self._last_cmp, pose)
        if self._complete_t is not None:
            if t - self._complete_t >= self.complete_pause_s:
                self._advance(t)
                if self._finished:
                    return self._state(t, None, pose)
            else:
                return self._state(t, self._last_cmp, pose)
        fr = self._frame(pose, landmarks, n_people, confidence)
        self._inactivity(t, fr.phase)
        self._switch_phase(t, fr.phase, dt)
        if fr.comparison is not None:
            self._last_cmp = fr.comparison
            self._report.observe(self.index, t, fr.comparison.score, pose, self._phase == CoachPhase.HOLDING)
        self._compose(t, fr)
        self._report.set_hold(self.index, self._hold)
        if self._phase == CoachPhase.HOLDING and self._hold >= self._target.hold_s:
            self._hold_reached(t)
        return self._state(t, fr.comparison, pose)

    def _hold_reached(self, t: float) -> None:
        """The hold time is reached. "Hold it" was shown for ``min_show_s`` → COMPLETE now; otherwise it stays on
        screen (the timer full, the pose no longer judged: the hold is done) until it has been shown that long
        (a hold shorter than ``dwell_s + min_show_s`` would otherwise flash "Hold it" or skip it)."""
        self._hold = float(self._target.hold_s)
        self._report.set_hold(self.index, self._hold)
        if t - self._message_t >= self.min_show_s:
            self._complete(t)
        else:
            self._hold_done = True

    def _inactivity(self, t: float, raw: CoachPhase) -> None:
        if raw != CoachPhase.NO_PERSON:
            self._absent_since = None
            return
        if self._absent_since is None:
            self._absent_since = t
        elif t - self._absent_since >= self.inactivity_reset_s and (self._hold > 0 or self._instruction):
            self._hold, self._instruction = 0.0, None
            self._report.event(self.index, t, "inactivity reset: hold timer back to 0")

    def _switch_phase(self, t: float, raw: CoachPhase, dt: float) -> None:
        if self._phase == CoachPhase.HOLDING:
            self._hold += dt
        if raw == self._phase:
            self._pending = None
            return
        if self._pending != raw:
            self._pending, self._pending_since = raw, t - dt / 2.0 if self._phase is not None else t
        ready = self._phase is None or (t - self._pending_since >= self.dwell_s
                                        and t - self._phase_since >= self.min_show_s)
        if not ready:
            return
        back = max(0.0, t - self._pending_since)
        if raw == CoachPhase.HOLDING:
            self._hold += back
        elif self._phase == CoachPhase.HOLDING:
            self._hold = max(0.0, self._hold - back)
        self._report.event(self.index, t, f"phase {raw.value}")
        self._phase, self._phase_since, self._pending = raw, t, None

    # ------------------------------------------------------------------ messages
    def _compose(self, t: float, fr: _Frame) -> None:
        ph = self._phase
        if ph == CoachPhase.HOLDING:
            self._instruction = None
            self._set_message(t, HOLD_TEXT)
        elif ph in PROBLEMS:
            self._instruction = None
            self._set_message(t, fr.message if fr.phase == ph else self._message or MESSAGES.get(ph, ""))
        elif ph == CoachPhase.ADJUSTING:
            c = fr.comparison if fr.phase in (CoachPhase.ADJUSTING, CoachPhase.HOLDING) else None
            if c is not None:
                self._choose_instruction(t, c)
            if self._instruction is not None:
                self._set_message(t, self._instruction.text)
            elif not self._message or self._message == HOLD_TEXT:
                self._set_message(t, "Checking your pose")

    def _choose_instruction(self, t: float, c: Comparison) -> None:
        """Keep the current step while its joints are off; replace it (no sooner than the cooldown) when it is
        done, when its words changed for the same joints ("both arms" → "right arm"), or when a step at least
        ``upgrade_factor`` × as important appeared."""
        cur = self._instruction
        cur_j = tuple(self._anat(j) for j in cur.joints) if cur is not None else ()
        cur_off = any(self._off[j] for j in cur_j)
        if not (cur is None or self._message == HOLD_TEXT or t - self._message_t >= self.cooldown_s):
            return
        new = rule_instruction(c, self._off, self.tolerances, t)
        if new is None or (cur is not None and cur_off and new.key == cur.key):
            return
        if cur_off and not set(new.joints) & set(cur_j):
            imp = c.weights * (c.deviation_deg - self.tolerances)
            if max(imp[j] for j in new.joints) < self.upgrade_factor * max(imp[j] for j in cur_j):
                return
        if self.learned is not None and self._live_anat is not None:
            got = self._await_learned(t, new) if self.learned_async else self._maybe_learned(new)
            if got is None:
                return  # the learned proposal is still being made: the current message stays meanwhile
            new = got
        if self.mirror:
            new = replace(new, joints=tuple(int(sk.MIRROR[j]) for j in new.joints))
        self._instruction = new
        self._report.instruct(self.index, new)

    def _maybe_learned(self, ins: Instruction) -> Instruction:
        """The learned step for ``ins`` (synchronously), or ``ins`` itself."""
        assert self.learned is not None and self._live_anat is not None
        try:
            got, _info = self.learned.propose(self._live_anat, self._tpose, ins,
                                              require_judge=self.corrector == "auto")
        except Exception:  # noqa: BLE001 - the rule step is always there to fall back on
            return ins
        return ins if got is None else got

    def _await_learned(self, t: float, rule: Instruction) -> Instruction | None:
        """Asynchronous proposals (``learned_async``): start one in the worker thread for ``rule``; the step is
        issued when it is ready (learned or rule words), or as ``rule`` after ``learned_wait_s``."""
        job = self._learned_job
        if job is not None and job[1].key == rule.key:
            fut, _, t0 = job
            if fut.done():
                self._learned_job = None
                return replace(fut.result(), issued_at=t)
            if t - t0 >= self.learned_wait_s:
                self._learned_job = None
                return rule
            return None
        self._learned_job = (_worker().submit(self._maybe_learned, rule), rule, t)
        return None

    def _anat(self, j: int) -> int:
        """A joint index in the caller's frame → the anatomical frame the comparison uses (and back)."""
        return int(sk.MIRROR[j]) if self.mirror else int(j)

    def _set_message(self, t: float, text: str) -> None:
        if text != self._message:
            self._message, self._message_t = text, t

    def _complete(self, t: float) -> None:
        self._hold_done = False
        self._report.complete(self.index, t, self._hold)
        self._complete_t = t
        self._phase, self._phase_since = CoachPhase.COMPLETE, t
        nxt = self.index + 1
        self._instruction = None
        self._set_message(t, "Well done!" + (f" Next: {self.routine.targets[nxt].name}"
                                             if nxt < len(self.routine.targets) else ""))

    # ------------------------------------------------------------------ output
    def _speak(self, t: float) -> bool:
        if not self._message or self._message == self._spoken_text or t - self._spoken_t < self.cooldown_s:
            return False
        self._spoken_text, self._spoken_t = self._message, t
        return True

    def _state(self, t: float, c: Comparison | None, pose: Pose | None) -> CoachState:
        status = np.zeros(N, np.int8)
        dev = np.zeros(N, np.float32)
        aligned = self._tpose
        if c is not None:
            status[self._off] = 1
            status[~c.seen] = 2
            dev = c.deviation_deg.astype(np.float32)
            aligned = c.aligned_target
        if self.mirror:
            status, dev = status[sk.MIRROR], dev[sk.MIRROR]
            aligned = mirror(aligned)
        phase = self._phase or CoachPhase.NO_PERSON
        reason = None
        if phase == CoachPhase.ADJUSTING:
            ins = self._instruction
            reason = "paused: " + (f"{ins.text[0].lower()}{ins.text[1:]} first" if ins else "not within tolerance")
        elif phase in BLOCKED:
            reason = BLOCKED[phase]
        score = None if c is None or phase in PROBLEMS else c.score
        return CoachState(t, phase, score, self._message, self._instruction, status, dev, self._hold,
                          float(self._target.hold_s), reason, min(self.index, len(self.routine.targets) - 1),
                          self._target.name, pose, aligned, self._speak(t), self._source)
