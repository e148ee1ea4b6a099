"""Apply a human-written instruction through the learned editor, clause by clause.

``edit_sentence(editor, pose, text)`` parses the sentence (:mod:`core_models.text.parse`), rewrites every
understood clause into the editor's trained vocabulary, and composes the clause effects. Strategies:

* ``whole``   — the raw sentence to the editor at once (what the app did before);
* ``rewrite`` — the normalised rewrites joined into one text, one editor call; held parts reset;
* ``clauses`` — (default) one editor step per clause action; each step may move only the joints of the part
  its clause names; steps on different parts run as one batched call; each step's size is set from the
  asked magnitude ("about 6 inches", "45 degrees", "slightly") by measuring what the editor did and scaling
  the joint rotations (slerp); a step that moved the wrong way is dropped and reported; held parts
  ("keep your right leg where it is") end exactly at the start pose.

The editor is duck-typed: ``edit(pose, text, n_samples=0, hold=...)`` is required; ``predict_normalized``
(batched) and ``check_text`` are used when present.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from core_models import skeleton as sk
from core_models.pose import (
    Pose,
    aa_to_matrix_np,
    clamp_to_limits,
    matrix_to_aa,
    matrix_to_aa_np,
    mirror,
)
from core_models.posing.ik import two_bone_ik
from core_models.text.measures import PoseFrame, heading_np, measure, rot_y_matrix
from core_models.text.parse import LIMB, Action, Clause, ParsedSentence, parse_sentence

DEFAULT_STRATEGY = "clauses"
STRATEGIES = ("whole", "clauses", "rewrite")
#: default change per measure when the sentence gives no number (normal size); slight ×0.3, large ×1.8
DEFAULT_SIZE = {"flexion": 35.0, "height": 0.20, "forward": 0.20, "sideways": 0.15, "turn": 35.0}
_DEGREE_SCALE = {"slight": 0.3, "normal": 1.0, "large": 1.8}
_UNIT_OF = {"flexion": "deg", "turn": "deg", "height": "m", "forward": "m", "sideways": "m"}
MAX_SCALE = 2.5
#: "above your head": the wrist ends this far above the head joint
ABOVE_HEAD_M = 0.12
_J = sk.JOINT_INDEX


@dataclass
class Step:
    """One editor call's worth of work: a rewritten text, the joints it may move, the measured target."""
    clause: Clause
    action: Action
    sides: tuple[str, ...]
    text: str
    joints: list[int]
    targets: list[tuple[str, str, int]] = field(default_factory=list)  # (measure part, kind, direction)
    size: float = 0.0


@dataclass
class SentenceEdit:
    pose: Pose
    understood: list[dict]
    unused: list[dict]
    refused: bool
    notice: str | None
    strategy: str
    texts: list[str] = field(default_factory=list)
    #: alternatives (n,) around ``pose`` (see :func:`alternatives`); empty unless asked for
    samples: Pose | None = None


# --- rewriting -----------------------------------------------------------------------------------------

_NOUN = {"arm": "hand", "hand": "hand", "elbow": "hand", "leg": "foot", "knee": "knee", "foot": "foot"}
_PLURAL = {"hand": "hands", "foot": "feet", "knee": "knees", "elbow": "elbows", "leg": "legs", "arm": "arms"}
_MOD = {"slight": " slightly", "normal": "", "large": ""}  # size comes from the scaling; "a lot" weakened some edits


def _whose(sides: tuple[str, ...], noun: str) -> str:
    return f"both {_PLURAL[noun]}" if len(sides) == 2 else f"your {sides[0]} {noun}"


def _lr(direction: int) -> str:
    return "left" if direction > 0 else "right"


