"""Pose pair A -> B: what must change to go from A to B (PoseFix-style comparative pipeline, own code).

*Paircodes* measure the same quantity on both poses and bin ``value = measure(A) - measure(B)`` (so a
negative value means B has more of it: straighter joint, higher point, larger distance, ...). On top:
super-paircodes ("straighten your left leg", "bring your hands together", ...), the change of global
heading ("turn a quarter to the left") and absolute statements about B taken from B's posecodes
("your left thigh should be horizontal").

Two entry points:

* :func:`modifier` — a varied, PoseFix-like imperative text for data generation (noise, random skipping,
  random templates; seeded);
* :func:`correct` — the app's rule-based coach: deterministic, ranked instructions with the body part,
  the joints to move and the size of the difference (yoga feedback fallback).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core_models import skeleton as sk
from core_models.captioning import describe as ds
from core_models.captioning import grammar as gr
from core_models.captioning import posecodes as pc
from core_models.captioning.features import EXT_INDEX, PoseFeatures, compute_features
from core_models.captioning.posecodes import CODES, OPERATORS, Operator
from core_models.captioning.textutil import agree, capitalize, join_list, tidy
from core_models.pose import Pose

PROP_SKIP_PAIRCODES = 0.15
PROP_SKIP_POSECODES = 0.33
PROP_AGGREGATION_HAPPENS = 0.95
NO_CHANGE_TEXT = "No change needed: the pose already matches the target."

# ------------------------------------------------------------------------------------------------------
# pair operators
# ------------------------------------------------------------------------------------------------------

PAIR_OPS: dict[str, Operator] = {o.name: o for o in [
    Operator("pair_angle", (-80, -45, -18, 18, 45, 80),
             ("much_less", "less", "slightly_less", "ignored", "slightly_more", "more", "much_more"), 5.0, "deg"),
    Operator("pair_distance", (-0.40, -0.10, 0.10, 0.40),
             ("farther", "slightly_farther", "ignored", "slightly_closer", "closer"), 0.05, "m"),
    Operator("pair_posX", (-0.40, -0.15, 0.15, 0.40),
             ("more_left", "slightly_left", "ignored", "slightly_right", "more_right"), 0.05, "m", lateral=True),
    Operator("pair_posY", (-0.40, -0.15, 0.15, 0.40),
             ("higher", "slightly_higher", "ignored", "slightly_lower", "lower"), 0.05, "m"),
    Operator("pair_posZ", (-0.40, -0.15, 0.15, 0.40),
             ("forward", "slightly_forward", "ignored", "slightly_back", "back"), 0.05, "m"),
    Operator("pair_inclineX", (-45, -20, 20, 45),
             ("more_forward", "slightly_forward", "ignored", "slightly_backward", "more_backward"), 5.0, "deg"),
    Operator("pair_inclineY", (-45, -20, 20, 45),
             ("more_right", "slightly_right", "ignored", "slightly_left", "more_left"), 5.0, "deg", lateral=True),
    Operator("pair_inclineZ", (-30, -15, 15, 30),
             ("more_left", "slightly_left", "ignored", "slightly_right", "more_right"), 5.0, "deg", lateral=True),
    Operator("pair_rotX", (-30, 30), ("down", "ignored", "up"), 5.0, "deg"),
    Operator("pair_rotY", (-30, -15, 15, 30),
             ("more_left", "slightly_left", "ignored", "slightly_right", "more_right"), 5.0, "deg", lateral=True),
    Operator("pair_rotZ", (-30, -15, 15, 30),
             ("more_right", "slightly_right", "ignored", "slightly_left", "more_left"), 5.0, "deg", lateral=True),
    # value = heading(B) - heading(A), positive = turn to the left
    Operator("rotation", (-150, -120, -60, -20, 20, 60, 120, 150),
             ("around", "around_right", "quarter_right", "slightly_right", "ignored", "slightly_left",
              "quarter_left", "around_left", "around"), 10.0, "deg", lateral=True),
]}

#: value size that counts as "one step" of change, for ranking instructions
_STEP = {"pair_angle": 18.0, "pair_distance": 0.10, "pair_posX": 0.15, "pair_posY": 0.15, "pair_posZ": 0.15,
         "pair_inclineX": 20.0, "pair_inclineY": 20.0, "pair_inclineZ": 15.0, "pair_rotX": 30.0,
         "pair_rotY": 15.0, "pair_rotZ": 15.0, "rotation": 20.0}
_WEIGHT = {"pair_angle": 1.0, "pair_distance": 0.5, "pair_posX": 0.6, "pair_posY": 1.0, "pair_posZ": 0.8,
           "pair_inclineX": 1.2, "pair_inclineY": 0.9, "pair_inclineZ": 1.0, "pair_rotX": 0.6,
           "pair_rotY": 0.7, "pair_rotZ": 0.6, "rotation": 0.9}


@dataclass
class PairSpec:
    op: str
    joints: tuple[str, ...]
    index: int = -1
    mirror: int = -1
    side: int = 0
    key: str = ""


def _pair_inventory() -> list[PairSpec]:
    P: list[PairSpec] = []
    for s in ("left", "right"):
        P.append(PairSpec("pair_angle", (f"{s}_hip", f"{s}_knee", f"{s}_ankle")))
    for s in ("left", "right"):
        P.append(PairSpec("pair_angle", (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist")))
    for j in ("elbow", "hand", "knee", "foot"):
        P.append(PairSpec("pair_distance", (f"left_{j}", f"right_{j}")))
    for j in ("elbow", "hand", "knee", "foot"):
        for s in ("left", "right"):
            P.append(PairSpec("pair_distance", (f"{s}_{j}", "torso")))
    for ax in "XYZ":
        joints = ("elbow", "hand", "knee", "foot") + (("shoulder",) if ax != "X" else ())
        for j in joints:
            for s in ("left", "right"):
                P.append(PairSpec(f"pair_pos{ax}", (f"{s}_{j}",)))
    wb = ("left_shoulder", "right_shoulder", "pelvis", "left_ankle", "right_ankle")
    for ax in "XYZ":
        P.append(PairSpec(f"pair_incline{ax}", wb))
    P.append(PairSpec("pair_rotX", ("neck", "head")))
    P.append(PairSpec("pair_rotY", ("pelvis", "head")))
    P.append(PairSpec("pair_rotZ", ("neck", "head")))
    P.append(PairSpec("rotation", ("pelvis",)))
    keys = {}
    for i, p in enumerate(P):
        p.index, p.key = i, pc.code_key(p.op, p.joints)
        keys[p.key] = i
    for p in P:
        mj = tuple(_swap(j) for j in p.joints)
        mk = pc.code_key(p.op, mj)
        p.mirror = keys.get(mk, p.index) if set(mj) != set(p.joints) else p.index
        if p.mirror != p.index:
            p.side = -1 if p.mirror > p.index else 1
    return P


def _swap(j: str) -> str:
    if j.startswith("left_"):
        return "right_" + j[5:]
    if j.startswith("right_"):
        return "left_" + j[6:]
    return j


PAIRS: list[PairSpec] = _pair_inventory()
PAIR_INDEX: dict[str, int] = {p.key: p.index for p in PAIRS}
NUM_PAIRS = len(PAIRS)


def pair(op: str, *joints: str) -> int:
    return PAIR_INDEX[pc.code_key(op, joints)]


_POS_OP = {"pair_angle": "angle", "pair_distance": "distance", "pair_inclineX": "bodyInclineX",
           "pair_inclineY": "bodyInclineY", "pair_inclineZ": "bodyInclineZ", "pair_rotX": "relativeRotX",
           "pair_rotY": "relativeRotY", "pair_rotZ": "relativeRotZ"}


def _measure_pairs(fa: PoseFeatures, fb: PoseFeatures) -> np.ndarray:
    out = np.empty((len(fa), NUM_PAIRS), dtype=np.float32)
    groups: dict[str, list[int]] = {}
    for p in PAIRS:
        groups.setdefault(p.op, []).append(p.index)
    for op, idx in groups.items():
        joints = np.array([[EXT_INDEX[j] for j in PAIRS[i].joints] for i in idx])
        if op in _POS_OP:
            va = pc.measure(_POS_OP[op], fa, joints)
            vb = pc.measure(_POS_OP[op], fb, joints)
            out[:, idx] = va - vb
        elif op.startswith("pair_pos"):
            ax = "XYZ".index(op[-1])
            out[:, idx] = fa.coords[:, joints[:, 0], ax] - fb.coords[:, joints[:, 0], ax]
        elif op == "rotation":
            d = np.degrees(fb.heading.astype(np.float64) - fa.heading.astype(np.float64))
            out[:, idx] = ((d + 180.0) % 360.0 - 180.0)[:, None]
    return out


@dataclass
class PaircodeSet:
    values: np.ndarray   # (N, P) measure(A) - measure(B) (rotation: heading(B) - heading(A)), noise-free
    cats: np.ndarray     # (N, P) int16
    a: pc.PosecodeSet
    b: pc.PosecodeSet

    def __len__(self) -> int:
        return self.cats.shape[0]

    def category(self, i: int, p: int) -> str:
        return PAIR_OPS[PAIRS[p].op].categories[int(self.cats[i, p])]


_PAIR_NOISE = np.array([PAIR_OPS[p.op].noise for p in PAIRS], dtype=np.float32)


def extract_pairs(pose_a: Pose, pose_b: Pose, rng: np.random.Generator | None = None,
                  rest_joints: np.ndarray | None = None) -> PaircodeSet:
    """Paircodes of N pairs (A[i] -> B[i]); single poses are treated as a batch of one."""
    fa = compute_features(pose_a, rest_joints)
    fb = compute_features(pose_b, rest_joints)
    values = _measure_pairs(fa, fb)
    noisy = values
    if rng is not None:
        noisy = values + rng.uniform(-1, 1, size=values.shape).astype(np.float32) * _PAIR_NOISE
    cats = np.empty(values.shape, dtype=np.int16)
    for p in PAIRS:
        cats[:, p.index] = PAIR_OPS[p.op].bin(noisy[:, p.index])
    return PaircodeSet(values, cats, pc.extract(fa, rng), pc.extract(fb, rng))


# ------------------------------------------------------------------------------------------------------
# changes (one per non-ignored paircode or produced super-paircode)
# ------------------------------------------------------------------------------------------------------

_LESS = ("much_less", "less", "slightly_less")
_MORE = ("slightly_more", "more", "much_more")


@dataclass
class Change:
    tid: str                      # template id
    subj: ds.Ent | None           # body part named in the instruction (None: the whole body)
    pairs: tuple[int, ...]        # paircodes it stands for
    importance: float
    magnitude: float
    unit: str
    body_part: str
    joints: tuple[int, ...]
    key: tuple                    # mirror-invariant order
    obj: ds.Ent | None = None
    extra: list = field(default_factory=list)  # shared-subject continuation (tid, obj)
    posecodes: tuple[str, ...] = ()  # contact changes: the posecode keys (of B's contacts) they stand for


_J = sk.JOINT_INDEX


def _limb_info(joint: str) -> tuple[str, tuple[int, ...]]:
    side, n = ds._noun_of(joint)
    if n in ("hand", "elbow", "wrist", "shoulder", "forearm", "upperarm"):
        part = f"{side}_arm"
        js = {"hand": ("shoulder", "elbow"), "elbow": ("shoulder",), "shoulder": ("collar",),
              "wrist": ("shoulder", "elbow")}.get(n, ("shoulder", "elbow"))
    else:
        part = f"{side}_leg"
        js = {"knee": ("hip",), "foot": ("hip", "knee"), "ankle": ("hip", "knee")}.get(n, ("hip", "knee"))
    return part, tuple(_J[f"{side}_{x}"] for x in js)


def _pair_meta(p: PairSpec) -> tuple[ds.Ent | None, str, tuple[int, ...]]:
    """(subject entity, body part, joints to move) for a paircode."""
    j = p.joints
    if p.op == "pair_angle":
        side, n = ds._noun_of(j[1])
        return ds.Ent(n, side), f"{side}_{'leg' if n == 'knee' else 'arm'}", (_J[j[1]],)
    if p.op == "pair_distance":
        if j[1] == "torso":
            part, js = _limb_info(j[0])
            return ds._ent(j[0]), part, js
        n = ds._noun_of(j[0])[1]
        part = "both_arms" if n in ("hand", "elbow") else "both_legs"
        js = _limb_info(j[0])[1] + _limb_info(j[1])[1]
        return ds.Ent(n, "pair"), part, js
    if p.op.startswith("pair_pos"):
        part, js = _limb_info(j[0])
        return ds._ent(j[0]), part, js
    if p.op.startswith("pair_incline"):
        return None, "torso", (_J["spine1"], _J["spine2"], _J["spine3"])
    if p.op.startswith("pair_rot"):
        return ds.Ent("head"), "head", (_J["neck"], _J["head"])
    return None, "body", (0,)


def _importance(op: str, value: float) -> float:
    return round(abs(float(value)) / _STEP[op] * _WEIGHT[op], 3)


def _change(i: int, pcs: PaircodeSet, p: PairSpec, tid: str | None = None, bonus: float = 0.0) -> Change:
    op = PAIR_OPS[p.op]
    cat = int(pcs.cats[i, p.index])
    subj, part, joints = _pair_meta(p)
    ccat = (len(op.categories) - 1 - cat) if (op.lateral and p.side == 1) else cat
    v = float(pcs.values[i, p.index])
    return Change(tid or f"{p.op}:{op.categories[cat]}", subj, (p.index,), _importance(p.op, v) + bonus,
                  abs(v), op.unit, part, joints, (min(p.index, p.mirror), ccat, p.side))


def _bcat(pcset: pc.PosecodeSet, i: int, ci: int) -> str:
    return pcset.category(i, ci)


def changes(pcs: PaircodeSet, i: int, rng: np.random.Generator | None = None,
            include_rotation: bool = True) -> list[Change]:
    """All changes of pair i (super-paircodes replace the paircodes they are made of), ranked."""
    cat = lambda p: pcs.category(i, p)  # noqa: E731
    used: set[int] = set()
    out: list[Change] = []
    # --- super-paircodes
    for s in ("left", "right"):
        for limb, chain in (("leg", ("hip", "knee", "ankle")), ("arm", ("shoulder", "elbow", "wrist"))):
            p = pair("pair_angle", *(f"{s}_{x}" for x in chain))
            bcat = _bcat(pcs.b, i, pc.code("angle", *(f"{s}_{x}" for x in chain)))
            c = cat(p)
            if c in _LESS and bcat in ("slightly_bent", "straight"):
                ch = _change(i, pcs, PAIRS[p], "straighten", 0.2)
                ch.subj = ds.Ent(limb, s)
                out.append(ch)
                used.add(p)
            elif c in _MORE and bcat in ("right_angle", "completely_bent"):
                out.append(_change(i, pcs, PAIRS[p], "bend_right_angle" if bcat == "right_angle" else "bend_fully",
                                   0.2))
                used.add(p)
        # hand raised above the head
        p = pair("pair_posY", f"{s}_hand")
        ci = pc.code("relativePosY", f"{s}_hand", "head")
        if cat(p) in ("higher", "slightly_higher") and _bcat(pcs.b, i, ci) == "above" \
                and _bcat(pcs.a, i, ci) != "above":
            out.append(_change(i, pcs, PAIRS[p], "raise_above_head", 0.3))
            used.add(p)
    for j in ("elbow", "hand", "knee", "foot"):
        p = pair("pair_distance", f"left_{j}", f"right_{j}")
        ci = pc.code("distance", f"left_{j}", f"right_{j}")
        if cat(p) in ("closer", "slightly_closer") and _bcat(pcs.b, i, ci) == "close":
            out.append(_change(i, pcs, PAIRS[p], "together", 0.2))
            used.add(p)
        elif cat(p) in ("farther", "slightly_farther") and _bcat(pcs.a, i, ci) == "close":
            out.append(_change(i, pcs, PAIRS[p], "apart", 0.2))
            used.add(p)
        for s in ("left", "right"):
            p = pair("pair_distance", f"{s}_{j}", "torso")
            ci = pc.code("distance", f"{s}_{j}", "torso")
            if cat(p) in ("closer", "slightly_closer") and _bcat(pcs.b, i, ci) == "close":
                out.append(_change(i, pcs, PAIRS[p], "tuck_in", 0.1))
            elif cat(p) in ("farther", "slightly_farther") and _bcat(pcs.a, i, ci) == "close":
                out.append(_change(i, pcs, PAIRS[p], "move_out", 0.1))
            used.add(p)  # limb-to-torso distances are only spoken through these two super-codes
    # --- plain paircodes
    b_incline = {ax: _bcat(pcs.b, i, [c.index for c in CODES if c.op == f"bodyIncline{ax}"][0]) for ax in "XZ"}
    for pspec in PAIRS:
        if pspec.index in used or "ignored" in cat(pspec.index):
            continue
        if pspec.op == "rotation" and not include_rotation:
            continue
        tid = None
        if pspec.op in ("pair_inclineX", "pair_inclineZ") and b_incline[pspec.op[-1]] == "ignored":
            tid = "upright"  # B is upright again: "straighten up" reads better than "lean back"
        out.append(_change(i, pcs, pspec, tid))
    out = _ripple(out, pcs, i)
    _demote_side_effects(out, pcs, i)
    out = _with_contacts(out, pcs, i)
    if rng is not None:
        out = [c for c in out if c.tid in _SUPER_TIDS or rng.random() >= PROP_SKIP_PAIRCODES]
    out.sort(key=lambda c: (-c.importance,) + c.key)
    return out


_SUPER_TIDS = {"straighten", "bend_right_angle", "bend_fully", "raise_above_head", "together", "apart",
               "tuck_in", "move_out", "upright"}

# ------------------------------------------------------------------------------------------------------
# contacts made or broken from A to B (full posecode inventory): "put your left hand on your right knee"
# ------------------------------------------------------------------------------------------------------

#: self-contacts, and the floor contacts of the parts one puts down on purpose (hands, elbows, knees)
_CONTACT_CODES = [c for c in CODES if c.op == "contact" or (
    c.op == "floorContact" and c.joints[0].endswith(("hand", "elbow", "knee")))]
CONTACT_TIDS = ("contact_make", "contact_break", "contact_pair_make", "contact_pair_break", "floor_make",
                "floor_break")
_SUPER_TIDS |= set(CONTACT_TIDS)


def _contact_change(pcs: PaircodeSet, i: int, c: pc.CodeSpec, make: bool) -> Change:
    j = c.joints
    gap = float((pcs.a if make else pcs.b).values[i, c.index])
    importance = round(min(6.0, 1.0 + gap / 0.15) if make else min(3.0, 0.5 + gap / 0.3), 3)
    if c.op == "floorContact":
        tid, subj, obj = ("floor_make" if make else "floor_break"), ds._ent(j[0]), None
    elif c.mirror == c.index:  # the two sides against each other
        tid, subj, obj = ("contact_pair_make" if make else "contact_pair_break"), ds.Ent(ds._noun_of(j[0])[1],
                                                                                        "pair"), None
    else:
        tid, subj, obj = ("contact_make" if make else "contact_break"), ds._ent(j[0]), ds._ent(j[1])
    part, joints = _limb_info(j[0])
    if subj.side == "pair":
        part = "both_arms" if part.endswith("arm") else "both_legs"
        joints = tuple(sorted(set(joints + _limb_info(j[1])[1])))
    return Change(tid, subj, (), importance, abs(gap), "m", part, joints,
                  (NUM_PAIRS + min(c.index, c.mirror), int(not make), c.side), obj, posecodes=(c.key,))


def _with_contacts(chs: list[Change], pcs: PaircodeSet, i: int) -> list[Change]:
    """Add a change per contact made (or broken) from A to B; a contact made says where the part goes, so the
    position changes of that part are dropped, and "bring your hands together" already says hands touch."""
    together = {c.subj.noun for c in chs if c.tid in ("together", "apart") and c.subj is not None}
    made: set[str] = set()
    extra: dict[tuple[str, str], Change] = {}  # one contact made / broken per part (the largest)
    for c in _CONTACT_CODES:
        a_on, b_on = pcs.a.cats[i, c.index] == 0, pcs.b.cats[i, c.index] == 0  # 0: touching / on_floor
        thr = OPERATORS[c.op].thresholds[0]
        a_clean, b_clean = pcs.a.values[i, c.index] < thr, pcs.b.values[i, c.index] < thr
        if a_on == b_on or a_clean == b_clean or (c.mirror == c.index and ds._noun_of(c.joints[0])[1] in together):
            continue  # a contact made or broken only by the noise of the data mode is no instruction
        ch = _contact_change(pcs, i, c, bool(b_on))
        k = (ch.tid, c.joints[0])
        if k not in extra or extra[k].importance < ch.importance:
            extra[k] = ch
        if b_on:
            made.update(c.joints if c.mirror == c.index else c.joints[:1])
    kept = [c for c in chs if not (c.pairs and PAIRS[c.pairs[0]].op.startswith("pair_pos")
                                   and PAIRS[c.pairs[0]].joints[0] in made)]
    return kept + list(extra.values())


def _demote_side_effects(chs: list[Change], pcs: PaircodeSet, i: int) -> None:
    """Lower the rank of changes that mostly follow from another one (the foot moves because the knee
    bends; the hands get closer because both arms come down), so a coach names the cause first."""
    def changed(p: int) -> bool:
        return "ignored" not in pcs.category(i, p)

    for c in chs:
        p = PAIRS[c.pairs[0]] if c.pairs else None
        if p is None:
            continue
        factor = 1.0
        if p.op.startswith("pair_pos") and p.joints[0].endswith(("foot", "hand")):
            s, n = ds._noun_of(p.joints[0])
            chain = (f"{s}_hip", f"{s}_knee", f"{s}_ankle") if n == "foot" else \
                (f"{s}_shoulder", f"{s}_elbow", f"{s}_wrist")
            if changed(pair("pair_angle", *chain)):
                factor = 0.4 if n == "foot" else 0.6
        elif p.op == "pair_distance" and p.joints[1] != "torso":
            n = ds._noun_of(p.joints[0])[1]
            ys = [pcs.values[i, pair("pair_posY", f"{s}_{n}")] for s in ("left", "right")]
            yc = [changed(pair("pair_posY", f"{s}_{n}")) for s in ("left", "right")]
            if all(yc) and np.sign(ys[0]) == np.sign(ys[1]):
                factor = 0.3  # both sides went up / down together
            elif n == "foot" and any(changed(pair("pair_angle", f"{s}_hip", f"{s}_knee", f"{s}_ankle"))
                                     for s in ("left", "right")):
                factor = 0.5
        c.importance = round(c.importance * factor, 3)


def _ripple(chs: list[Change], pcs: PaircodeSet, i: int) -> list[Change]:
    """Drop changes that follow from others (hand vs elbow moving the same way, ...)."""
    by_pair = {c.pairs[0]: c for c in chs}
    drop: set[int] = set()
    for s in ("left", "right"):
        for ax in "XYZ":
            for prox, dist in (("elbow", "hand"), ("knee", "foot")):
                pp, pd = pair(f"pair_pos{ax}", f"{s}_{prox}"), pair(f"pair_pos{ax}", f"{s}_{dist}")
                if pp in by_pair and pd in by_pair:
                    vp, vd = pcs.values[i, pp], pcs.values[i, pd]
                    if np.sign(vp) == np.sign(vd):
                        drop.add(pp if abs(vd) >= abs(vp) else pd)
        # a hand raised above the head says enough about that hand's height
    incline = [c for c in chs if PAIRS[c.pairs[0]].op in ("pair_inclineX", "pair_inclineZ", "pair_inclineY")]
    if incline:
        # the arms ride along with the trunk: small hand/elbow shifts are a side effect of leaning
        for s in ("left", "right"):
            for ax in "XYZ":
                if ax != "X":
                    drop.add(pair(f"pair_pos{ax}", f"{s}_shoulder"))
                for j in ("elbow", "hand"):
                    p = pair(f"pair_pos{ax}", f"{s}_{j}")
                    if p in by_pair and by_pair[p].tid.split(":")[-1].startswith("slightly"):
                        drop.add(p)
    postures = ("lying_on_back", "lying_face_down", "torso_horizontal", "kneeling", "kneel_on_left",
                "kneel_on_right", "sitting_on_floor", "on_all_fours")
    a_post = {n for n in postures if pcs.a.supers[i, pc.SUPER_INDEX[n]]}
    b_post = {n for n in postures if pcs.b.supers[i, pc.SUPER_INDEX[n]]}
    if a_post != b_post:
        lying = {"lying_on_back", "lying_face_down", "torso_horizontal"}
        for c in chs:
            op = PAIRS[c.pairs[0]].op
            if op.startswith("pair_pos"):
                if (a_post | b_post) & lying or PAIRS[c.pairs[0]].joints[0].endswith(("foot", "knee")):
                    drop.add(c.pairs[0])  # the posture change says it (and the frame moves with it)
    for j in ("elbow", "hand", "knee", "foot"):
        if pair("pair_distance", f"left_{j}", f"right_{j}") in by_pair:
            for s in ("left", "right"):
                drop.add(pair("pair_posX", f"{s}_{j}"))
    return [c for c in chs if c.pairs[0] not in drop]


# ------------------------------------------------------------------------------------------------------
# wording (imperative). "{s}" body part, "{poss}" possessive ("your"/"the"), "{pron}" it/them
# ------------------------------------------------------------------------------------------------------

IT: dict[str, list[str]] = {
    "straighten": ["straighten {s}", "extend {s} fully", "stretch {s} out straight"],
    "bend_right_angle": ["bend {s} to a right angle", "bend {s} to about ninety degrees", "flex {s} to a right angle"],
    "bend_fully": ["bend {s} all the way", "fold {s} completely", "bend {s} as far as it goes"],
    "raise_above_head": ["raise {s} above {poss} head", "lift {s} over {poss} head", "reach {s} up above {poss} head"],
    "together": ["bring {s} together", "move {s} close to each other", "join {s}"],
    "apart": ["move {s} apart", "separate {s}", "spread {s} away from each other"],
    "tuck_in": ["bring {s} in close to {poss} body", "tuck {s} in toward {poss} body"],
    "move_out": ["move {s} away from {poss} body", "take {s} out away from {poss} body"],
    "upright": ["straighten up", "bring {poss} torso back upright", "stand up straighter"],
    "pair_angle:much_less": ["straighten {s} a lot", "extend {s} much more"],
    "pair_angle:less": ["straighten {s}", "bend {s} less", "extend {s} more"],
    "pair_angle:slightly_less": ["straighten {s} a little", "bend {s} slightly less", "extend {s} a bit"],
    "pair_angle:slightly_more": ["bend {s} a little more", "bend {s} slightly", "flex {s} a bit more"],
    "pair_angle:more": ["bend {s} more", "bend {s}", "flex {s} further"],
    "pair_angle:much_more": ["bend {s} a lot more", "bend {s} deeply", "flex {s} much further"],
    "pair_distance:closer": ["bring {s} much closer together", "move {s} a lot closer to each other"],
    "pair_distance:slightly_closer": ["bring {s} a little closer together", "move {s} slightly closer to each other"],
    "pair_distance:farther": ["move {s} much further apart", "spread {s} wide apart"],
    "pair_distance:slightly_farther": ["move {s} a little further apart", "widen the gap between {s} a bit"],
    "pair_posY:higher": ["raise {s}", "lift {s} up", "bring {s} up"],
    "pair_posY:slightly_higher": ["raise {s} a little", "lift {s} slightly", "bring {s} up a bit"],
    "pair_posY:lower": ["lower {s}", "bring {s} down", "drop {s} down"],
    "pair_posY:slightly_lower": ["lower {s} a little", "bring {s} down slightly", "drop {s} a bit"],
    "pair_posZ:forward": ["move {s} forward", "bring {s} forward", "push {s} out in front"],
    "pair_posZ:slightly_forward": ["move {s} slightly forward", "bring {s} a little forward"],
    "pair_posZ:back": ["move {s} back", "pull {s} backward", "take {s} back"],
    "pair_posZ:slightly_back": ["move {s} slightly back", "pull {s} back a little"],
    "pair_posX:more_left": ["move {s} to the left", "shift {s} over to the left"],
    "pair_posX:slightly_left": ["move {s} slightly to the left", "shift {s} a little to the left"],
    "pair_posX:more_right": ["move {s} to the right", "shift {s} over to the right"],
    "pair_posX:slightly_right": ["move {s} slightly to the right", "shift {s} a little to the right"],
    "pair_inclineX:more_forward": ["lean forward", "tip {poss} upper body forward", "bend forward at the hips"],
    "pair_inclineX:slightly_forward": ["lean forward a little", "tip {poss} upper body slightly forward"],
    "pair_inclineX:more_backward": ["lean back", "tip {poss} upper body backward"],
    "pair_inclineX:slightly_backward": ["lean back a little", "tip {poss} upper body slightly back"],
    "pair_inclineY:more_left": ["twist {poss} torso to the left", "rotate {poss} shoulders to the left"],
    "pair_inclineY:slightly_left": ["twist {poss} torso slightly to the left", "rotate {poss} shoulders a bit to the left"],
    "pair_inclineY:more_right": ["twist {poss} torso to the right", "rotate {poss} shoulders to the right"],
    "pair_inclineY:slightly_right": ["twist {poss} torso slightly to the right", "rotate {poss} shoulders a bit to the right"],
    "pair_inclineZ:more_left": ["lean to the left", "bend sideways to the left"],
    "pair_inclineZ:slightly_left": ["lean slightly to the left", "bend a little to the left side"],
    "pair_inclineZ:more_right": ["lean to the right", "bend sideways to the right"],
    "pair_inclineZ:slightly_right": ["lean slightly to the right", "bend a little to the right side"],
    "pair_rotX:down": ["lower {poss} chin", "tuck {poss} chin toward {poss} chest", "look down"],
    "pair_rotX:up": ["lift {poss} chin", "raise {poss} head", "look up"],
    "pair_rotY:more_left": ["turn {s} to the left", "look to the left"],
    "pair_rotY:slightly_left": ["turn {s} slightly to the left", "look a little to the left"],
    "pair_rotY:more_right": ["turn {s} to the right", "look to the right"],
    "pair_rotY:slightly_right": ["turn {s} slightly to the right", "look a little to the right"],
    "pair_rotZ:more_left": ["tilt {s} to the left", "drop {s} toward {poss} left shoulder"],
    "pair_rotZ:slightly_left": ["tilt {s} slightly to the left", "tip {s} a little to the left"],
    "pair_rotZ:more_right": ["tilt {s} to the right", "drop {s} toward {poss} right shoulder"],
    "pair_rotZ:slightly_right": ["tilt {s} slightly to the right", "tip {s} a little to the right"],
    "rotation:slightly_left": ["turn slightly to the left", "rotate a little to the left"],
    "rotation:quarter_left": ["turn a quarter to the left", "rotate ninety degrees to the left"],
    "rotation:around_left": ["turn around to the left", "turn almost all the way around to the left"],
    "rotation:slightly_right": ["turn slightly to the right", "rotate a little to the right"],
    "rotation:quarter_right": ["turn a quarter to the right", "rotate ninety degrees to the right"],
    "rotation:around_right": ["turn around to the right", "turn almost all the way around to the right"],
    "rotation:around": ["turn around", "turn to face the other way"],
    # contacts (full inventory)
    "contact_make": ["put {s} on {o}", "bring {s} to {o}", "touch {o} with {s}", "place {s} on {o}"],
    "contact_break": ["take {s} off {o}", "move {s} away from {o}", "lift {s} off {o}"],
    "contact_pair_make": ["bring {s} together until they touch", "press {s} together", "put {s} together"],
    "contact_pair_break": ["separate {s}", "move {s} apart so that they no longer touch"],
    "floor_make": ["put {s} on the floor", "place {s} down on the floor", "bring {s} down to the floor"],
    "floor_break": ["lift {s} off the floor", "take {s} off the floor", "raise {s} off the floor"],
}
# imperative forms of B's whole-body super-codes
SUPER_IMPERATIVE: dict[str, list[str]] = {
    "kneeling": ["kneel down", "come down onto {poss} knees"],
    "kneel_on_left": ["kneel on {poss} left knee", "bring {poss} left knee down to the floor"],
    "kneel_on_right": ["kneel on {poss} right knee", "bring {poss} right knee down to the floor"],
    "lying_on_back": ["lie down on {poss} back", "lie flat on {poss} back"],
    "lying_face_down": ["lie face down", "lie down on {poss} stomach"],
    "standing": ["stand up", "come up to standing"],
    "torso_horizontal": ["bring {poss} torso parallel to the floor", "level {poss} upper body with the floor"],
    "sitting_on_floor": ["sit down on the floor", "sit on the floor"],
    "on_all_fours": ["get down on all fours", "come onto {poss} hands and knees"],
}
_SUPER_IMPORTANCE = 10.0  # a change of posture (kneel, lie down, stand up) comes first
_THEN = (", then ", ". Then ", " and ", ", and ", ". ")
_THEN_P = (0.3, 0.1, 0.25, 0.15, 0.2)


class _Words:
    def __init__(self, rng: np.random.Generator | None):
        self.rng = rng

    def pick(self, options: list[str]) -> str:
        return options[0] if self.rng is None else options[int(self.rng.integers(len(options)))]

    def poss(self) -> str:
        return "your" if self.rng is None or self.rng.random() < 0.5 else "the"

    def np(self, e: ds.Ent | None, both_noun: str | None = None) -> str:
        if e is None:
            return ""
        if e.side in ("left", "right"):
            return f"{self.poss()} {e.side} {e.noun}"
        if e.side == "both":
            return f"both {ds.plural(both_noun or e.noun)}"
        if e.side in ("pair", "same"):
            return f"{self.poss()} {ds.plural(e.noun)}"
        if e.side == "each":
            return f"each {e.noun}"
        if e.side == "opposite":
            return f"the opposite {e.noun}"
        return f"{self.poss()} {e.noun}"


def _render_change(w: _Words, c: Change) -> str:
    both_noun = "arm" if c.tid == "raise_above_head" or c.tid.startswith("pair_posY:") and \
        c.subj is not None and c.subj.noun == "hand" else None
    options = IT[c.tid]
    if c.extra and any("{s}" in t for t in options):
        options = [t for t in options if "{s}" in t]  # "it" in the continuation needs an antecedent
    t = w.pick(options)
    text = t.format(s=w.np(c.subj, both_noun), poss="your" if w.rng is None else w.poss(),
                    o=w.np(c.obj) if c.obj is not None else "")
    plural = c.subj is not None and c.subj.side in ("both", "pair")
    for tid, obj in c.extra:  # same body part: "raise your left hand and move it forward"
        t2 = w.pick(IT[tid])
        text += " and " + t2.format(s="them" if plural else "it", poss="your", o=w.np(obj) if obj else "")
    return text


def _sym_merge_changes(chs: list[Change], agg) -> list[Change]:
    out, used = [], set()
    for a, ca in enumerate(chs):
        if a in used:
            continue
        merged = None
        if ca.subj is not None and ca.subj.side in ("left", "right"):
            for b in range(a + 1, len(chs)):
                cb = chs[b]
                if b in used or cb.tid != ca.tid or cb.subj != ds._mirror_ent(ca.subj):
                    continue
                if ca.key[:2] != cb.key[:2] or cb.obj != ds._mirror_ent(ca.obj):
                    continue
                if not agg():
                    break
                part = ca.body_part.replace("left_", "both_").replace("right_", "both_") + "s"
                obj = ca.obj
                if obj is not None and obj.side in ("left", "right"):  # "both hands on the knees" / "opposite"
                    obj = ds.Ent(obj.noun, "same" if obj.side == ca.subj.side else "opposite")
                merged = Change(ca.tid, ds.Ent(ca.subj.noun, "both"), ca.pairs + cb.pairs,
                                max(ca.importance, cb.importance), max(ca.magnitude, cb.magnitude), ca.unit,
                                part, tuple(sorted(set(ca.joints + cb.joints))), ca.key, obj,
                                posecodes=ca.posecodes + cb.posecodes)
                used.add(b)
                break
        out.append(merged or ca)
    return out


# ------------------------------------------------------------------------------------------------------
# absolute statements about pose B
# ------------------------------------------------------------------------------------------------------


MAX_ABSOLUTE = 2


def _absolute_facts(pcs: PaircodeSet, i: int, rng: np.random.Generator | None,
                    said: set[str]) -> list[ds.Fact]:
    """Facts about B worth stating ("your left thigh should be horizontal"): absolute, true for B, not
    for A (also without noise), and not already implied by an instruction (``said``: code keys/super names)."""
    fb = ds.select(pcs.b, i, None)
    a_clean = pc.bin_all(pcs.a.values[i:i + 1])[0]
    b_clean = pc.bin_all(pcs.b.values[i:i + 1])[0]
    a_sup, b_sup = pc.eval_supers(a_clean[None])[0], pc.eval_supers(b_clean[None])[0]
    out = []
    for f in fb:
        if f.sup >= 0:
            s = pc.SUPERS[f.sup]
            if not s.absolute or pcs.a.supers[i, f.sup] or a_sup[f.sup] or not b_sup[f.sup] or s.name in said:
                continue
        else:
            c = CODES[f.code]
            cname = OPERATORS[c.op].categories[f.cat]
            if cname not in c.absolute or pcs.a.cats[i, f.code] == f.cat or a_clean[f.code] == f.cat \
                    or b_clean[f.code] != f.cat or c.key in said:
                continue
            if c.op in ("angle", "bodyInclineX", "bodyInclineY", "bodyInclineZ") or c.op.startswith("relativeRot"):
                continue  # already said by the paircodes
        out.append(f)
    if rng is not None:
        out = [f for f in out if rng.random() >= PROP_SKIP_POSECODES]
    out.sort(key=lambda f: (not f.rare, f.key))
    out = ds._sym_merge(out, lambda: True if rng is None else rng.random() < PROP_AGGREGATION_HAPPENS)
    return out[:MAX_ABSOLUTE]


def _said(chs: list[Change]) -> set[str]:
    """Posecodes / super-codes about B that the instructions already convey."""
    said: set[str] = set()
    for c in chs:
        said.update(c.posecodes)
        if c.tid.startswith("super:"):
            said.add(c.tid[6:])
            if c.tid[6:] in ("lying_on_back", "lying_face_down"):
                said.add("torso_horizontal")
        for p in c.pairs:
            j = PAIRS[p].joints
            if c.tid == "raise_above_head":
                said.add(pc.code_key("relativePosY", (j[0], "head")))
            if c.tid in ("together", "apart"):
                said.add(pc.code_key("distance", j))
    return said


def _render_absolute(w: _Words, f: ds.Fact) -> str:
    if f.sup >= 0 and f.subj == (ds.PERSON,):
        name = pc.SUPERS[f.sup].name
        t = w.pick(ds.T[f"super:{name}"])
        pred = agree(t[4:], True).format(poss="your")
        pred = pred[4:] if pred.startswith("are ") else pred
        modal = w.pick(["should", "need to", "must"])
        return f"you {modal} {'be ' if t[4:].startswith('[is|are]') else ''}{pred}"
    subj = join_list([w.np(e) for e in f.subj])
    plural = f.plural
    t = w.pick(ds.T[f.tid])[4:]
    pred = agree(t, True).format(o=w.np(f.obj) if f.obj is not None else "", poss="your")
    if pred.startswith("are "):
        modal = w.pick(["should be", "needs to be" if not plural else "need to be", "must be"])
        return f"{subj} {modal} {pred[4:]}"
    return f"{subj} {w.pick(['should', 'must'])} {pred}"


# ------------------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------------------


@dataclass
class Instruction:
    text: str                 # imperative clause, e.g. "bend your left knee to a right angle"
    body_part: str            # skeleton.BODY_PARTS name, or "both_arms", "both_legs", "body"
    joints: tuple[int, ...]   # SMPL-H joints whose rotation should change
    magnitude: float          # size of the difference between A and B for that measure
    unit: str                 # "deg" or "m"
    importance: float         # ranking score (difference in threshold steps, weighted)
    codes: tuple[str, ...]    # the paircode keys behind it


@dataclass
class CorrectionResult:
    text: str
    instructions: list[Instruction]

    @property
    def done(self) -> bool:
        return not self.instructions


def _join_steps(steps: list[str], rng: np.random.Generator | None) -> str:
    if not steps:
        return ""
    if rng is None:
        if len(steps) == 1:
            return capitalize(steps[0]) + "."
        return capitalize(", ".join(steps[:-1]) + " and " + steps[-1]) + "."
    text = steps[0]
    for s in steps[1:]:
        text += _THEN[int(rng.choice(len(_THEN), p=_THEN_P))] + s
    return tidy(capitalize(text) + ".")


def _super_changes(pcs: PaircodeSet, i: int) -> list[Change]:
    out = []
    b_over = {o for s in pc.SUPERS if pcs.b.supers[i, s.index] for o in s.overrides}
    for s in pc.SUPERS:
        if s.name in SUPER_IMPERATIVE and pcs.b.supers[i, s.index] and not pcs.a.supers[i, s.index] \
                and s.name not in b_over:
            if s.name == "torso_horizontal" and (pcs.b.supers[i, pc.SUPER_INDEX["lying_on_back"]]
                                                 or pcs.b.supers[i, pc.SUPER_INDEX["lying_face_down"]]):
                continue
            if s.name == "standing" and not any(
                    pcs.a.supers[i, pc.SUPER_INDEX[n]] for n in ("kneeling", "kneel_on_left", "kneel_on_right",
                                                                 "lying_on_back", "lying_face_down",
                                                                 "torso_horizontal", "sitting_on_floor",
                                                                 "on_all_fours")):
                continue  # "stand up" only makes sense coming from the floor
            out.append(Change(f"super:{s.name}", None, (), _SUPER_IMPORTANCE, 0.0, "", "body", (0,),
                              (-1, s.index, 0, s.side)))
    return out


def _without_posture_contacts(chs: list[Change]) -> list[Change]:
    """A change of posture (kneel, sit, lie down, all fours) says which parts go to the floor."""
    if not any(c.tid.startswith("super:") for c in chs):
        return chs
    return [c for c in chs if c.tid not in ("floor_make", "floor_break")]


def _instruction_text(w: _Words, c: Change) -> str:
    if c.tid.startswith("super:"):
        return w.pick(SUPER_IMPERATIVE[c.tid[6:]]).format(poss="your")
    return _render_change(w, c)


def correct(pose_a: Pose, pose_b: Pose, max_instructions: int = 3, deterministic: bool = True,
            seed: int | np.random.Generator | None = None, include_rotation: bool = True,
            rest_joints: np.ndarray | None = None, min_relative: float = 0.3) -> CorrectionResult:
    """What should change to turn ``pose_a`` (e.g. the live pose) into ``pose_b`` (the target).

    Returns up to ``max_instructions`` instructions ordered by importance (largest differences first,
    at most one per body part unless nothing else is left), and their joined text. Changes smaller than
    ``min_relative`` × the largest one are left out. Identical or nearly identical poses give an empty
    list and :data:`NO_CHANGE_TEXT`."""
    rng = None if deterministic else (seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed))
    pcs = extract_pairs(pose_a, pose_b, rng, rest_joints)
    chs = _without_posture_contacts(_super_changes(pcs, 0) + changes(pcs, 0, None, include_rotation))
    chs = _sym_merge_changes(chs, lambda: True)
    chs.sort(key=lambda c: (-c.importance,) + c.key)
    if chs:  # minor side issues are left out while a big correction is pending
        chs = [c for c in chs if c.importance >= min_relative * chs[0].importance]
    # greedy pick: prefer covering different body parts
    picked: list[Change] = []
    for c in chs:
        if len(picked) >= max_instructions:
            break
        if all(_parts_overlap(c.body_part, p.body_part) is False for p in picked):
            picked.append(c)
    for c in chs:
        if len(picked) >= max_instructions:
            break
        if c not in picked:
            picked.append(c)
    w = _Words(rng)
    instr = [Instruction(_instruction_text(w, c), c.body_part, c.joints, round(c.magnitude, 4), c.unit,
                         c.importance, tuple(PAIRS[p].key for p in c.pairs)) for c in picked]
    if not instr:
        return CorrectionResult(NO_CHANGE_TEXT, [])
    return CorrectionResult(_join_steps([x.text for x in instr], rng), instr)


def _parts_overlap(a: str, b: str) -> bool:
    def expand(p):
        if p.startswith("both_"):
            return {f"left_{p[5:-1]}", f"right_{p[5:-1]}"}
        return {p}
    return bool(expand(a) & expand(b))


def modifier(pose_a: Pose, pose_b: Pose, seed: int | np.random.Generator | None = None,
             deterministic: bool = False, rest_joints: np.ndarray | None = None) -> str | list[str]:
    """PoseFix-style modifier text(s) for pair(s) A -> B (a batch gives a list).

    Data mode (default): noisy extraction, random skipping, random wording; ``seed`` makes it
    reproducible. Most texts are written by the widened human-style grammar (:mod:`.grammar`), the others
    by the original templates. ``deterministic=True``: every change, fixed wording, no noise."""
    single = pose_a.batch_shape == ()
    rng = None if deterministic else (seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed))
    pcs = extract_pairs(pose_a, pose_b, rng, rest_joints)
    still = None if rng is None else still_parts(pose_a, pose_b, pcs)
    texts = []
    for i in range(len(pcs)):
        texts.append(_modifier_one(pcs, i, rng, None if still is None else still[i]))
    return texts[0] if single else texts


def modifier_details(pose_a: Pose, pose_b: Pose, seed: int | np.random.Generator | None = None,
                     rest_joints: np.ndarray | None = None) -> list[gr.Rendered]:
    """The widened grammar's texts for pair(s) A -> B with their step records (what each step states), for
    checks and tools; always a list."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pcs = extract_pairs(pose_a, pose_b, rng, rest_joints)
    still = still_parts(pose_a, pose_b, pcs)
    return [_render_widened(pcs, i, rng, _ordered_changes(pcs, i, rng), still[i]) for i in range(len(pcs))]


