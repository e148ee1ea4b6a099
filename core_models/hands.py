"""SMPL-H hands: the 30 hand joints, hand-pose presets, per-finger curl / spread, mirror. No Qt here.

Joint order (SMPL-H = MANO's order per hand, as smplx names them; the AMASS ``poses`` array is 22 body joints
(``poses[:, 0:66]``) then the left hand (``poses[:, 66:111]``, SMPL-H joints 22–36) then the right hand
(``poses[:, 111:156]``, joints 37–51)); per hand::

    index1 index2 index3  middle1 middle2 middle3  pinky1 pinky2 pinky3  ring1 ring2 ring3  thumb1 thumb2 thumb3

``Pose.hand_pose`` (…,30,3) holds these as axis-angle in the SMPL convention: local rotations whose frames are
world-aligned at rest (the T-pose with *flat* hands, palms down, fingers along ±x, thumbs forward), so
``hand_pose = 0`` is a flat hand. Joint 1 of a finger is its knuckle (MCP; the thumb's is the CMC at the wrist),
2 the middle joint (PIP; thumb MCP), 3 the last (DIP; thumb IP). ``hand_pose = None`` means "no hand data":
a body shows its own rest hand (Anny: a relaxed hand) and exports without finger bones.

Shapes are authored in a small parameter space (:class:`HandShape`: per-finger curl 0–1, spread, thumb
opposition) and turned into rotations about each finger's anatomical axes (:func:`shape_to_aa`): curl is a
rotation about the finger's flexion axis (horizontal, across the palm), spread about the palm normal, the thumb
has its own frame (flexion across the palm, abduction away from it, opposition about its own length).
"""
from __future__ import annotations


from dataclasses import dataclass, field, replace

import numpy as np

from core_models import skeleton as sk
from core_models.pose import Pose, aa_to_matrix_np, matrix_to_aa_np

#: fingers in SMPL-H order within a hand (3 joints each)
FINGERS: tuple[str, ...] = ("index", "middle", "pinky", "ring", "thumb")
#: fingers in anatomical order (for panels and presets)
FINGERS_ANATOMICAL: tuple[str, ...] = ("thumb", "index", "middle", "ring", "pinky")
SIDES: tuple[str, ...] = ("left", "right")
HAND_JOINTS_PER_SIDE = 15
NUM_HAND_JOINTS = 30
#: the 30 hand joint names, SMPL-H / AMASS order (left hand first)
HAND_JOINT_NAMES: tuple[str, ...] = tuple(f"{s}_{f}{k}" for s in SIDES for f in FINGERS for k in (1, 2, 3))
#: the full SMPL-H skeleton: 22 body joints + 30 hand joints
SMPLH52_NAMES: tuple[str, ...] = tuple(sk.JOINT_NAMES) + HAND_JOINT_NAMES
NUM_SMPLH52 = 52


def _parents52() -> np.ndarray:
    par = list(int(p) for p in sk.PARENTS)
    for s, side in enumerate(SIDES):
        wrist = sk.JOINT_INDEX[f"{side}_wrist"]
        for f in range(len(FINGERS)):
            base = sk.NUM_JOINTS + 15 * s + 3 * f
            par += [wrist, base, base + 1]
    return np.array(par, np.int64)


#: parent of each of the 52 SMPL-H joints (finger joint 1 hangs from the wrist)
PARENTS52: np.ndarray = _parents52()


def hand_joint_index(side: str, finger: str, k: int) -> int:
    """Index (0–29) into ``hand_pose`` of ``side``'s ``finger`` joint ``k`` (1–3)."""
    if side not in SIDES or finger not in FINGERS or k not in (1, 2, 3):
        raise ValueError(f"no hand joint {side!r} {finger!r} {k!r}")
    return 15 * SIDES.index(side) + 3 * FINGERS.index(finger) + (k - 1)

#: Flat left hand (hand_pose = 0): each finger joint's position relative to the left wrist, metres (the default
#: Anny body's, rounded to mm); the right hand mirrors it (x → −x). For skeleton-only exports (BVH, no body).
DEFAULT_LEFT_HAND_OFFSETS: np.ndarray = np.array([
    [0.102, -0.003, 0.026], [0.127, -0.003, 0.030], [0.149, -0.003, 0.032],  # index
    [0.101, 0.000, 0.000], [0.134, 0.000, -0.004], [0.161, 0.000, -0.006],  # middle
    [0.086, -0.005, -0.037], [0.105, -0.005, -0.046], [0.119, -0.005, -0.051],  # pinky
    [0.095, 0.000, -0.019], [0.123, 0.000, -0.028], [0.147, 0.000, -0.034],  # ring
    [0.037, -0.003, 0.024], [0.051, -0.013, 0.049], [0.068, -0.024, 0.078],  # thumb
])


