"""File > Export in the main window: current pose or the keyframes as an animation (needs Xvfb)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from _apptest_util import RecordingDialogs, pump

from core_models import skeleton as sk

pytestmark = [
    pytest.mark.gl,
    pytest.mark.skipif(not os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"),
                       reason="needs an X display with GL (run under xvfb-run with QT_QPA_PLATFORM=xcb)"),
]


def test_export_menu_exports_pose_and_keyframes(qapp, tmp_path):
    from app.main_window import MainWindow
    from app.window_body import anny_cached
    from core_models import autosave as au
    from core_models.export import export_poses
    from core_models.io.npz_pose import load_pose_npz

    if not anny_cached(None):
        pytest.skip("the Anny layer is not cached yet (run `python main.py warmup`)")
    m = au.AutosaveManager(tmp_path / "data")
    m.start()
    w = MainWindow(dialogs=RecordingDialogs(), autosave=m)
    w.show()
    w.startup([], check_recovery=False)
    try:
        assert pump(until=lambda: w.body is not None, timeout=60)
        names = [a.text() for a in w.menuBar().actions()[0].menu().actions()]
        assert any("Export pose" in n for n in names) and any("keyframes" in n for n in names)
        assert w.acts["export"].shortcut().toString() == "Ctrl+E"
        assert len(w.export_poses_for(keyframes=True)) == 0
        w.doc.add_keyframe()
        bent = w.doc.pose().with_joint(sk.JOINT_INDEX["left_knee"], np.array([1.2, 0, 0], np.float32))
        w.doc.push_pose(bent, "bend knee")
        w.doc.add_keyframe()
        poses = w.export_poses_for(keyframes=True)
        assert len(poses) == 2 and np.allclose(poses[1].full(), bent.full())
        out = export_poses(tmp_path / "anim.npz", poses, w.body)
        frames, _info = load_pose_npz(out)
        assert len(frames) == 2
        fbx = export_poses(tmp_path / "anim.fbx", poses, w.body)
        assert os.path.getsize(fbx) > 100_000
    finally:
        w._closing_ok = True
        w.close()
        w.deleteLater()
        pump(0.05)
        m.close()
