"""Start time of the desktop bundle to the first viewport frame that shows the body, against the source tree's
start (``.venv/bin/python packaging/posetailor_entry.py``, the same entry and probe) measured in the same run,
alternating, so the ratio holds on a busy machine.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python packaging/bench_start.py [--runs 3] [BUNDLE_DIR]
Last line: {"name": "bundle_start_first_body_frame_s", "value": …, "source_s": …, "ratio": …}
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("POSETAILOR_CACHE", Path.home() / ".cache" / "posetailor"))


def start_once(cmd: list[str]) -> float:
    """One start with a fresh HOME (no autosave to offer); the source tree's body cache comes from the user's."""
    with tempfile.TemporaryDirectory() as d:
        env = {"HOME": d, "POSETAILOR_CACHE": str(CACHE), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
               "QT_QPA_PLATFORM": "xcb", "DISPLAY": os.environ["DISPLAY"],
               "POSETAILOR_SMOKE_SHOT": str(Path(d) / "shot.png")}
        if "XAUTHORITY" in os.environ:
            env["XAUTHORITY"] = os.environ["XAUTHORITY"]
        t0 = time.time()
        r = subprocess.run(cmd, env=env, cwd=d, capture_output=True, text=True, timeout=300)
    frames = [float(ln.split()[1]) for ln in r.stdout.splitlines() if ln.startswith("BODY_FRAME ")]
    if not frames:
        raise RuntimeError(f"{cmd[0]}: no body frame (exit {r.returncode}): {r.stderr[-1500:]}")
    return frames[0] - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", nargs="?", default=str(ROOT / "dist" / "PoseTailor"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    bundle = [str(Path(args.bundle) / "PoseTailor")]
    source = [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "packaging" / "posetailor_entry.py")]
    times: dict[str, list[float]] = {"bundle": [], "source": []}
    start_once(bundle)  # warm the page cache for both, not counted
    start_once(source)
    for i in range(args.runs):
        for name, cmd in (("bundle", bundle), ("source", source)):
            times[name].append(start_once(cmd))
            print(f"run {i + 1} {name}: {times[name][-1]:.2f} s", flush=True)
    b, s = statistics.median(times["bundle"]), statistics.median(times["source"])
    print(json.dumps({"name": "bundle_start_first_body_frame_s", "value": round(b, 2), "source_s": round(s, 2),
                      "ratio": round(b / s, 3), "runs": args.runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
