"""Reference image: loading (good, bad, huge files), settings, background / plane geometry, and the GL drawing
in a headless EGL child process (PyOpenGL picks its platform once per process; the Qt viewport tests share the
pytest process): the image appears behind the body at the right opacity, letterboxed and flipped; a plane
locked to the camera stays put on screen while orbiting, an unlocked one does not; the texture is freed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core_models.render import reference_image as ri
from core_models.render.camera import OrbitCamera

ROOT = Path(__file__).resolve().parents[2]


def _png(path: Path, rgb: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(rgb).save(path)
    return path


# --- loading ---------------------------------------------------------------------------------------------

def test_load_png_jpeg_webp_bmp_and_grey(tmp_path):
    from PIL import Image

    rgb = np.zeros((30, 40, 3), np.uint8)
    rgb[:, :20] = (250, 10, 10)
    rgb[:, 20:] = (10, 10, 250)
    for ext in ("png", "jpg", "webp", "bmp"):
        p = tmp_path / f"a.{ext}"
        Image.fromarray(rgb).save(p)
        a = ri.load_image(p)
        assert a.shape == (30, 40, 4) and a.dtype == np.uint8
        assert a[15, 5, 0] > 200 and a[15, 35, 2] > 200 and (a[..., 3] == 255).all(), ext
    Image.fromarray(np.full((8, 9), 77, np.uint8)).save(tmp_path / "g.png")
    g = ri.load_image(tmp_path / "g.png")
    assert g.shape == (8, 9, 4) and (g[..., :3] == 77).all()
    Image.fromarray(np.zeros((6, 6, 4), np.uint8)).save(tmp_path / "t.png")  # transparent PNG keeps alpha
    assert (ri.load_image(tmp_path / "t.png")[..., 3] == 0).all()


def test_bad_files_give_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ri.ReferenceImageError, match="no such file"):
        ri.load_image(tmp_path / "missing.png")
    with pytest.raises(ri.ReferenceImageError, match="not a file"):
        ri.load_image(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ri.ReferenceImageError, match="empty"):
        ri.load_image(tmp_path / "empty.png")
    (tmp_path / "notes.png").write_text("this is not an image\n" * 20)
    with pytest.raises(ri.ReferenceImageError, match="not an image file"):
        ri.load_image(tmp_path / "notes.png")
    good = _png(tmp_path / "good.png", np.full((64, 64, 3), 128, np.uint8))
    data = good.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ri.ReferenceImageError, match="cannot be read"):
        ri.load_image(tmp_path / "cut.png")
    monkeypatch.setattr(ri, "MAX_PIXELS", 1000)  # "huge" is checked from the header, before decoding
    with pytest.raises(ri.ReferenceImageError, match="too large .*64x64"):
        ri.load_image(good)
    monkeypatch.setattr(ri, "MAX_FILE_BYTES", 10)
    with pytest.raises(ri.ReferenceImageError, match="file is too large"):
        ri.load_image(good)


def test_big_images_are_downscaled_for_display_only():
    big = np.zeros((300, 900, 4), np.uint8)
    img = ri.ReferenceImage(big)
    assert img.image_size == (900, 300)
    assert ri.display_pixels(big, max_side=300).shape == (100, 300, 4)
    with pytest.raises(ri.ReferenceImageError, match="uint8"):
        ri.ReferenceImage(np.zeros((5, 5, 3), np.uint8))


def test_settings_roundtrip_and_validation():
    s = ri.ReferenceSettings(path="/x/y.png", mode="plane", opacity=3.0, scale=0.0, distance=2.5, locked=False)
    assert s.opacity == 1.0 and s.scale == 0.05  # clamped into range
    back = ri.ReferenceSettings.from_dict(json.loads(json.dumps(s.to_dict())) | {"unknown": 1})
    assert back == s
    for bad in ({"mode": "sky"}, {"opacity": "half"}, {"flip": 1}, {"scale": float("nan")}):
        with pytest.raises(ri.ReferenceImageError):
            ri.ReferenceSettings.from_dict(bad)
    with pytest.raises(ri.ReferenceImageError):
        ri.ReferenceSettings.from_dict([1, 2])


# --- geometry (no GL) ----------------------------------------------------------------------------------------

def test_background_is_letterboxed_scaled_and_offset():
    s = ri.ReferenceSettings()
    # a 2:1 image in a 400x400 view: full width, 200 px high, centred
    assert np.allclose(ri.background_rect(2.0, 400, 400, s), [0, 100, 400, 300])
    # a 1:2 image in an 800x400 view: full height, 200 px wide
    assert np.allclose(ri.background_rect(0.5, 800, 400, s), [300, 0, 500, 400])
    s2 = ri.ReferenceSettings(scale=0.5, offset_x=0.25, offset_y=0.1)
    assert np.allclose(ri.background_rect(2.0, 400, 400, s2), [200 - 100 + 100, 200 - 50 - 40,
                                                              200 + 100 + 100, 200 + 50 - 40])
    flip = ri.ReferenceSettings(flip=True)
    px = ri.image_to_view_pixels(np.array([[0.0, 0.0]]), (200, 100), 400, 400, flip)
    assert np.allclose(px, [[400, 100]])


def test_fit_background_recovers_scale_and_offsets():
    truth = ri.ReferenceSettings(scale=1.7, offset_x=-0.2, offset_y=0.15, flip=True)
    pts = np.array([[10, 20], [300, 40], [150, 400], [220, 260]], np.float64)
    view = ri.image_to_view_pixels(pts, (320, 480), 640, 480, truth)
    k, ox, oy = ri.fit_background(pts, view, (320, 480), 640, 480, truth)
    assert abs(k - 1.7) < 1e-9 and abs(ox + 0.2) < 1e-9 and abs(oy - 0.15) < 1e-9


def test_plane_locked_follows_the_camera_unlocked_stays_in_the_world():
    cam = OrbitCamera(distance=3.0, azimuth=0.0, elevation=0.0, fovy=40.0)
    img = ri.ReferenceImage(np.zeros((100, 50, 4), np.uint8), ri.ReferenceSettings(mode="plane", distance=1.0))
    c = img.corners(cam, 1.0)
    assert np.allclose(c[:, 2], -1.0)  # 1 m behind the target, facing the camera on +z
    h = c[2, 1] - c[0, 1]
    assert abs(h - 2 * 4.0 * np.tan(np.radians(20))) < 1e-9 and abs((c[1, 0] - c[0, 0]) - h / 2) < 1e-9
    before = cam.project(c, 400, 400)
    cam.orbit(40.0, 10.0)
    assert np.allclose(cam.project(img.corners(cam, 1.0), 400, 400)[:, :2], before[:, :2], atol=1e-3)
    img.set_locked(False, cam, 1.0)  # unlocking keeps it where it is now ...
    anchored = img.corners(cam, 1.0).copy()
    assert np.allclose(cam.project(anchored, 400, 400)[:, :2], before[:, :2], atol=1e-3)
    cam.orbit(-60.0, 0.0)  # ... and orbiting moves it on screen
    assert np.allclose(img.corners(cam, 1.0), anchored)
    assert np.abs(cam.project(anchored, 400, 400)[:, :2] - before[:, :2]).max() > 20
    img.set_locked(True)
    assert img.anchor is None


# --- GL (headless EGL child process) --------------------------------------------------------------------------

CHILD = r"""
import json, sys
import numpy as np
from core_models.render.offscreen import OffscreenRenderer
from OpenGL import GL
from core_models.body import load_body
from core_models.pose import Pose
from core_models.render.reference_image import ReferenceImage, ReferenceSettings
from core_models.render.scene import frame_camera

