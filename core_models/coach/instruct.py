"""One short correction at a time: which joint to fix first, and the words (part + side + direction).

**Rules** (:func:`rule_instruction`, ``source="rules"``): among the joints the coach may correct
(:data:`~core_models.coach.compare.COACHED`) that are seen and beyond tolerance, the one with the largest
weight × (deviation − tolerance) comes first. Its body part decides the geometry of the words, measured in the
body's own frame after heading removal (x = the person's left, y up, z the way the chest faces):

* knees / elbows: the change of the joint angle → "Bend your left knee more" / "Straighten your right elbow";
* hips / shoulders: the change of the thigh / upper-arm direction (the arm in the trunk's frame): raise / lower
  when at least half of the angle is elevation, else its larger horizontal component (forward / back, out to the
  side / in) → "Raise your right arm", "Move your left leg back", "Open your left arm out to the side";
* spine / pelvis: the trunk line pelvis → neck → "Lean your upper body forward", "Straighten up: lean back";
* neck / head: the facing direction (turn, chin up/down) → "Turn your head to the left", "Lift your chin".

When the other side's joint is off the same way too (beyond its tolerance and by at least half as much), the step
names both ("Raise both arms"). Sides are always
the person's own: "left" is the user's left hand side, whatever the camera or the screen shows.

**Learned** (:class:`LearnedCoach`, ``source="learned"``): the trained corrector's text for (live, target),
cut to its first step (≤ 12 words, never a repeated step), is used instead of the rule step when it names the
same part, side and direction and the independent judge scores it at least as well as the rule text (cosine of
text and pose-pair embeddings, and above :data:`JUDGE_MIN`); otherwise the rule step is used.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any
from dataclasses import dataclass, replace

import numpy as np

from core_models import skeleton as sk
from core_models.coach.compare import COACHED, Comparison

log = logging.getLogger(__name__)
J = sk.JOINT_INDEX
MAX_WORDS = 12
JUDGE_MIN = 0.35


@dataclass
class Instruction:
    text: str
    part: str                 # knee | elbow | leg | arm | torso | head
    side: str | None          # "left" | "right" | "both" | None (torso, head) — the person's own side
    direction: str            # bend | straighten | raise | lower | forward | back | out | in | left | right | up | down
    source: str               # "rules" | "learned"
    joints: tuple[int, ...]   # the joints the step is about (in the caller's frame, see CoachEngine)
    issued_at: float = 0.0

    @property
    def key(self) -> tuple:
        return (self.part, self.side, self.direction)


_TORSO = (J["pelvis"], J["spine1"], J["spine2"], J["spine3"])
_HEAD = (J["neck"], J["head"])


def _side_of(j: int) -> str | None:
    n = sk.JOINT_NAMES[j]
    return "left" if n.startswith("left_") else "right" if n.startswith("right_") else None


def _group(j: int) -> str:
    n = sk.JOINT_NAMES[j].split("_")[-1]
    return {"knee": "knee", "elbow": "elbow", "hip": "leg", "shoulder": "arm"}.get(n, "torso" if j in _TORSO
                                                                                      else "head")


def _limb_direction(live: np.ndarray, target: np.ndarray, side: str) -> str:
    """Raise / lower when at least half of the angle between the two directions is a change of elevation, else
    the larger horizontal component: forward / back, out (away from the body's midline) / in."""
    total = float(np.degrees(np.arccos(np.clip(np.dot(live, target), -1.0, 1.0))))
    d_elev = float(np.degrees(np.arcsin(np.clip(target[1], -1, 1)) - np.arcsin(np.clip(live[1], -1, 1))))
    if abs(d_elev) >= 0.5 * total:
        return "raise" if d_elev > 0 else "lower"
    d = target - live
    out = d[0] if side == "left" else -d[0]
    comps = {"forward": d[2], "back": -d[2], "out": out, "in": -out}
    return max(comps, key=lambda k: comps[k])


def _direction(c: Comparison, j: int) -> str:
    g = _group(j)
    lv, tg = c.live, c.target
    if g in ("knee", "elbow"):
        return "bend" if tg.flex[j] > lv.flex[j] else "straighten"
    if g in ("leg", "arm"):
        return _limb_direction(lv.dirs[j], tg.dirs[j], _side_of(j) or "left")
    if g == "torso":
        tl = lv.joints[J["neck"]] - lv.joints[J["pelvis"]]
        tt = tg.joints[J["neck"]] - tg.joints[J["pelvis"]]
        d = tt / np.linalg.norm(tt) - tl / np.linalg.norm(tl)
        if abs(d[2]) >= abs(d[0]):
            return "forward" if d[2] > 0 else "back"
        return "left" if d[0] > 0 else "right"
    fl, ft = lv.facing, tg.facing
    dyaw = np.degrees(np.arctan2(ft[0], ft[2]) - np.arctan2(fl[0], fl[2]))
    dyaw = (dyaw + 180.0) % 360.0 - 180.0
    dpitch = np.degrees(np.arcsin(np.clip(ft[1], -1, 1)) - np.arcsin(np.clip(fl[1], -1, 1)))
    if abs(dyaw) >= abs(dpitch):
        return "left" if dyaw > 0 else "right"
    return "up" if dpitch > 0 else "down"  # the face should point higher: chin up


_LIMB_TEXT = {
    "raise": "Raise {your} {part}", "lower": "Lower {your} {part}", "forward": "Move {your} {part} forward",
    "back": "Move {your} {part} back", "out": "Open {your} {part} out to the side",
    "in": "Bring {your} {part} closer to your body",
}
_TORSO_TEXT = {"forward": "Lean your upper body forward", "back": "Straighten up: bring your chest back",
               "left": "Lean your upper body to your left", "right": "Lean your upper body to your right"}
_HEAD_TEXT = {"left": "Turn your head to your left", "right": "Turn your head to your right",
              "up": "Lift your chin", "down": "Lower your chin"}


def instruction_text(part: str, side: str | None, direction: str, amount: float = 1.0) -> str:
    """The words for one step; ``amount`` = deviation / tolerance (≤ 1.5 says "a little")."""
    a_little = amount <= 1.5
    if part == "torso":
        return _TORSO_TEXT[direction] + (" a little" if a_little and direction != "back" else "")
    if part == "head":
        return _HEAD_TEXT[direction]
    your = "both" if side == "both" else f"your {side}"
    noun = part + ("s" if side == "both" else "")
    if part in ("knee", "elbow"):
        if direction == "bend":
            return f"Bend {your} {noun} " + ("a little more" if a_little else "more")
        return f"Straighten {your} {noun}" + (" a little" if a_little else "")
    limb = {"leg": "leg", "arm": "arm"}[part] + ("s" if side == "both" else "")
    return _LIMB_TEXT[direction].format(your=your, part=limb) + (" a little" if a_little else "")


def _candidates(c: Comparison, off: np.ndarray, tol: np.ndarray) -> list[tuple[float, int]]:
    out = []
    for j in COACHED:
        if off[j] and c.seen[j]:
            out.append((float(c.weights[j]) * (float(c.deviation_deg[j]) - float(tol[j])), j))
    return sorted(out, reverse=True)


def rule_instruction(c: Comparison, off: np.ndarray, tol: float | np.ndarray, t: float = 0.0,
                     avoid: tuple | None = None) -> Instruction | None:
    """The most important step (None when no seen joint is beyond tolerance). ``avoid``: the key of a step just
    given and not followed — the next best one is preferred when it exists (no repeated step). ``tol``: degrees,
    one for all joints or (22,) per joint."""
    tol = np.broadcast_to(np.asarray(tol, np.float32), (len(off),))
    cands = _candidates(c, off, tol)
    chosen: Instruction | None = None
    for _, j in cands:
        ins = _make(c, off, j, tol, t)
        if avoid is None or ins.key != avoid:
            return ins
        chosen = chosen or ins
    return chosen


def _make(c: Comparison, off: np.ndarray, j: int, tol: np.ndarray, t: float) -> Instruction:
    part, side, direction = _group(j), _side_of(j), _direction(c, j)
    joints: tuple[int, ...] = (j,)
    if side is not None:
        m = int(sk.MIRROR[j])
        if off[m] and c.seen[m] and c.deviation_deg[m] > max(float(tol[m]), 0.5 * float(c.deviation_deg[j])) \
                and _direction(c, m) == direction:
            side, joints = "both", (j, m)
    elif part == "torso":
        joints = tuple(x for x in _TORSO if c.seen[x])
    else:
        joints = tuple(x for x in _HEAD if c.seen[x])
    amount = float(c.deviation_deg[j]) / max(float(tol[j]), 1e-6)
    return Instruction(instruction_text(part, side, direction, amount), part, side, direction, "rules", joints, t)


# --------------------------------------------------------------------------------------------------------------
# learned corrector + judge
# --------------------------------------------------------------------------------------------------------------

_PART_WORDS = {"knee": "knee", "knees": "knee", "elbow": "elbow", "elbows": "elbow", "leg": "leg", "legs": "leg",
               "thigh": "leg", "foot": "leg", "feet": "leg", "arm": "arm", "arms": "arm", "hand": "arm",
               "hands": "arm", "torso": "torso", "back": "torso", "chest": "torso", "body": "torso",
               "head": "head", "chin": "head"}
_DIR_WORDS = [("straighten", "straighten"), ("bend", "bend"), ("raise", "raise"), ("lift", "raise"),
              ("lower", "lower"), ("drop", "lower"), ("forward", "forward"), ("backward", "back"),
              ("back", "back"), ("apart", "out"), ("out", "out"), ("closer", "in"), ("together", "in")]


def first_step(text: str) -> str:
    """The first step of a (possibly long) correction text, ≤ :data:`MAX_WORDS` words."""
    parts = [p.strip() for p in re.split(r"[.;,!]| and | then ", text) if p.strip()]
    step = parts[0] if parts else ""
    words = step.split()
    return " ".join(words[:MAX_WORDS])


def parse_step(text: str) -> tuple[str, str | None, str] | None:
    """(part, side, direction) named by a step, or None when it cannot be read."""
    words = re.findall(r"[a-z]+", text.lower())
    side = "both" if "both" in words else "left" if "left" in words else "right" if "right" in words else None
    part = next((_PART_WORDS[w] for w in words if w in _PART_WORDS and not (w == "back" and words[0] != w)), None)
    direction = next((d for w, d in _DIR_WORDS if w in words), None)
    if part is None or direction is None:
        return None
    return part, side, direction


_MODELS: dict[str, tuple[Any, Any]] = {}
_MODELS_LOCK = threading.Lock()


def _shared_models(device: str | None) -> tuple[Any, Any]:
    """The corrector and the judge, loaded once per process and device (every engine shares them)."""
    with _MODELS_LOCK:
        key = str(device)
        if key not in _MODELS:
            from core_models.nets.corrector import load_corrector
            from core_models.nets.judge import load_judge

            _MODELS[key] = (load_corrector(device=device), load_judge(device=device))
        return _MODELS[key]


class LearnedCoach:
    """Loads the corrector and the judge on first use (a failure is remembered in ``error``, never raised)."""

    def __init__(self, device: str | None = None):
        self.device = device
        self.error: str | None = None
        self._corrector: Any = None
        self._judge: Any = None
        self._lock = threading.Lock()

    def _load(self) -> bool:
        with self._lock:
            if self._corrector is not None or self.error is not None:
                return self.error is None
            try:
                self._corrector, self._judge = _shared_models(self.device)
            except Exception as e:  # noqa: BLE001 - missing weights: the rules take over, the reason is kept
                self.error = f"{type(e).__name__}: {e}"
                log.warning("coach: learned corrector unavailable (%s); using the rules", self.error)
            return self.error is None

    def propose(self, live, target, rule: Instruction, require_judge: bool = True) -> tuple[Instruction | None, dict]:
        """The learned step when it agrees with ``rule`` (part, side, direction) and — with ``require_judge`` — the
        judge scores it at least as well as the rule words and above :data:`JUDGE_MIN`; also the evidence."""
        if not self._load():
            return None, {"error": self.error}
        import torch

        text = self._corrector.generate(live, target)
        step = first_step(text if isinstance(text, str) else text[0])
        parsed = parse_step(step)
        emb_t = self._judge.embed_texts([step, rule.text])
        emb_p = self._judge.embed_pairs(live[None], target[None])
        cos = torch.nn.functional.cosine_similarity(emb_t, emb_p.expand_as(emb_t), dim=-1).tolist()
        info = {"learned": step, "parsed": parsed, "judge_learned": cos[0], "judge_rules": cos[1]}
        agrees = parsed is not None and parsed[0] == rule.part and parsed[2] == rule.direction and \
            (parsed[1] == rule.side or rule.side is None)
        confident = cos[0] >= max(JUDGE_MIN, cos[1]) or not require_judge
        if agrees and confident and len(step.split()) >= 2:
            return replace(rule, text=step[:1].upper() + step[1:], source="learned"), info
        return None, info
