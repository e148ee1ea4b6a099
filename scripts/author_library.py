"""Author the built-in pose library: readable per-joint Euler specs → grounded, checked JSON files.

    .venv/bin/python scripts/author_library.py                 # write resources/poses/*.json
    .venv/bin/python scripts/author_library.py --preview DIR    # + front/side/top/3-4 preview sheets
    .venv/bin/python scripts/author_library.py --only tree --preview /tmp/p
    .venv/bin/python scripts/author_library.py --thumbs         # thumbnails + docs/library_contact_sheet.png

Angles are intrinsic XYZ Euler angles in degrees, the same parameterisation as the joint limits
(core_models/skeleton.py). Conventions (checked with FK on the Anny body):
  knee flexion = +x; hip flexion (thigh forward) = -x, hip abduction (left) = +z, left hip external
  rotation (toes out) = +y; ankle plantar-flexion (toes down) = +x; spine/neck forward bend = +x,
  neck turn to the body's left = +y; left shoulder raise (abduction up) = +z, left arm forward = -y;
  left elbow flexion = -y. Right side: y and z negated (``sym`` does it).
Root: +x pitches the whole body forward (face down at +90), -x backward (face up at -90).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core_models import skeleton as sk  # noqa: E402
from core_models.library import BUILTIN_DIR, pose_to_dict  # noqa: E402
from core_models.plausibility import check_pose, ground_pose, penetrations  # noqa: E402
from core_models.pose import Pose, euler_to_aa  # noqa: E402


def sym(side_name: str, xyz) -> dict:
    """The same joint rotation on both sides: left as given, right mirrored (y, z negated)."""
    x, y, z = xyz
    return {"left_" + side_name: (x, y, z), "right_" + side_name: (x, -y, -z)}


def L(side_name: str, xyz) -> dict:
    return {"left_" + side_name: tuple(xyz)}


def R(side_name: str, xyz) -> dict:
    """Right-side joint given in *left-side* terms (mirrored here), so the same numbers mean the same
    anatomical motion on either side."""
    x, y, z = xyz
    return {"right_" + side_name: (x, -y, -z)}


def J(**kw) -> dict:
    return {k: tuple(v) for k, v in kw.items()}


def merge(*ds: dict) -> dict:
    out: dict = {}
    for d in ds:
        out.update(d)
    return out


# --- the 17 poses ------------------------------------------------------------------------------------

POSES: list[dict] = [
    # --- basic ---
    dict(slug="t_pose", name="T-pose", category="basic",
         description="Stand tall with the arms stretched straight out to the sides at shoulder height.",
         root=(0, 0, 0), joints={}),
    dict(slug="a_pose", name="A-pose", category="basic",
         description="Stand tall and let the straight arms hang about 45 degrees away from the body.",
         root=(0, 0, 0), joints=merge(sym("shoulder", (0, 0, -45)))),
    # --- standing yoga ---
    dict(slug="mountain", name="Mountain (Tadasana)", category="yoga",
         description="Stand tall with the feet together, arms long by your sides and the crown of the head lifting.",
         root=(0, 0, 0),
         joints=merge(sym("collar", (0, 0, -5)), sym("shoulder", (0, 0, -75)), sym("elbow", (0, -5, 0)),
                      sym("hip", (0, 0, -2)))),
    dict(slug="tree", name="Tree (Vrksasana)", category="yoga",
         description="Press the left sole into the inner right thigh, open the knee to the side and reach the arms up.",
         root=(0, 0, 0),
         joints=merge(L("hip", (-65, 28, 54)), L("knee", (139, -16, -11)), L("ankle", (-8, -4, 0)),
                      sym("collar", (0, 0, 20)), sym("shoulder", (0, 0, 78)), sym("elbow", (0, -8, 0)))),
    dict(slug="warrior_i", name="Warrior I (Virabhadrasana I)", category="yoga",
         description="Bend the front knee over the ankle, press the back heel down and reach both arms overhead.",
         root=(20, 0, 0),
         joints=merge(L("hip", (-110, 0, 5)), L("knee", (90, 0, 0)),
                      R("hip", (30, 35, 8)), R("ankle", (-40, 0, -10)),
                      J(spine1=(-8, 0, 0), spine2=(-6, 0, 0), spine3=(-6, 0, 0)),
                      sym("collar", (0, 0, 20)), sym("shoulder", (0, 0, 70)))),
    dict(slug="warrior_ii", name="Warrior II (Virabhadrasana II)", category="yoga",
         description="Bend the front knee over the ankle, keep the back leg straight and reach the arms long.",
         # pelvis turned 30 deg towards the front leg, chest turned back to face forward, gaze over the left hand
         root=(0, 30, 0),
         joints=merge(J(spine1=(0, -10, 0), spine2=(0, -10, 0), spine3=(0, -10, 0), neck=(0, 45, 0), head=(0, 35, 0)),
                      L("hip", (-89, -3, 46)), L("knee", (86, 4, -2)), L("ankle", (4, 3, 1)),
                      R("hip", (29, 19, 47)), R("ankle", (-18, -1, 2)))),
    dict(slug="triangle", name="Triangle (Trikonasana)", category="yoga",
         description="Keep both legs straight, hinge sideways over the front leg and stack the arms in one line.",
         root=(-8, 5, -30),
         joints=merge(J(spine1=(1, -8, -26), spine2=(-1, -8, -24), spine3=(-1, -8, -20), neck=(0, -30, 0),
                        head=(0, -30, 0)),
                      L("hip", (-18, 11, 70)), R("hip", (12, -2, -8)), R("ankle", (0, 0, -10)),
                      L("collar", (1, 15, 19)), L("shoulder", (0, 12, 15)),
                      J(right_collar=(-1, 17, 2), right_shoulder=(0, 12, 2)))),
    dict(slug="chair", name="Chair (Utkatasana)", category="yoga",
         description="Sit the hips back as if onto a chair, knees bent, and reach the arms up beside the ears.",
         root=(25, 0, 0),
         joints=merge(sym("hip", (-85, 0, 0)), sym("knee", (80, 0, 0)), sym("ankle", (-20, 0, 0)),
                      sym("collar", (0, 0, 20)), sym("shoulder", (0, 0, 70)))),
    # --- floor / inverted ---
    dict(slug="downward_dog", name="Downward Dog (Adho Mukha Svanasana)", category="yoga",
         description="Lift the hips high into an inverted V, arms in line with the back and heels reaching down.",
         root=(135, 0, 0),
         joints=merge(sym("hip", (-103, 0, 0)), sym("knee", (-5, 0, 0)), sym("ankle", (-16, -1, 1)),
                      sym("collar", (0, 0, 10)), sym("shoulder", (-10, -68, 71)), sym("elbow", (1, 5, -3)),
                      J(neck=(-5, 0, 0)))),
    dict(slug="plank", name="Plank", category="fitness",
         description="Hold one straight line from head to heels with the hands under the shoulders.",
         root=(76, 0, 0),
         joints=merge(sym("shoulder", (0, -90, -14)), sym("foot", (-40, 0, 0)), J(neck=(-10, 0, 0)))),
    dict(slug="cobra", name="Cobra (Bhujangasana)", category="yoga",
         description="Lie on the belly, press the hands down beside the ribs and lift the chest, hips grounded.",
         # hips and legs on the floor (tops of the feet down), upper arms back along the ribs, forearms
         # down, wrists extended so the palms lie flat
         root=(92, 0, 0),
         joints=merge(J(spine1=(-33, 0, 0), spine2=(-28, 0, 0), spine3=(-22, 0, 0), neck=(-10, 0, 0)),
                      sym("hip", (0, 0, 3)), sym("ankle", (45, 0, 0)),
                      sym("shoulder", (59, 12, -84)), sym("elbow", (3, -72, -10)), sym("wrist", (40, 0, 80)))),
    dict(slug="childs_pose", name="Child's Pose (Balasana)", category="yoga",
         description="Sit the hips back on the heels, rest the forehead down and stretch the arms forward.",
         root=(75, 0, 0),
         joints=merge(sym("hip", (-127, -2, 5)), sym("knee", (145, 1, -5)), sym("ankle", (39, 1, 0)),
                      J(spine1=(26, 0, 0), spine2=(10, 0, 0), spine3=(-13, 0, 0), neck=(14, 0, 0)),
                      sym("collar", (0, 0, 10)), sym("shoulder", (-7, -72, 69)))),
    dict(slug="bridge", name="Bridge (Setu Bandhasana)", category="yoga",
         description="Lie on the back, feet planted, and lift the hips high while the arms press into the floor.",
         root=(-120, 0, 0),
         joints=merge(sym("hip", (13, 0, 3)), sym("knee", (100, 0, 0)), sym("ankle", (6, 0, 0)), J(neck=(35, 0, 0)),
                      sym("shoulder", (34, 48, -66)), sym("elbow", (-2, -2, -18)))),
    # --- fitness ---
    dict(slug="squat", name="Squat", category="fitness",
         description="Sit the hips back and down with the chest proud, heels on the floor and arms reaching forward.",
         root=(35, 0, 0),
         joints=merge(sym("hip", (-120, 10, 12)), sym("knee", (115, 0, 0)), sym("ankle", (-30, 0, 0)),
                      J(spine1=(-8, 0, 0), spine2=(-5, 0, 0), neck=(-10, 0, 0)), sym("shoulder", (0, -90, 35)))),
    dict(slug="lunge", name="Lunge", category="fitness",
         description="Step one foot forward, bend both knees to about 90 degrees and keep the torso upright.",
         root=(0, 0, 0),
         joints=merge(L("hip", (-90, 0, 3)), L("knee", (90, 0, 0)),
                      R("hip", (10, 0, 3)), R("knee", (95, 0, 0)), R("ankle", (10, 0, 0)), R("foot", (-45, 0, 0)),
                      sym("shoulder", (0, 0, -75)))),
    # --- seated ---
    dict(slug="seated_forward_bend", name="Seated Forward Bend (Paschimottanasana)", category="yoga",
         description="Sit with straight legs together and fold forward from the hips, hands reaching for the feet.",
         root=(36, 0, 0),
         joints=merge(sym("hip", (-124, 0, 0)), sym("ankle", (-10, 0, 0)),
                      J(spine1=(11, 0, 0), spine2=(12, 0, 0), spine3=(15, 0, 0), neck=(11, 0, 0)),
                      sym("collar", (0, 0, 10)), sym("shoulder", (0, -88, 45)), sym("elbow", (0, 2, 0)))),
    dict(slug="boat", name="Boat (Navasana)", category="yoga",
         description="Balance on the sit bones with the legs lifted straight and the arms reaching forward.",
         root=(-35, 0, 0),
         joints=merge(sym("hip", (-105, 0, 0)), sym("ankle", (20, 0, 0)), J(spine1=(5, 0, 0), neck=(10, 0, 0)),
                      sym("shoulder", (0, -90, -35)))),
]


def build_pose(spec: dict) -> Pose:
    e = np.zeros((sk.NUM_JOINTS, 3), np.float32)
    e[0] = spec.get("root", (0, 0, 0))
    for name, xyz in spec.get("joints", {}).items():
        e[sk.JOINT_INDEX[name]] = xyz
    aa = euler_to_aa(e)
    return Pose.from_full(aa)


# --- quick software preview renderer (PIL painter's algorithm, flat Lambert shading) -------------------

VIEWS = {  # view → (screen right, screen up, towards the camera)
    "front": (np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0])),
    "side": (np.array([0, 0, 1.0]), np.array([0, 1.0, 0]), np.array([-1.0, 0, 0])),
    "top": (np.array([1.0, 0, 0]), np.array([0, 0, -1.0]), np.array([0, 1.0, 0])),
    "three_quarter": (np.array([0.7071, 0, -0.7071]), np.array([0, 1.0, 0]), np.array([0.7071, 0, 0.7071])),
}


def render_view(verts, faces, view="front", size=256, extent=2.2, center=None, floor=None,
                bg=(245, 245, 245), color=(205, 175, 150)) -> Image.Image:
    right, up, toward = VIEWS[view]
    if center is None:
        center = 0.5 * (verts.min(0) + verts.max(0))
    ss = 2
    S = size * ss
    scale = S / extent
    v = verts - center
    px = (v @ right) * scale + S / 2
    py = S / 2 - (v @ up) * scale
    depth = v @ toward
    v0, v1, v2 = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    n = np.cross(v1 - v0, v2 - v0)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    light = toward + np.array([0.25, 0.5, 0.0]) @ np.stack([right, up, toward]) * 1.0
    light = light / np.linalg.norm(light)
    shade = np.clip(n @ light, 0, 1) * 0.7 + 0.3
    keep = (n @ toward) > -0.02
    order = np.argsort(depth[faces].mean(1))
    img = Image.new("RGB", (S, S), bg)
    dr = ImageDraw.Draw(img)
    if floor is not None and view != "top":
        fy = S / 2 - (floor - float(center @ up)) * scale
        dr.line([(0, fy), (S, fy)], fill=(120, 120, 200), width=ss)
    col = np.array(color, np.float64)
    pts = np.stack([px, py], 1)
    for f in order:
        if keep[f]:
            a, b, c = faces[f]
            dr.polygon([tuple(pts[a]), tuple(pts[b]), tuple(pts[c])], fill=tuple(int(x) for x in col * shade[f]))
    return img.resize((size, size), Image.LANCZOS)


def preview_sheet(verts, faces, title="", size=256, floor=None,
                  views=("front", "side", "top", "three_quarter")) -> Image.Image:
    lo, hi = verts.min(0), verts.max(0)
    center = 0.5 * (lo + hi)
    extent = float(max(hi - lo)) * 1.1 + 0.1
    sheet = Image.new("RGB", (size * len(views), size + 16), (255, 255, 255))
    for i, v in enumerate(views):
        sheet.paste(render_view(verts, faces, v, size, extent, center, floor), (i * size, 16))
    ImageDraw.Draw(sheet).text((4, 2), f"{title}   [{' | '.join(views)}]", fill=(0, 0, 0))
    return sheet


# --- authoring aid: tiny IK to find readable angles (results are pasted into POSES) --------------------

def solve_ik(spec: dict, free: list[str], targets: dict[str, tuple], *, reg: float = 1e-4,
             body=None, margin: float = 3.0) -> dict:
    """Adjust the Euler angles of ``free`` joints (within the joint limits minus ``margin``) so that the
    named joints reach ``targets`` (positions relative to the pelvis joint, metres, pose frame). Returns
    {joint: (x, y, z)} rounded to whole degrees — an aid for writing specs, not used at build time."""
    from scipy.optimize import minimize

    from core_models import kinematics as kin
    from core_models.pose import aa_to_matrix

    if body is None:
        from core_models.body import load_body
        body = load_body("anny")
    rest = body.skinning.rest_joints.astype(np.float64)
    e0 = np.zeros((sk.NUM_JOINTS, 3))
    e0[0] = spec.get("root", (0, 0, 0))
    for n, v in spec.get("joints", {}).items():
        e0[sk.JOINT_INDEX[n]] = v
    idx = [sk.JOINT_INDEX[n] for n in free]
    lim = sk.JOINT_LIMITS_DEG
    bounds = [(lim[j, a, 0] + margin, lim[j, a, 1] - margin) if j else (-180, 180) for j in idx for a in range(3)]
    x0 = np.clip(e0[idx].reshape(-1), [b[0] for b in bounds], [b[1] for b in bounds])
    tj = [(sk.JOINT_INDEX[n], np.asarray(t, float)) for n, t in targets.items()]

    def f(x):
        e = e0.copy()
        e[idx] = x.reshape(-1, 3)
        Rm = aa_to_matrix(euler_to_aa(e))
        _, P, _ = kin.fk_numpy(Rm, rest)
        err = sum(float(np.sum((P[j] - P[0] - t) ** 2)) for j, t in tj)
        return err + reg * float(np.sum((x - x0) ** 2)) / 100.0

    res = minimize(f, x0, method="L-BFGS-B", bounds=bounds)
    out = {n: tuple(int(round(v)) for v in res.x.reshape(-1, 3)[i]) for i, n in enumerate(free)}
    print(f"IK residual {np.sqrt(max(res.fun, 0)):.3f} m:", out)
    return out


# --- thumbnails + contact sheet (offscreen GL renderer) -------------------------------------------------

THUMB_SIZE = 160


#: poses that read best in profile (a lunge seen from the front is just a short person)
SIDE_VIEW = {"warrior_i", "lunge", "chair", "squat"}


def _thumb_view(slug: str, pose: Pose) -> str:
    """three-quarter for most poses; side for the floor/inverted/lunging ones that read best in profile."""
    return "side" if slug in SIDE_VIEW or abs(float(pose.root_orient[0])) > 0.5 else "three_quarter"


def make_thumbnails() -> int:
    from core_models.body import load_body
    from core_models.library import load_builtin
    from core_models.render.offscreen import render_pose_image

    body = load_body("anny")
    items = load_builtin()
    thumbs = BUILTIN_DIR / "thumbs"
    thumbs.mkdir(exist_ok=True)
    cells = []
    for item in items:
        view = _thumb_view(item.path.stem, item.pose)
        rgba = render_pose_image(body, item.pose, size=(THUMB_SIZE, THUMB_SIZE), view=view, alpha=True,
                                 markers=False, grid=True)
        im = Image.fromarray(rgba, "RGBA")
        out = thumbs / f"{item.path.stem}.png"
        im.quantize(colors=128, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
        big = render_pose_image(body, item.pose, size=(300, 300), view=view, markers=False, grid=True)
        cells.append((item, Image.fromarray(big[..., :3], "RGB")))
        print(f"{out.relative_to(ROOT)}  {out.stat().st_size / 1024:.1f} KiB  ({view})")
    cols = 6
    cw, ch, lab = 300, 300, 34
    rows = (len(cells) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * cw, rows * (ch + lab)), (255, 255, 255))
    d = ImageDraw.Draw(sheet)
    for i, (item, im) in enumerate(cells):
        x, y = (i % cols) * cw, (i // cols) * (ch + lab)
        sheet.paste(im, (x, y))
        d.text((x + 6, y + ch + 3), item.name, fill=(0, 0, 0))
        d.text((x + 6, y + ch + 17), item.category, fill=(110, 110, 110))
    dst = ROOT / "docs" / "library_contact_sheet.png"
    dst.parent.mkdir(exist_ok=True)
    sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)
    print(f"{dst.relative_to(ROOT)}  {dst.stat().st_size / 1024:.0f} KiB")
    return 0


# --- main -----------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", help="slugs to (re)build")
    ap.add_argument("--preview", type=Path, help="write preview sheets here")
    ap.add_argument("--no-write", action="store_true", help="do not write the JSON files")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every near-contact capsule pair")
    ap.add_argument("--thumbs", action="store_true",
                    help="render resources/poses/thumbs/*.png and docs/library_contact_sheet.png with the "
                         "offscreen GL renderer (core_models/render/offscreen.py)")
    args = ap.parse_args(argv)
    if args.thumbs:
        return make_thumbnails()

    from core_models.body import load_body

    body = load_body("anny")
    faces = body.skinning.faces
    floor = float(body.skinning.floor_height)
    bad = 0
    for order, spec in enumerate(POSES):
        if args.only and spec["slug"] not in args.only:
            continue
        pose = ground_pose(body, build_pose(spec))
        rep = check_pose(body, pose)
        status = "ok " if rep.ok else "BAD"
        bad += not rep.ok
        print(f"{status} {spec['slug']:<22} {rep.summary()}")
        if args.verbose:
            for c in sorted(penetrations(body, pose), key=lambda c: -c.depth):
                if c.depth > -0.01:
                    print(f"      {c.kind:<18} {c.a:<15} {c.b:<15} {c.depth * 100:+.1f} cm "
                          f"(allowance {c.allowance * 100:.0f})")
        if not args.no_write:
            d = pose_to_dict(spec["name"], spec["category"], pose, spec["description"],
                             f"thumbs/{spec['slug']}.png", order)
            (BUILTIN_DIR / f"{spec['slug']}.json").write_text(json.dumps(d, indent=1) + "\n", "utf-8")
        if args.preview:
            args.preview.mkdir(parents=True, exist_ok=True)
            verts = body.forward(pose).vertices
            preview_sheet(verts, faces, f"{spec['name']} ({status.strip()})", floor=floor).save(
                args.preview / f"{spec['slug']}.png")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