def rewrite(part: str, sides: tuple[str, ...], action: Action, degree: str = "normal") -> str:
    """The editor-vocabulary text for one action ("move your left foot away from your body")."""
    mod, k, d = _MOD[degree], action.kind, action.direction
    if part == "head":
        if k == "turn":
            return f"turn your head{mod} to the {_lr(d)}"
        if k == "tilt":
            return f"tilt your head{mod} to the {_lr(d)}"
        return f"lower your chin{mod}" if d > 0 else f"lift your chin{mod}"
    if part == "torso":
        if k == "turn":
            return f"twist your torso{mod} to the {_lr(d)}"
        if k == "sideways":
            return f"lean{mod} to the {_lr(d)}"
        return f"lean forward{mod}" if d > 0 else f"lean back{mod}"
    if k == "flexion":
        joint = "elbow" if LIMB[part] == "arm" else "knee"
        limb = LIMB[part]
        return f"bend {_whose(sides, joint)}{mod}" if d > 0 else f"straighten {_whose(sides, limb)}{mod}"
    noun = _NOUN[part] if not (k != "height" and part == "knee") else "foot"
    subject = _whose(sides, noun)
    if k == "height":
        return f"raise {subject}{mod}" if d > 0 else f"lower {subject}{mod}"
    if k == "forward":
        return f"move {subject}{mod} forward" if d > 0 else f"move {subject}{mod} back"
    if len(sides) == 2:
        return f"move your {_PLURAL[noun]} apart"
    return f"move {subject}{mod} away from your body"


# --- steps ---------------------------------------------------------------------------------------------

def _measure_part(part: str, kind: str, side: str | None) -> str:
    if part in ("head", "torso"):
        return part
    limb = LIMB[part]
    if kind == "flexion":
        return f"{side}_{'elbow' if limb == 'arm' else 'knee'}"
    if part == "knee" and kind == "height":
        return f"{side}_knee"
    return f"{side}_{'wrist' if limb == 'arm' else 'ankle'}"


def _joints(part: str, sides: tuple[str, ...]) -> list[int]:
    if part == "torso":
        return [0, _J["spine1"], _J["spine2"], _J["spine3"]]
    if part == "head":
        return [_J["neck"], _J["head"]]
    return [j for s in sides for j in sk.BODY_PARTS[f"{s}_{LIMB[part]}"]]


def resolve_relative_sides(clause: Clause, start: PoseFrame) -> None:
    """'front' / 'back' / 'standing' leg → left or right from the start pose (front: the ankle further
    forward; standing: the lower ankle)."""
    if clause.relative is None:
        return
    kind = "height" if clause.relative == "standing" else "forward"
    left, right = (measure(start, f"{s}_ankle", kind) for s in ("left", "right"))
    pick_left = left < right if clause.relative in ("back", "standing") else left > right
    clause.sides = ("left",) if pick_left else ("right",)


def _target(step: Step, clause: Clause, start: PoseFrame) -> float:
    """Signed-change size this step should reach (metres / degrees)."""
    kind = step.action.kind
    size = DEFAULT_SIZE.get(kind, 0.0) * _DEGREE_SCALE[clause.degree]
    if clause.goal == "above_head" and kind == "height":  # the hand(s) end a hand's width above the head
        now = float(np.mean([measure(start, p, k) for p, k, _ in step.targets]))
        return max(measure(start, "head", "height") + ABOVE_HEAD_M - now, size)
    if clause.amount is None or clause.unit != _UNIT_OF.get(kind):
        return size
    if not clause.absolute:
        return float(clause.amount)
    now = float(np.mean([d * measure(start, p, k) for p, k, d in step.targets]))
    wanted = float(clause.amount) - now if kind != "turn" else abs(now)
    return wanted if wanted > 0 else size


