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
        return np.digitize(values, np.asarray(self.thresholds, dtype=values.dtype)).astype(np.int16)

    def cat_index(self, name: str) -> int:
        return self.categories.index(name)


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
]
OPERATORS: dict[str, Operator] = {o.name: o for o in _OPS}

_IDX = EXT_INDEX


def _angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    nu = np.linalg.norm(u, axis=-1)
    nv = np.linalg.norm(v, axis=-1)
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
        return np.linalg.norm(c[:, joints[:, 0]] - c[:, joints[:, 1]], axis=-1)
    if op.startswith("relativePos"):
        ax = "XYZ".index(op[-1])
        return c[:, joints[:, 0], ax] - c[:, joints[:, 1], ax]
    if op == "relativeVAxis":
        seg = c[:, joints[:, 1]] - c[:, joints[:, 0]]
        n = np.maximum(np.linalg.norm(seg, axis=-1), 1e-9)
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
    if op == "relativeRotX":
        return f.head_rel_neck[:, 1:2].repeat(len(joints), 1)
    if op == "relativeRotY":
        return f.head_rel_pelvis[:, 0:1].repeat(len(joints), 1)
    if op == "relativeRotZ":
        return f.head_rel_neck[:, 2:3].repeat(len(joints), 1)
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

    for op, joints, acc, rare, s1, s2, absolute in _inventory():
        mj = tuple(_swap_side(j) for j in joints)
        twins = [joints] if set(mj) == set(joints) else [joints, mj]
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
            spec.index = len(specs)
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


def code(op: str, *joints: str) -> int:
    """Index of the elementary code ``op`` on ``joints`` (raises KeyError if not in the inventory)."""
    return CODE_INDEX[code_key(op, joints)]


# per-operator batched evaluation tables
_OP_GROUPS: list[tuple[str, np.ndarray, np.ndarray]] = []
for _name in OPERATORS:
    _idx = np.array([c.index for c in CODES if c.op == _name], dtype=np.int64)
    if len(_idx):
        _OP_GROUPS.append((_name, _idx, np.array([[EXT_INDEX[j] for j in CODES[i].joints] for i in _idx])))
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


def measure_all(f: PoseFeatures) -> np.ndarray:
    """(N, C) raw measurements of every elementary code."""
    out = np.empty((len(f), NUM_CODES), dtype=np.float32)
    for name, idx, joints in _OP_GROUPS:
        out[:, idx] = measure(name, f, joints)
    return out


def bin_all(values: np.ndarray) -> np.ndarray:
    cats = np.empty(values.shape, dtype=np.int16)
    for name, idx, _ in _OP_GROUPS:
        cats[:, idx] = OPERATORS[name].bin(values[:, idx])
    return cats


def eval_supers(cats: np.ndarray) -> np.ndarray:
    out = np.zeros((cats.shape[0], NUM_SUPERS), dtype=bool)
    for s in SUPERS:
        any_r = np.zeros(cats.shape[0], dtype=bool)
        for recipe in s.recipes:
            ok = np.ones(cats.shape[0], dtype=bool)
            for ci, allowed in recipe:
                ok &= np.isin(cats[:, ci], allowed)
            any_r |= ok
        out[:, s.index] = any_r
    return out


def extract(poses: Pose | PoseFeatures, rng: np.random.Generator | None = None,
            rest_joints: np.ndarray | None = None, noise_scale: float = 1.0) -> PosecodeSet:
    """Extract every posecode of a batch of poses.

    ``rng=None`` is the deterministic mode (no noise). With an rng, each measurement gets a uniform offset
    in ±(operator noise × ``noise_scale``) before binning."""
    f = poses if isinstance(poses, PoseFeatures) else compute_features(poses, rest_joints)
    values = measure_all(f)
    noisy = values
    if rng is not None and noise_scale > 0:
        noisy = values + rng.uniform(-1.0, 1.0, size=values.shape).astype(np.float32) * (CODE_NOISE * noise_scale)
    cats = bin_all(noisy)
    return PosecodeSet(values, cats, eval_supers(cats), f)


# ------------------------------------------------------------------------------------------------------
# semantic feature vector (pair selection by cosine similarity, FID)
# ------------------------------------------------------------------------------------------------------

_ONEHOT_OFFSETS = np.concatenate([[0], np.cumsum(CODE_NCATS)[:-1]])
#: Dimension of :func:`posecode_features` in its default ("onehot") kind.
FEATURE_DIM = int(CODE_NCATS.sum()) + NUM_SUPERS
# rough scales to bring continuous measurements to O(1)
_SCALE = {"deg": 90.0, "m": 0.5, "cos": 1.0}
_CODE_SCALE = np.array([_SCALE[OPERATORS[c.op].unit] for c in CODES], dtype=np.float32)


def posecode_features(poses: Pose | PoseFeatures | PosecodeSet, kind: str = "onehot",
                      rest_joints: np.ndarray | None = None) -> np.ndarray:
    """Semantic pose features, (N, D) float32, deterministic.

    ``kind="onehot"``: one-hot of every elementary code's category (ignored categories included, so that
    each code contributes exactly one 1) followed by the super-code flags; D = :data:`FEATURE_DIM`.
    ``kind="continuous"``: the raw measurements scaled to roughly unit range, then the super-code flags;
    D = NUM_CODES + NUM_SUPERS."""
    pcs = poses if isinstance(poses, PosecodeSet) else extract(poses, None, rest_joints)
    n = len(pcs)
    if kind == "onehot":
        out = np.zeros((n, FEATURE_DIM), dtype=np.float32)
        cols = _ONEHOT_OFFSETS[None, :] + pcs.cats.astype(np.int64)
        np.put_along_axis(out, cols, 1.0, axis=1)
        out[:, -NUM_SUPERS:] = pcs.supers
        return out
    if kind == "continuous":
        return np.concatenate([pcs.values / _CODE_SCALE, pcs.supers.astype(np.float32)], axis=1)
    raise ValueError(f"unknown feature kind {kind!r}")
