"""Author the coaching poses in ``resources/train_poses/`` (issue 14 item 2) with the project's own posing tools.

Every pose is written as joint angles (intrinsic XYZ Euler degrees, the joint-limit / slider parameterisation of
``core_models.skeleton``) plus a root orientation, then finished with the drag solver's analytic two-bone IK
(``core_models.posing.two_bone_ik``: hands and feet onto the floor, onto a shin, together in prayer…), planted
feet turned flat in the world (``core_models.posing.seed.keep_world_rotation``), clamped into the joint limits and
grounded (``core_models.plausibility.ground_pose``: the lowest vertex on the floor). The specs are
:data:`SPECS` at the end of this file. Run::

    .venv/bin/python tools/author_coaching_poses.py            # write the JSON files + the contact sheet
    .venv/bin/python tools/author_coaching_poses.py --only camel --debug /tmp/pp   # one pose, big renders

Angles of right-side joints are given in the *left* joint's anatomical convention (mirrored here), so
``r_hip: (0, 0, 30)`` is a 30° abduction of the right hip just as ``l_hip: (0, 0, 30)`` is of the left one:
  hip: x −flexion/+extension, y +external rotation, z +abduction;  knee: x +flexion;  ankle: x +pointing the toes;
  foot (toes): x −toes up;  shoulder: z +raise / −lower, y −forward / +back;  elbow: y −flexion;  collar: z +shrug;
  spine1-3 / neck / head (centre joints, world convention): x +forward bend, y +turn left, z +bend to the right.
The root: x +pitch forward (face to the floor), y +turn left, z +roll (the head goes to the body's right).
IK targets: ``{"t": (x, y, z), "ref": "floor"|joint, "pole": (x, y, z)}``; ``ref="floor"``: x/z from the pelvis,
y above the floor; a joint name: relative to that joint's world position (``pole`` in the same frame).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

from core_models import skeleton as sk  # noqa: E402
from core_models.data.coaching_poses import contact_heights, contact_limit_m  # noqa: E402
from core_models.library import pose_to_dict  # noqa: E402
from core_models.plausibility import check_pose, ground_pose  # noqa: E402
from core_models.pose import (  # noqa: E402
    Pose,
    aa_to_matrix_np,
    clamp_to_limits,
    euler_xyz_deg_to_matrix_np,
    limit_violation_deg,
    matrix_to_aa_np,
    normalize_heading,
)
from core_models.posing import LIMB_CHAINS, RefineProblem, refine, two_bone_ik  # noqa: E402
from core_models.posing.refine import DEFAULT_STIFFNESS, fk_single  # noqa: E402
from core_models.posing.seed import keep_world_rotation  # noqa: E402

OUT_DIR = ROOT / "resources" / "train_poses"
SHEET = ROOT / "docs" / "capture" / "coaching_poses.png"
_CENTRE = {"pelvis", "spine1", "spine2", "spine3", "neck", "head"}
_SIDE_JOINTS = ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist")


def _euler_table(spec: dict) -> np.ndarray:
    """(22,3) Euler degrees from a spec's ``root`` and joint entries (``hip`` = both sides, ``l_``/``r_`` one)."""
    e = np.zeros((sk.NUM_JOINTS, 3))
    e[0] = spec.get("root", (0.0, 0.0, 0.0))
    for key, val in spec.get("j", {}).items():
        v = np.asarray(val, np.float64)
        if key in _CENTRE:
            e[sk.JOINT_INDEX[key]] = v
            continue
        side, _, name = key.partition("_")
        if key in _SIDE_JOINTS:
            side, name = "b", key
        if name not in _SIDE_JOINTS or side not in ("l", "r", "b"):
            raise ValueError(f"{spec['slug']}: unknown joint key {key!r}")
        if side in ("l", "b"):
            e[sk.JOINT_INDEX["left_" + name]] = v
        if side in ("r", "b"):
            e[sk.JOINT_INDEX["right_" + name]] = v * np.array([1.0, -1.0, -1.0])
    return e


