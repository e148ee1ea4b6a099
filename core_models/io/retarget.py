"""Retarget any imported :class:`~core_models.io.motion.Motion` to canonical SMPL-H :class:`Pose` batches.

Pipeline (vectorised over frames):

1. **Correspondence** — a per-rig map (``RIG_MAPS``; generic name matching for unknown rigs) says, for each
   SMPL-H joint, which source joint gives its *position* (used by the solver and the quality metric), which
   source joint's *rotation* drives the same body segment, plus auxiliary markers (head top, toes, hand
   ends, fingers, eyes) used only to calibrate orientations.
2. **Scale** — ``s`` = (sum of SMPL-H rest segment lengths) / (sum of mean source segment lengths) over the
   chains between mapped joints: the body-height ratio. Source positions and root translation are
   multiplied by ``s``.
3. **Calibration** — for every SMPL-H joint j with a rotation source, one constant rotation C_j with
   ``G_smpl_j(f) ≈ G_src(f) · C_j`` is fitted over the whole clip (weighted Wahba/SVD problem): it maps the
   SMPL-H rest bone direction onto the source bone direction, and takes its *twist* from reference
   directions (hip/shoulder lateral axes, knee/elbow hinge normals, palm and eye axes). This works for rigs
   whose zero pose is not a T-pose (Character Creator) and keeps the source's own twist frame by frame.
4. **Initial pose** — global rotations G_j = G_src·C_j (joints without a source follow their parent),
   turned into SMPL-H local rotations; root translation from the scaled source pelvis.
5. **Refinement** — a few L-BFGS iterations (torch) of per-frame corrections δ_j (axis-angle, applied on
   the right) and translation minimising the position error of the mapped joints + a small prior on δ
   (keeps twists that positions cannot see) + a soft joint-limit penalty (:func:`limit_excess_sq`: the
   intrinsic-XYZ Euler ranges, either exact decomposition — an elbow flexed past 90° is inside them — of
   :mod:`core_models.skeleton`). Finally :func:`core_models.pose.clamp_to_limits` is applied to joints
   beyond ``limit_tol_deg``.

Quality: :func:`retarget_quality` returns MPJPE (mm, mapped joints, after the scale normalisation) and
joint-limit statistics; the ``retarget-check`` CLI runs it over a data folder.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from core_models import skeleton as sk
from core_models.io.motion import Motion
from core_models.io.scene_motion import mixamo_to_smplh
from core_models.kinematics import fk_numpy, fk_torch
from core_models.pose import (
    Pose,
    aa_to_matrix,
    clamp_to_limits,
    limit_violation_deg,
    matrix_to_aa,
    matrix_to_euler,
    nearest_rotation,
)

JI = sk.JOINT_INDEX

# --- correspondence ------------------------------------------------------------------------------------
# pos: SMPL-H joint -> source joint placed at the same anatomical point (metric + solver)
# rot: SMPL-H joint -> source joint whose rotation moves the same segment
# aux: named helper markers (see _AUX_DIR) -> source joint


def _lr(d: dict[str, str], left: str, right: str) -> dict[str, str]:
    """Expand '{s}'-templated entries for both sides: key 'left_x' / value with {s} → left/right names."""
    out = {}
    for k, v in d.items():
        if "{s}" in k or "{S}" in v or "{s}" in v:
            for side, tag in (("left", left), ("right", right)):
                out[k.replace("{s}", side)] = v.replace("{s}", tag).replace("{S}", tag.upper())
        else:
            out[k] = v
    return out


_CMU_POS = _lr({"pelvis": "root", "{s}_hip": "{s}femur", "{s}_knee": "{s}tibia", "{s}_ankle": "{s}foot",
                "{s}_foot": "{s}toes", "spine3": "thorax",
                "neck": "upperneck", "head": "head", "{s}_shoulder": "{s}humerus", "{s}_elbow": "{s}radius",
                "{s}_wrist": "{s}wrist"}, "l", "r")
_CMU_ROT = _lr({"pelvis": "root", "{s}_hip": "{s}femur", "{s}_knee": "{s}tibia", "{s}_ankle": "{s}foot",
                "{s}_foot": "{s}toes", "spine1": "upperback", "spine2": "upperback", "spine3": "thorax",
                "neck": "upperneck", "head": "head", "{s}_collar": "{s}clavicle", "{s}_shoulder": "{s}humerus",
                "{s}_elbow": "{s}radius", "{s}_wrist": "{s}hand"}, "l", "r")
_CMU_AUX = _lr({"head_top": "head_end", "{s}_toe_end": "{s}toes_end", "{s}_hand_end": "{s}fingers",
                "{s}_thumb": "{s}thumb_end", "{s}_fingertip": "{s}fingers_end"}, "l", "r")

_CC_POS = _lr({"pelvis": "CC_Base_Hip", "{s}_hip": "CC_Base_{S}_Thigh", "{s}_knee": "CC_Base_{S}_Calf",
               "{s}_ankle": "CC_Base_{S}_Foot", "{s}_foot": "CC_Base_{S}_ToeBase",
               "spine2": "CC_Base_Spine02", "neck": "CC_Base_NeckTwist02", "head": "CC_Base_Head",
               "{s}_shoulder": "CC_Base_{S}_Upperarm", "{s}_elbow": "CC_Base_{S}_Forearm",
               "{s}_wrist": "CC_Base_{S}_Hand"}, "l", "r")
_CC_ROT = _lr({"pelvis": "CC_Base_Hip", "{s}_hip": "CC_Base_{S}_Thigh", "{s}_knee": "CC_Base_{S}_Calf",
               "{s}_ankle": "CC_Base_{S}_Foot", "{s}_foot": "CC_Base_{S}_ToeBase", "spine1": "CC_Base_Spine01",
               "spine2": "CC_Base_Spine02", "spine3": "CC_Base_Spine02", "neck": "CC_Base_NeckTwist01",
               "head": "CC_Base_Head", "{s}_collar": "CC_Base_{S}_Clavicle",
               "{s}_shoulder": "CC_Base_{S}_Upperarm", "{s}_elbow": "CC_Base_{S}_Forearm",
               "{s}_wrist": "CC_Base_{S}_Hand"}, "l", "r")
_CC_AUX = _lr({"{s}_eye": "CC_Base_{S}_Eye", "{s}_hand_end": "CC_Base_{S}_Mid1", "{s}_index": "CC_Base_{S}_Index1",
               "{s}_pinky": "CC_Base_{S}_Pinky1", "{s}_toe_end": "CC_Base_{S}_MidToe1"}, "l", "r")

_DAZ_POS = _lr({"{s}_hip": "{s}Thigh", "{s}_knee": "{s}Shin", "{s}_ankle": "{s}Foot",
                "spine1": "abdomen", "spine2": "chest", "neck": "neck", "head": "head",
                "{s}_shoulder": "{s}Shldr", "{s}_elbow": "{s}ForeArm", "{s}_wrist": "{s}Hand"}, "l", "r")
_DAZ_ROT = _lr({"pelvis": "hip", "{s}_hip": "{s}Thigh", "{s}_knee": "{s}Shin", "{s}_ankle": "{s}Foot",
                "spine1": "abdomen", "spine2": "chest", "spine3": "chest", "neck": "neck", "head": "head",
                "{s}_collar": "{s}Collar", "{s}_shoulder": "{s}Shldr", "{s}_elbow": "{s}ForeArm",
                "{s}_wrist": "{s}Hand"}, "l", "r")
_DAZ_AUX = _lr({"{s}_toe_end": "{s}Foot_end", "{s}_hand_end": "{s}Mid1", "{s}_index": "{s}Index1",
                "{s}_pinky": "{s}Pinky1"}, "l", "r")
_DAZ_AUX.update({"left_eye": "leftEye", "right_eye": "rightEye"})

_DM_POS = _lr({"{s}_hip": "{s}_hip", "{s}_knee": "{s}_knee", "{s}_ankle": "{s}_ankle",
               "{s}_foot": "{s}_toe_end", "spine1": "chest", "{s}_shoulder": "{s}_shoulder",
               "{s}_elbow": "{s}_elbow", "{s}_wrist": "{s}_wrist"}, "left", "right")
_DM_ROT = _lr({"pelvis": "root", "{s}_hip": "{s}_hip", "{s}_knee": "{s}_knee", "{s}_ankle": "{s}_ankle",
               "spine1": "chest", "neck": "neck", "{s}_shoulder": "{s}_shoulder", "{s}_elbow": "{s}_elbow"},
              "left", "right")
_DM_AUX = _lr({"head_top": "head_end", "{s}_toe_end": "{s}_toe_end"}, "left", "right")


@dataclass(frozen=True)
class RigMap:
    pos: dict[str, str]
    rot: dict[str, str]
    aux: dict[str, str] = field(default_factory=dict)


#: joints whose twist comes from the clip's hinge (knee/elbow bend plane) even with a T-pose calibration
HINGE_CALIBRATED = {f"{s}_{j}" for s in ("left", "right") for j in ("hip", "knee", "shoulder", "elbow")}

#: rigs whose zero pose is a T-pose with world-aligned, twist-neutral joint frames
TPOSE_RIGS = {"cmu_asf", "cmu_expmap", "daz"}

RIG_MAPS: dict[str, RigMap] = {
    "cmu_asf": RigMap(_CMU_POS, _CMU_ROT, _CMU_AUX),
    "cmu_expmap": RigMap(_CMU_POS, _CMU_ROT, _CMU_AUX),
    "cc_base": RigMap(_CC_POS, _CC_ROT, _CC_AUX),
    "daz": RigMap(_DAZ_POS, _DAZ_ROT, _DAZ_AUX),
    "deepmimic": RigMap(_DM_POS, _DM_ROT, _DM_AUX),
}

# generic fallback: normalised-name synonyms, first match wins
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "pelvis": ("pelvis", "hips", "hip", "root", "bip01pelvis"),
    "left_hip": ("lefthip", "leftupleg", "leftthigh", "lthigh", "lfemur", "lefthipjoint", "lupleg"),
    "left_knee": ("leftknee", "leftleg", "leftshin", "lshin", "lknee", "ltibia", "lleg", "leftcalf"),
    "left_ankle": ("leftankle", "leftfoot", "lfoot", "lankle"),
    "left_foot": ("lefttoebase", "lefttoe", "ltoes", "ltoe", "lefttoes", "ltoebase"),
    "spine1": ("spine", "spine1", "lowerback", "abdomen", "waist", "spine01"),
    "spine2": ("spine2", "chest", "spine02", "upperback"),
    "spine3": ("spine3", "upperchest", "chest2", "thorax", "spine03"),
    "neck": ("neck", "neck1", "lowerneck", "necktwist01"),
    "head": ("head",),
    "left_collar": ("leftshoulder", "leftcollar", "lcollar", "lclavicle", "leftclavicle"),
    "left_shoulder": ("leftarm", "leftupperarm", "lshldr", "lhumerus", "lupperarm", "luparm", "leftuparm"),
    "left_elbow": ("leftforearm", "lforearm", "lradius", "leftelbow", "lelbow", "llowarm"),
    "left_wrist": ("lefthand", "lhand", "leftwrist", "lwrist"),
}


def _norm_name(n: str) -> str:
    n = n.lower()
    for pre in ("mixamorig:", "mixamorig_", "cc_base_", "bip01_", "bip01 ", "def-", "j_"):
        if n.startswith(pre):
            n = n[len(pre):]
    return "".join(ch for ch in n if ch.isalnum())


def generic_map(motion: Motion) -> RigMap:
    """Name-matching fallback for unknown rigs (Mixamo, Daz, CMU-like, Character Creator-like names)."""
    norm: dict[str, str] = {}
    for n in motion.names:
        norm.setdefault(_norm_name(n), n)
    pos: dict[str, str] = {}
    for smpl, syns in _SYNONYMS.items():
        sides = [(smpl, syns)]
        if smpl.startswith("left_"):
            rsyns = tuple(s.replace("left", "right", 1) if s.startswith("left") else
                          ("r" + s[1:] if s.startswith("l") else s) for s in syns)
            sides.append(("right_" + smpl[5:], rsyns))
        for name, cand in sides:
            for c in cand:
                if c in norm and norm[c] not in pos.values():
                    pos[name] = norm[c]
                    break
    rot = {k: v for k, v in pos.items()}
    return RigMap(pos, rot, {})


def rig_map_for(motion: Motion) -> RigMap:
    if set(sk.JOINT_NAMES) <= set(motion.names):  # an SMPL/SMPL-H-named skeleton: identity map
        ident = {n: n for n in sk.JOINT_NAMES}
        return RigMap(ident, dict(ident), {})
    m = RIG_MAPS.get(motion.rig)
    if m is None:
        return generic_map(motion)
    names = set(motion.names)
    return RigMap({k: v for k, v in m.pos.items() if v in names}, {k: v for k, v in m.rot.items() if v in names},
                  {k: v for k, v in m.aux.items() if v in names})


# --- calibration -------------------------------------------------------------------------------------------

_PRIMARY: dict[str, list[str]] = {  # SMPL child candidates ('@aux' for an auxiliary marker)
    "pelvis": ["spine1", "spine2", "spine3", "neck"],
    "spine1": ["spine2", "spine3", "neck"], "spine2": ["spine3", "neck"], "spine3": ["neck"],
    "neck": ["head", "@head_top"], "head": ["@head_top", "@eye_mid"],
    "left_hip": ["left_knee"], "left_knee": ["left_ankle"], "left_ankle": ["left_foot", "@left_toe_end"],
    "left_foot": ["@left_toe_end"],
    "left_collar": ["left_shoulder"], "left_shoulder": ["left_elbow"], "left_elbow": ["left_wrist"],
    "left_wrist": ["@left_hand_end", "@left_fingertip"],
}
for _k, _v in list(_PRIMARY.items()):
    if _k.startswith("left_"):
        _PRIMARY["right_" + _k[5:]] = [c.replace("left", "right") for c in _v]

#: direction of an auxiliary marker from its SMPL-H joint in the T-pose (canonical frame)
_AUX_DIR = {"head_top": (0.0, 1.0, 0.0), "eye_mid": (0.0, 1.0, 1.0),
            "left_toe_end": (0.0, -0.15, 1.0), "right_toe_end": (0.0, -0.15, 1.0),
            "left_hand_end": (1.0, 0.0, 0.0), "right_hand_end": (-1.0, 0.0, 0.0),
            "left_fingertip": (1.0, 0.0, 0.0), "right_fingertip": (-1.0, 0.0, 0.0)}


def _unit(v, eps=1e-9):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, eps), n[..., 0]


@dataclass
class _Src:
    P: np.ndarray  # (F,Js,3) scaled source positions
    G: np.ndarray  # (F,Js,3,3) source global rotations
    idx: dict[str, int]  # source joint name -> index
    rmap: RigMap

    def pos(self, smpl_name: str):
        n = self.rmap.pos.get(smpl_name)
        return None if n is None else self.P[:, self.idx[n]]

    def aux(self, key: str):
        if key == "eye_mid":
            a, b = self.aux("left_eye"), self.aux("right_eye")
            return None if a is None or b is None else 0.5 * (a + b)
        n = self.rmap.aux.get(key)
        return None if n is None else self.P[:, self.idx[n]]


def _references(j: str, src: _Src, rest: np.ndarray, tpose: bool = False):
    """Secondary (twist) references for SMPL joint j: list of (e (3,) canonical, r (F,3) world, w (F,)).

    With ``tpose`` (one frame: the rig's T-pose) only references exact in a T-pose are used: the lateral
    hip/shoulder axis for the trunk and legs, the trunk's up axis for the arms."""
    F = src.P.shape[0]
    out = []

    def lateral(a, b, w=1.0):
        pa, pb = src.pos(a), src.pos(b)
        if pa is not None and pb is not None:
            r, n = _unit(pa - pb)
            out.append((np.array([1.0, 0, 0]), r, np.full(F, w) * (n > 1e-6)))

    def hinge(top, mid, low, e, w=1.0):
        pt, pm, pl = src.pos(top), src.pos(mid), src.pos(low)
        if pt is None or pm is None or pl is None:
            return
        u, _ = _unit(pm - pt)
        v, _ = _unit(pl - pm)
        r, s = _unit(np.cross(u, v))
        out.append((np.asarray(e, float), r, w * np.clip(s, 0, 1) ** 2))

    def pair(ka, kb, e, w=1.0):
        pa, pb = src.aux(ka), src.aux(kb)
        if pa is not None and pb is not None:
            r, n = _unit(pa - pb)
            out.append((np.asarray(e, float), r, np.full(F, w) * (n > 1e-6)))

    def updir(w=1.0):
        top = src.pos("neck")
        for b in ("spine1", "pelvis", "spine2"):
            pb = src.pos(b)
            if top is not None and pb is not None:
                r, n = _unit(top - pb)
                e = rest[JI["neck"]] - rest[JI[b]]
                out.append((e, r, np.full(F, w) * (n > 1e-6)))
                return

    side = "left" if j.startswith("left_") else "right" if j.startswith("right_") else None
    if tpose:
        if side and j.endswith(("_collar", "_shoulder", "_elbow", "_wrist")):
            updir(1.0)
        elif j in ("spine2", "spine3", "neck", "head"):
            lateral("left_shoulder", "right_shoulder", 1.0)
            if not out:
                lateral("left_hip", "right_hip", 1.0)
        else:
            lateral("left_hip", "right_hip", 1.0)
            if not out:
                lateral("left_shoulder", "right_shoulder", 1.0)
        return out
    if j in ("pelvis", "spine1"):
        lateral("left_hip", "right_hip", 1.0)
        lateral("left_shoulder", "right_shoulder", 0.2)
    elif j == "spine2":
        lateral("left_hip", "right_hip", 0.5)
        lateral("left_shoulder", "right_shoulder", 0.5)
    elif j in ("spine3", "neck"):
        lateral("left_shoulder", "right_shoulder", 1.0)
        lateral("left_hip", "right_hip", 0.1)
    elif j == "head":
        pair("left_eye", "right_eye", (1.0, 0, 0), 1.0)
        if not out:
            lateral("left_shoulder", "right_shoulder", 0.3)
    elif side and j.endswith(("_hip", "_knee", "_ankle", "_foot")):
        hinge(f"{side}_hip", f"{side}_knee", f"{side}_ankle", (1.0, 0, 0), 1.0)
        lateral("left_hip", "right_hip", 0.05 if j.endswith(("_hip", "_knee")) else 0.3)
    elif side and j.endswith("_collar"):
        updir(1.0)
    elif side and j.endswith(("_shoulder", "_elbow", "_wrist")):
        sgn = -1.0 if side == "left" else 1.0
        if j.endswith(("_shoulder", "_elbow")):
            # elbow flexion axis: -y (left) / +y (right) in both the upper-arm and forearm frames
            hinge(f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist", (0, sgn, 0), 1.0)
        if j.endswith("_wrist") or not out:
            pair(f"{side}_index", f"{side}_pinky", (0, 0, 1.0), 1.0)
            pair(f"{side}_thumb", f"{side}_fingertip", (0, 0, 1.0), 1.0)
    return out


def _wahba(pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """C = argmin Σ w ||C e - b||² over rotations; pairs of (e (3,), b (F,3), w (F,))."""
    B = np.zeros((3, 3))
    for e, b, w in pairs:
        B += np.einsum("f,fi,j->ij", w, b, e)
    return nearest_rotation(B)


def _calibrate(src: _Src, rest: np.ndarray, tpose: bool = False, only=None, ref_weight=None):
    """C_j for each SMPL joint with a rotation source (see module docstring). ``ref_weight`` (dict), if
    given, receives the total weight of the twist references per joint."""
    Cs = {}
    for j in sk.JOINT_NAMES:
        rn = src.rmap.rot.get(j)
        if rn is None or (only is not None and j not in only):
            continue
        Gs = src.G[:, src.idx[rn]]  # (F,3,3)
        GsT = np.swapaxes(Gs, -1, -2)
        pairs = []
        pj = src.pos(j)
        if pj is None:
            pj = src.P[:, src.idx[rn]]
        for c in _PRIMARY.get(j, []):
            if c.startswith("@"):
                pc = src.aux(c[1:])
                e = np.asarray(_AUX_DIR.get(c[1:], (0, 1.0, 0)), float)
            else:
                pc = src.pos(c)
                e = rest[JI[c]] - rest[JI[j]]
            if pc is None:
                continue
            e, _ = _unit(e)
            r, n = _unit(pc - pj)
            pairs.append((e, np.einsum("fij,fj->fi", GsT, r), 4.0 * (n > 1e-6)))
            break
        if not pairs:
            if tpose:  # no bone direction: the T-pose frame itself is the neutral frame
                Cs[j] = GsT[0]
            continue  # (data mode) the joint follows its parent
        ep, bp, _ = pairs[0]
        for e, r, w in _references(j, src, rest, tpose):
            # only the part of a reference perpendicular to the bone carries twist information
            e = _unit(e)[0]
            e = e - (e @ ep) * ep
            en = np.linalg.norm(e)
            if en < 0.2:
                continue
            b = np.einsum("fij,fj->fi", GsT, r)
            b = b - (b * bp).sum(-1, keepdims=True) * bp
            b, bn = _unit(b)
            pairs.append((e / en, b, w * np.clip(bn, 0, 1) ** 2))
        if ref_weight is not None:
            ref_weight[j] = float(sum(w.sum() for _, _, w in pairs[1:]))
        if not pairs or sum(float(w.sum()) for _, _, w in pairs) <= 0:
            continue
        Cs[j] = _wahba(pairs)
    return Cs


def _scale(motion_P: np.ndarray, idx: dict[str, int], rmap: RigMap, rest: np.ndarray) -> float:
    """Body-size ratio: Σ SMPL rest segment lengths / Σ mean source segment lengths, over mapped chains."""
    num = den = 0.0
    for j in range(1, sk.NUM_JOINTS):
        name = sk.JOINT_NAMES[j]
        if name not in rmap.pos or name.endswith(("_foot", "_collar")):
            continue
        a = sk.PARENTS[j]
        while a >= 0 and sk.JOINT_NAMES[a] not in rmap.pos:
            a = sk.PARENTS[a]
        if a < 0:
            continue
        ls = np.linalg.norm(motion_P[:, idx[rmap.pos[name]]] - motion_P[:, idx[rmap.pos[sk.JOINT_NAMES[a]]]], axis=-1)
        num += float(np.linalg.norm(rest[j] - rest[a]))
        den += float(np.median(ls))
    if den <= 1e-9:
        return 1.0
    return num / den


# --- main entry point ------------------------------------------------------------------------------------

@dataclass
class RetargetResult:
    pose: Pose  # (F,) batch
    scale: float  # source → target length ratio applied
    target_positions: np.ndarray  # (F,22,3) scaled source positions (NaN where unmapped)
    mapped: np.ndarray  # (22,) bool: joints with a position correspondence
    info: dict[str, Any] = field(default_factory=dict)


def proportioned_rest(rest: np.ndarray, targets: np.ndarray, mapped: np.ndarray) -> np.ndarray:
    """The SMPL-H rest skeleton with the *source's* proportions: every chain between a mapped joint and its
    nearest mapped ancestor is scaled uniformly so that its end-to-end rest length equals the mean source
    distance between the two joints (rest directions are kept). Solving on this skeleton matches source bone
    *directions* instead of compromising between positions that no pose on the body's proportions can reach
    (CMU's root sits ~15 cm above an SMPL pelvis; its shoulders are narrower), and the MPJPE measured on it is
    the pose-transfer error, free of the proportion mismatch."""
    rest = np.asarray(rest, dtype=np.float64)
    ratio = np.ones(sk.NUM_JOINTS)
    for j in range(1, sk.NUM_JOINTS):
        if not mapped[j]:
            continue
        chain = [j]
        a = sk.PARENTS[j]
        while a >= 0 and not mapped[a]:
            chain.append(a)
            a = sk.PARENTS[a]
        if a < 0:
            continue
        d_src = np.nanmean(np.linalg.norm(targets[:, j] - targets[:, a], axis=-1))
        d_rest = np.linalg.norm(rest[j] - rest[a])
        if np.isfinite(d_src) and d_rest > 1e-4:
            r = float(np.clip(d_src / d_rest, 0.5, 2.0))
            for c in chain:
                if c != a:
                    ratio[c] = r
    out = rest.copy()
    for j in range(1, sk.NUM_JOINTS):
        p = sk.PARENTS[j]
        out[j] = out[p] + (rest[j] - rest[p]) * ratio[j]
    return out


def pelvis_fitted_rest(rest: np.ndarray, L: np.ndarray, targets: np.ndarray, mapped: np.ndarray) -> np.ndarray:
    """The solve skeleton with the source's hip sockets: the pelvis is one rigid bone in every rig, so the rest
    offset of each mapped child of a mapped pelvis (the hips; spine1 where the rig gives it) is the source's
    mean offset expressed in the calibrated pelvis frame ``L[:, 0]``; its descendants move with it. Rigs
    place the hip joints very differently below the root (CMU: 10 cm below and 9.5 cm out, 47° down; the Anny
    body: 1 cm below and 10 cm out): with the body's own directions the solver tilted the pelvis and bent the
    spine and legs to reach the source's hips, and still missed them by ~6 cm."""
    if not mapped[0]:
        return rest
    out = np.asarray(rest, dtype=np.float64).copy()
    for c in range(1, sk.NUM_JOINTS):
        if sk.PARENTS[c] != 0 or not mapped[c]:
            continue
        d = np.einsum("fji,fj->fi", L[:, 0], targets[:, c] - targets[:, 0])
        d = d[np.all(np.isfinite(d), axis=-1)]
        if not len(d):
            continue
        shift = out[0] + d.mean(0) - out[c]
        for k in range(c, sk.NUM_JOINTS):
            a = k
            while a > c:
                a = sk.PARENTS[a]
            if a == c:
                out[k] += shift
    return out


def retarget(motion: Motion, rest_joints: np.ndarray | None = None, rig_map: RigMap | None = None,
             iterations: int = 30, limit_weight: float = 1.0, prior_weight: float = 1e-3,
             limit_tol_deg: float = 2.0, clamp: bool = True, calibration: str = "auto",
             proportions: str = "source") -> RetargetResult:
    """Retarget ``motion`` onto the SMPL-H skeleton ``rest_joints`` (22,3) (default DEFAULT_REST_JOINTS).

    ``calibration``: ``'tpose'`` calibrates bone frames on the rig's T-pose (``motion.tpose`` or its zero
    pose), ``'data'`` on the clip itself (rigs whose zero pose is not a T-pose), ``'auto'`` picks 'tpose'
    for rigs known to have one (:data:`TPOSE_RIGS`, SMPL-named skeletons) and 'data' otherwise
    (Character Creator, DeepMimic — measured better there than its constructed T-pose — and unknown rigs).

    ``proportions``: ``'source'`` (default) solves on :func:`proportioned_rest` — the SMPL-H skeleton with
    the source's segment lengths — with the source's hip sockets (:func:`pelvis_fitted_rest`), so the rotations
    reproduce the source's bone directions; ``'lengths'`` without the hip sockets (the solve before issue 18);
    ``'body'`` solves on ``rest_joints`` directly (positions compromise with the proportion mismatch).

    Returns the (F,) Pose batch plus the scaled source targets used by :func:`retarget_quality`."""
    rest = np.asarray(sk.DEFAULT_REST_JOINTS if rest_joints is None else rest_joints, dtype=np.float64)
    if rest.shape != (sk.NUM_JOINTS, 3) or not np.all(np.isfinite(rest)):
        raise ValueError(f"rest_joints must be a finite (22, 3) array, got {rest.shape}")
    if rig_map is None:  # Mixamo names (PoseTailor's --rig mixamo, Mixamo rigs): the SMPL-H joints they name
        names, renamed = mixamo_to_smplh(motion.names)
        if renamed:
            motion = dataclasses.replace(motion, names=names)
    rmap = rig_map or rig_map_for(motion)
    if "pelvis" not in rmap.rot or len(rmap.pos) < 6:
        raise ValueError(f"cannot retarget {motion.source or 'motion'}: only {len(rmap.pos)} joints could be "
                         f"matched to SMPL-H ({sorted(rmap.pos)}); pass a RigMap")
    if proportions not in ("source", "lengths", "body"):
        raise ValueError(f"proportions must be 'source', 'lengths' or 'body', got {proportions!r}")
    idx = {n: i for i, n in enumerate(motion.names)}
    Gsrc, Psrc = motion.fk()
    s = _scale(Psrc, idx, rmap, rest)
    P = Psrc * s
    calibration, Cs = _calibration(motion, _Src(P, Gsrc, idx, rmap), s, rest, calibration)
    L = _initial_locals(Gsrc, idx, rmap, Cs)
    targets = np.full((motion.num_frames, sk.NUM_JOINTS, 3), np.nan)
    mapped = np.zeros(sk.NUM_JOINTS, dtype=bool)
    for name, sn in rmap.pos.items():
        targets[:, JI[name]] = P[:, idx[sn]]
        mapped[JI[name]] = True
    if proportions in ("source", "lengths"):
        rest = proportioned_rest(rest, targets, mapped)
    if proportions == "source":
        rest = pelvis_fitted_rest(rest, L, targets, mapped)
    R, transl = _refine(L, rest, targets, mapped, iterations, prior_weight, limit_weight)
    full = matrix_to_aa(nearest_rotation(R)).astype(np.float32)
    pose = Pose.from_full(full, transl.astype(np.float32))
    raw_viol = limit_violation_deg(pose)
    if clamp:
        fix = raw_viol.max(-1) > limit_tol_deg
        if np.any(fix):
            clamped = clamp_to_limits(pose[fix])
            full2 = pose.full().copy()
            full2[fix] = clamped.full()
            pose = Pose.from_full(full2, pose.transl)
    info = {"rig": motion.rig, "calibration": calibration, "calibrated_joints": sorted(Cs),
            "mapped_joints": [n for n in sk.JOINT_NAMES if n in rmap.pos],
            "raw_limit_violation_deg": raw_viol, "limit_tol_deg": limit_tol_deg,
            "solve_rest": rest.astype(np.float32), "proportions": proportions}
    return RetargetResult(pose, s, targets, mapped, info)


def _calibration(motion: Motion, src: _Src, s: float, rest: np.ndarray, calibration: str):
    """(the calibration used, {SMPL joint: C_j}) — see :func:`retarget`."""
    rmap, idx, Gsrc = src.rmap, src.idx, src.G
    if calibration == "auto":
        calibration = "tpose" if (motion.rig in TPOSE_RIGS or rmap.pos.get("pelvis") == "pelvis") else "data"
    if calibration == "tpose":
        Rt = motion.tpose[None] if motion.tpose is not None else np.broadcast_to(np.eye(3), (1,) + Gsrc.shape[1:])
        Gt, Pt = motion.fk(Rt, np.zeros((1, 3)))
        Cs = _calibrate(_Src(Pt * s, Gt, idx, rmap), rest, tpose=True)
        # limb twist from the clip's knee/elbow hinges where they bend: rigs differ in the carrying angle
        # of their T-pose (CMU-derived arms have the elbow axis tilted ~30°), the hinge does not lie
        if rmap.pos.get("pelvis") != "pelvis":  # not an SMPL-named skeleton (whose T-pose is exact)
            wts: dict[str, float] = {}
            Cd = _calibrate(src, rest, only=HINGE_CALIBRATED, ref_weight=wts)
            for j, C in Cd.items():
                if wts.get(j, 0.0) >= 3.0:
                    Cs[j] = C
    elif calibration == "data":
        Cs = _calibrate(src, rest)
    else:
        raise ValueError(f"calibration must be 'auto', 'tpose' or 'data', got {calibration!r}")
    return calibration, Cs


def _initial_locals(Gsrc: np.ndarray, idx: dict[str, int], rmap: RigMap, Cs: dict) -> np.ndarray:
    """(F,22,3,3) local rotations from the calibrated source globals (uncalibrated joints follow their
    parent)."""
    G = np.empty((len(Gsrc), sk.NUM_JOINTS, 3, 3))
    for j, name in enumerate(sk.JOINT_NAMES):
        if name in Cs:
            G[:, j] = Gsrc[:, idx[rmap.rot[name]]] @ Cs[name]
        elif j == 0:
            G[:, j] = np.eye(3)
        else:
            G[:, j] = G[:, sk.PARENTS[j]]
    L = np.empty_like(G)
    L[:, 0] = G[:, 0]
    for j in range(1, sk.NUM_JOINTS):
        L[:, j] = np.swapaxes(G[:, sk.PARENTS[j]], -1, -2) @ G[:, j]
    return nearest_rotation(L)  # orthonormalise (numerical drift)


_TWO_PI = 2.0 * np.pi


def _wrap_rad(x: torch.Tensor) -> torch.Tensor:
    return torch.remainder(x + np.pi, _TWO_PI) - np.pi


def _box_excess_sq(e: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """(...,3) Euler angles → (...) Σ squared excess beyond [lo, hi], each angle taken at its ±2π
    representative nearest to the box (a box reaching past ±π, like the elbow's flexion, sees both sides)."""
    reps = torch.stack([e, e - _TWO_PI, e + _TWO_PI], -1)
    over = torch.relu(lo[..., None] - reps) + torch.relu(reps - hi[..., None])
    return (over.min(-1).values ** 2).sum(-1)


def limit_excess_sq(R: torch.Tensor, lim: torch.Tensor) -> torch.Tensor:
    """Differentiable joint-limit penalty: (...,22,3,3) local rotations, (22,3,2) limits in radians →
    (...,22) squared excess of the intrinsic-XYZ Euler angles beyond the box, the smaller of the rotation's two
    exact decompositions (a, b, c) and (a+π, π−b, c+π). The plain decomposition keeps |b| ≤ 90°, so an elbow
    flexed beyond 90° reads as x = ±180°, z = ±180° — far outside the box although the rotation is a valid
    hinge flexion; penalising that decomposition bent deep elbows open and twisted them (the 'upper-arm twist
    clamped by the hinge' of the DAZ and iClone rigs). The final check and clamp
    (:func:`core_models.pose.limit_violation_deg`) use both decompositions too."""
    e = matrix_to_euler(R, "XYZ", degrees=False)
    alt = _wrap_rad(torch.stack([e[..., 0] + np.pi, np.pi - e[..., 1], e[..., 2] + np.pi], -1))
    lo, hi = lim[..., 0], lim[..., 1]
    return torch.minimum(_box_excess_sq(e, lo, hi), _box_excess_sq(alt, lo, hi))


def _refine(L: np.ndarray, rest: np.ndarray, targets: np.ndarray, mapped: np.ndarray, iterations: int,
            prior_weight: float, limit_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """L-BFGS on per-joint rotation offsets + translation: joint positions onto the targets, a small prior
    towards the initial rotations and the joint-limit penalty. → ((F,22,3,3) rotations, (F,3) translation)."""
    _, J0, _ = fk_numpy(L, rest)  # translation that best aligns the mapped joints for the initial rotations
    transl0 = np.nanmean(targets[:, mapped] - J0[:, mapped], axis=1)
    F = len(L)
    dt = torch.float64
    Lt = torch.as_tensor(L, dtype=dt)
    restt = torch.as_tensor(rest, dtype=dt)
    tgt = torch.as_tensor(np.nan_to_num(targets), dtype=dt)
    wj = torch.as_tensor(mapped.astype(np.float64), dtype=dt)
    delta = torch.zeros((F, sk.NUM_JOINTS, 3), dtype=dt, requires_grad=True)
    dtr = torch.zeros((F, 3), dtype=dt, requires_grad=True)
    tr0 = torch.as_tensor(transl0, dtype=dt)
    lim = torch.as_tensor(np.deg2rad(sk.JOINT_LIMITS_DEG), dtype=dt)
    lim_w = torch.ones(sk.NUM_JOINTS, dtype=dt)
    lim_w[0] = 0.0

    def pose_mats():
        return Lt @ aa_to_matrix(delta)

    def loss_fn():
        R = pose_mats()
        _, J, _ = fk_torch(R, restt)
        J = J + (tr0 + dtr)[:, None]
        pos = (((J - tgt) ** 2).sum(-1) * wj).sum() / max(float(wj.sum()), 1.0)
        prior = (delta ** 2).sum(-1).mean() * sk.NUM_JOINTS
        limp = (limit_excess_sq(R, lim) * lim_w).mean() * sk.NUM_JOINTS
        return (pos + prior_weight * prior + limit_weight * limp) * F, pos

    if iterations > 0:
        opt = torch.optim.LBFGS([delta, dtr], lr=1.0, max_iter=iterations, history_size=20,
                                line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            total, _ = loss_fn()
            total.backward()
            return total

        opt.step(closure)
    with torch.no_grad():
        R = pose_mats().numpy()
        transl = (tr0 + dtr).numpy()
    return R, transl


def retargeted_joints(pose: Pose, rest_joints: np.ndarray | None = None) -> np.ndarray:
    """(F,22,3) world joint positions of a Pose batch on the given rest skeleton."""
    rest = np.asarray(sk.DEFAULT_REST_JOINTS if rest_joints is None else rest_joints, dtype=np.float64)
    from core_models.kinematics import fk_numpy

    _, J, _ = fk_numpy(pose.matrices().astype(np.float64), rest)
    return J + pose.transl[..., None, :].astype(np.float64)


def retarget_quality(result: RetargetResult, rest_joints: np.ndarray | None = None,
                     tol_deg: float | None = None) -> dict[str, Any]:
    """Quality of a retarget: ``mpjpe_mm`` — mean distance (mm, mapped joints) between the scale-normalised
    source joints and the retargeted pose posed on the solve skeleton (source proportions: the pose-transfer
    error); ``mpjpe_body_mm`` — the same pose on the body's own skeleton, centred (includes the proportion
    mismatch, for reference); joint-limit statistics."""
    m = result.mapped
    solve_rest = result.info.get("solve_rest")
    J = retargeted_joints(result.pose, solve_rest if solve_rest is not None else rest_joints)
    err = np.linalg.norm(J[:, m] - result.target_positions[:, m], axis=-1)  # (F,K) pose-transfer error
    Jb = retargeted_joints(result.pose, rest_joints)
    # on the body's own proportions: align root-relative joints (translation-free), proportion mismatch included
    rel_b = Jb[:, m] - Jb[:, m].mean(1, keepdims=True)
    rel_t = result.target_positions[:, m] - result.target_positions[:, m].mean(1, keepdims=True)
    err_body = np.linalg.norm(rel_b - rel_t, axis=-1)
    tol = result.info.get("limit_tol_deg", 2.0) if tol_deg is None else tol_deg
    v = limit_violation_deg(result.pose).max(-1)
    raw = result.info.get("raw_limit_violation_deg")
    rawv = raw.max(-1) if raw is not None else v
    return {
        "frames": int(J.shape[0]),
        "mpjpe_mm": float(err.mean() * 1000.0),
        "mpjpe_body_mm": float(err_body.mean() * 1000.0),
        "max_joint_err_mm": float(err.max() * 1000.0),
        "per_joint_mm": {sk.JOINT_NAMES[j]: float(e * 1000) for j, e in zip(np.nonzero(m)[0], err.mean(0))},
        "limit_tol_deg": float(tol),
        "frac_frames_violation": float(np.mean(v > tol)),
        "max_violation_deg": float(v.max()),
        "raw_frac_frames_violation": float(np.mean(rawv > tol)),
        "raw_max_violation_deg": float(rawv.max()),
        "scale": float(result.scale),
    }


@dataclass
class ImportedClip:
    """A mocap file retargeted for the app: poses at ≤ ``max_fps``, the indices chosen as keyframes."""
    name: str
    poses: Pose  # (F,) batch on the body's skeleton (original heading and translation)
    fps: float
    key_indices: np.ndarray  # frames suggested as keyframes (evenly spaced, first and last included)
    quality: dict[str, Any]


def import_clip(path, rest_joints: np.ndarray | None = None, max_fps: float = 30.0, max_keys: int = 24,
                progress=None) -> ImportedClip:
    """File > Import motion capture: load any supported mocap file, resample to ≤ ``max_fps``, retarget onto
    ``rest_joints`` (the body in use), and choose up to ``max_keys`` evenly spaced keyframes. Raises
    MotionImportError / ValueError with a readable message for bad files."""
    from pathlib import Path

    from core_models.io import load_motion

    p = Path(path)
    if progress:
        progress(5, f"reading {p.name}")
    m = load_motion(p)
    step = max(1, int(round(float(m.fps) / max_fps)))
    if step > 1:
        m = m.slice(0, None, step)
    if progress:
        progress(30, f"retargeting {m.num_frames} frames")
    r = retarget(m, rest_joints=rest_joints)
    from core_models.io.hands_import import hand_pose_from_motion

    hands = hand_pose_from_motion(m)  # SMPL-H finger skeletons (our own FBX / GLB / BVH exports)
    if hands is not None:
        r.pose.hand_pose = hands
    q = retarget_quality(r, rest_joints)
    q.pop("per_joint_mm", None)
    n = len(r.pose)
    keys = np.unique(np.linspace(0, n - 1, min(max_keys, n)).round().astype(np.int64))
    if progress:
        progress(100, "done")
    return ImportedClip(p.stem, r.pose, float(m.fps), keys, q)
