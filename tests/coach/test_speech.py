"""Speaker: a fake espeak-ng on PATH records what it was asked to say; without one, speech is unavailable with a
reason, never an exception; say() never blocks; the newest message wins; mute silences at once."""
from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from core_models.coach import speech
from core_models.coach.speech import Speaker


def _fake_espeak(folder: Path, delay: float = 0.0, exit_code: int = 0) -> Path:
    """An executable named espeak-ng that appends its last argument (the text) to said.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "said.txt"
    exe = folder / "espeak-ng"
    exe.write_text("#!/bin/sh\n"
                   f"sleep {delay}\n"
                   'for last; do :; done\n'
                   f'printf "%s\\n" "$last" >> "{log}"\n'
                   f"exit {exit_code}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC | stat.S_IXGRP | stat.S_IXOTH)
    return exe


def _said(folder: Path) -> list[str]:
    p = folder / "said.txt"
    return p.read_text().splitlines() if p.exists() else []


@pytest.fixture
def fake_path(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    _fake_espeak(bindir)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return bindir


def test_finds_the_binary_on_path_and_speaks(fake_path):
    sp = Speaker()
    assert sp.available and sp.reason is None
    assert Path(sp.binary) == fake_path / "espeak-ng"
    assert sp.say("Raise   your left arm")
    assert sp.wait_idle(5.0)
    assert _said(fake_path) == ["Raise your left arm"]
    assert sp.spoken == ["Raise your left arm"]
    sp.close()


def test_no_binary_is_a_reason_not_an_exception(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    sp = Speaker()
    assert not sp.available
    assert "espeak-ng" in sp.reason
    assert sp.say("Hold it") is False  # nothing to speak with; no thread, no error
    assert sp.idle()
    sp.close()


def test_say_returns_at_once_and_the_newest_message_wins(tmp_path):
    bindir = tmp_path / "slow"
    exe = _fake_espeak(bindir, delay=0.6)
    sp = Speaker(binary=str(exe))
    t0 = time.perf_counter()
    for text in ("one", "two", "three", "four"):
        sp.say(text)
    said_in = time.perf_counter() - t0
    assert said_in < 0.2, f"say() blocked for {said_in:.2f} s"
    assert sp.wait_idle(10.0)
    # "one" was cut short (its process terminated), two and three were replaced while queued: only "four" is heard
    assert sp.spoken == ["four"]
    assert _said(bindir) == ["four"]
    sp.close()


def test_mute_stops_speech_and_drops_queued_text(tmp_path):
    bindir = tmp_path / "slow"
    exe = _fake_espeak(bindir, delay=0.8)
    sp = Speaker(binary=str(exe))
    sp.say("Straighten your back")
    time.sleep(0.2)
    sp.mute()
    assert sp.muted
    assert sp.say("Lift your chin") is False
    assert sp.wait_idle(5.0)
    assert sp.spoken == [] and _said(bindir) == []
    assert sp.interrupted == 1
    sp.unmute()
    assert sp.say("Hold it")
    assert sp.wait_idle(5.0)
    assert sp.spoken == ["Hold it"]
    assert sp.toggle_mute() is True and sp.toggle_mute() is False
    sp.close()


def test_started_muted_speaks_nothing(fake_path):
    sp = Speaker(enabled=False)
    assert sp.muted and sp.say("Hold it") is False
    sp.close()
    assert _said(fake_path) == []


def test_a_failing_binary_gives_a_reason_and_is_retried(tmp_path):
    exe = _fake_espeak(tmp_path / "bad", exit_code=3)
    sp = Speaker(binary=str(exe))
    sp.say("Hold it")
    assert sp.wait_idle(5.0)
    assert sp.spoken == [] and "exit 3" in sp.reason
    exe.write_text(exe.read_text().replace("exit 3", "exit 0"))
    sp.say("Hold it")
    assert sp.wait_idle(5.0)
    assert sp.spoken == ["Hold it"] and sp.reason is None
    sp.close()


def test_close_ends_the_thread_and_later_say_is_refused(fake_path):
    sp = Speaker()
    sp.say("Breathe")
    sp.close()
    assert sp.say("again") is False
    assert sp._thread is None or not sp._thread.is_alive()


@pytest.mark.skipif(speech.find_binary() is None, reason="espeak-ng is not installed (scripts/setup.sh installs it)")
def test_real_espeak_ng_runs(monkeypatch):
    """The real program, writing to a WAV instead of a sound card (there is none on CI)."""
    import subprocess

    out = subprocess.run([speech.find_binary(), "-v", "en", "-w", "/dev/null", "Hold it"], capture_output=True,
                         timeout=20)
    assert out.returncode == 0, out.stderr