def build_steps(parsed: ParsedSentence, start: PoseFrame) -> tuple[list[Step], list[Clause]]:
    """Steps for every action of the understood clauses, plus the clauses dropped here (with a reason)."""
    steps, dropped = [], []
    for c in parsed.actions:
        resolve_relative_sides(c, start)
        for a in c.actions:
            if a.kind == "turn" and c.absolute:  # "look straight ahead": back to 0
                now = measure(start, "head", "turn")
                if abs(now) < 5.0:
                    continue
                a = Action("turn", -1 if now > 0 else 1)
            sides = c.sides or (None,)
            dirs = [a.direction if a.direction else (1 if s == "left" else -1) for s in sides]
            st = Step(c, a, c.sides, rewrite(str(c.part), c.sides, a, c.degree), _joints(str(c.part), c.sides))
            if a.kind != "tilt":
                st.targets = [(_measure_part(str(c.part), a.kind, s), a.kind, d) for s, d in zip(sides, dirs)]
                st.size = _target(st, c, start)
            steps.append(st)
        if not c.actions:
            dropped.append(c)
    return steps, dropped


# --- running the editor --------------------------------------------------------------------------------

def predict_many(editor, poses: list[Pose], texts: list[str], hold: bool = True, keep_global: bool = True) -> Pose:
    """The editor's mean edit of ``poses[i]`` for ``texts[i]`` as one batched Pose (n,), through
    ``predict_normalized`` when the editor has it (heading kept unless ``keep_global`` is False, like
    ``Editor.edit``), else one ``edit`` call per text."""
    if not hasattr(editor, "predict_normalized"):
        return Pose.stack([editor.edit(p, t, n_samples=0, hold=hold, keep_global=keep_global).mean
                           for p, t in zip(poses, texts)])
    import torch

    R = aa_to_matrix_np(np.stack([p.full() for p in poses]))  # (B,22,3,3): heading handled on matrices,
    heading = heading_np(R[:, 0])                               # one conversion in, one out (numpy)
    R[:, 0] = rot_y_matrix(-heading) @ R[:, 0]
    plain = {"realise": False} if hasattr(editor, "honour") else {}  # the sentence is honoured once, at the end
    mean, _ = editor.predict_normalized(torch.as_tensor(R, dtype=torch.float32), texts, 0, hold=hold, **plain)
    M = mean.detach().cpu().numpy().astype(np.float64)
    if keep_global:  # drop the heading change the model predicted
        M[:, 0] = rot_y_matrix(-heading_np(M[:, 0])) @ M[:, 0]
    M[:, 0] = rot_y_matrix(heading) @ M[:, 0]
    return Pose.from_full(matrix_to_aa_np(M).astype(np.float32), np.stack([p.transl for p in poses]))


_SWAP = re.compile(r"\b(left|right)\b")


def swap_sides(text: str) -> str:
    return _SWAP.sub(lambda m: "right" if m.group(1) == "left" else "left", text)


def _with_joints(base: Pose, src: Pose, joints: list[int]) -> Pose:
    full = base.full().copy()
    full[joints] = src.full()[joints]
    out = Pose.from_full(full, base.transl.copy())
    out.hand_pose = base.hand_pose
    return out


def _masked(cur: Pose, src: Pose, joint_sets: list[list[int]]) -> Pose:
    """Batched: row i = ``cur`` with the joints ``joint_sets[i]`` taken from ``src[i]``."""
    full = np.repeat(cur.full()[None], len(joint_sets), 0)
    for i, js in enumerate(joint_sets):
        full[i, js] = src.full()[i, js]
    return Pose.from_full(full, np.repeat(cur.transl[None], len(joint_sets), 0))


def _signed(fa: PoseFrame, fb: PoseFrame, step: Step) -> np.ndarray:
    """Signed measured change (asked direction positive) of ``step`` for every pose of the batched ``fb``."""
    return np.mean([d * (np.asarray(measure(fb, p, k)) - measure(fa, p, k)) for p, k, d in step.targets], axis=0)


#: scale factors tried for every step at once (slerp from the current pose; > 1 extrapolates)
T_GRID = np.array([0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.25, 1.5, 1.8, 2.1, MAX_SCALE])


