"""Qt-free: session round-trip, settings validation, atomic writes, autosave policy, crash recovery."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core_models import autosave as au
from core_models import settings as st
from core_models.pose import Pose
from core_models.session import Session, SessionError, poses_equal

ROOT = Path(__file__).resolve().parents[2]


def _random_pose(seed=0) -> Pose:
    rng = np.random.default_rng(seed)
    p = Pose(rng.normal(0, 0.4, 3), rng.normal(0, 0.4, (21, 3)), rng.normal(0, 0.3, 3))
    return p


def test_session_roundtrip_exact():
    s = Session()
    s.set_pose(_random_pose(1))
    s.add_keyframe("a", _random_pose(2))
    s.add_keyframe("b", _random_pose(3))
    s.set_phenotype({"height": 0.8, "gender": 0.1})
    s2 = Session.from_json(s.to_json())
    assert poses_equal(s.pose, s2.pose)
    assert [k.name for k in s2.keyframes] == ["a", "b"]
    assert all(poses_equal(a.pose, b.pose) for a, b in zip(s.keyframes, s2.keyframes))
    assert s2.phenotype["height"] == 0.8 and s2.phenotype["weight"] == 0.5
    assert s2.dirty and s.revision == 4


@pytest.mark.parametrize("bad, msg", [
    ({"format": "x"}, "not a PoseTailor session"),
    ({"format": "posetailor-session", "version": 99, "pose": {}}, "newer"),
    ({"format": "posetailor-session", "version": 1, "pose": {"root_orient": [0, 0]}}, "body_pose"),
    ({"format": "posetailor-session", "version": 1,
      "pose": {"root_orient": [0, 0, 0], "body_pose": [[0, 0, float("nan")]] * 21}}, "NaN"),
    ({"format": "posetailor-session", "version": 1,
      "pose": {"root_orient": [0, 0, 0], "body_pose": [[0, 0, 0]] * 21}, "body": {"phenotype": {"height": 3}}},
     "outside"),
])
def test_session_bad_input(bad, msg):
    with pytest.raises(SessionError, match=msg):
        Session.from_dict(bad)


def test_settings_defaults_and_validation(tmp_path):
    p = tmp_path / "settings.json"
    assert st.load_settings(p) == st.defaults()
    p.write_text("{not json")
    with pytest.warns(st.SettingsWarning, match="unreadable"):
        assert st.load_settings(p) == st.defaults()
    p.write_text(json.dumps({"limits_enabled": "yes", "body_backend": "smplh", "bogus": 1,
                             "phenotype": {"height": 0.9}}))
    with pytest.warns(st.SettingsWarning):
        s = st.load_settings(p)
    assert s["limits_enabled"] is True and s["body_backend"] == "smplh" and "bogus" not in s
    assert s["phenotype"]["height"] == 0.9 and s["phenotype"]["weight"] == 0.5
    s["limits_enabled"] = False
    st.add_recent_file(s, tmp_path / "a.npz")
    st.save_settings(s, p)
    s2 = st.load_settings(p)
    assert s2["limits_enabled"] is False and s2["recent_files"] == [str(tmp_path / "a.npz")]


def test_settings_env_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("POSETAILOR_CONFIG", str(tmp_path / "cfg"))
    st.save_settings({"theme": "dark"})
    assert (tmp_path / "cfg" / "settings.json").exists()
    assert st.load_settings()["theme"] == "dark"


def test_atomic_write_failure_keeps_old_file(tmp_path, monkeypatch):
    target = tmp_path / "autosave.json"
    au.atomic_write_json(target, {"good": 1})

    # a writer that dies half way: the data is partially written to the temp file, then the process fails
    real_fsync = os.fsync

    def boom(fd):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        au.atomic_write_json(target, {"bad": "x" * 10000})
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert json.loads(target.read_text()) == {"good": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["autosave.json"]  # temp file cleaned up


def test_atomic_write_leftover_temp_is_ignored_by_recovery(tmp_path):
    """A temp file left by a process killed mid-write never replaces / shadows the good autosave."""
    m = au.AutosaveManager(tmp_path)
    m.start()
    s = Session()
    s.set_pose(_random_pose(5))
    m.save(s.to_dict())
    # simulate a kill during the next write: a truncated temp file next to the autosave
    (m.runs_dir / f".{m.autosave_path.name}.abc123.tmp").write_text('{"format": "posetailor-autosave", "pay')
    # and pretend this run died: forge a lock for a dead pid pointing at our autosave
    lock = json.loads(m.lock_path.read_text())
    lock["pid"] = _dead_pid()
    lock["start_ticks"] = None
    m.lock_path.write_text(json.dumps(lock))
    m2 = au.AutosaveManager(tmp_path)
    cands = m2.start()
    assert len(cands) == 1
    rec = Session.from_dict(cands[0].load())
    assert poses_equal(rec.pose, s.pose)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_autosave_policy_debounce_and_interval():
    pol = au.AutosavePolicy(debounce_s=1.0, interval_s=30.0)
    assert not pol.due(0.0)
    pol.edited(0.0)
    assert not pol.due(0.5) and pol.due(1.0)
    pol.saved()
    # continuous edits every 0.5 s: debounce never elapses, the interval forces a save
    t = 10.0
    pol.edited(t)
    while not pol.due(t):
        t += 0.5
        pol.edited(t)
    assert t == pytest.approx(40.0)


def test_live_run_is_not_crashed(tmp_path):
    a = au.AutosaveManager(tmp_path)
    a.start()
    a.save({"x": 1})
    b = au.AutosaveManager(tmp_path)
    assert b.start() == []  # a is alive (this very process)
    a.close()
    assert not a.lock_path.exists() and not a.autosave_path.exists()


def test_run_ended_unsaved_is_offered_and_close_keeps_it(tmp_path):
    """end_unsaved (SIGTERM, logout): the autosave is written at once, close() keeps it and the lock, and the next
    start offers it with the reason, even before the ending process is gone (it promised to exit)."""
    a = au.AutosaveManager(tmp_path)
    a.start()
    a.end_unsaved({"x": 2}, "SIGTERM")
    a.close()  # the window's closeEvent still runs after the signal
    assert a.lock_path.exists() and au.read_autosave(a.autosave_path)["payload"] == {"x": 2}
    lock = json.loads(a.lock_path.read_text())
    assert lock["ended_by"] == "SIGTERM" and lock["pid"] == os.getpid()
    b = au.AutosaveManager(tmp_path)
    found = b.start()
    assert [(c.ended_by, c.load()) for c in found] == [("SIGTERM", {"x": 2})]
    b.dismiss_crashed()
    assert not a.lock_path.exists() and au.AutosaveManager(tmp_path).start() == []


def test_end_unsaved_failure_leaves_the_lock_as_it_was(tmp_path, monkeypatch):
    a = au.AutosaveManager(tmp_path)
    a.start()
    before = a.lock_path.read_text()

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(au, "atomic_write_json", boom)
    with pytest.raises(OSError, match="disk full"):
        a.end_unsaved({"x": 3}, "SIGTERM")
    assert a.lock_path.read_text() == before and a.ended_by is None


CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    from core_models.autosave import AutosaveManager
    from core_models.pose import Pose
    from core_models.session import Session
    m = AutosaveManager(sys.argv[1])
    assert m.start() == []
    s = Session()
    rng = np.random.default_rng(7)
    for i in range(5):  # a few edits, each autosaved
        p = s.pose.with_joint(int(rng.integers(1, 22)), rng.normal(0, 0.5, 3))
        s.set_pose(p)
        m.save(s.to_dict())
    s.add_keyframe("k", s.pose)
    m.save(s.to_dict())
    np.save(sys.argv[2], s.pose.full())
    print("READY", flush=True)
    time.sleep(120)
""")


