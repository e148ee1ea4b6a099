"""Small procedural meshes for the renderer (numpy only): icosphere, torus."""
from __future__ import annotations

import math

import numpy as np


def icosphere(subdivisions: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Unit sphere: (vertices (N,3) float32 = normals, faces (M,3) uint32)."""
    t = (1.0 + 5 ** 0.5) / 2.0
    v = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
         (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    f = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2), (10, 7, 6),
         (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11), (6, 2, 10),
         (8, 6, 7), (9, 8, 1)]
    verts = [np.array(p, np.float64) / np.linalg.norm(p) for p in v]
    faces = list(f)
    for _ in range(subdivisions):
        cache: dict[tuple[int, int], int] = {}

        def mid(a: int, b: int) -> int:
            key = (min(a, b), max(a, b))
            if key not in cache:
                m = verts[a] + verts[b]
                verts.append(m / np.linalg.norm(m))
                cache[key] = len(verts) - 1
            return cache[key]

        nf = []
        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            nf += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = nf
    return np.asarray(verts, np.float32), np.asarray(faces, np.uint32)


def torus(major_segments: int = 96, minor_segments: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A unit ring in the xy plane (axis z): vertices (N,4) float32 = (angle around the ring, angle around
    the tube, 0, 0) — the vertex shader turns them into positions with the ring and tube radii."""
    i = np.arange(major_segments)
    j = np.arange(minor_segments)
    u = 2 * math.pi * i / major_segments
    v = 2 * math.pi * j / minor_segments
    U, Vv = np.meshgrid(u, v, indexing="ij")
    verts = np.stack([U.ravel(), Vv.ravel(), np.zeros(U.size), np.zeros(U.size)], -1).astype(np.float32)
    faces = []
    for a in range(major_segments):
        a1 = (a + 1) % major_segments
        for b in range(minor_segments):
            b1 = (b + 1) % minor_segments
            p, q = a * minor_segments + b, a1 * minor_segments + b
            r, s = a1 * minor_segments + b1, a * minor_segments + b1
            faces += [(p, q, r), (p, r, s)]
    return verts, np.asarray(faces, np.uint32)