def default_hand_joints(rest_joints22: np.ndarray) -> np.ndarray:
    """(30,3) flat-hand finger joints for a 22-joint rest skeleton (:data:`DEFAULT_LEFT_HAND_OFFSETS` at its
    wrists)."""
    rj = np.asarray(rest_joints22, np.float64)
    left = rj[sk.JOINT_INDEX["left_wrist"]] + DEFAULT_LEFT_HAND_OFFSETS
    right = rj[sk.JOINT_INDEX["right_wrist"]] + DEFAULT_LEFT_HAND_OFFSETS * np.array([-1.0, 1.0, 1.0])
    return np.concatenate([left, right]).astype(np.float32)


# --- anatomy: axes and ranges (left hand, canonical frame; the right hand mirrors them) ------------------------
# Left hand at rest: fingers along +x, palm facing down (−y), thumb towards the front (+z).

def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def _finger_heading(f: str) -> np.ndarray:
    o = DEFAULT_LEFT_HAND_OFFSETS[3 * FINGERS.index(f):3 * FINGERS.index(f) + 3]
    return _unit(o[2] - o[0])


_PALM_DOWN = np.array([0.0, -1.0, 0.0])
#: left hand: each finger's flexion axis (a positive angle about it curls the finger towards the palm)
FLEX_AXIS: dict[str, np.ndarray] = {f: _unit(np.cross(_finger_heading(f), _PALM_DOWN))
                                    for f in ("index", "middle", "ring", "pinky")}
_THUMB_DIR = _finger_heading("thumb")
#: the thumb bends (MCP, IP) across the palm: towards the little-finger side and under the palm
_THUMB_BEND = _unit(np.array([0.0, -0.6, -0.8]) - np.dot([0.0, -0.6, -0.8], _THUMB_DIR) * _THUMB_DIR)
FLEX_AXIS["thumb"] = _unit(np.cross(_THUMB_DIR, _THUMB_BEND))
#: spreading turns a finger about the palm normal; positive = towards the thumb side (+z)
SPREAD_AXIS = np.array([0.0, -1.0, 0.0])
#: the thumb's opposition (CMC): about the palm's long axis, swinging the thumb under the palm
OPPOSE_AXIS = np.array([1.0, 0.0, 0.0])

#: full flexion (curl = 1) of joints 1, 2, 3, degrees (a tight fist); the thumb: CMC (see oppose), MCP, IP
CURL_MAX_DEG: dict[str, tuple[float, float, float]] = {
    "index": (85.0, 100.0, 70.0), "middle": (90.0, 100.0, 70.0), "ring": (90.0, 100.0, 70.0),
    "pinky": (90.0, 95.0, 70.0), "thumb": (0.0, 55.0, 80.0),
}
#: hyperextension allowed (curl < 0), as a fraction of CURL_MAX
CURL_MIN = -0.15
#: spread = 1: each finger's turn at its knuckle (degrees, positive towards the thumb)
SPREAD_DEG: dict[str, float] = {"index": 12.0, "middle": 2.0, "ring": -8.0, "pinky": -18.0, "thumb": 0.0}
SPREAD_RANGE = (-0.4, 1.0)
#: oppose = 1: the thumb's CMC turn under the palm (degrees)
OPPOSE_DEG = 70.0


def _mirror_aa(aa: np.ndarray) -> np.ndarray:
    """Left-hand axis-angle ↔ right-hand (mirror through the x = 0 plane)."""
    return np.asarray(aa, np.float64) * np.array([1.0, -1.0, -1.0])


def _axis(v: np.ndarray, side: str) -> np.ndarray:
    return v if side == "left" else _mirror_aa(v)


def _rot(axis: np.ndarray, deg: float) -> np.ndarray:
    return aa_to_matrix_np(np.asarray(axis, np.float64) * np.radians(deg))


# --- hand shapes ---------------------------------------------------------------------------------------------