def test_crash_recovery_after_sigkill(tmp_path):
    expected = tmp_path / "expected.npy"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "data"), str(expected)],
                             stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        line = child.stdout.readline()
        assert line.strip() == "READY", line
        # while the child lives, a new start sees no crash
        assert au.AutosaveManager(tmp_path / "data").start() == []
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    m = au.AutosaveManager(tmp_path / "data")
    cands = m.start()
    assert len(cands) == 1 and cands[0].pid == child.pid
    rec = Session.from_dict(cands[0].load())
    assert np.array_equal(rec.pose.full(), np.load(expected))
    assert rec.keyframes[0].name == "k"
    m.dismiss_crashed()
    assert m.recovery_candidate() is None
    assert len(list((tmp_path / "data" / "recovered").glob("*.json"))) == 1
    assert au.AutosaveManager(tmp_path / "data").start() == []  # dismissed: not offered again


def test_same_pid_earlier_run_is_detected(tmp_path):
    """Containers reuse PIDs: a lock with our PID that this process did not write is a crashed run."""
    m0 = au.AutosaveManager(tmp_path)
    m0.start()
    s = Session()
    s.set_pose(_random_pose(9))
    m0.save(s.to_dict())
    lock = json.loads(m0.lock_path.read_text())
    lock["run_id"] = "an-earlier-run"
    lock["start_ticks"] = None
    m0.lock_path.write_text(json.dumps(lock))
    m = au.AutosaveManager(tmp_path)
    cands = m.start()
    assert len(cands) == 1 and poses_equal(Session.from_dict(cands[0].load()).pose, s.pose)