body = load_body("anny")
r = OffscreenRenderer(samples=0)
pose = Pose.zeros()
W, H = 240, 240
cam = frame_camera(body.forward(pose).vertices, "front", 1.0)
def shot(ref, camera=cam):
    return r.render(body, pose, size=(W, H), camera=camera, grid=False, reference=ref).astype(int)

top_bottom = np.zeros((100, 200, 4), np.uint8)           # 2:1: green top half, magenta bottom half
top_bottom[:50] = (0, 255, 0, 255)
top_bottom[50:] = (255, 0, 255, 255)
left_right = np.zeros((100, 100, 4), np.uint8)           # red left, blue right
left_right[:, :50] = (255, 0, 0, 255)
left_right[:, 50:] = (0, 0, 255, 255)
out = {}
base = shot(None)
bg = ReferenceImage(top_bottom, ReferenceSettings(opacity=1.0))
full = shot(bg)
hits = bg.cache_hits
again = shot(bg)  # the same view again: the kept backdrop is copied back, same pixels
out["cache_used"] = bg.cache_hits == hits + 1 and bool((again == full).all())
bg.settings.opacity = 0.4
half = shot(bg)  # new settings: drawn again
out["cache_redrawn"] = bg.cache_hits == hits + 1
out["tex_alive"] = bool(GL.glIsTexture(bg.texture))
tex = bg.texture
cache_fbo = bg._cache[0]
lr = ReferenceImage(left_right, ReferenceSettings(opacity=1.0))
plain = shot(lr)
out["released_on_switch"] = (not bool(GL.glIsTexture(tex)) and bg.texture is None
                             and not bool(GL.glIsFramebuffer(cache_fbo)))