def _pick_scale(got: np.ndarray, step: Step) -> int:
    """Index in T_GRID: the smallest factor whose measured change reaches ``step.size`` (the measures are not
    linear in the rotation, and a far extrapolation can wrap an angle around), else the one that moved most.
    Factors below 1 only when the sentence asked for an amount or for a slight change."""
    may_shrink = step.clause.amount is not None or step.clause.degree == "slight"
    allowed = np.flatnonzero((T_GRID >= 1.0) | may_shrink)
    enough = [k for k in allowed if got[k] >= 0.9 * step.size]
    return int(enough[0]) if enough else int(allowed[np.argmax(got[allowed])])


def slerp_grid(cur: Pose, picks: Pose, ts: np.ndarray) -> np.ndarray:
    """(T,S,22,3,3) rotations: every joint of ``picks[i]`` slerped from ``cur`` by each factor in ``ts`` (> 1
    extrapolates), along the shortest arc: R_cur · exp(t · log(R_cur^T R_pick)) (numpy: no per-call torch
    overhead on these small batches)."""
    Ra = aa_to_matrix_np(cur.full())
    w = matrix_to_aa_np(np.swapaxes(Ra, -1, -2)[None] @ aa_to_matrix_np(picks.full()))  # (S,22,3)
    return Ra[None, None] @ aa_to_matrix_np(np.asarray(ts, np.float64)[:, None, None, None] * w[None])


def scale_steps(cur: Pose, fa: PoseFrame, picks: Pose, steps: list[Step]) -> Pose:
    """Per step, ``picks[i]`` slerped from ``cur`` by the T_GRID factor whose measured change best matches
    the step's size (all steps × factors in one batch), then clamped to the joint limits."""
    R = slerp_grid(cur, picks, T_GRID)
    T, S = R.shape[:2]
    grid = PoseFrame.from_matrices(R.reshape(T * S, 22, 3, 3))
    one = int(np.flatnonzero(T_GRID == 1.0)[0])
    ks = [_pick_scale(_signed(fa, grid, st)[i::S], st) if st.targets else one for i, st in enumerate(steps)]
    if all(k == one for k in ks):
        return picks
    full = matrix_to_aa_np(np.stack([R[k, i] for i, k in enumerate(ks)])).astype(np.float32)
    clamped = clamp_to_limits(Pose.from_full(full, picks.transl))
    return Pose.stack([clamped[i] if k != one else picks[i] for i, k in enumerate(ks)])


def schedule(steps: list[Step], separate: bool = False) -> list[list[Step]]:
    """Rounds of steps whose joint sets do not overlap (sentence order kept for steps on the same part)."""
    rounds: list[list[Step]] = []
    used: list[set[int]] = []
    last_round: dict[int, int] = {}
    for st in steps:
        js = set(st.joints)
        earliest = max((last_round[j] + 1 for j in js if j in last_round), default=0)
        r = len(rounds) if separate else next((i for i in range(earliest, len(rounds)) if not used[i] & js),
                                              len(rounds))
        if r == len(rounds):
            rounds.append([])
            used.append(set())
        rounds[r].append(st)
        used[r] |= js
        for j in js:
            last_round[j] = r
    return rounds


def _choose(fa: PoseFrame, cands: Pose, rnd: list[Step]) -> tuple[list[int], list[Step]]:
    """Per step the index in ``cands`` (direct i or mirrored S+i) that moved the measure further the asked
    way, and the steps where neither moved it the asked way."""
    S, frames = len(rnd), PoseFrame(cands)
    idx, failed = [], []
    for i, st in enumerate(rnd):
        if not st.targets:
            idx.append(i)
            continue
        g = _signed(fa, frames, st)
        j = i if g[i] >= g[S + i] else S + i
        if g[j] <= 0.05 * st.size:
            failed.append(st)
        idx.append(j)
    return idx, failed


#: measures that a two-bone IK can complete: the end joint of a limb moved along one axis of the body's frame
_REACH_KINDS = ("height", "forward", "sideways")
_REACH_ENDS = ("_wrist", "_ankle")


def _reachable(step: Step) -> bool:
    return bool(step.targets) and all(k in _REACH_KINDS and p.endswith(_REACH_ENDS) for p, k, _ in step.targets)