@dataclass
class HandShape:
    """A hand in a few numbers: per finger curl (0 flat … 1 fully bent), spread (0: as at rest, 1: wide,
    negative: fingers together), thumb opposition (0: beside the palm … 1: under the palm)."""

    curl: dict[str, float] = field(default_factory=lambda: {f: 0.0 for f in FINGERS_ANATOMICAL})
    spread: float = 0.0
    oppose: float = 0.0
    #: extra knuckle turn per finger (degrees, positive towards the thumb), on top of the spread
    splay: dict[str, float] = field(default_factory=dict)

    def with_curl(self, **curls: float) -> "HandShape":
        c = dict(self.curl)
        c.update(curls)
        return replace(self, curl=c)


def shape_to_aa(shape: HandShape, side: str = "left") -> np.ndarray:
    """(15,3) axis-angle of one hand (SMPL-H order) for ``shape``."""
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    R = np.tile(np.eye(3), (15, 1, 1))
    for f in FINGERS:
        c = float(np.clip(shape.curl.get(f, 0.0), CURL_MIN, 1.0))
        base = 3 * FINGERS.index(f)
        for k in range(3):
            R[base + k] = _rot(FLEX_AXIS[f], c * CURL_MAX_DEG[f][k])
        if f == "thumb":
            R[base] = _rot(OPPOSE_AXIS, float(np.clip(shape.oppose, 0.0, 1.0)) * OPPOSE_DEG)
        else:
            sp = float(np.clip(shape.spread, *SPREAD_RANGE)) * SPREAD_DEG[f] + float(shape.splay.get(f, 0.0))
            R[base] = _rot(SPREAD_AXIS, sp) @ R[base]
    aa = matrix_to_aa_np(R)
    return (aa if side == "left" else _mirror_aa(aa)).astype(np.float32)


def _shape(curl: dict[str, float], spread: float = 0.0, oppose: float = 0.0,
           splay: dict[str, float] | None = None) -> HandShape:
    return HandShape({f: float(curl.get(f, 0.0)) for f in FINGERS_ANATOMICAL}, spread, oppose, dict(splay or {}))


#: the built-in hand presets (left-hand shapes; every preset works for left, right or both)
PRESETS: dict[str, HandShape] = {
    "relaxed": _shape({"thumb": 0.15, "index": 0.2, "middle": 0.28, "ring": 0.34, "pinky": 0.4}, 0.1, 0.25),
    "fist": _shape({"thumb": 0.9, "index": 1.0, "middle": 1.0, "ring": 1.0, "pinky": 1.0}, -0.3, 0.6),
    "open": _shape({"thumb": -0.05, "index": -0.05, "middle": -0.05, "ring": -0.05, "pinky": -0.05}, 1.0, 0.0),
    "point": _shape({"thumb": 0.7, "index": 0.0, "middle": 1.0, "ring": 1.0, "pinky": 1.0}, -0.2, 0.6),
    "grip": _shape({"thumb": 0.45, "index": 0.55, "middle": 0.6, "ring": 0.62, "pinky": 0.65}, -0.2, 0.75),
    # thumb and index tips 7 mm apart on the default body (the pads touch)
    "pinch": _shape({"thumb": 0.7, "index": 0.6, "middle": 0.35, "ring": 0.4, "pinky": 0.45}, 0.0, 0.5),
    "thumbs_up": _shape({"thumb": -0.1, "index": 1.0, "middle": 1.0, "ring": 1.0, "pinky": 1.0}, -0.3, 0.0),
    "peace": _shape({"thumb": 0.7, "index": 0.0, "middle": 0.0, "ring": 1.0, "pinky": 1.0}, 1.0, 0.6,
                    {"index": 6.0, "middle": -8.0}),
}
PRESET_LABELS: dict[str, str] = {"relaxed": "Relaxed", "fist": "Fist", "open": "Open", "point": "Point",
                                 "grip": "Grip", "pinch": "Pinch", "thumbs_up": "Thumbs up", "peace": "Peace"}
HAND_SIDES: tuple[str, ...] = ("left", "right", "both")


def _sides(side: str) -> tuple[str, ...]:
    if side == "both":
        return SIDES
    if side not in SIDES:
        raise ValueError(f"side must be 'left', 'right' or 'both', got {side!r}")
    return (side,)


def _slice(side: str) -> slice:
    return slice(0, 15) if side == "left" else slice(15, 30)


