"""Shared by the FBX and glTF importers: a skeleton's world matrices over time → a :class:`Motion`.

Scene formats animate nodes whose *rest* (bind) frames are arbitrary (Mixamo and PoseTailor's own exports
orient bones along the limbs); :class:`Motion` wants the rest pose as its zero pose with world-aligned joint
frames (the BVH convention). With B_j the rotation of bone j's rest world matrix and M_j(f) its animated world
matrix, the Motion's global rotation is rot(M_j(f))·B_jᵀ, its offsets are the rest joint positions'
differences and its root translation is the root's animated position: forward kinematics of the Motion then
gives exactly the file's joint positions, and the zero pose is the file's bind pose (a T-pose for Mixamo and
PoseTailor rigs). Scale in the matrices (centimetre rigs, Blender's 0.01 armature) is removed by the polar
decomposition; positions keep it, converted to metres by ``to_metres``.

Bone names: a skeleton that carries PoseTailor's Mixamo names (``mixamorig:Hips`` …, any namespace) is
renamed to the SMPL-H joint names so that retargeting uses the identity map; other bones keep their names.
No Qt here.
"""
from __future__ import annotations

import numpy as np

from core_models.io.motion import Motion, MotionImportError
from core_models.io.rig_names import MIXAMO_HAND_NAMES, MIXAMO_NAMES
from core_models.pose import nearest_rotation_np

#: the most frames an imported clip may have (a corrupt key count must not allocate gigabytes)
MAX_FRAMES = 100_000
MAX_JOINTS = 2_000


def mixamo_to_smplh(names: list[str]) -> tuple[list[str], bool]:
    """Names with Mixamo bones renamed to SMPL-H joints when every SMPL-H body joint's Mixamo bone is present
    (namespace ignored: ``mixamorig:``, ``mixamorig1:``, none); → (names, renamed?)."""
    inv = {v.lower(): k for k, v in MIXAMO_NAMES.items()}
    bare = [n.rsplit(":", 1)[-1].lower() for n in names]
    if set(inv) - set(bare) or set(MIXAMO_NAMES) & set(names):
        return list(names), False
    inv.update({v.lower(): k for k, v in MIXAMO_HAND_NAMES.items()})  # finger bones too (LeftHandIndex1 …)
    seen: set[str] = set()
    out = []
    for n, b in zip(names, bare):
        if b in inv and inv[b] not in seen:
            seen.add(inv[b])
            out.append(inv[b])
        else:
            out.append(n)
    return out, True


def skeleton_order(parents: list[int]) -> list[int]:
    """Depth-first order of a forest given by ``parents`` (-1: root) → indices, each parent before its
    children. Used to put a file's nodes in topological order."""
    kids: dict[int, list[int]] = {}
    for i, p in enumerate(parents):
        kids.setdefault(p, []).append(i)
    order: list[int] = []
    stack = list(reversed(kids.get(-1, [])))
    while stack:
        i = stack.pop()
        order.append(i)
        stack.extend(reversed(kids.get(i, [])))
    if len(order) != len(parents):
        raise MotionImportError("the node hierarchy has a cycle")
    return order


def largest_tree(parents: list[int], members: list[bool]) -> list[int]:
    """Indices of the largest connected tree among the ``members`` nodes (a member whose parent is not a
    member starts a tree), in depth-first order."""
    best: list[int] = []
    kids: dict[int, list[int]] = {}
    for i, p in enumerate(parents):
        if members[i] and p >= 0 and members[p]:
            kids.setdefault(p, []).append(i)
    for r in range(len(parents)):
        if not members[r] or (parents[r] >= 0 and members[parents[r]]):
            continue
        tree, stack = [], [r]
        while stack:
            i = stack.pop()
            tree.append(i)
            stack.extend(reversed(kids.get(i, [])))
        if len(tree) > len(best):
            best = tree
    return best