def reach_steps(cur: Pose, fa: PoseFrame, steps: list[Step]) -> tuple[Pose, list[Step]]:
    """Complete the position steps the editor left short (a wrist / ankle height, forward or sideways offset
    below 90 % of the asked size, or moved the wrong way) with analytic two-bone IK on that limb: its end joint is
    moved the rest of the asked way along the measure's axis in the body's frame (only the limb's upper and middle
    joints change, inside the joint limits). A step that does not get a quarter of the asked way even so (an arm
    already hanging straight down asked to go lower) is left as it was and returned as unreached."""
    unreached = []
    for st in steps:
        if not _reachable(st):
            continue
        before = cur
        for part, kind, d in st.targets:
            fb = PoseFrame(cur)
            need = st.size - d * (measure(fb, part, kind) - measure(fa, part, kind))
            if need <= 0.1 * st.size:
                continue
            axis = {"height": np.array([0.0, 1.0, 0.0]), "forward": fb.fwd, "sideways": fb.left}[kind]
            target = fb.joints[_J[part]] + cur.transl + d * need * axis
            cur = two_bone_ik(cur, sk.DEFAULT_REST_JOINTS, part, target, limits=True)
        if cur is not before and float(_signed(fa, PoseFrame(cur), st)) < 0.25 * st.size:
            cur = before
            unreached.append(st)
    return cur, unreached


def run_steps(editor, start: Pose, steps: list[Step], hold: bool = True,
              keep_global: bool = True) -> tuple[Pose, list[Step]]:
    """Apply the steps round by round; returns the pose and the steps dropped (moved the wrong way).

    Each step is predicted twice in the same batch: as written and on the mirrored body with left/right
    swapped (mirrored back): the editor is not equally good on both sides; the better one is kept, then
    scaled to the asked size (:func:`scale_steps`)."""
    cur, failed = start, []
    all_joints = list(range(sk.NUM_JOINTS))
    for rnd in schedule(steps, separate=not hold):
        S = len(rnd)
        outs = predict_many(editor, [cur] * S + [mirror(cur)] * S,
                            [s.text for s in rnd] + [swap_sides(s.text) for s in rnd], hold=hold,
                            keep_global=keep_global)
        back = mirror(outs[S:])
        outs = Pose(np.concatenate([outs.root_orient[:S], back.root_orient]),
                    np.concatenate([outs.body_pose[:S], back.body_pose]), outs.transl)
        joints = [s.joints if hold else all_joints for s in rnd]
        fa = PoseFrame(cur)
        idx, bad = _choose(fa, _masked(cur, outs, joints + joints), rnd)
        failed += [st for st in bad if not (hold and _reachable(st))]
        unreached: list[Step] = []
        keep = [i for i, st in enumerate(rnd) if st not in bad]
        nxt = cur
        if keep:
            picks = _masked(cur, outs[np.array([idx[i] for i in keep])], [joints[i] for i in keep])
            scaled = scale_steps(cur, fa, picks, [rnd[i] for i in keep])
            for n, i in enumerate(keep):
                nxt = _with_joints(nxt, scaled[n], joints[i])
        cur, unreached = reach_steps(nxt, fa, rnd) if hold else (nxt, [])
        failed += [st for st in bad if st in unreached]
    if hold:  # later steps (a lean, a bend on the same limb) can take back part of an earlier reach
        cur, _ = reach_steps(cur, PoseFrame(start), [st for st in steps if st not in failed])
    return cur, failed


# --- the sentence --------------------------------------------------------------------------------------

def _part_keys(part: str | None, sides: tuple[str, ...]) -> set[str]:
    if part in ("head", "torso"):
        return {str(part)}
    return {f"{s}_{LIMB[part]}" for s in sides} if part in LIMB else set()