def preset_hand_pose(name: str, side: str = "both", base: np.ndarray | None = None) -> np.ndarray:
    """(30,3) hand pose with preset ``name`` on ``side`` (left / right / both); the other hand from ``base``
    (zeros = flat when None)."""
    if name not in PRESETS:
        raise ValueError(f"unknown hand preset {name!r}; known: {', '.join(PRESETS)}")
    out = np.zeros((30, 3), np.float32) if base is None else np.array(base, np.float32).reshape(30, 3)
    for s in _sides(side):
        out[_slice(s)] = shape_to_aa(PRESETS[name], s)
    return out


def hands_of(pose: Pose) -> np.ndarray:
    """The pose's (30,3) hand pose, or zeros (flat hands) when it has none."""
    if pose.batch_shape != ():
        raise ValueError("hands_of needs a single pose")
    return np.zeros((30, 3), np.float32) if pose.hand_pose is None else pose.hand_pose.astype(np.float32).copy()


def with_hands(pose: Pose, hand_pose: np.ndarray | None) -> Pose:
    """A copy of ``pose`` with ``hand_pose`` (checked: (30,3), finite; None removes the hands)."""
    out = pose.copy()
    if hand_pose is None:
        out.hand_pose = None
        return out
    h = np.asarray(hand_pose, np.float32)
    if h.shape != (30, 3):
        raise ValueError(f"hand_pose must be (30, 3), got {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ValueError("hand_pose contains NaN or infinite values")
    out.hand_pose = h.copy()
    return out


def mirror_hand(hand_pose: np.ndarray, source: str) -> np.ndarray:
    """(30,3): the ``source`` hand ('left' / 'right') copied mirror-symmetrically onto the other hand."""
    if source not in SIDES:
        raise ValueError(f"source must be 'left' or 'right', got {source!r}")
    h = np.array(hand_pose, np.float32).reshape(30, 3)
    other = "right" if source == "left" else "left"
    h[_slice(other)] = _mirror_aa(h[_slice(source)]).astype(np.float32)
    return h


# --- reading and changing one finger: flexion as the twist about the flexion axis ------------------------------

def _twist_deg(aa: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Angle (degrees) of the twist part of rotations ``aa`` (…,3) about ``axis`` (swing-twist decomposition)."""
    aa = np.asarray(aa, np.float64)
    th = np.linalg.norm(aa, axis=-1)
    w = np.cos(th / 2.0)
    s = np.where(th > 1e-12, np.sin(th / 2.0) / np.maximum(th, 1e-12), 0.5)
    proj = (aa * s[..., None]) @ axis
    return np.degrees(2.0 * np.arctan2(proj, w))


def _flex_axes(side: str, finger: str, k: int) -> np.ndarray:
    if finger == "thumb" and k == 0:
        return _axis(OPPOSE_AXIS, side)
    return _axis(FLEX_AXIS[finger], side)


def finger_curl(hand_pose: np.ndarray, side: str, finger: str) -> float:
    """The curl (0 flat … 1 fully bent) a hand pose has for one finger: its joints' flexion over CURL_MAX."""
    h = np.asarray(hand_pose, np.float64).reshape(30, 3)[_slice(side)]
    base = 3 * FINGERS.index(finger)
    ks = (1, 2) if finger == "thumb" else (0, 1, 2)
    vals = [_twist_deg(h[base + k], _axis(FLEX_AXIS[finger], side)) / CURL_MAX_DEG[finger][k] for k in ks]
    return float(np.clip(np.mean(vals), CURL_MIN, 1.0))


def set_finger_curl(hand_pose: np.ndarray, side: str, finger: str, curl: float) -> np.ndarray:
    """(30,3): ``side``'s ``finger`` bent to ``curl`` (each joint's flexion replaced, its spread / other turns
    kept; the thumb's CMC opposition is kept, its MCP and IP bend)."""
    if finger not in FINGERS:
        raise ValueError(f"unknown finger {finger!r}")
    c = float(np.clip(curl, CURL_MIN, 1.0))
    h = np.array(hand_pose, np.float64).reshape(30, 3)
    for s in _sides(side):
        base = 15 * SIDES.index(s) + 3 * FINGERS.index(finger)
        a = _axis(FLEX_AXIS[finger], s)
        for k in ((1, 2) if finger == "thumb" else (0, 1, 2)):
            R = aa_to_matrix_np(h[base + k])
            swing = R @ _rot(a, -float(_twist_deg(h[base + k], a)))
            h[base + k] = matrix_to_aa_np(swing @ _rot(a, c * CURL_MAX_DEG[finger][k]))
    return h.astype(np.float32)


def set_hand_curl(hand_pose: np.ndarray, side: str, curl: float) -> np.ndarray:
    """(30,3): every finger of ``side`` (left / right / both) bent to ``curl``."""
    h = np.asarray(hand_pose, np.float32)
    for f in FINGERS:
        h = set_finger_curl(h, side, f, curl)
    return h


def hand_spread(hand_pose: np.ndarray, side: str) -> float:
    """The spread of a hand (as :func:`set_spread` sets it), from its index and little fingers' knuckles."""
    h = np.asarray(hand_pose, np.float64).reshape(30, 3)[_slice(side)]
    vals = []
    for f in ("index", "pinky"):
        R = aa_to_matrix_np(h[3 * FINGERS.index(f)])
        a = _axis(FLEX_AXIS[f], side)
        swing = R @ _rot(a, -float(_twist_deg(h[3 * FINGERS.index(f)], a)))
        vals.append(float(_twist_deg(matrix_to_aa_np(swing), _axis(SPREAD_AXIS, side))) / SPREAD_DEG[f])
    return float(np.clip(np.mean(vals), *SPREAD_RANGE))


def set_spread(hand_pose: np.ndarray, side: str, spread: float) -> np.ndarray:
    """(30,3): the knuckles of ``side``'s four fingers turned to ``spread`` (their flexion kept)."""
    sp = float(np.clip(spread, *SPREAD_RANGE))
    h = np.array(hand_pose, np.float64).reshape(30, 3)
    for s in _sides(side):
        for f in ("index", "middle", "ring", "pinky"):
            j = 15 * SIDES.index(s) + 3 * FINGERS.index(f)
            a = _axis(FLEX_AXIS[f], s)
            flex = float(_twist_deg(h[j], a))
            h[j] = matrix_to_aa_np(_rot(_axis(SPREAD_AXIS, s), sp * SPREAD_DEG[f]) @ _rot(a, flex))
    return h.astype(np.float32)


def hand_limit_excess_deg(hand_pose: np.ndarray) -> np.ndarray:
    """(30,) degrees by which each finger joint's flexion leaves its range [CURL_MIN·max, max] (0 inside)."""
    h = np.asarray(hand_pose, np.float64).reshape(30, 3)
    out = np.zeros(30)
    for s in SIDES:
        for f in FINGERS:
            for k in range(3):
                j = 15 * SIDES.index(s) + 3 * FINGERS.index(f) + k
                hi = CURL_MAX_DEG[f][k] if not (f == "thumb" and k == 0) else OPPOSE_DEG
                lo = CURL_MIN * hi
                t = float(_twist_deg(h[j], _flex_axes(s, f, k)))
                out[j] = max(lo - t, t - hi, 0.0)
    return out


# --- the user's own hand presets: library poses in the "hands" category ----------------------------------------

#: library category of hand presets (a library pose in the T-pose whose point is its ``hand_pose``)
HAND_PRESET_CATEGORY = "hands"


def save_hand_preset(name: str, hand_pose: np.ndarray, folder=None):
    """Save ``hand_pose`` (30,3) as a hand preset in the user's pose library (a JSON library pose, category
    "hands", body in the zero pose); → the saved LibraryPose. Bad names / values raise LibraryError / ValueError
    and write nothing."""
    from core_models.library import save_user_pose

    pose = with_hands(Pose.zeros(), hand_pose)
    return save_user_pose(name, pose, description="Hand preset (Hands panel)", category=HAND_PRESET_CATEGORY,
                          folder=folder)


def library_hand_presets(entries=None) -> list[tuple[str, np.ndarray]]:
    """(name, (30,3) hand pose) of every hand preset in the pose library (``entries``: a loaded library, else
    the built-in + user library), built-ins first."""
    if entries is None:
        from core_models.library import load_library

        entries = load_library()
    return [(e.name, e.pose.hand_pose.copy()) for e in entries
            if e.category == HAND_PRESET_CATEGORY and e.pose.hand_pose is not None]


def apply_hand_preset(hand_pose_now: np.ndarray, preset: np.ndarray, side: str) -> np.ndarray:
    """(30,3): ``preset``'s hands put on ``side`` (left / right / both) of ``hand_pose_now``."""
    out = np.array(hand_pose_now, np.float32).reshape(30, 3)
    src = np.asarray(preset, np.float32).reshape(30, 3)
    for s in _sides(side):
        out[_slice(s)] = src[_slice(s)]
    return out