lr.settings.flip = True
flipped = shot(lr)
plane = ReferenceImage(left_right, ReferenceSettings(mode="plane", opacity=1.0, distance=1.0, scale=0.8))
p_front = shot(plane)
cam2 = cam.copy(); cam2.orbit(35.0, 0.0)
p_orbit_locked = shot(plane, cam2)
plane.set_locked(False, cam, 1.0)
p_orbit_free = shot(plane, cam2)
tex = plane.texture
shot(None)
out["released_on_none"] = not bool(GL.glIsTexture(tex)) and plane.texture is None
np.savez(sys.argv[1], base=base, full=full, half=half, plain=plain, flipped=flipped, p_front=p_front,
         p_orbit_locked=p_orbit_locked, p_orbit_free=p_orbit_free)
r.close()
print("RESULT", json.dumps(out))
"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "shots.npz"
    env = dict(os.environ)
    env.pop("PYOPENGL_PLATFORM", None)
    r = subprocess.run([sys.executable, "-c", CHILD, str(out)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return dict(np.load(out)), json.loads(line[7:])


def _body_mask(base: np.ndarray, grow: int = 0) -> np.ndarray:
    m = (base[..., 0] - base[..., 2]) > 40  # warm skin against the blue-grey background
    for _ in range(grow):  # dilate by one pixel (the anti-aliased / shaded outline)
        m = m | np.roll(m, 1, 0) | np.roll(m, -1, 0) | np.roll(m, 1, 1) | np.roll(m, -1, 1)
    return m


@pytest.mark.gl
def test_background_image_behind_the_body_at_its_opacity(shots):
    s, _ = shots
    base, full, half = s["base"], s["full"], s["half"]
    body = _body_mask(base)
    assert body.sum() > 500
    assert np.abs(full[body] - base[body]).max() <= 2  # the body is drawn over the image, unchanged
    # letterboxed: a 2:1 image in a square view covers rows 60..180; above and below is the plain background
    assert np.abs(full[:55] - base[:55]).max() <= 2 and np.abs(full[185:] - base[185:]).max() <= 2
    free = ~_body_mask(base, grow=3)
    free[:62] = False
    free[178:] = False
    top = free.copy()
    top[115:] = False  # (the two colours blend over a couple of rows at the middle)
    bottom = free.copy()
    bottom[:125] = False
    assert (np.abs(full[top] - (0, 255, 0)).max(1) <= 2).mean() > 0.97
    assert (np.abs(full[bottom] - (255, 0, 255)).max(1) <= 2).mean() > 0.97
    # 40 % opacity: 0.4 image + 0.6 what was behind it
    expect = 0.4 * full[free] + 0.6 * base[free]
    assert np.abs(half[free] - expect).max() <= 3


@pytest.mark.gl
def test_flip_swaps_the_image_left_and_right(shots):
    s, _ = shots
    free = ~_body_mask(s["base"], grow=3)
    free[195:] = False  # (the contact shadow under the feet darkens the image there)
    left, right = free.copy(), free.copy()
    left[:, 100:] = False
    right[:, :140] = False
    red, blue = np.array([255, 0, 0]), np.array([0, 0, 255])
    assert (np.abs(s["plain"][left] - red).max(1) <= 2).mean() > 0.97
    assert (np.abs(s["plain"][right] - blue).max(1) <= 2).mean() > 0.97
    assert (np.abs(s["flipped"][left] - blue).max(1) <= 2).mean() > 0.97
    assert (np.abs(s["flipped"][right] - red).max(1) <= 2).mean() > 0.97


def _image_pixels(img: np.ndarray) -> np.ndarray:
    red = (img[..., 0] > 230) & (img[..., 1] < 25) & (img[..., 2] < 25)
    blue = (img[..., 2] > 230) & (img[..., 0] < 25) & (img[..., 1] < 25)
    return red | blue


@pytest.mark.gl
def test_plane_behind_the_body_locked_and_unlocked(shots):
    s, _ = shots
    base, front = s["base"], s["p_front"]
    body = _body_mask(base)
    assert np.abs(front[body] - base[body]).max() <= 2  # the plane is 1 m behind the body: hidden by it
    on = _image_pixels(front)
    assert on.sum() > 5000 and not on[:10].any()  # scale 0.8: a margin above and below the plane
    locked = _image_pixels(s["p_orbit_locked"])
    free = _image_pixels(s["p_orbit_free"])
    def box(m):
        ys, xs = np.nonzero(m)
        return np.array([xs.min(), ys.min(), xs.max(), ys.max()])

    # locked: the same place on screen after orbiting (only the turned body in front of it differs)
    assert np.abs(box(locked) - box(on)).max() <= 1
    # unlocked: the plane stayed in the world, so orbiting 35° moved and foreshortened it on screen
    assert np.abs(box(free) - box(on)).max() > 10 and free.sum() < 0.9 * on.sum()


@pytest.mark.gl
def test_texture_is_released(shots):
    _, out = shots
    assert out["tex_alive"] and out["released_on_switch"] and out["released_on_none"]


@pytest.mark.gl
def test_background_is_copied_back_while_nothing_changes(shots):
    _, out = shots
    assert out["cache_used"] and out["cache_redrawn"]


@pytest.mark.gl
def test_render_cli_draws_a_reference_picture_and_refuses_a_bad_one(tmp_path):
    from PIL import Image

    pose = tmp_path / "rest.npz"
    np.savez(pose, poses=np.zeros((1, 156), np.float32), trans=np.zeros((1, 3), np.float32), up_axis=np.array("y"))
    green = _png(tmp_path / "green.png", np.tile(np.array([0, 255, 0], np.uint8), (50, 50, 1)))
    env = dict(os.environ)
    env.pop("PYOPENGL_PLATFORM", None)

    def render(*extra):
        return subprocess.run([sys.executable, "main.py", "render", "--pose", str(pose), "--size", "160x160",
                               "--no-grid", *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)

    out = tmp_path / "with.png"
    r = render("--out", str(out), "--reference", str(green), "--reference-opacity", "1")
    assert r.returncode == 0, r.stderr[-2000:]
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert (np.abs(img[2:30, 2:30] - (0, 255, 0)).max(-1) <= 2).all()  # the square picture fills the square view
    assert ((img[..., 0] - img[..., 2]) > 40).sum() > 300  # the body in front of it
    (tmp_path / "notes.png").write_text("not a picture\n")
    r = render("--out", str(tmp_path / "bad.png"), "--reference", str(tmp_path / "notes.png"))
    assert r.returncode == 2 and "notes.png: not an image file" in r.stderr and not (tmp_path / "bad.png").exists()
