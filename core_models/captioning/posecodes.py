"""Posecodes: binned, interpretable measurements of a pose (extraction stage of the captioner).

An *operator* measures one scalar per joint set (an angle, a distance, a coordinate difference, ...) and
bins it with increasing thresholds into named categories. Categories whose name contains ``ignored`` are
dead zones that are never put into words. An *elementary posecode* is an operator applied to one joint
set; a *super-posecode* is an OR of AND-combinations of elementary (code, category) conditions.

Everything here is vectorised over the batch: :func:`extract` turns N poses into an (N, C) matrix of
category indices (plus (N, S) super-code flags) with a handful of numpy operations per operator.

Noise: for data generation a uniform offset in ±``noise`` (per operator) is added to each measurement
before binning, mimicking how differently people judge a borderline angle. The app uses the
deterministic mode (``rng=None``): no noise, the same pose always gives the same codes.

Sign conventions (canonical frame: y up, facing +z, x to the body's left):
``relativePosX`` > 0: A is at the left of B; ``relativePosY`` > 0: A above B; ``relativePosZ`` > 0: A in
front of B; ``bodyInclineX`` > 0: leaning forward; ``bodyInclineY`` > 0: shoulders twisted to the right
(left shoulder forward); ``bodyInclineZ`` > 0: leaning to the left; ``relativeRotX`` > 0: head bowed
forward; ``relativeRotY`` > 0: head turned to the left; ``relativeRotZ`` > 0: head tilted to the right.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core_models.captioning.features import EXT_INDEX, EXT_JOINT_NAMES, EXT_MIRROR, PoseFeatures, compute_features
from core_models.pose import Pose

# ------------------------------------------------------------------------------------------------------
# operators
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operator:
    name: str
    thresholds: tuple[float, ...]
    categories: tuple[str, ...]
    noise: float
    unit: str
    #: True when mirroring the pose negates the measurement and swaps the meaning of the categories
    #: (left <-> right); False when the measurement is mirror-invariant.
    lateral: bool = False

    def __post_init__(self):
        assert len(self.categories) == len(self.thresholds) + 1, self.name
        assert list(self.thresholds) == sorted(self.thresholds), self.name

    def bin(self, values: np.ndarray) -> np.ndarray:
        """Category indices: the number of thresholds <= value (``np.digitize``'s answer, NaN in the last bin),
        as a few comparisons (several times faster than digitize on (N, K) arrays)."""
        v = np.asarray(values)
        out = np.zeros(v.shape, dtype=np.int16)
        for t in self.thresholds:
            out += v >= t
        nan = np.isnan(v)
        if nan.any():
            out[nan] = len(self.thresholds)
        return out

    def cat_index(self, name: str) -> int:
        return self.categories.index(name)


#: surface gap (metres) under which two body parts touch, and under which a part rests on the floor
CONTACT_GAP = 0.04
FLOOR_GAP = 0.05

#: Rough body-surface radius around each captioning joint (metres; our own estimates on the default SMPL-H
#: skeleton: the sole is 3 cm under the toe joint and 8 cm under the ankle, the back of the head 10 cm from the
#: head joint, the sit bones 10 cm under the hip joints). Contacts and floor contacts measure between these surfaces.
JOINT_RADIUS: dict[str, float] = {
    "pelvis": 0.10, "spine1": 0.10, "spine2": 0.10, "spine3": 0.10, "neck": 0.06, "head": 0.10, "torso": 0.12,
    **{f"{s}_{j}": r for s in ("left", "right") for j, r in (
        ("hip", 0.10), ("knee", 0.045), ("ankle", 0.08), ("foot", 0.03), ("collar", 0.06), ("shoulder", 0.05),
        ("elbow", 0.04), ("wrist", 0.03), ("hand", 0.03), ("thigh", 0.07), ("shin", 0.05), ("upperarm", 0.05),
        ("forearm", 0.04))},
}

_OPS = [
    Operator("angle", (45, 75, 105, 135, 160),
             ("completely_bent", "bent_more", "right_angle", "bent_less", "slightly_bent", "straight"), 5.0, "deg"),
    Operator("distance", (0.20, 0.40, 0.80), ("close", "shoulder_width", "spread", "wide"), 0.05, "m"),
    Operator("relativePosX", (-0.15, -0.05, 0.05, 0.15),
             ("at_right", "ignored_right", "x_aligned", "ignored_left", "at_left"), 0.05, "m", lateral=True),
    Operator("relativePosY", (-0.15, -0.05, 0.05, 0.15),
             ("below", "ignored_below", "y_aligned", "ignored_above", "above"), 0.05, "m"),
    Operator("relativePosZ", (-0.15, -0.05, 0.05, 0.15),
             ("behind", "ignored_behind", "z_aligned", "ignored_front", "front"), 0.05, "m"),
    Operator("relativeVAxis", (10, 80), ("vertical", "ignored", "horizontal"), 5.0, "deg"),
    Operator("onGround", (0.10,), ("on_ground", "ignored"), 0.05, "m"),
    Operator("bodyInclineX", (-50, -20, 20, 50),
             ("backward", "slightly_backward", "ignored", "slightly_forward", "forward"), 5.0, "deg"),
    Operator("bodyInclineY", (-50, -20, 20, 50),
             ("twist_left", "slightly_twist_left", "ignored", "slightly_twist_right", "twist_right"), 5.0, "deg",
             lateral=True),
    Operator("bodyInclineZ", (-30, -15, 15, 30),
             ("lean_right", "slightly_lean_right", "ignored", "slightly_lean_left", "lean_left"), 5.0, "deg",
             lateral=True),
    Operator("relativeRotX", (-45, 30), ("head_backward", "ignored", "head_forward"), 5.0, "deg"),
    Operator("relativeRotY", (-30, -15, 15, 30),
             ("turn_right", "slightly_turn_right", "ignored", "slightly_turn_left", "turn_left"), 5.0, "deg",
             lateral=True),
    Operator("relativeRotZ", (-30, 30), ("tilt_left", "ignored", "tilt_right"), 5.0, "deg", lateral=True),
    # our addition: which way the chest faces (y component of the chest's forward normal), used to tell
    # lying on the back from lying face down
    Operator("facing", (-0.8, 0.8), ("facing_down", "ignored", "facing_up"), 0.05, "cos"),
    # --- full inventory (v2) ---
    # self-contact: gap between two body surfaces, approximated by spheres of JOINT_RADIUS around the joints
    Operator("contact", (CONTACT_GAP,), ("touching", "ignored"), 0.02, "m"),
    # floor contact: height of a joint's surface above the lowest body surface (the floor, see measure())
    Operator("floorContact", (FLOOR_GAP,), ("on_floor", "ignored"), 0.02, "m"),
    # segment pitch (forward tilt in the sagittal plane) and roll (sideways tilt in the frontal plane) from the
    # vertical, whichever way along it the segment points: atan2(forward, |up|) / atan2(left, |up|)
    Operator("pitch", (-45, -15, 15, 45),
             ("backward", "slightly_backward", "ignored", "slightly_forward", "forward"), 5.0, "deg"),
    Operator("roll", (-45, -15, 15, 45),
             ("to_right", "slightly_right", "ignored", "slightly_left", "to_left"), 5.0, "deg", lateral=True),
]
OPERATORS: dict[str, Operator] = {o.name: o for o in _OPS}

_IDX = EXT_INDEX
_RADIUS = np.array([JOINT_RADIUS[n] for n in EXT_JOINT_NAMES], dtype=np.float32)


def _norm(v: np.ndarray) -> np.ndarray:
    """Euclidean norm over the last axis (einsum: several times faster than np.linalg.norm here)."""
    return np.sqrt(np.einsum("...i,...i->...", v, v))


def _angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    nu = _norm(u)
    nv = _norm(v)
    c = np.einsum("...i,...i->...", u, v) / np.maximum(nu * nv, 1e-9)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def _whole_body(f: PoseFeatures):
    c = f.coords
    mid_sh = 0.5 * (c[:, _IDX["left_shoulder"]] + c[:, _IDX["right_shoulder"]])
    return c, mid_sh, mid_sh - c[:, _IDX["pelvis"]]


def measure(op: str, f: PoseFeatures, joints: np.ndarray) -> np.ndarray:
    """Raw (noise-free) measurement of operator ``op`` for joint sets ``joints`` (K, m): returns (N, K)."""
    c = f.coords
    if op == "angle":
        a, b, d = (c[:, joints[:, i]] for i in range(3))
        return _angle_deg(a - b, d - b)
    if op == "distance":
        return _norm(c[:, joints[:, 0]] - c[:, joints[:, 1]])
    if op.startswith("relativePos"):
        ax = "XYZ".index(op[-1])
        return c[:, joints[:, 0], ax] - c[:, joints[:, 1], ax]
    if op == "relativeVAxis":
        seg = c[:, joints[:, 1]] - c[:, joints[:, 0]]
        n = np.maximum(_norm(seg), 1e-9)
        return np.degrees(np.arccos(np.clip(np.abs(seg[..., 1]) / n, 0.0, 1.0)))
    if op == "onGround":
        lowest = c[:, :, 1].min(axis=1, keepdims=True)
        return c[:, joints[:, 0], 1] - lowest
    if op == "bodyInclineX":
        c, mid_sh, v = _whole_body(f)
        val = np.degrees(np.arctan2(v[:, 2], v[:, 1]))
        ankles_y = c[:, [_IDX["left_ankle"], _IDX["right_ankle"]], 1]
        upright = (ankles_y <= mid_sh[:, None, 1] - 0.2).any(axis=1)  # lying-down / handstand guard
        return np.where(upright, val, 0.0)[:, None].repeat(len(joints), 1)
    if op == "bodyInclineY":
        s = c[:, _IDX["left_shoulder"]] - c[:, _IDX["right_shoulder"]]
        return np.degrees(np.arctan2(s[:, 2], s[:, 0]))[:, None].repeat(len(joints), 1)
    if op == "bodyInclineZ":
        _, _, v = _whole_body(f)
        ang = _angle_deg(v, np.array([1.0, 0.0, 0.0], dtype=v.dtype))
        return (90.0 - ang)[:, None].repeat(len(joints), 1)
    if op.startswith("relativeRot"):
        # head w.r.t. the pelvis when the joint set starts at the pelvis, else w.r.t. the neck chain
        ax = {"X": 1, "Y": 0, "Z": 2}[op[-1]]
        from_pelvis = joints[:, 0] == _IDX["pelvis"]
        return np.where(from_pelvis[None, :], f.head_rel_pelvis[:, ax:ax + 1], f.head_rel_neck[:, ax:ax + 1])
    if op == "contact":
        return _norm(c[:, joints[:, 0]] - c[:, joints[:, 1]]) - (_RADIUS[joints[:, 0]] + _RADIUS[joints[:, 1]])
    if op == "floorContact":
        surface = c[:, :, 1] - _RADIUS[None, :]
        return surface[:, joints[:, 0]] - surface.min(axis=1, keepdims=True)
    if op in ("pitch", "roll"):
        seg = c[:, joints[:, 1]] - c[:, joints[:, 0]]
        ax = 2 if op == "pitch" else 0
        up = np.abs(seg[..., 1])
        val = np.degrees(np.arctan2(seg[..., ax], up))
        # a segment lying along the other horizontal axis has no defined tilt in this plane
        flat = seg[..., ax] ** 2 + up ** 2 < 0.25 * np.einsum("nki,nki->nk", seg, seg)
        return np.where(flat, 0.0, val)
    if op == "facing":
        _, _, v = _whole_body(f)
        s = c[:, _IDX["left_shoulder"]] - c[:, _IDX["right_shoulder"]]
        up = c[:, _IDX["neck"]] - c[:, _IDX["pelvis"]]
        front = np.cross(s, up)
        front /= np.maximum(np.linalg.norm(front, axis=-1, keepdims=True), 1e-9)
        return front[:, 1:2].repeat(len(joints), 1)
    raise KeyError(op)


# ------------------------------------------------------------------------------------------------------
# the elementary inventory
# ------------------------------------------------------------------------------------------------------


@dataclass
class CodeSpec:
    """One elementary posecode: an operator on a joint set, with how each category may be used.

    acceptable: categories that may be put into words on their own;
    rare: categories that are never skipped at random (informative, seldom true);
    support1: categories only used to build super-codes (never verbalised alone);
    support2: categories dropped from the description when a super-code using them is produced;
    absolute: categories the comparative pipeline may state about the target pose ("... should be ...").
    """

    op: str
    joints: tuple[str, ...]
    acceptable: tuple[str, ...]
    rare: tuple[str, ...] = ()
    support1: tuple[str, ...] = ()
    support2: tuple[str, ...] = ()
    absolute: tuple[str, ...] = ()
    key: str = ""
    index: int = -1
    mirror: int = -1          # index of the code playing this one's role on the mirrored pose
    mirror_swapped: bool = False  # the mirror code has the joint order (B, A) instead of (A, B)
    side: int = 0             # -1 left-side code, +1 right-side code, 0 centre / self-mirror
    version: int = 1          # 1: the first (98-code) inventory, 2: added by the full expansion

    def __post_init__(self):
        self.key = code_key(self.op, self.joints)


def code_key(op: str, joints) -> str:
    return f"{op}:{','.join(joints)}"


def _swap_side(name: str) -> str:
    return EXT_JOINT_NAMES[EXT_MIRROR[EXT_INDEX[name]]]


_ALL_NON_IGNORED = None  # sentinel: every category except the ignored ones


def _inventory() -> list[tuple]:
    """(op, joints, acceptable, rare, support1, support2, absolute) written for the left side (or centre);
    right-side twins are generated by mirroring the joint names."""
    A = _ALL_NON_IGNORED
    inv: list[tuple] = []

    def add(op, joints, acc=A, rare=(), s1=(), s2=(), absolute=A):
        inv.append((op, tuple(joints), acc, tuple(rare), tuple(s1), tuple(s2), absolute))

    # --- angles (bending of the big hinge joints)
    add("angle", ("left_hip", "left_knee", "left_ankle"), rare=("completely_bent",), s2=("straight",))
    add("angle", ("left_shoulder", "left_elbow", "left_wrist"), rare=("completely_bent",))
    # --- distances between the two sides
    add("distance", ("left_elbow", "right_elbow"), acc=("close",), rare=("close",))
    add("distance", ("left_hand", "right_hand"), acc=("close", "wide"), rare=("close",),
        s1=("shoulder_width",))
    add("distance", ("left_knee", "right_knee"), acc=("spread", "wide"), rare=("wide",))
    add("distance", ("left_foot", "right_foot"), acc=("close", "spread", "wide"), rare=("wide",),
        s1=("shoulder_width",))
    # --- what is the hand close to
    for other in ("right_elbow", "left_shoulder", "right_shoulder", "left_knee", "right_knee",
                  "left_ankle", "right_ankle", "left_foot", "right_foot", "head"):
        add("distance", ("left_hand", other), acc=("close",), rare=("close",))
    add("distance", ("left_hand", "left_hip"), acc=("close",))
    # --- limbs vs torso: only support (comparative super-codes use them)
    for j in ("left_elbow", "left_hand", "left_knee", "left_foot"):
        add("distance", (j, "torso"), acc=(), s1=("close", "shoulder_width", "spread", "wide"),
            absolute=())
    # --- left/right crossings (X)
    add("relativePosX", ("left_hand", "right_hand"), acc=("at_right",), rare=("at_right",))
    add("relativePosX", ("left_knee", "right_knee"), acc=("at_right",), rare=("at_right",))
    add("relativePosX", ("left_foot", "right_foot"), acc=("at_right",), rare=("at_right",))
    add("relativePosX", ("left_hand", "left_shoulder"), acc=("at_right",), rare=("at_right",))
    add("relativePosX", ("left_foot", "left_hip"), acc=("at_right",), rare=("at_right",))
    # --- heights (Y)
    for j in ("hand", "elbow", "knee", "foot", "shoulder"):
        add("relativePosY", (f"left_{j}", f"right_{j}"), acc=("below", "above"))
    add("relativePosY", ("left_hand", "head"), acc=("above",), rare=("above",))
    add("relativePosY", ("left_hand", "left_shoulder"), acc=("above",))
    add("relativePosY", ("left_elbow", "left_shoulder"), acc=("above",))
    add("relativePosY", ("left_hand", "left_hip"), acc=("below",))
    add("relativePosY", ("left_hip", "left_knee"), acc=("below",), rare=("below",), s1=("above",),
        absolute=("below",))
    add("relativePosY", ("left_foot", "left_knee"), acc=("above",), rare=("above",))
    add("relativePosY", ("left_foot", "left_hip"), acc=("above",), rare=("above",))
    add("relativePosY", ("head", "pelvis"), acc=("below",), rare=("below",))
    # --- depth (Z)
    for j in ("hand", "knee", "foot"):
        add("relativePosZ", (f"left_{j}", f"right_{j}"), acc=("behind", "front"))
    add("relativePosZ", ("left_hand", "torso"), acc=("behind", "front"), rare=("behind",))
    add("relativePosZ", ("left_foot", "torso"), acc=("behind", "front"))
    # --- segment orientation against the vertical
    add("relativeVAxis", ("left_hip", "left_knee"), acc=("vertical", "horizontal"), s2=("vertical",))
    for a, b in (("knee", "ankle"), ("shoulder", "elbow"), ("elbow", "wrist")):
        add("relativeVAxis", (f"left_{a}", f"left_{b}"), acc=("vertical", "horizontal"))
    add("relativeVAxis", ("pelvis", "left_shoulder"), acc=(), s1=("vertical", "horizontal"), absolute=())
    add("relativeVAxis", ("pelvis", "neck"), acc=(), s1=("vertical", "horizontal"), absolute=())
    add("relativeVAxis", ("left_hand", "right_hand"), acc=(), s1=("vertical", "horizontal"), absolute=())
    add("relativeVAxis", ("left_foot", "right_foot"), acc=(), s1=("vertical", "horizontal"), absolute=())
    # --- ground contact (relative to the lowest joint)
    add("onGround", ("left_knee",), rare=("on_ground",), s2=("on_ground",))
    add("onGround", ("left_foot",), s2=("on_ground",))
    add("onGround", ("left_hand",), rare=("on_ground",))
    # --- whole body
    wb = ("left_shoulder", "right_shoulder", "pelvis", "left_ankle", "right_ankle")
    add("bodyInclineX", wb, rare=("backward", "slightly_backward"))
    add("bodyInclineY", wb)
    add("bodyInclineZ", wb)
    add("relativeRotX", ("neck", "head"))
    add("relativeRotY", ("pelvis", "head"))
    add("relativeRotZ", ("neck", "head"))
    add("facing", ("left_shoulder", "right_shoulder", "pelvis", "neck"), acc=(),
        s1=("facing_down", "facing_up"), absolute=())
    return inv


_SIDES = ("left", "right")
#: points of the all-pairs families (distances); pairs joined by one rigid bone are left out (constant)
_DIST_POINTS = ("left_shoulder", "left_elbow", "left_hand", "left_hip", "left_knee", "left_foot",
                "right_shoulder", "right_elbow", "right_hand", "right_hip", "right_knee", "right_foot", "head")
_RIGID = {frozenset((f"{s}_{a}", f"{s}_{b}")) for s in _SIDES for a, b in (
    ("shoulder", "elbow"), ("elbow", "hand"), ("hip", "knee"), ("knee", "foot"), ("shoulder", "hip"))} | {
    frozenset(("left_shoulder", "right_shoulder")), frozenset(("left_hip", "right_hip")),
    frozenset(("left_shoulder", "head")), frozenset(("right_shoulder", "head"))}
#: (A, B) pairs of the relative-position families, each measured on x, y and z ("o_" = the opposite side)
_REL_SAME = (("hand", "shoulder"), ("hand", "elbow"), ("hand", "hip"), ("hand", "head"), ("hand", "torso"),
             ("elbow", "shoulder"), ("elbow", "torso"), ("knee", "hip"), ("foot", "hip"), ("foot", "knee"),
             ("foot", "torso"), ("hand", "knee"), ("hand", "foot"), ("hand", "o_shoulder"), ("hand", "o_hip"),
             ("foot", "o_knee"))
_REL_PAIRS = ("shoulder", "elbow", "hand", "hip", "knee", "foot")
#: self-contacts (A on the left side, B on either side or central) and floor contacts
_CONTACTS = (("hand", "o_hand"), ("hand", "head"), ("hand", "hip"), ("hand", "o_hip"), ("hand", "spine3"),
             ("hand", "knee"), ("hand", "o_knee"), ("hand", "foot"), ("hand", "o_foot"), ("hand", "shoulder"),
             ("hand", "o_shoulder"), ("hand", "o_elbow"), ("foot", "o_foot"), ("knee", "o_knee"),
             ("foot", "o_knee"), ("foot", "o_thigh"), ("elbow", "knee"))
_FLOOR = ("left_foot", "left_ankle", "left_knee", "left_hand", "left_elbow", "left_hip", "pelvis", "spine3", "head")
#: segments of the pitch / roll families
_SEGMENTS = (("pelvis", "neck"), ("neck", "head"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
             ("left_hip", "left_knee"), ("left_knee", "left_ankle"))


def _left(name: str) -> str:
    """"hand" -> "left_hand", "o_hand" -> "right_hand", central names unchanged."""
    if name.startswith("o_"):
        return f"right_{name[2:]}"
    return f"left_{name}" if f"left_{name}" in EXT_INDEX else name


def _inventory_v2() -> list[tuple]:
    """The full expansion: every joint combination of each family (left side or centre; mirrored twins are
    generated). Most of these codes are measured for features and pair selection only (no acceptable category:
    never put into words alone); contacts and floor contacts are stated."""
    inv: list[tuple] = []

    def add(op, joints, acc=(), rare=(), s2=()):
        inv.append((op, tuple(joints), tuple(acc), tuple(rare), (), tuple(s2), None))

    for a, b, d in (("shoulder", "hip", "knee"), ("hip", "shoulder", "elbow"), ("elbow", "wrist", "hand"),
                    ("knee", "ankle", "foot")):
        add("angle", (f"left_{a}", f"left_{b}", f"left_{d}"))
    for i, a in enumerate(_DIST_POINTS):
        for b in _DIST_POINTS[i + 1:]:
            if frozenset((a, b)) not in _RIGID and not a.startswith("right_"):
                add("distance", (a, b))
    for ax in "XYZ":
        for j in _REL_PAIRS:
            add(f"relativePos{ax}", (f"left_{j}", f"right_{j}"))
        for a, b in _REL_SAME:
            add(f"relativePos{ax}", (_left(a), _left(b)))
        add(f"relativePos{ax}", ("head", "pelvis"))
    for a, b in (("left_ankle", "left_foot"), ("neck", "head"), ("left_hip", "right_hip"),
                 ("left_shoulder", "right_shoulder"), ("left_knee", "right_knee"), ("left_elbow", "right_elbow"),
                 ("left_shoulder", "left_wrist"), ("left_hip", "left_ankle")):
        add("relativeVAxis", (a, b))
    for j in ("left_ankle", "left_elbow", "left_hip", "left_shoulder", "pelvis", "spine3", "head"):
        add("onGround", (j,))
    add("relativeRotX", ("pelvis", "head"))
    add("relativeRotY", ("neck", "head"))
    add("relativeRotZ", ("pelvis", "head"))
    for a, b in _SEGMENTS:
        add("pitch", (a, b))
        add("roll", (a, b))
    for a, b in _CONTACTS:
        add("contact", (_left(a), _left(b)), acc=("touching",), rare=("touching",))
    for j in _FLOOR:
        stated = not j.endswith(("foot", "ankle"))  # feet on the floor: the v1 onGround codes say it
        add("floorContact", (j,), acc=("on_floor",) if stated else (), rare=("on_floor",) if stated else (),
            s2=("on_floor",) if j.endswith(("hip", "hand", "knee")) else ())
    return inv


def _build_codes() -> list[CodeSpec]:
    specs: list[CodeSpec] = []
    seen: dict[str, int] = {}

    def make(op, joints, acc, rare, s1, s2, absolute):
        o = OPERATORS[op]
        non_ignored = tuple(c for c in o.categories if "ignored" not in c)
        acc = non_ignored if acc is None else acc
        acc = tuple(c for c in acc if c not in s1)
        absolute = tuple(c for c in (acc if absolute is None else absolute) if c not in s1)
        for c in acc + rare + s1 + s2 + absolute:
            assert c in o.categories, (op, c)
        return CodeSpec(op, joints, acc, rare, s1, s2, absolute)

    v1 = [(1, *x) for x in _inventory()]
    v2 = [(2, *x) for x in _inventory_v2()]
    for version, op, joints, acc, rare, s1, s2, absolute in v1 + v2:
        mj = tuple(_swap_side(j) for j in joints)
        twins = [joints] if set(mj) == set(joints) else [joints, mj]
        if version == 2 and any(code_key(op, js) in seen or code_key(op, js[::-1]) in seen for js in twins):
            continue  # the expansion re-derives most of the first inventory: keep the first one's definition
        for t, js in enumerate(twins):
            k = code_key(op, js)
            assert k not in seen, k
            if t == 1 and OPERATORS[op].lateral:
                # the mirrored twin of a lateral code: "at the left" becomes "at the right"
                cats = OPERATORS[op].categories
                flip = dict(zip(cats, cats[::-1]))
                acc, rare, s1, s2, absolute = (
                    None if x is None else tuple(flip[c] for c in x) for x in (acc, rare, s1, s2, absolute))
            spec = make(op, js, acc, rare, s1, s2, absolute)
            spec.index, spec.version = len(specs), version
            seen[k] = spec.index
            specs.append(spec)
    # mirror links
    for s in specs:
        mj = tuple(_swap_side(j) for j in s.joints)
        if set(mj) == set(s.joints):
            s.mirror, s.mirror_swapped = s.index, mj != s.joints and len(mj) == 2
        else:
            s.mirror, s.mirror_swapped = seen[code_key(s.op, mj)], False
        if s.mirror != s.index:
            s.side = -1 if s.mirror > s.index else 1
    return specs


CODES: list[CodeSpec] = _build_codes()
CODE_INDEX: dict[str, int] = {c.key: c.index for c in CODES}
NUM_CODES = len(CODES)
#: the first inventory (98 codes) keeps indices 0 .. NUM_CODES_V1 - 1; the expansion follows
NUM_CODES_V1 = sum(c.version == 1 for c in CODES)
assert all(c.version == 1 for c in CODES[:NUM_CODES_V1])


def inventory_summary(inventory: str = "full") -> dict[str, int]:
    """Elementary codes per operator family of an inventory ("full" or "v1"), plus "total" and "super"."""
    width = INVENTORIES[inventory]
    out: dict[str, int] = {}
    for c in CODES[:width]:
        out[c.op] = out.get(c.op, 0) + 1
    out["total"] = width
    out["super"] = NUM_SUPERS if width == NUM_CODES else NUM_SUPERS_V1
    return out


def code(op: str, *joints: str) -> int:
    """Index of the elementary code ``op`` on ``joints`` (raises KeyError if not in the inventory)."""
    return CODE_INDEX[code_key(op, joints)]


# per-operator batched evaluation tables, for the full inventory and for its first ("v1") part
def _op_groups(width: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    groups = []
    for name in OPERATORS:
        idx = np.array([c.index for c in CODES[:width] if c.op == name], dtype=np.int64)
        if len(idx):
            groups.append((name, idx, np.array([[EXT_INDEX[j] for j in CODES[i].joints] for i in idx])))
    return groups


_OP_GROUPS: dict[int, list[tuple[str, np.ndarray, np.ndarray]]] = {
    NUM_CODES: _op_groups(NUM_CODES), NUM_CODES_V1: _op_groups(NUM_CODES_V1)}
#: inventory name -> number of elementary codes it measures
INVENTORIES = {"full": NUM_CODES, "v1": NUM_CODES_V1}
CODE_NOISE = np.array([OPERATORS[c.op].noise for c in CODES], dtype=np.float32)
CODE_NCATS = np.array([len(OPERATORS[c.op].categories) for c in CODES], dtype=np.int64)

# ------------------------------------------------------------------------------------------------------
# super-posecodes
# ------------------------------------------------------------------------------------------------------


@dataclass
class SuperSpec:
    """A super-posecode: produced when any recipe holds; a recipe is an AND of (code, allowed categories)."""

    name: str
    recipes: list[list[tuple[int, tuple[int, ...]]]]
    rare: bool = False
    absolute: bool = True
    index: int = -1
    mirror: int = -1
    side: int = 0
    #: other super-codes that become redundant when this one is produced
    overrides: tuple[str, ...] = ()


def _cond(op: str, joints: tuple[str, ...], *cats: str) -> tuple[int, tuple[int, ...]]:
    o = OPERATORS[op]
    return code(op, *joints), tuple(o.cat_index(c) for c in cats)


def _build_supers() -> list[SuperSpec]:
    S: list[SuperSpec] = []
    diag = [_cond("relativeVAxis", ("pelvis", f"{s}_shoulder"), "horizontal") for s in ("left", "right")]
    S.append(SuperSpec("lying_on_back", [diag + [_cond("facing", ("left_shoulder", "right_shoulder", "pelvis",
                                                                     "neck"), "facing_up")]], rare=True,
                       overrides=("torso_horizontal",)))
    S.append(SuperSpec("lying_face_down", [diag + [_cond("facing", ("left_shoulder", "right_shoulder", "pelvis",
                                                                       "neck"), "facing_down")]], rare=True,
                       overrides=("torso_horizontal",)))
    S.append(SuperSpec("torso_horizontal", [diag], rare=True))
    knees_ground = [_cond("onGround", (f"{s}_knee",), "on_ground") for s in ("left", "right")]
    hips_above = [_cond("relativePosY", (f"{s}_hip", f"{s}_knee"), "above") for s in ("left", "right")]
    knees_folded = [_cond("angle", (f"{s}_hip", f"{s}_knee", f"{s}_ankle"), "completely_bent")
                    for s in ("left", "right")]
    S.append(SuperSpec("kneeling", [knees_ground + hips_above, knees_ground + knees_folded], rare=True))
    for s, o in (("left", "right"), ("right", "left")):
        S.append(SuperSpec(f"kneel_on_{s}", [[
            _cond("onGround", (f"{s}_knee",), "on_ground"),
            _cond("relativePosY", (f"{s}_hip", f"{s}_knee"), "above"),
            _cond("onGround", (f"{o}_knee",), "ignored"),
            _cond("onGround", (f"{o}_foot",), "on_ground")]], rare=True))
    S.append(SuperSpec("hands_shoulder_width", [[
        _cond("distance", ("left_hand", "right_hand"), "shoulder_width"),
        _cond("relativeVAxis", ("left_hand", "right_hand"), "horizontal")]]))
    S.append(SuperSpec("feet_shoulder_width", [[
        _cond("distance", ("left_foot", "right_foot"), "shoulder_width"),
        _cond("relativeVAxis", ("left_foot", "right_foot"), "horizontal")]]))
    # our addition: a plain standing posture, so that "both feet on the ground, knees straight, thighs
    # vertical" reads as one idea
    S.append(SuperSpec("standing", [[
        *[_cond("onGround", (f"{s}_foot",), "on_ground") for s in ("left", "right")],
        *[_cond("angle", (f"{s}_hip", f"{s}_knee", f"{s}_ankle"), "straight", "slightly_bent")
          for s in ("left", "right")],
        *[_cond("relativeVAxis", (f"{s}_hip", f"{s}_knee"), "vertical") for s in ("left", "right")],
        _cond("relativeVAxis", ("pelvis", "neck"), "vertical")]], absolute=False))
    # --- full inventory (v2): the sit bones on the floor, the trunk not lying flat, a knee in front of its hip
    S.append(SuperSpec("sitting_on_floor", [[
        _cond("floorContact", (f"{s}_hip",), "on_floor"),
        _cond("relativeVAxis", ("pelvis", "neck"), "vertical", "ignored"),
        _cond("relativePosZ", (f"{k}_knee", f"{k}_hip"), "front")] for s in _SIDES for k in _SIDES], rare=True))
    # hands and knees on the floor under a level trunk (v1 read it as lying face down, or kneeling)
    S.append(SuperSpec("on_all_fours", [[_cond("relativeVAxis", ("pelvis", "neck"), "ignored", "horizontal")] + [
        _cond("floorContact", (f"{s}_{j}",), "on_floor") for s in _SIDES for j in ("hand", "knee")]], rare=True,
                       overrides=("lying_face_down", "torso_horizontal", "kneeling")))
    for i, spec in enumerate(S):
        spec.index = i
    names = {spec.name: spec.index for spec in S}
    for spec in S:
        if "left" in spec.name:
            spec.mirror, spec.side = names[spec.name.replace("left", "right")], -1
        elif "right" in spec.name:
            spec.mirror, spec.side = names[spec.name.replace("right", "left")], 1
        else:
            spec.mirror = spec.index
    return S


SUPERS: list[SuperSpec] = _build_supers()
SUPER_INDEX: dict[str, int] = {s.name: s.index for s in SUPERS}
NUM_SUPERS = len(SUPERS)
#: the first inventory's super-codes (they use v1 codes only) keep indices 0 .. NUM_SUPERS_V1 - 1
NUM_SUPERS_V1 = 9
assert all(ci < NUM_CODES_V1 for s in SUPERS[:NUM_SUPERS_V1] for r in s.recipes for ci, _ in r)

#: (code index, category index) -> super-codes whose recipes use it (for type-II support removal)
SUPPORTED_BY: dict[tuple[int, int], list[int]] = {}
for _s in SUPERS:
    for _r in _s.recipes:
        for _c, _cats in _r:
            for _k in _cats:
                SUPPORTED_BY.setdefault((_c, _k), [])
                if _s.index not in SUPPORTED_BY[(_c, _k)]:
                    SUPPORTED_BY[(_c, _k)].append(_s.index)

# ------------------------------------------------------------------------------------------------------
# extraction
# ------------------------------------------------------------------------------------------------------


@dataclass
class PosecodeSet:
    """Extracted posecodes of N poses."""

    values: np.ndarray   # (N, C) float32 raw measurements (noise-free)
    cats: np.ndarray     # (N, C) int16 category index (noise included when extraction was noisy)
    supers: np.ndarray   # (N, S) bool
    features: PoseFeatures | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.cats.shape[0]

    def category(self, i: int, code_index: int) -> str:
        return OPERATORS[CODES[code_index].op].categories[int(self.cats[i, code_index])]

    def __getitem__(self, idx) -> "PosecodeSet":
        idx = np.atleast_1d(np.arange(len(self))[idx])
        return PosecodeSet(self.values[idx], self.cats[idx], self.supers[idx],
                           None if self.features is None else self.features[idx])


def _width(inventory: str) -> int:
    if inventory not in INVENTORIES:
        raise ValueError(f"unknown posecode inventory {inventory!r} (known: {', '.join(INVENTORIES)})")
    return INVENTORIES[inventory]


def _groups_for(width: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    if width not in _OP_GROUPS:
        raise ValueError(f"{width} posecode columns: expected {NUM_CODES} (full) or {NUM_CODES_V1} (v1)")
    return _OP_GROUPS[width]


def measure_all(f: PoseFeatures, inventory: str = "full") -> np.ndarray:
    """(N, C) raw measurements of every elementary code of the inventory ("full", or "v1": the first 98)."""
    width = _width(inventory)
    out = np.empty((len(f), width), dtype=np.float32)
    for name, idx, joints in _groups_for(width):
        out[:, idx] = measure(name, f, joints)
    return out


def bin_all(values: np.ndarray) -> np.ndarray:
    """Categories of (N, C) measurements; C tells the inventory (full or v1)."""
    cats = np.empty(values.shape, dtype=np.int16)
    for name, idx, _ in _groups_for(values.shape[1]):
        cats[:, idx] = OPERATORS[name].bin(values[:, idx])
    return cats


def eval_supers(cats: np.ndarray) -> np.ndarray:
    """(N, S) super-code flags from (N, C) categories (C = full: every super-code; v1: the first nine)."""
    n_sup = NUM_SUPERS if cats.shape[1] == NUM_CODES else NUM_SUPERS_V1
    out = np.zeros((cats.shape[0], n_sup), dtype=bool)
    for s in SUPERS[:n_sup]:
        any_r = np.zeros(cats.shape[0], dtype=bool)
        for recipe in s.recipes:
            ok = np.ones(cats.shape[0], dtype=bool)
            for ci, allowed in recipe:
                ok &= np.isin(cats[:, ci], allowed)
            any_r |= ok
        out[:, s.index] = any_r
    return out


def extract(poses: Pose | PoseFeatures, rng: np.random.Generator | None = None,
            rest_joints: np.ndarray | None = None, noise_scale: float = 1.0, inventory: str = "full") -> PosecodeSet:
    """Extract every posecode of a batch of poses.

    ``rng=None`` is the deterministic mode (no noise). With an rng, each measurement gets a uniform offset
    in ±(operator noise × ``noise_scale``) before binning; the offsets of the v1 codes are drawn first, so that
    the first 98 columns get the same draws as the v1 inventory alone (``inventory="v1"``: the codes, super-codes
    and noise of the 98-code inventory, exactly as before the expansion)."""
    f = poses if isinstance(poses, PoseFeatures) else compute_features(poses, rest_joints)
    values = measure_all(f, inventory)
    noisy = values
    if rng is not None and noise_scale > 0:
        n, width = values.shape
        u = rng.uniform(-1.0, 1.0, size=(n, NUM_CODES_V1))
        if width > NUM_CODES_V1:
            u = np.concatenate([u, rng.uniform(-1.0, 1.0, size=(n, width - NUM_CODES_V1))], axis=1)
        noisy = values + u.astype(np.float32) * (CODE_NOISE[:width] * noise_scale)
    cats = bin_all(noisy)
    return PosecodeSet(values, cats, eval_supers(cats), f)


def v1_view(pcs: PosecodeSet) -> PosecodeSet:
    """The first inventory's columns of a full extraction (same values, categories and first nine super-codes
    as ``extract(..., inventory="v1")`` in deterministic mode)."""
    return PosecodeSet(pcs.values[:, :NUM_CODES_V1], pcs.cats[:, :NUM_CODES_V1], pcs.supers[:, :NUM_SUPERS_V1],
                       pcs.features)


# ------------------------------------------------------------------------------------------------------
# semantic feature vector (pair selection by cosine similarity, FID)
# ------------------------------------------------------------------------------------------------------

_ONEHOT_OFFSETS = np.concatenate([[0], np.cumsum(CODE_NCATS)[:-1]])
#: Dimension of :func:`posecode_features` in its default ("onehot") kind, full inventory ...
FEATURE_DIM = int(CODE_NCATS.sum()) + NUM_SUPERS
#: ... and in the v1 view (the 98-code inventory's features, unchanged: 419)
FEATURE_DIM_V1 = int(CODE_NCATS[:NUM_CODES_V1].sum()) + NUM_SUPERS_V1
# rough scales to bring continuous measurements to O(1)
_SCALE = {"deg": 90.0, "m": 0.5, "cos": 1.0}
_CODE_SCALE = np.array([_SCALE[OPERATORS[c.op].unit] for c in CODES], dtype=np.float32)


def posecode_features(poses: Pose | PoseFeatures | PosecodeSet, kind: str = "onehot",
                      rest_joints: np.ndarray | None = None, inventory: str = "full") -> np.ndarray:
    """Semantic pose features, (N, D) float32, deterministic.

    ``kind="onehot"``: one-hot of every elementary code's category (ignored categories included, so that
    each code contributes exactly one 1) followed by the super-code flags; D = :data:`FEATURE_DIM`.
    ``kind="continuous"``: the raw measurements scaled to roughly unit range, then the super-code flags;
    D = NUM_CODES + NUM_SUPERS. ``inventory="v1"``: the same features over the first inventory only
    (D = :data:`FEATURE_DIM_V1` / NUM_CODES_V1 + NUM_SUPERS_V1), for consumers sized on it."""
    width = _width(inventory)
    pcs = poses if isinstance(poses, PosecodeSet) else extract(poses, None, rest_joints, inventory=inventory)
    if pcs.cats.shape[1] < width:
        raise ValueError(f"posecodes of {pcs.cats.shape[1]} columns given, the {inventory} inventory needs {width}")
    if width == NUM_CODES_V1:
        pcs = v1_view(pcs)
    n, n_sup = len(pcs), pcs.supers.shape[1]
    if kind == "onehot":
        out = np.zeros((n, int(CODE_NCATS[:width].sum()) + n_sup), dtype=np.float32)
        cols = _ONEHOT_OFFSETS[None, :width] + pcs.cats.astype(np.int64)
        np.put_along_axis(out, cols, 1.0, axis=1)
        out[:, -n_sup:] = pcs.supers
        return out
    if kind == "continuous":
        return np.concatenate([pcs.values / _CODE_SCALE[:width], pcs.supers.astype(np.float32)], axis=1)
    raise ValueError(f"unknown feature kind {kind!r}")