#: share of noisy texts still written by the original templates
PROP_LEGACY = 0.2
#: a body part counts as not moved when each of its joints turned by less than this (local rotation) ...
STILL_DEG = 5.0
#: ... and none of its points moved by more than this (heading-free frame, pelvis at the origin)
STILL_M = 0.03
_STILL_JOINTS = {
    "left_arm": ("left_collar", "left_shoulder", "left_elbow", "left_wrist", "left_hand"),
    "right_arm": ("right_collar", "right_shoulder", "right_elbow", "right_wrist", "right_hand"),
    "left_leg": ("left_hip", "left_knee", "left_ankle", "left_foot"),
    "right_leg": ("right_hip", "right_knee", "right_ankle", "right_foot"),
    "torso": ("spine1", "spine2", "spine3", "neck"),
    "head": ("neck", "head"),
}


def still_parts(pose_a: Pose, pose_b: Pose, pcs: PaircodeSet) -> list[set[str]]:
    """Per pair, the body parts (grammar.PART_GROUPS) that did not move from A to B; none when the whole
    body turned (a part that stays put in the body's frame still moves in the room)."""
    from core_models.pose import aa_to_matrix_np

    ra = aa_to_matrix_np(pose_a.full().reshape(-1, sk.NUM_JOINTS, 3))
    rb = aa_to_matrix_np(pose_b.full().reshape(-1, sk.NUM_JOINTS, 3))
    cos = (np.einsum("njab,njab->nj", ra, rb) - 1.0) / 2.0
    turned = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))  # (N, 22) local rotation change
    assert pcs.a.features is not None and pcs.b.features is not None
    moved = np.linalg.norm(pcs.a.features.coords - pcs.b.features.coords, axis=-1)  # (N, EXT)
    heading = np.abs(pcs.values[:, pair("rotation", "pelvis")])
    out: list[set[str]] = []
    for i in range(len(pcs)):
        if heading[i] > 10.0 or turned[i, 0] > 15.0:
            out.append(set())
            continue
        s = set()
        for g, js in _STILL_JOINTS.items():
            rot = [_J[j] for j in js if j in _J]
            if turned[i, rot].max() < STILL_DEG and moved[i, [EXT_INDEX[j] for j in js]].max() < STILL_M:
                s.add(g)
        out.append(s)
    return out


