"""Run ufbx (PyPI ufbx==0.0.5) on an FBX file in a *separate process* and dump what it sees to an .npz.

    python ufbx_probe.py in.fbx out.npz FPS NFRAMES

ufbx's Python wrappers can segfault when a wrapper outlives the object it points into, or at interpreter exit
while evaluated scenes are alive, so every wrapper is kept alive in ``_keep``, arrays are copied, evaluated
scenes are freed explicitly and the process leaves with ``os._exit``."""
from __future__ import annotations

import os
import sys

import numpy as np


def _materials(mesh, keep: list) -> tuple[list[str], list[list[float]]]:
    """("name:shading model", diffuse RGB) of each material on the mesh."""
    mats = mesh.materials
    keep.append(mats)
    names, diffuse = [], []
    for k in range(len(mats)):
        mt = mats[k]
        fb = mt.fbx
        dc = fb.diffuse_color
        v = dc.value_vec4
        keep += [mt, fb, dc, v]
        names.append(f"{mt.name}:{mt.shading_model_name}")
        diffuse.append([v.x, v.y, v.z])
    return names, diffuse


def main() -> int:
    import ufbx

    path, out, fps, n = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    keep = []
    sc = ufbx.load_file(path, strict=True, target_axes=ufbx.axes_right_handed_y_up, target_unit_meters=1.0,
                        space_conversion=ufbx.SpaceConversion.MODIFY_GEOMETRY)
    keep.append(sc)
    md = sc.metadata
    warns = md.warnings
    keep += [md, warns]
    nodes = sc.nodes
    keep.append(nodes)
    names, parents, is_bone = [], [], []
    for i in range(len(nodes)):
        nd = nodes[i]
        keep.append(nd)
        par = nd.parent
        keep.append(par)
        names.append("" if nd.is_root else str(nd.name))
        parents.append("" if par is None or par.is_root else str(par.name))
        bone = nd.bone
        keep.append(bone)
        is_bone.append(bone is not None)
    meshes = sc.meshes
    keep.append(meshes)
    mesh = meshes[0]
    keep.append(mesh)
    rest = np.array(np.asarray(mesh.vertices), dtype=np.float64)
    mat_names, mat_diffuse = _materials(mesh, keep)
    settings = sc.settings
    keep.append(settings)
    skins = mesh.skin_deformers
    keep.append(skins)
    n_clusters = 0
    for k in range(len(skins)):
        sd = skins[k]
        keep.append(sd)
        cl = sd.clusters
        keep.append(cl)
        n_clusters += len(cl)
    stacks = sc.anim_stacks
    keep.append(stacks)
    st = stacks[0]
    keep.append(st)
    anim = st.anim
    keep.append(anim)
    frames = []
    world = []
    for f in range(n):
        ev = ufbx.evaluate_scene(sc, anim, f / fps, evaluate_skinning=True)
        ems = ev.meshes
        em = ems[0]
        assert not em.skinned_is_local
        sp = em.skinned_position
        vals = sp.values
        frames.append(np.array(np.asarray(vals), dtype=np.float64))
        enodes = ev.nodes
        mats = []
        for i in range(len(enodes)):
            en = enodes[i]
            m = en.node_to_world
            cols = [m.c0, m.c1, m.c2, m.c3]
            mats.append(np.array([[c.x, c.y, c.z] for c in cols], dtype=np.float64).T)  # (3,4)
            keep += [en, m, *cols]
        world.append(np.array(mats, dtype=np.float64))
        keep += [ev, ems, em, sp, vals, enodes]
        del vals
    np.savez(out, names=np.array(names), parents=np.array(parents), is_bone=np.array(is_bone),
             rest=rest, skinned=np.stack(frames), world=np.stack(world), n_warnings=len(warns),
             n_clusters=n_clusters, stack_name=str(st.name), time_begin=float(st.time_begin),
             time_end=float(st.time_end), unit_meters=float(settings.unit_meters),
             frames_per_second=float(settings.frames_per_second), materials=np.array(mat_names, dtype=str),
             material_diffuse=np.array(mat_diffuse, dtype=np.float64).reshape(-1, 3))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except BaseException as e:  # report, then leave without running ufbx's finalisers
        print(f"ufbx probe failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.stderr.flush()
        os._exit(3)