def apply_holds(pose: Pose, start: Pose, parsed: ParsedSentence, steps: list[Step]) -> tuple[Pose, list[Clause]]:
    """Held parts back to the start pose. A hold on a part that an action of the same sentence moves ("lift
    your leg and keep it straight") does not undo that action; those hold clauses are returned."""
    moved = set().union(*(_part_keys(s.clause.part, s.sides) for s in steps)) if steps else set()
    held: set[str] = set()
    overlapped = []
    for c in parsed.holds:
        parts = set(sk.BODY_PARTS) - moved if "rest" in c.held else set(c.held)
        if parts & moved:
            overlapped.append(c)
        held |= parts - moved
    joints = [j for p in held for j in (_joints("torso", ()) if p == "torso" else sk.BODY_PARTS[p])]
    return (_with_joints(pose, start, joints) if joints else pose), overlapped


def _describe(c: Clause, steps: list[Step]) -> dict:
    return {"text": c.text, "role": c.role, "part": c.part, "side": list(c.sides), "relative": c.relative,
            "actions": [{"measure": a.kind, "direction": a.direction} for a in c.actions],
            "amount": c.amount, "unit": c.unit, "absolute": c.absolute, "degree": c.degree, "held": c.held,
            "reference": c.reference, "ignored": c.ignored, "rewrite": [s.text for s in steps if s.clause is c],
            "goal": c.goal}


def _report(parsed: ParsedSentence, steps: list[Step], failed: list[Step], extra: list[Clause],
            notes: list[tuple[Clause, str]]) -> tuple[list[dict], list[dict]]:
    unused = [{"text": c.text, "reason": c.reason} for c in parsed.unused + extra]
    unused += [{"text": s.clause.text, "reason": f"the editor could not '{s.text}' from this pose"} for s in failed]
    unused += [{"text": c.text, "reason": why} for c, why in notes]
    understood = [_describe(c, steps) for c in parsed.clauses if c.role != "unused" and c not in extra]
    return understood, unused


def _dedupe(steps: list[Step]) -> list[Step]:
    seen, out = set(), []
    for s in steps:
        if s.text not in seen:
            seen.add(s.text)
            out.append(s)
    return out


def alternatives(editor, start: Pose, edited: Pose, texts: list[str], n: int, seed: int = 0, hold: bool = True,
                 keep_global: bool = True) -> Pose:
    """``n`` alternatives around ``edited``: the editor's samples for the rewritten instruction (one call),
    each applied as its rotation offset from the editor's mean (per joint, in the joint's frame) to the joints
    the composed edit moved; every other joint (held parts included) stays as in ``edited``."""
    if n <= 0:
        return Pose(np.zeros((0, 3), np.float32), np.zeros((0, 21, 3), np.float32))
    plain = {"realise": False} if hasattr(editor, "honour") else {}  # offsets from the editor's own mean
    res = editor.edit(start, ", ".join(texts), n_samples=n, hold=hold, keep_global=keep_global, seed=seed, **plain)
    moved = np.flatnonzero(np.abs(edited.full() - start.full()).max(-1) > 1e-6)
    full = np.repeat(edited.full()[None], n, 0)
    if len(moved) and res.notice is None and len(res.samples) == n:
        mean_R = res.mean.matrices()[moved]                              # (m,3,3)
        delta = np.swapaxes(mean_R, -1, -2)[None] @ res.samples.matrices()[:, moved]  # (n,m,3,3)
        full[:, moved] = matrix_to_aa((edited.matrices()[moved][None] @ delta).astype(np.float32))
    out = clamp_to_limits(Pose.from_full(full, np.repeat(edited.transl[None], n, 0)))
    out.hand_pose = None if edited.hand_pose is None else np.repeat(edited.hand_pose[None], n, 0)
    return out


def _compose(editor, pose: Pose, parsed: ParsedSentence, steps: list[Step], strategy: str, hold: bool,
             keep_global: bool) -> tuple[Pose, list[Step], list[str]]:
    if strategy == "rewrite":
        texts = [", ".join(s.text for s in steps)]
        return editor.edit(pose, texts[0], n_samples=0, hold=hold, keep_global=keep_global).mean, [], texts
    if strategy == "clauses":
        out, failed = run_steps(editor, pose, steps, hold, keep_global)
        return out, failed, [s.text for s in steps]
    raise ValueError(f"unknown strategy {strategy!r} (whole, rewrite, clauses)")