def _ordered_changes(pcs: PaircodeSet, i: int, rng: np.random.Generator | None) -> list[Change]:
    def agg() -> bool:
        return True if rng is None else rng.random() < PROP_AGGREGATION_HAPPENS

    chs = _without_posture_contacts(_super_changes(pcs, i) + changes(pcs, i, rng))
    chs = _sym_merge_changes(chs, agg)
    # logical body order: whole body first, then legs, arms, head (mirror-invariant)
    order = {"body": 0, "torso": 1, "left_leg": 2, "right_leg": 2, "both_legs": 2, "left_arm": 3, "right_arm": 3,
             "both_arms": 3, "head": 4}
    chs.sort(key=lambda c: (order.get(c.body_part, 5), -c.importance) + c.key)
    return chs


def _modifier_one(pcs: PaircodeSet, i: int, rng: np.random.Generator | None,
                  still: set[str] | None = None) -> str:
    def agg() -> bool:
        return True if rng is None else rng.random() < PROP_AGGREGATION_HAPPENS

    chs = _ordered_changes(pcs, i, rng)
    if rng is not None and rng.random() >= PROP_LEGACY:
        return _render_widened(pcs, i, rng, chs, still or set()).text
    # shared subject: "raise your left hand and move it forward"
    merged: list[Change] = []
    for c in chs:
        prev = merged[-1] if merged else None
        if prev is not None and c.subj is not None and prev.subj == c.subj and not prev.extra \
                and not c.tid.startswith("super") and agg():
            prev.extra.append((c.tid, c.obj))
            continue
        merged.append(c)
    w = _Words(rng)
    steps = [_instruction_text(w, c) for c in merged]
    if rng is not None:  # two changes can read the same ("straighten up" for two leans): say it once
        steps = list(dict.fromkeys(steps))
    absolute = [_render_absolute(w, f) for f in _absolute_facts(pcs, i, rng, _said(chs))]
    if not steps and not absolute:
        return NO_CHANGE_TEXT
    text = _join_steps(steps, rng)
    if absolute:
        abs_text = " ".join(capitalize(a) + "." for a in absolute) if rng is None else \
            _join_abs(absolute, rng)
        text = (text + " " + abs_text).strip()
    return tidy(text)