def motion_from_world(names: list[str], parents: np.ndarray, rest_world: np.ndarray, world: np.ndarray,
                      fps: float, to_metres: np.ndarray, *, source: str, fmt: str, meta: dict) -> Motion:
    """``rest_world`` (J,4,4) and ``world`` (F,J,4,4) in file coordinates, ``to_metres`` (3,3): file axes
    and unit → y-up metres (a rotation times a scale). ``parents`` topological, one root."""
    if not np.all(np.isfinite(rest_world)) or not np.all(np.isfinite(world)):
        raise MotionImportError(f"{source}: the file's transforms contain NaN or infinite values")
    A = np.asarray(to_metres, np.float64)
    scale = float(abs(np.linalg.det(A)) ** (1.0 / 3.0))
    if not (np.isfinite(scale) and scale > 0):
        raise MotionImportError(f"{source}: bad unit or axis settings")
    Rax = A / scale
    B = nearest_rotation_np(Rax @ rest_world[:, :3, :3])  # (J,3,3) rest orientations, y-up
    G = nearest_rotation_np(Rax @ world[..., :3, :3]) @ np.swapaxes(B, -1, -2)[None]  # (F,J,3,3)
    rest_pos = rest_world[:, :3, 3] @ A.T
    pos = world[..., :3, 3] @ A.T
    J = len(names)
    offsets = np.zeros((J, 3))
    offsets[1:] = rest_pos[1:] - rest_pos[parents[1:]]
    offsets[0] = rest_pos[0]
    L = np.empty_like(G)
    L[:, 0] = G[:, 0]
    for j in range(1, J):
        L[:, j] = np.swapaxes(G[:, parents[j]], -1, -2) @ G[:, j]
    renamed, was_mixamo = mixamo_to_smplh(list(names))
    meta = dict(meta)
    if was_mixamo:
        meta["renamed"] = "Mixamo bone names mapped to SMPL-H joints"
    has_kids = np.zeros(J, dtype=bool)
    has_kids[parents[parents >= 0]] = True
    return Motion(renamed, parents, offsets, L, pos[:, 0].copy(), fps, source=source, fmt=fmt,
                  rig="generic", is_end=~has_kids & (np.arange(J) > 0), meta=meta)


def sample_times(t0: float, t1: float, fps: float, source: str) -> np.ndarray:
    """Frame times from ``t0`` to ``t1`` (inclusive) at ``fps``, checked against :data:`MAX_FRAMES`."""
    if not (np.isfinite(t0) and np.isfinite(t1) and np.isfinite(fps) and fps > 0):
        raise MotionImportError(f"{source}: bad animation time range or frame rate")
    n = int(round(max(t1 - t0, 0.0) * fps)) + 1
    if n > MAX_FRAMES:
        raise MotionImportError(f"{source}: the animation has {n} frames at {fps:g} fps (more than {MAX_FRAMES})")
    return t0 + np.arange(n) / fps


def interp_keys(times: np.ndarray, values: np.ndarray, at: np.ndarray, step: bool = False) -> np.ndarray:
    """Piecewise-linear (or step) interpolation of keys ``values`` (K,...) at ``times`` (K,), held constant
    outside the key range."""
    times = np.asarray(times, np.float64)
    values = np.asarray(values, np.float64)
    if len(times) == 1:
        return np.broadcast_to(values[0], (len(at),) + values.shape[1:]).copy()
    if step:  # a sample a rounding error before a key (float32 key times) takes that key
        k = np.searchsorted(times, at + 1e-6 * np.maximum(1.0, np.abs(at)), side="right") - 1
        return values[np.clip(k, 0, len(times) - 1)]
    i = np.clip(np.searchsorted(times, at, side="right") - 1, 0, len(times) - 2)
    t0, t1 = times[i], times[i + 1]
    w = np.where(t1 > t0, (at - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0.0)
    w = np.clip(w, 0.0, 1.0)
    w = w.reshape((-1,) + (1,) * (values.ndim - 1))
    return values[i] * (1.0 - w) + values[i + 1] * w