def _world(pose: Pose, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    G, P = fk_single(aa_to_matrix_np(pose.full()).astype(np.float64), rest)
    return G, P + pose.transl.astype(np.float64)


def _point(entry: dict, key: str, P: np.ndarray, floor: float) -> np.ndarray | None:
    v = entry.get(key)
    if v is None:
        return None
    v = np.asarray(v, np.float64)
    ref = entry.get("ref", "floor")
    if ref == "floor":
        pel = P[0]
        return np.array([pel[0] + v[0], floor + v[1], pel[2] + v[2]])
    return P[sk.JOINT_INDEX[ref]] + v


def _flatten_feet(pose: Pose, rest: np.ndarray, flat: dict) -> Pose:
    """Turn each ankle in ``flat`` (name → pitch degrees, + toes down) so that the foot is level in the world
    (its yaw kept) and pitched by that angle."""
    if not flat:
        return pose
    R = aa_to_matrix_np(pose.full()).astype(np.float64)
    G, _ = fk_single(R, rest)
    keep = G.copy()
    joints = []
    for name, pitch in flat.items():
        j = sk.JOINT_INDEX[name]
        f = G[j][:, 2]
        yaw = float(np.degrees(np.arctan2(f[0], f[2])))
        keep[j] = euler_xyz_deg_to_matrix_np(np.array([0.0, yaw, 0.0])) @ euler_xyz_deg_to_matrix_np(
            np.array([float(pitch), 0.0, 0.0]))
        joints.append(j)
    R2 = keep_world_rotation(R, rest, joints, keep, sk.JOINT_LIMITS_DEG)
    out = Pose.from_full(matrix_to_aa_np(R2).astype(np.float32), pose.transl.copy())
    return out


def _ik_pass(spec: dict, pose: Pose, rest: np.ndarray, floor: float) -> tuple[Pose, dict[str, np.ndarray]]:
    """Analytic two-bone IK of every entry (free of the limits: the pole shapes the limb); returns the pose and
    the targets (end joint and its elbow / knee as placed by the IK)."""
    targets: dict[str, np.ndarray] = {}
    for end, entry in spec.get("ik", {}).items():
        _, P = _world(pose, rest)
        target = _point(entry, "t", P, floor)
        pose = two_bone_ik(pose, rest, end, target, pole=_point(entry, "pole", P, floor), limits=False)
        targets[end] = target
    _, P = _world(pose, rest)
    for end in list(targets):
        mid = LIMB_CHAINS[end][1]
        targets[sk.JOINT_NAMES[mid]] = P[mid].copy()
    return pose, targets


#: the refinement keeps the authored root and spine (the limbs reach)
_STIFF = DEFAULT_STIFFNESS.copy()
_STIFF[0] = 1e9
_STIFF[[sk.JOINT_INDEX[n] for n in ("spine1", "spine2", "spine3", "neck", "head")]] = 1e9


def _refine_into_limits(pose: Pose, rest: np.ndarray, targets: dict[str, np.ndarray]) -> Pose:
    """The drag solver's refinement: reach the IK targets (hard: hands / feet; soft: elbows / knees) inside the
    joint limits, the pelvis pinned where the spec put it."""
    if not targets:
        return clamp_to_limits(pose)
    _, P = _world(pose, rest)
    targets = {**targets, "pelvis": P[0]}
    names = list(targets)
    hard = [n.endswith(("wrist", "ankle")) or n == "pelvis" for n in names]
    prob = RefineProblem(joints=np.array([sk.JOINT_INDEX[n] for n in names]),
                         targets=np.array([targets[n] for n in names]),
                         weights=np.array([1.0 if h else 0.05 for h in hard]), hard=np.array(hard),
                         stiffness=_STIFF, max_iter=40)
    R = aa_to_matrix_np(pose.full()).astype(np.float64)
    res = refine(R, pose.transl.astype(np.float64), rest, prob)
    return clamp_to_limits(Pose.from_full(matrix_to_aa_np(res.R).astype(np.float32),
                                          res.transl.astype(np.float32)))


def build_pose(spec: dict, body) -> Pose:
    """The finished pose of one spec (angles → IK → drag-solver refinement into the limits → flat feet →
    grounded, heading 0)."""
    rest = np.asarray(body.skinning.rest_joints, np.float64)
    floor = float(body.skinning.floor_height)
    e = _euler_table(spec)
    full = matrix_to_aa_np(euler_xyz_deg_to_matrix_np(e)).astype(np.float32)
    pose = clamp_to_limits(Pose.from_full(full, np.zeros(3, np.float32)))
    pose = ground_pose(body, pose)
    if "pelvis_h" in spec:  # the pelvis at this height above the floor (IK brings the limbs down to it)
        pose.transl[1] = floor + float(spec["pelvis_h"])
    for _ in range(spec.get("iters", 2)):
        pose, targets = _ik_pass(spec, pose, rest, floor)
        pose = _refine_into_limits(pose, rest, targets)
        pose = _flatten_feet(pose, rest, spec.get("flat", {}))
        if "pelvis_h" not in spec:
            pose = ground_pose(body, pose)
    pose, _ = normalize_heading(pose)
    return ground_pose(body, pose)


def write_pose(spec: dict, pose: Pose, folder: Path) -> Path:
    d = pose_to_dict(spec["name"], spec["category"], pose, spec["description"])
    d["group"] = spec["group"]
    d["contacts"] = list(spec.get("contacts", ()))
    d["authored_by"] = "PoseTailor project (tools/author_coaching_poses.py)"
    path = folder / f"{spec['slug']}.json"
    path.write_text(json.dumps(d, indent=1) + "\n", encoding="utf-8")
    return path


def _label(img: np.ndarray, text: str, lines: list[str], note: str = ""):
    from PIL import Image, ImageDraw

    im = Image.fromarray(img)
    dr = ImageDraw.Draw(im)
    dr.text((4, 3), text, fill=(235, 235, 235))
    if note:
        dr.text((4, 16), note, fill=(255, 190, 60))
    for k, line in enumerate(lines):
        dr.text((4, im.height - 14 * (len(lines) - k)), line, fill=(255, 80, 80))
    return im


def _exclusion_notes(items) -> list[str]:
    """'not in the training set: X deg from <library pose>' for authored poses inside the exclusion distance."""
    from core_models.data.coaching_poses import LIBRARY_EXCLUSION_DEG, _library, canonical, library_distances

    full = canonical(np.stack([pose.full() for _, pose, _ in items]))
    d = library_distances(full[:, 1:], full[:, 0])
    names = _library()[0]
    return [f"not trained on: {d[i].min():.1f} deg from {names[int(d[i].argmin())]}"
            if d[i].min() < LIBRARY_EXCLUSION_DEG else "" for i in range(len(items))]


def render_sheet(items: list[tuple[dict, Pose, list[str]]], body, out: Path, tile: int = 220,
                 cols: int = 8, views=("three_quarter", "side")) -> None:
    """Contact sheet: one tile per pose and view (name on top; authored poses the training set leaves out for
    being too close to a library pose in orange; plausibility problems in red). Poses lying on a side show the
    front view instead of the side view (which would look down on them)."""
    from PIL import Image

    from core_models.render.offscreen import render_pose_image

    notes = _exclusion_notes(items)
    n = len(items) * len(views)
    rows = (n + cols - 1) // cols
    sheet = Image.new("RGB", (cols * tile, rows * tile), (255, 255, 255))
    k = 0
    for (spec, pose, problems), note in zip(items, notes):
        for view in spec.get("views", views):
            img = render_pose_image(body, pose, size=(tile, tile), view=view, grid=True)
            first = view == views[0]
            im = _label(img, f"{spec['name']} ({view.replace('_', ' ')})", problems if first else [],
                        note if first else "")
            sheet.paste(im, ((k % cols) * tile, (k // cols) * tile))
            k += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)


def problems_of(body, spec: dict, pose: Pose) -> list[str]:
    """Plausibility issues (joint limits, self-penetration) and floor contacts that are off the floor."""
    out = [i.message for i in check_pose(body, pose).issues]
    lim = float(limit_violation_deg(pose).max())
    if lim > 0.01:
        out.append(f"limit {lim:.1f} deg")
    for n, h in contact_heights(body, pose, spec.get("contacts", ())).items():
        if h > contact_limit_m(n):
            out.append(f"{n} {h * 100:.0f} cm up")
    return out


def report(n: int = 10000, seed: int = 0) -> str:
    """Markdown: per library pose, the distance (mean per-joint angle, root + 21 joints, nearer mirror image) to
    the nearest other library pose, the nearest corpus train-split pose, the nearest authored pose and the nearest
    pose of ``coaching_pose_set(n, seed)``; then the time the set took (twice: cold, warm)."""
    import time

    from core_models.data import coaching_poses as cp

    t0 = time.perf_counter()
    s = cp.coaching_pose_set(n, seed)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    cp.coaching_pose_set(n, seed + 1)
    warm = time.perf_counter() - t0
    lib_names, lib = cp.library_full()
    d_lib = cp.library_distances(lib[:, 1:], lib[:, 0])
    np.fill_diagonal(d_lib, np.inf)
    corpus = cp.load_corpus_train("auto")
    d_corpus = None if corpus is None else cp.library_distances(corpus[:, 1:], corpus[:, 0]).min(0)
    names, full = cp.authored_arrays()
    d_auth = cp.library_distances(full[:, 1:], full[:, 0])
    d_set = cp.library_distances(s.body_pose, s.root_orient)
    rows = ["| library pose | nearest other library pose | nearest corpus train pose | nearest authored pose "
            "| nearest pose of the set (its kind, source) |", "|---|---|---|---|---|"]
    for k, ln in enumerate(lib_names):
        a, j = int(d_auth[:, k].argmin()), int(d_set[:, k].argmin())
        corp = "—" if d_corpus is None else f"{d_corpus[k]:.1f}"
        rows.append(f"| {ln} | {d_lib[k].min():.1f} ({lib_names[int(d_lib[k].argmin())]}) | {corp} | "
                    f"{d_auth[a, k]:.1f} ({names[a]}) | {d_set[j, k]:.1f} ({s.kind[j]}, {s.name[j]}) |")
    excluded = [f"{names[i]} {d_auth[i].min():.1f} ({lib_names[int(d_auth[i].argmin())]})"
                for i in np.argsort(d_auth.min(1)) if d_auth[i].min() < cp.LIBRARY_EXCLUSION_DEG]
    return "\n".join(rows + ["", f"authored poses left out ({len(excluded)}): " + ", ".join(excluded), "",
                              f"coaching_pose_set({n}): {cold:.2f} s cold (corpus load included), {warm:.2f} s warm; "
                              f"min distance to the library {d_set.min():.2f} deg; corpus "
                              f"{'absent' if corpus is None else f'{len(corpus)} train poses'}"])


def main(argv=None) -> int:
    from core_models.body import load_body

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="slugs to build (default: all)")
    ap.add_argument("--debug", help="folder for large renders of each pose (no files written)")
    ap.add_argument("--no-sheet", action="store_true")
    ap.add_argument("--report", action="store_true", help="print the library-distance report (docs/notes) and exit")
    args = ap.parse_args(argv)
    if args.report:
        print(report())
        return 0
    body = load_body("anny")
    specs = [s for s in SPECS if not args.only or s["slug"] in args.only]
    items = []
    for spec in specs:
        pose = build_pose(spec, body)
        probs = problems_of(body, spec, pose)
        items.append((spec, pose, probs))
        print(f"{spec['slug']:32s} {'; '.join(probs) or 'ok'}")
        if not args.debug:
            OUT_DIR.mkdir(parents=True, exist_ok=True)
            write_pose(spec, pose, OUT_DIR)
    if args.debug:
        render_sheet(items, body, Path(args.debug) / "sheet.png", tile=300, cols=6,
                     views=("three_quarter", "side", "front"))
    elif not args.no_sheet:
        render_sheet(items, body, SHEET)
    return 0


# --- the poses ----------------------------------------------------------------------------------------------
ARMS_UP = {"collar": (0, 0, 12), "shoulder": (0, 0, 78)}
ARMS_DOWN = {"shoulder": (0, 0, -75)}
FLAT = {"left_ankle": 0, "right_ankle": 0}
_KNEES = ("left_knee", "right_knee")
_FEET = ("left_ankle", "right_ankle")
_HANDS = ("left_wrist", "right_wrist")
_SUPINE = ("pelvis", "spine3", "head")


def _both(end: str, t, ref: str = "floor", pole=None) -> dict:
    """IK entries for both sides from the left one (x mirrored)."""
    tl = tuple(float(v) for v in t)
    out = {f"left_{end}": {"t": tl, "ref": ref.replace("*", "left")},
           f"right_{end}": {"t": (-tl[0], tl[1], tl[2]), "ref": ref.replace("*", "right")}}
    if pole is not None:
        out[f"left_{end}"]["pole"] = tuple(pole)
        out[f"right_{end}"]["pole"] = (-pole[0], pole[1], pole[2])
    return out


def _d(slug, name, category, group, description, contacts=(), **kw) -> dict:
    return dict(slug=slug, name=name, category=category, group=group, description=description,
                contacts=tuple(contacts), **kw)


_TABLE = dict(root=(90, 0, 0), pelvis_h=0.46,
              j=dict(hip=(-90, 0, 0), knee=(90, 0, 0), ankle=(40, 0, 0), foot=(30, 0, 0), shoulder=(0, -85, 0),
                     wrist=(0, 0, 70), neck=(-15, 0, 0)))
_TABLE_IK = _both("wrist", (0.19, 0.04, 0.52))
_WARRIOR_LEGS = {"left_ankle": {"t": (0.62, 0.08, 0.05), "pole": (0.9, 0.55, 0.15)},
                 "right_ankle": {"t": (-0.62, 0.08, 0.0), "pole": (-0.4, 0.4, 0.3)}}

SPECS: list[dict] = [
    # ---- standing ----
    _d("crescent_lunge", "Crescent Lunge", "yoga", "standing",
       "Front knee over the ankle, back heel lifted and the back leg long, arms reaching up.",
       ("left_ankle", "right_foot"), root=(20, 0, 0), pelvis_h=0.52,
       j={**ARMS_UP, "l_hip": (-105, 0, 5), "l_knee": (85, 0, 0), "r_hip": (30, 0, 3), "r_knee": (10, 0, 0),
          "r_foot": (-40, 0, 0), "spine1": (-8, 0, 0), "spine2": (-7, 0, 0), "spine3": (-5, 0, 0)},
       ik={"left_ankle": {"t": (0.10, 0.08, 0.44), "pole": (0.1, 0.6, 1.0)},
           "right_ankle": {"t": (-0.10, 0.13, -0.64), "pole": (-0.1, 0.3, -0.3)}},
       flat={"left_ankle": 0, "right_ankle": 50}),
    _d("reverse_warrior", "Reverse Warrior", "yoga", "standing",
       "Warrior II legs; the front arm sweeps up and back, the back hand slides down the back leg.",
       _FEET, root=(0, 0, 12), pelvis_h=0.64,
       j={"l_collar": (0, 0, 12), "l_shoulder": (0, 0, 80), "r_shoulder": (0, 30, -62), "spine1": (-5, 0, 10),
          "spine2": (-5, 0, 10), "spine3": (0, 0, 10), "head": (-15, 25, 0)},
       ik=_WARRIOR_LEGS, flat=FLAT),
    _d("extended_side_angle", "Extended Side Angle", "yoga", "standing",
       "Front knee bent over the ankle, lower hand on the floor by the front foot, top arm reaching over the ear.",
       _FEET, root=(0, 0, -42), pelvis_h=0.58,
       j={"r_collar": (0, 0, 12), "r_shoulder": (0, 0, 80), "spine1": (0, -10, -12), "spine2": (0, -10, -12),
          "spine3": (0, -5, -10), "head": (0, -30, 0), "l_shoulder": (0, 0, -60)},
       ik={**_WARRIOR_LEGS, "left_wrist": {"t": (0.58, 0.15, 0.32), "pole": (0.4, 0.4, 0.5)}}, flat=FLAT),
    _d("half_moon", "Half Moon", "yoga", "standing",
       "Stand on one leg, torso level to the side, lower hand on the floor, top leg and arm reaching long.",
       ("right_ankle",), root=(0, 0, 78),
       j={"r_hip": (0, 0, 74), "l_hip": (0, 0, 14), "l_shoulder": (0, 0, 12), "r_shoulder": (0, 0, 5),
          "head": (0, 40, 0)},
       ik={"right_wrist": {"t": (-0.42, 0.18, 0.20)}}, flat={"right_ankle": 0}),
    _d("eagle", "Eagle", "yoga", "standing",
       "Sit into the standing leg, wrap the other thigh over it and cross the forearms in front of the face.",
       ("right_ankle",), pelvis_h=0.76,
       j={"r_hip": (-40, 0, 0), "r_knee": (55, 0, 0), "l_hip": (-62, -15, -12), "l_knee": (75, 0, 0),
          "l_ankle": (30, 0, 0), "spine1": (10, 0, 0)},
       ik={"right_ankle": {"t": (-0.04, 0.08, 0.10), "pole": (-0.1, 0.5, 0.6)},
           "left_wrist": {"t": (-0.07, 0.30, 0.32), "ref": "spine3", "pole": (0.25, -0.25, 0.45)},
           "right_wrist": {"t": (0.08, 0.27, 0.26), "ref": "spine3", "pole": (-0.25, -0.3, 0.3)}},
       flat={"right_ankle": 0}),
    _d("dancer", "Dancer", "yoga", "standing",
       "Balance on one leg, hold the back foot and kick it up behind you while the chest and front arm reach "
       "forward.", ("right_ankle",), root=(35, 0, 0),
       j={"r_hip": (-35, 0, 0), "l_hip": (30, 0, 5), "l_knee": (120, 0, 0), "r_collar": (0, 0, 10),
          "r_shoulder": (0, -70, 30), "spine3": (-10, 0, 0), "neck": (-20, 0, 0)},
       ik={"left_wrist": {"t": (0.02, 0.04, 0.0), "ref": "left_ankle", "pole": (0.4, 0.2, -0.2)}},
       flat={"right_ankle": 0}),
    _d("goddess", "Goddess", "yoga", "standing",
       "Wide stance, toes turned out, knees bent out over the toes, arms in a cactus shape.",
       _FEET, pelvis_h=0.55,
       j={"shoulder": (-90, 0, 0), "elbow": (0, -90, 0)},
       ik=_both("ankle", (0.46, 0.08, 0.10), pole=(0.75, 0.5, 0.4)), flat=FLAT),
    _d("star", "Star", "fitness", "standing",
       "Feet wide, arms reaching out and up: a big X.", _FEET,
       j={"hip": (0, 0, 24), "shoulder": (0, 0, 42), "ankle": (0, 0, 0)}, flat=FLAT),
    _d("garland_squat", "Garland (Malasana)", "yoga", "standing",
       "Deep squat, heels down, knees wide, elbows pressing the knees open, palms together.",
       _FEET, root=(28, 0, 0), pelvis_h=0.28,
       j={"spine1": (-8, 0, 0), "spine2": (-8, 0, 0), "spine3": (-5, 0, 0), "neck": (-5, 0, 0),
          "shoulder": (0, -40, -50)},
       ik={**_both("ankle", (0.17, 0.08, 0.04), pole=(0.55, 0.5, 0.7)),
           **_both("wrist", (0.055, -0.02, 0.25), ref="spine3", pole=(0.45, -0.25, 0.2))},
       flat=FLAT),
    _d("standing_forward_fold", "Standing Forward Fold", "yoga", "standing",
       "Hinge from the hips with straight legs, let the head hang and place the hands by the feet.",
       _FEET, root=(100, 0, 0),
       j={"hip": (-100, 0, 0), "spine1": (15, 0, 0), "spine2": (15, 0, 0), "spine3": (12, 0, 0),
          "neck": (15, 0, 0), **ARMS_UP},
       ik=_both("wrist", (0.14, 0.15, 0.22)), flat=FLAT),
    _d("wide_leg_forward_fold", "Wide-Leg Forward Fold", "yoga", "standing",
       "Feet wide and parallel, fold forward from the hips, hands on the floor between the feet.",
       _FEET, root=(95, 0, 0),
       j={"hip": (-95, 0, 28), "spine1": (15, 0, 0), "spine2": (12, 0, 0), "spine3": (10, 0, 0),
          "neck": (15, 0, 0), **ARMS_UP},
       ik=_both("wrist", (0.18, 0.15, 0.05)), flat=FLAT),
    _d("standing_quad_stretch", "Standing Quad Stretch", "stretch", "standing",
       "Stand tall on one leg, hold the other ankle behind you and draw the heel to the seat.",
       ("right_ankle",),
       j={"l_hip": (12, 0, 2), "l_knee": (150, 0, 0), "l_ankle": (40, 0, 0), **ARMS_DOWN,
          "r_shoulder": (0, 0, 40)},
       ik={"left_wrist": {"t": (0.03, 0.02, -0.02), "ref": "left_ankle", "pole": (0.3, 0.0, -0.3)}},
       flat={"right_ankle": 0}),
    _d("standing_side_bend", "Standing Side Bend", "stretch", "standing",
       "Feet together, arms overhead with the palms together, bend the whole side body to one side.",
       _FEET, root=(0, 0, 6),
       j={**ARMS_UP, "spine1": (0, 0, 12), "spine2": (0, 0, 12), "spine3": (0, 0, 12), "neck": (0, 0, 8)},
       flat=FLAT),
    _d("upward_salute", "Upward Salute", "yoga", "standing",
       "Stand tall, sweep the arms overhead, lift the chest into a gentle backbend and look up.",
       _FEET, j={**ARMS_UP, "spine1": (-10, 0, 0), "spine2": (-10, 0, 0), "spine3": (-10, 0, 0),
                 "neck": (-15, 0, 0), "head": (-20, 0, 0)}, flat=FLAT),
    _d("triceps_stretch", "Overhead Triceps Stretch", "stretch", "standing",
       "One arm up with the elbow bent so the hand drops behind the head; the other hand eases the elbow back.",
       _FEET, j={"l_collar": (0, 0, 15), "l_shoulder": (0, 0, 80), "l_elbow": (0, -145, 0), "neck": (10, 0, 0)},
       ik={"right_wrist": {"t": (-0.03, 0.10, 0.0), "ref": "left_elbow", "pole": (-0.4, 0.1, 0.25)}},
       flat=FLAT),
    _d("cross_body_shoulder_stretch", "Cross-Body Shoulder Stretch", "stretch", "standing",
       "Bring one straight arm across the chest and hold it in with the other forearm.",
       _FEET, j={"l_shoulder": (0, -125, -5), "r_shoulder": (0, -40, -60)},
       ik={"right_wrist": {"t": (0.0, -0.03, 0.06), "ref": "left_elbow", "pole": (-0.3, -0.35, 0.2)}},
       flat=FLAT),
    _d("calf_stretch", "Wall Calf Stretch", "stretch", "standing",
       "Hands on a wall at shoulder height, front knee bent, back leg straight with the heel pressed down.",
       _FEET, root=(22, 0, 0), pelvis_h=0.80,
       j={"shoulder": (0, -80, 8), "elbow": (0, -20, 0), "spine1": (-5, 0, 0)},
       ik={"left_ankle": {"t": (0.10, 0.08, 0.32), "pole": (0.1, 0.5, 0.8)},
           "right_ankle": {"t": (-0.10, 0.08, -0.42), "pole": (-0.1, 0.4, 0.0)}}, flat=FLAT),
    _d("knee_hug_balance", "Standing Knee Hug", "fitness", "standing",
       "Balance on one leg and hug the other knee into the chest.", ("right_ankle",),
       j={"l_hip": (-110, 0, 5), "l_knee": (120, 0, 0), "l_ankle": (20, 0, 0)},
       ik={"left_wrist": {"t": (0.06, -0.06, 0.08), "ref": "left_knee", "pole": (0.45, -0.1, 0.1)},
           "right_wrist": {"t": (-0.04, -0.08, 0.10), "ref": "left_knee", "pole": (-0.45, -0.1, 0.1)}},
       flat={"right_ankle": 0}),
    _d("warrior_iii", "Warrior III", "yoga", "standing",
       "Balance on one straight leg with the torso, arms and back leg in one line parallel to the floor.",
       ("right_ankle",), root=(82, 0, 0),
       j={"r_hip": (-82, 0, 0), "l_hip": (5, 0, 0), "l_ankle": (20, 0, 0), **ARMS_UP, "neck": (-15, 0, 0)},
       flat={"right_ankle": 0}),
    _d("hand_to_big_toe", "Extended Hand-to-Big-Toe", "yoga", "standing",
       "Stand on one leg and hold the big toe of the other, straight leg lifted in front.", ("right_ankle",),
       j={"l_hip": (-75, 0, 0), "l_knee": (5, 0, 0), "r_shoulder": (0, 20, -60), "spine1": (5, 0, 0)},
       ik={"left_wrist": {"t": (0.0, 0.02, 0.08), "ref": "left_ankle", "pole": (0.3, -0.3, 0.0)}},
       flat={"right_ankle": 0}),
    _d("chest_opener", "Standing Chest Opener", "stretch", "standing",
       "Clasp the hands behind the back, draw the shoulders back and lift the chest.", _FEET,
       j={"shoulder": (0, 45, -60), "spine2": (-8, 0, 0), "spine3": (-10, 0, 0), "head": (-12, 0, 0)},
       ik=_both("wrist", (0.03, -0.12, -0.20), ref="pelvis", pole=(0.35, 0.25, -0.3)), flat=FLAT),
    _d("side_lunge", "Side Lunge", "fitness", "standing",
       "Step wide, bend one knee deeply and sit the hips back, the other leg straight with the toes up.",
       _FEET, root=(30, 0, 0), pelvis_h=0.42,
       j={"r_hip": (-20, 0, 40), "spine1": (-5, 0, 0), "shoulder": (0, -80, -10)},
       ik={"left_ankle": {"t": (0.28, 0.08, 0.10), "pole": (0.45, 0.5, 0.6)},
           "right_ankle": {"t": (-0.78, 0.10, 0.10), "pole": (-0.5, 0.5, 0.2)}},
       flat={"left_ankle": 0, "right_ankle": -40}),
    # ---- kneeling ----
    _d("low_lunge", "Low Lunge (Anjaneyasana)", "yoga", "kneeling",
       "Front knee over the ankle, back knee and the top of the back foot on the floor, arms reaching up.",
       ("left_ankle", "right_knee"), root=(5, 0, 0), pelvis_h=0.40,
       j={**ARMS_UP, "r_ankle": (45, 0, 0), "spine1": (-8, 0, 0), "spine2": (-5, 0, 0)},
       ik={"left_ankle": {"t": (0.10, 0.08, 0.45), "pole": (0.1, 0.5, 1.0)},
           "right_ankle": {"t": (-0.10, 0.09, -0.62), "pole": (-0.1, -0.3, -0.2)}},
       flat={"left_ankle": 0}),
    _d("kneeling_hip_flexor_stretch", "Kneeling Hip Flexor Stretch", "stretch", "kneeling",
       "Half kneeling, tuck the pelvis and shift it forward, hands resting on the front knee.",
       ("left_ankle", "right_knee"), root=(-5, 0, 0), pelvis_h=0.46,
       j={"r_ankle": (45, 0, 0), "shoulder": (0, -35, -60)},
       ik={"left_ankle": {"t": (0.10, 0.08, 0.42), "pole": (0.1, 0.5, 1.0)},
           "right_ankle": {"t": (-0.10, 0.12, -0.60), "pole": (-0.1, 0.0, -0.2)},
           **_both("wrist", (0.0, 0.07, 0.0), ref="left_knee", pole=(0.4, 0.0, -0.2))},
       flat={"left_ankle": 0}),
    _d("camel", "Camel (Ustrasana)", "yoga", "kneeling",
       "Kneel with the thighs upright, arch back and reach the hands to the heels, chest lifted, head back.",
       _KNEES, root=(-22, 0, 0), pelvis_h=0.50,
       j={"hip": (30, 0, 4), "knee": (90, 0, 0), "ankle": (40, 0, 0), "spine1": (-25, 0, 0),
          "spine2": (-28, 0, 0), "spine3": (-28, 0, 0), "neck": (-40, 0, 0), "head": (-30, 0, 0),
          "shoulder": (0, 40, -70)},
       ik=_both("wrist", (0.02, 0.06, -0.06), ref="*_ankle", pole=(0.3, 0.3, -0.3))),
    _d("thunderbolt", "Thunderbolt (Vajrasana)", "yoga", "kneeling",
       "Kneel and sit back on the heels, spine tall, hands resting on the thighs.", _KNEES,
       pelvis_h=0.26, j={"hip": (-85, 0, 8), "knee": (155, 0, 0), "ankle": (40, 0, 0)},
       ik={**_both("ankle", (0.11, 0.09, -0.12), pole=(0.14, -0.1, 0.6)),
           **_both("wrist", (0.0, 0.15, -0.10), ref="*_knee", pole=(0.3, 0.0, 0.0))}),
    _d("table_top", "Table Top", "yoga", "kneeling", "Hands under the shoulders, knees under the hips, back flat.",
       _KNEES + _HANDS, **_TABLE, ik=_TABLE_IK),
    _d("cat", "Cat", "yoga", "kneeling", "On hands and knees, round the spine up and let the head drop.",
       _KNEES + _HANDS, root=(90, 0, 0), pelvis_h=0.46,
       j={**_TABLE["j"], "spine1": (22, 0, 0), "spine2": (22, 0, 0), "spine3": (18, 0, 0), "neck": (15, 0, 0),
          "head": (10, 0, 0)}, ik=_TABLE_IK),
    _d("cow", "Cow", "yoga", "kneeling", "On hands and knees, drop the belly, lift the chest and the gaze.",
       _KNEES + _HANDS, root=(108, 0, 0), pelvis_h=0.44,
       j={**_TABLE["j"], "hip": (-108, 0, 0), "spine1": (-18, 0, 0), "spine2": (-16, 0, 0), "spine3": (-14, 0, 0),
          "neck": (-35, 0, 0), "head": (-20, 0, 0)}, ik=_TABLE_IK),
    _d("bird_dog", "Bird Dog", "fitness", "kneeling",
       "From hands and knees, reach one arm forward and the opposite leg back, level with the back.",
       ("right_knee", "left_wrist"), root=(90, 0, 0), pelvis_h=0.46,
       j={**_TABLE["j"], "l_hip": (8, 0, 0), "l_knee": (0, 0, 0), "l_ankle": (30, 0, 0), "r_collar": (0, 0, 10),
          "r_shoulder": (0, 0, 80)},
       ik={"left_wrist": {"t": (0.19, 0.04, 0.52)}}),
    _d("gate", "Gate (Parighasana)", "yoga", "kneeling",
       "Kneel on one knee, extend the other leg to the side and side-bend over it, top arm arching overhead.",
       ("right_knee", "left_ankle"), root=(0, 0, -10), pelvis_h=0.47,
       j={"r_hip": (0, 0, 5), "r_knee": (90, 0, 0), "r_ankle": (40, 0, 0), "l_hip": (0, 0, 62),
          "spine1": (0, 0, -12), "spine2": (0, 0, -12), "spine3": (0, 0, -10), "r_collar": (0, 0, 12),
          "r_shoulder": (0, 0, 80)},
       ik={"left_ankle": {"t": (0.72, 0.08, 0.0), "pole": (0.4, 0.7, 0.2)},
           "left_wrist": {"t": (0.0, 0.10, 0.06), "ref": "left_knee", "pole": (0.1, 0.3, 0.4)}},
       flat={"left_ankle": 0}),
    # ---- lying / seated ----
    _d("corpse", "Corpse (Savasana)", "yoga", "lying", "Lie on the back, legs relaxed apart, arms by the sides.",
       _SUPINE + _FEET, root=(-90, 0, 0), j=dict(hip=(0, 10, 8), shoulder=(0, 0, -65), ankle=(20, 0, 0))),
    _d("side_plank", "Side Plank", "yoga", "lying",
       "Balance on the lower hand and the edge of the lower foot, body in one long line, top arm up.",
       ("right_wrist", "right_ankle"), views=("three_quarter", "front"), root=(0, 0, 66), pelvis_h=0.52,
       j=dict(l_shoulder=(0, 0, 24), r_shoulder=(0, 0, -24), r_wrist=(0, 0, 75)),
       ik={"right_wrist": {"t": (-0.52, 0.05, 0.02)}, "right_ankle": {"t": (0.82, 0.08, 0.0)},
           "left_ankle": {"t": (0.84, 0.20, 0.0)}}),
    _d("happy_baby", "Happy Baby", "yoga", "lying",
       "On the back, knees wide towards the armpits, soles up, hands holding the feet.", _SUPINE,
       root=(-90, 0, 0), j={"hip": (-125, 0, 40), "knee": (115, 0, 0), "ankle": (-20, 0, 0), "neck": (15, 0, 0)},
       ik=_both("wrist", (0.03, -0.02, 0.0), ref="*_ankle", pole=(0.1, 0.3, -0.3))),
    _d("dead_bug", "Dead Bug", "fitness", "lying",
       "On the back, hips and knees at right angles, arms reaching straight up to the ceiling.", _SUPINE,
       root=(-90, 0, 0), j={"hip": (-90, 0, 0), "knee": (90, 0, 0), "shoulder": (0, -85, 0)}),
    _d("knees_to_chest", "Knees to Chest (Apanasana)", "yoga", "lying",
       "On the back, hug both knees into the chest.", _SUPINE, root=(-90, 0, 0),
       j={"hip": (-118, 0, 6), "knee": (125, 0, 0), "ankle": (20, 0, 0)},
       ik=_both("wrist", (0.07, 0.04, 0.12), ref="*_knee", pole=(0.45, -0.1, 0.0))),
    _d("reclined_hamstring_stretch", "Reclined Hamstring Stretch", "stretch", "lying",
       "On the back, one leg long on the floor, the other straight up, hands holding the calf.",
       _SUPINE + ("right_ankle",), root=(-90, 0, 0), j={"l_hip": (-88, 0, 0), "l_ankle": (-10, 0, 0)},
       ik=_both("wrist", (0.05, 0.12, 0.0), ref="left_knee", pole=(0.45, -0.1, 0.0))),
    _d("supine_twist", "Supine Twist", "yoga", "lying",
       "On the back, knees bent and dropped to one side, arms out, head turned the other way.",
       ("spine3", "head"), root=(-90, 48, 0),
       j={"hip": (-90, 0, 0), "knee": (95, 0, 0), "ankle": (20, 0, 0), "spine1": (0, -16, 0),
          "spine2": (0, -16, 0), "spine3": (0, -16, 0), "head": (0, -40, 0), "shoulder": (0, 0, -10)}),
    _d("supine_bound_angle", "Reclined Bound Angle", "yoga", "lying",
       "On the back, soles together, knees dropped open, arms resting out.", _SUPINE + _FEET,
       root=(-90, 0, 0), j={"shoulder": (0, 0, -45)},
       ik=_both("ankle", (0.05, 0.07, 0.42), pole=(0.7, 0.25, 0.35))),
    _d("single_leg_bridge", "Single-Leg Bridge", "fitness", "lying",
       "On the back, one foot on the floor lifting the hips, the other leg straight up, arms down.",
       ("head", "right_ankle"), root=(-118, 0, 0), pelvis_h=0.40,
       j={"l_hip": (-75, 0, 0), "l_ankle": (-10, 0, 0), "shoulder": (0, 0, -80)},
       ik={"right_ankle": {"t": (-0.10, 0.08, 0.40), "pole": (-0.1, 0.8, 0.6)}}, flat={"right_ankle": 0}),
    _d("pigeon", "Pigeon Prep", "yoga", "lying",
       "Front shin folded across the mat, back knee and shin down behind, chest lifted, hands on the floor.",
       ("left_knee", "right_knee"), root=(40, 0, 0), pelvis_h=0.18,
       j={"r_hip": (20, 0, 0), "r_knee": (30, 0, 0), "r_ankle": (45, 0, 0), "r_foot": (30, 0, 0),
          "spine1": (-14, 0, 0), "spine2": (-12, 0, 0), "spine3": (-10, 0, 0), "neck": (-5, 0, 0),
          "l_hip": (-90, 30, 30), "l_knee": (110, 0, 0), **ARMS_DOWN},
       ik={"left_ankle": {"t": (-0.05, 0.07, 0.30), "pole": (0.45, 0.05, 0.25)},
           "right_ankle": {"t": (-0.12, 0.07, -0.72), "pole": (-0.1, -0.5, -0.3)},
           **_both("wrist", (0.30, 0.14, 0.12))}),
    _d("bound_angle", "Bound Angle (Cobbler)", "yoga", "seated",
       "Sit tall, soles of the feet together, knees open to the sides, hands holding the feet.",
       ("pelvis",) + _FEET, pelvis_h=0.09, j={"ankle": (-25, 0, 0)},
       ik={**_both("ankle", (0.05, 0.09, 0.32), pole=(0.65, 0.25, 0.3)),
           **_both("wrist", (0.0, 0.05, 0.06), ref="*_ankle", pole=(0.3, 0.0, 0.1))}),
    _d("staff", "Staff (Dandasana)", "yoga", "seated",
       "Sit tall with the legs straight out in front, feet flexed, hands on the floor beside the hips.",
       ("pelvis",) + _FEET, j={"hip": (-84, 0, 0), "ankle": (-15, 0, 0), "shoulder": (0, 0, -80)},
       ik=_both("wrist", (0.24, 0.24, -0.04))),
    _d("easy_seat", "Easy Seat (Sukhasana)", "yoga", "seated",
       "Sit cross-legged, shins crossed, spine tall, hands resting on the knees.", ("pelvis",),
       pelvis_h=0.09, j={"ankle": (-10, 0, 0)},
       ik={"left_ankle": {"t": (-0.20, 0.09, 0.22), "pole": (0.6, 0.15, 0.35)},
           "right_ankle": {"t": (0.20, 0.17, 0.40), "pole": (-0.6, 0.15, 0.45)},
           **_both("wrist", (0.0, 0.12, 0.0), ref="*_knee", pole=(0.3, 0.1, -0.2))}),
    _d("seated_twist", "Seated Twist", "yoga", "seated",
       "One leg long, the other foot planted outside its knee; twist towards the bent knee, hand behind you.",
       ("pelvis", "right_ankle"), pelvis_h=0.09,
       j={"r_hip": (-84, 0, 0), "l_ankle": (-30, 0, 0), "spine1": (0, 18, 0), "spine2": (0, 18, 0),
          "spine3": (0, 15, 0), "neck": (0, 25, 0), "head": (0, 20, 0)},
       ik={"left_ankle": {"t": (-0.02, 0.10, 0.34), "pole": (0.1, 0.7, 0.3)},
           "right_wrist": {"t": (0.08, 0.02, 0.04), "ref": "left_knee", "pole": (-0.1, 0.1, 0.4)},
           "left_wrist": {"t": (0.12, 0.15, -0.28)}}),
    _d("seated_wide_leg_fold", "Seated Wide-Leg Fold", "stretch", "seated",
       "Sit with the legs wide apart, fold forward from the hips, hands walking out on the floor.",
       ("pelvis",) + _FEET, root=(40, 0, 0),
       j={"hip": (-130, 0, 45), "ankle": (-10, 0, 0), "spine1": (12, 0, 0), "spine2": (10, 0, 0),
          "spine3": (8, 0, 0), **ARMS_UP},
       ik=_both("wrist", (0.20, 0.15, 0.55))),
    _d("bow", "Bow (Dhanurasana)", "yoga", "lying",
       "On the belly, bend the knees, hold the ankles and kick back to lift the chest and thighs.",
       ("spine1",), root=(90, 0, 0),
       j={"hip": (25, 0, 8), "knee": (115, 0, 0), "spine1": (-20, 0, 0), "spine2": (-20, 0, 0),
          "spine3": (-18, 0, 0), "neck": (-30, 0, 0), "shoulder": (0, 45, -70)},
       ik=_both("wrist", (0.06, 0.03, 0.0), ref="*_ankle", pole=(0.4, 0.2, 0.0))),
    _d("locust", "Locust (Salabhasana)", "yoga", "lying",
       "On the belly, lift the chest, arms and straight legs a little off the floor, arms back by the sides.",
       ("pelvis",), root=(90, 0, 0),
       j={"hip": (15, 0, 3), "ankle": (30, 0, 0), "spine1": (-12, 0, 0), "spine2": (-10, 0, 0),
          "spine3": (-8, 0, 0), "neck": (-15, 0, 0), "shoulder": (0, 25, -78)}),
    _d("superman", "Superman", "fitness", "lying",
       "On the belly, reach the arms overhead and lift arms, chest and legs off the floor.", ("pelvis",),
       root=(90, 0, 0),
       j={"hip": (15, 0, 3), "ankle": (30, 0, 0), "spine1": (-10, 0, 0), "spine2": (-8, 0, 0),
          "spine3": (-6, 0, 0), "neck": (-10, 0, 0), **ARMS_UP, "l_shoulder": (0, 15, 78),
          "r_shoulder": (0, 15, 78)}),
    _d("sphinx", "Sphinx", "yoga", "lying",
       "On the belly, forearms on the floor with the elbows under the shoulders, chest lifted.",
       ("pelvis", "left_elbow", "right_elbow", "left_wrist", "right_wrist"), root=(84, 0, 0), pelvis_h=0.14,
       j={"ankle": (40, 0, 0), "spine1": (-10, 0, 0), "spine2": (-10, 0, 0), "spine3": (-5, 0, 0),
          "neck": (-25, 0, 0), "shoulder": (0, -80, 0)},
       ik=_both("wrist", (0.12, 0.03, 0.64), pole=(0.2, -0.4, 0.38))),
    _d("puppy", "Puppy (Extended Child)", "yoga", "kneeling",
       "From hands and knees, walk the hands forward and melt the chest to the floor, hips over the knees.",
       _KNEES + _HANDS, root=(128, 0, 0), pelvis_h=0.46,
       j={"hip": (-128, 0, 0), "knee": (90, 0, 0), "ankle": (40, 0, 0), **ARMS_UP, "neck": (-20, 0, 0)},
       ik=_both("wrist", (0.20, 0.05, 0.95))),
    _d("chaturanga", "Low Push-Up (Chaturanga)", "fitness", "lying",
       "From plank, bend the elbows back along the ribs and hover the body low, in one straight line.",
       _HANDS + ("left_foot", "right_foot"), root=(84, 0, 0), pelvis_h=0.24,
       j={"hip": (-2, 0, 0), "foot": (-45, 0, 0), "shoulder": (0, -60, -20), "wrist": (0, 0, 70)},
       ik={**_both("wrist", (0.20, 0.05, 0.32), pole=(0.30, 0.5, 0.1))}, flat={"left_ankle": 80, "right_ankle": 80}),
    _d("forearm_plank", "Forearm Plank", "fitness", "lying",
       "Forearms on the floor under the shoulders, body in one straight line from the head to the heels.",
       ("left_elbow", "right_elbow", "left_foot", "right_foot"), root=(82, 0, 0), pelvis_h=0.25,
       j={"foot": (-45, 0, 0), "shoulder": (0, -80, 0)},
       ik=_both("wrist", (0.10, 0.05, 0.62), pole=(0.15, -0.4, 0.40)), flat={"left_ankle": 80, "right_ankle": 80}),
    _d("clamshell", "Clamshell", "fitness", "lying",
       "Lie on one side, hips and knees bent, feet together, and open the top knee like a shell.",
       ("pelvis", "right_knee"), views=("three_quarter", "front"), root=(0, 0, 90),
       j={"hip": (-45, 0, 0), "knee": (90, 0, 0), "l_hip": (-45, 30, 35), "r_collar": (0, 0, 10),
          "r_shoulder": (0, 0, 80), "l_shoulder": (0, 0, -75)}),
    _d("side_lying_leg_lift", "Side-Lying Leg Lift", "fitness", "lying",
       "Lie on one side, head on the lower arm, and lift the straight top leg.", ("pelvis", "right_ankle"),
       views=("three_quarter", "front"), root=(0, 0, 90),
       j={"l_hip": (0, 0, 38), "r_collar": (0, 0, 10), "r_shoulder": (0, 0, 80), "l_shoulder": (0, 0, -75)}),
]


if __name__ == "__main__":
    raise SystemExit(main())