def _render_widened(pcs: PaircodeSet, i: int, rng: np.random.Generator, chs: list[Change],
                    still: set[str]) -> gr.Rendered:
    w = _Words(rng)

    def absolute() -> list[str]:
        return [_render_absolute(w, f) for f in _absolute_facts(pcs, i, rng, _said(chs))]
    moves = [_move_of(c, pcs, i) for c in chs]
    assert pcs.a.features is not None and pcs.b.features is not None
    out = gr.render(moves, pcs.a.features.coords[i], pcs.b.features.coords[i], still,
                    int(rng.integers(1 << 62)), absolute)
    return out if out.text else gr.Rendered(NO_CHANGE_TEXT)


_KIND_OF = {"straighten": "straighten", "bend_right_angle": "bend", "bend_fully": "bend",
            "raise_above_head": "raise", "together": "closer", "apart": "apart", "tuck_in": "tuck_in",
            "move_out": "move_out", "upright": "upright", "pair_posY:higher": "raise",
            "pair_posY:slightly_higher": "raise", "pair_posY:lower": "lower", "pair_posY:slightly_lower": "lower",
            "pair_posZ:forward": "forward", "pair_posZ:slightly_forward": "forward", "pair_posZ:back": "back",
            "pair_posZ:slightly_back": "back", "pair_distance:closer": "closer",
            "pair_distance:slightly_closer": "closer", "pair_distance:farther": "apart",
            "pair_distance:slightly_farther": "apart", "pair_rotX:down": "head_down", "pair_rotX:up": "head_up",
            "rotation:around": "turn_around"}