def edit_sentence(editor, pose: Pose, text: str, strategy: str = DEFAULT_STRATEGY, hold: bool = True,
                  n_samples: int = 0, keep_global: bool = True, seed: int = 0) -> SentenceEdit:
    """Edit ``pose`` as ``text`` asks (see the module docstring for the strategies). Returns the pose, the
    understood clauses (part, side, direction, amount, ignored words, rewrite), the clauses it could not
    use, each with a reason, and ``n_samples`` alternatives (:func:`alternatives`). ``keep_global`` False
    lets a torso step change the facing direction."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r} ({', '.join(STRATEGIES)})")
    parsed = parse_sentence(text)
    start_frame = PoseFrame(pose)
    steps, dropped = build_steps(parsed, start_frame)
    steps = _dedupe(steps)
    if strategy == "whole":
        res = editor.edit(pose, text, n_samples=n_samples, hold=hold, keep_global=keep_global, seed=seed)
        understood, unused = _report(parsed, steps, [], dropped, [])
        return SentenceEdit(res.mean, understood, unused, res.notice is not None, res.notice, strategy, [text],
                            res.samples if n_samples else None)
    if not steps:
        notice = parsed.notice or "Nothing in the instruction could be turned into a pose change: unchanged."
        understood, unused = _report(parsed, steps, [], dropped, [])
        same = Pose.stack([pose.copy()] * n_samples) if n_samples > 0 else None
        return SentenceEdit(pose.copy(), understood, unused, True, notice, strategy, [], same)
    out, failed, texts = _compose(editor, pose, parsed, steps, strategy, hold, keep_global)
    if strategy == "clauses" and hasattr(editor, "honour"):  # test-time compliance (nets/editor/realise.py):
        sized = [s.text for s in steps if s not in failed and s.clause.amount is None and s.clause.goal is None]
        out = editor.honour(pose, out, ", ".join(sized)) if sized else out  # steps without an asked amount
    out, overlapped = apply_holds(out, pose, parsed, steps)
    notes = [(c, "kept as the same sentence moves it") for c in overlapped]
    understood, unused = _report(parsed, steps, failed, dropped, notes)
    refused = len(failed) == len(steps)
    why = "The editor could not make any of the asked changes from this pose." if refused else None
    done = [s.text for s in steps if s not in failed]
    samples = alternatives(editor, pose, out, done, n_samples, seed, hold, keep_global) \
        if n_samples > 0 and done else (Pose.stack([out.copy()] * n_samples) if n_samples > 0 else None)
    return SentenceEdit(out, understood, unused, refused, why, strategy, texts, samples)


def all_rewrites() -> list[str]:
    """Every text :func:`rewrite` can produce (both sides, every measure, direction and size word)."""
    out = set()
    for part in ("arm", "hand", "elbow", "leg", "knee", "foot", "head", "torso"):
        side_sets: list[tuple[str, ...]] = [("left",), ("right",), ("left", "right")] if part in LIMB else [()]
        for sides in side_sets:
            for kind in ("flexion", "height", "forward", "sideways", "turn", "tilt"):
                for d in (1, -1, 0):
                    out |= {rewrite(part, sides, Action(kind, d), degree) for degree in _MOD}
    return sorted(out)


def warm_up(editor, batch: int = 16) -> int:
    """Run every possible rewrite (and its left/right swap) through the editor once so that their clause
    encodings are cached (an app can call this in the background after loading); returns how many texts."""
    texts = sorted(set(all_rewrites()) | {swap_sides(t) for t in all_rewrites()})
    pose = Pose.zeros()
    for i in range(0, len(texts), batch):
        chunk = texts[i:i + batch]
        predict_many(editor, [pose] * len(chunk), chunk)
    return len(texts)
