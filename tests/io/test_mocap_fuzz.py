"""Fuzzing the importers: mutated real snippets and random bytes only ever give a Motion or MotionImportError."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core_models.io import Motion, MotionImportError
from core_models.io import _load_motion as load_motion  # without the safety net: find real bugs

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "mocap"
SOURCES = {
    ".bvh": (FIX / "tiny.bvh").read_bytes(),
    ".amc": (FIX / "tiny.amc").read_bytes(),
    ".txt": (FIX / "tiny_deepmimic.txt").read_bytes(),
    ".csv": (FIX / "expmap" / "tiny_1.txt").read_bytes(),
    ".asf": (FIX / "tiny.asf").read_bytes(),
}
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

_workdir = Path(tempfile.mkdtemp(prefix="posetailor_fuzz_"))
shutil.copy(FIX / "expmap" / "skeleton.json", _workdir / "skeleton.json")


def _load(data: bytes, ext: str, asf: bytes | None = None):
    p = _workdir / f"fuzz{ext}"
    p.write_bytes(data)
    (_workdir / "tiny.asf").write_bytes(asf if asf is not None else SOURCES[".asf"])
    try:
        m = load_motion(p, asf_path=_workdir / "tiny.asf") if ext == ".amc" else load_motion(p)
    except MotionImportError as e:
        assert str(e)  # a message
        return None
    assert isinstance(m, Motion)
    assert np.all(np.isfinite(m.global_positions()))
    return m


line_edit = st.tuples(st.sampled_from(["delete", "dup", "swap", "truncate", "replace_token", "insert"]),
                      st.integers(0, 10_000), st.integers(0, 10_000),
                      st.sampled_from(["nan", "-inf", "1e400", "x", "", "{", "}", "-", "9" * 30, "\x00", "é",
                                       "JOINT", "End Site", "CHANNELS 2", "root", "0,0", "[", "]", '"Frames"']))


def _mutate(data: bytes, edits) -> bytes:
    lines = data.decode("latin-1").split("\n")
    for kind, a, b, tok in edits:
        if not lines:
            break
        i = a % len(lines)
        if kind == "delete":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = b % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "truncate":
            lines = lines[:i] + ([lines[i][: b % (len(lines[i]) + 1)]] if i < len(lines) else [])
        elif kind == "replace_token":
            toks = lines[i].replace(",", " , ").split(" ")
            if toks:
                toks[b % len(toks)] = tok
            lines[i] = " ".join(toks).replace(" , ", ",")
        else:
            lines.insert(i, tok)
    return "\n".join(lines).encode("latin-1", errors="replace")


@pytest.mark.parametrize("ext", [".bvh", ".amc", ".txt", ".csv"])
@FUZZ
@given(edits=st.lists(line_edit, min_size=1, max_size=4))
def test_mutated_snippets_never_crash(ext, edits):
    _load(_mutate(SOURCES[ext], edits), ext)


@FUZZ
@given(edits=st.lists(line_edit, min_size=1, max_size=4))
def test_mutated_asf_never_crashes(edits):
    _load(SOURCES[".amc"], ".amc", asf=_mutate(SOURCES[".asf"], edits))


@pytest.mark.parametrize("ext", [".bvh", ".amc", ".txt", ".csv", ".json", ".dat"])
@FUZZ
@given(data=st.binary(min_size=0, max_size=300))
def test_random_bytes_never_crash(ext, data):
    _load(data, ext)


@FUZZ
@given(prefix=st.integers(0, 10_000))
def test_truncated_files_fail_cleanly(prefix):
    for ext, data in SOURCES.items():
        if ext == ".asf":
            continue
        cut = data[: prefix % len(data)]
        _load(cut, ext)