_KIND_OF_OP = {"pair_inclineY": "twist", "pair_inclineZ": "side_lean", "pair_rotY": "head_turn",
               "pair_rotZ": "head_tilt", "rotation": "turn"}


def _kind_of(c: Change) -> str:
    if c.tid.startswith("super:") or c.tid in _KIND_OF:
        return c.tid if c.tid.startswith("super:") else _KIND_OF[c.tid]
    op, cat = c.tid.split(":")
    if op == "pair_angle":
        return "straighten" if cat.endswith("less") else "bend"
    if op == "pair_inclineX":
        return "lean_forward" if cat.endswith("forward") else "lean_back"
    if op == "pair_posX":
        side = "left" if cat.endswith("left") else "right"
        if c.subj is None or c.subj.side not in ("left", "right"):
            return "shift"
        return "out" if c.subj.side == side else "in"
    return _KIND_OF_OP[op]


def _move_of(c: Change, pcs: PaircodeSet, i: int) -> gr.Move:
    """What the grammar needs to know about a change: kind, part, side, measured size, parts moved."""
    if c.tid in CONTACT_TIDS:
        assert c.subj is not None
        both = (f"left_{c.body_part[5:-1]}", f"right_{c.body_part[5:-1]}")
        return gr.Move(c.tid, c.subj.noun, c.subj.side, c.magnitude, c.magnitude, c.unit,
                       both if c.body_part.startswith("both_") else (c.body_part,), (), None, c.tid, c.importance,
                       obj=None if c.obj is None else (c.obj.noun, c.obj.side))
    kind = _kind_of(c)
    if kind == "upright" and c.pairs and PAIRS[c.pairs[0]].op == "pair_inclineZ":
        kind = "upright_side"
    sizes = [abs(float(pcs.values[i, p])) for p in c.pairs] or [0.0]
    cat = c.tid.split(":")[-1]
    dir_side = ("left" if "left" in cat else "right" if "right" in cat else None) \
        if c.tid.split(":")[0] in ("pair_posX", "pair_inclineY", "pair_inclineZ", "pair_rotY", "pair_rotZ",
                                   "rotation") else None
    if c.body_part.startswith("both_"):
        parts: tuple[str, ...] = (f"left_{c.body_part[5:-1]}", f"right_{c.body_part[5:-1]}")
    else:
        parts = (c.body_part,)
    subj = c.subj
    noun = None if subj is None or kind.startswith(("head_", "twist")) else subj.noun
    return gr.Move(kind, noun, None if subj is None else subj.side, max(sizes), min(sizes), c.unit, parts,
                   PAIRS[c.pairs[0]].joints if c.pairs else (), dir_side, c.tid, c.importance)


def _join_abs(items: list[str], rng: np.random.Generator) -> str:
    out = []
    k = 0
    while k < len(items):
        if k + 1 < len(items) and rng.random() < 0.5:
            out.append(capitalize(items[k]) + " and " + items[k + 1] + ".")
            k += 2
        else:
            out.append(capitalize(items[k]) + ".")
            k += 1
    return " ".join(out)
