"""Where the shipped files live: the source tree, or the desktop bundle (PyInstaller one-folder, packaging/).

In the source tree the root is the repository (``resources/`` next to ``core_models/``). In the frozen bundle it is
``sys._MEIPASS`` (the bundle's ``_internal/`` folder), which holds ``resources/`` plus what the bundle adds at build
time: ``resources/mediapipe/`` (the landmark ``.task`` bundles) and ``resources/body_cache/`` (the default body's
cached layer). Every path to a shipped file is computed through :func:`resource_path`.
"""
from __future__ import annotations

import sys
from pathlib import Path


def is_frozen() -> bool:
    """True inside the packaged desktop bundle (PyInstaller sets ``sys.frozen``)."""
    return bool(getattr(sys, "frozen", False))


def app_root() -> Path:
    """The folder that holds ``resources/``: the repository, or the bundle's data folder."""
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).resolve().parent))
    return Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    """``resources/<parts…>`` under :func:`app_root` (the path may not exist)."""
    return app_root().joinpath("resources", *parts)


def bundled_path(*parts: str) -> Path | None:
    """``resources/<parts…>`` when running from the bundle and that file or folder exists, else None (the files
    the bundle adds at build time; outside the bundle they live in the user's cache)."""
    if not is_frozen():
        return None
    p = resource_path(*parts)
    return p if p.exists() else None
