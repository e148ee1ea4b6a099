"""User settings: one JSON file in ``$POSETAILOR_CONFIG`` or ``~/.config/posetailor`` (no Qt).

``load_settings()`` never raises for a bad file: unknown keys are dropped, bad values fall back to their
defaults, and each problem is reported with a :class:`SettingsWarning` (the GUI shows them in the status
bar). ``save_settings()`` validates, then writes atomically.
"""
from __future__ import annotations

import copy
import json
import os
import warnings
from pathlib import Path
from typing import Any

SETTINGS_VERSION = 1
SETTINGS_FILE = "settings.json"
PHENOTYPE_KEYS = ("gender", "age", "muscle", "weight", "height", "proportions")
MAX_RECENT = 10

DEFAULTS: dict[str, Any] = {
    "version": SETTINGS_VERSION,
    "body_backend": "anny",  # "anny" | "smplh"
    "smplh_model_path": None,  # user-supplied official SMPL-H .npz (never shipped)
    "phenotype": {k: 0.5 for k in PHENOTYPE_KEYS},  # Anny phenotype used at start
    "limits_enabled": True,
    "show_inset": True,
    "theme": "system",  # "system" | "light" | "dark"
    "recent_files": [],
    "autosave_debounce_s": 1.0,
    "autosave_interval_s": 30.0,
    "device": "auto",  # "auto" | "cpu" | "cuda"
    "reference_image": None,  # the viewport's reference image: its path + how it is shown (ReferenceSettings)
}


class SettingsWarning(UserWarning):
    """A settings value was unusable and replaced by its default."""


def config_dir() -> Path:
    d = Path(os.environ.get("POSETAILOR_CONFIG") or Path.home() / ".config" / "posetailor")
    return d


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def defaults() -> dict[str, Any]:
    return copy.deepcopy(DEFAULTS)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def _check(key: str, value: Any) -> Any:
    """The validated value, or raise ValueError with a reason."""
    if key == "version":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("must be an integer")
        return value
    if key == "body_backend":
        if value not in ("anny", "smplh"):
            raise ValueError("must be 'anny' or 'smplh'")
        return value
    if key == "smplh_model_path":
        if value is not None and not isinstance(value, str):
            raise ValueError("must be a path string or null")
        return value or None
    if key == "phenotype":
        if not isinstance(value, dict):
            raise ValueError("must be an object")
        out = dict(DEFAULTS["phenotype"])
        for k, v in value.items():
            if k not in PHENOTYPE_KEYS:
                raise ValueError(f"unknown phenotype key {k!r}")
            if not _is_num(v) or not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"phenotype {k} must be a number in [0, 1]")
            out[k] = float(v)
        return out
    if key in ("limits_enabled", "show_inset"):
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if key == "theme":
        if value not in ("system", "light", "dark"):
            raise ValueError("must be 'system', 'light' or 'dark'")
        return value
    if key == "recent_files":
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise ValueError("must be a list of paths")
        return list(dict.fromkeys(value))[:MAX_RECENT]
    if key in ("autosave_debounce_s", "autosave_interval_s"):
        if not _is_num(value) or not 0.1 <= float(value) <= 3600:
            raise ValueError("must be a number of seconds in [0.1, 3600]")
        return float(value)
    if key == "device":
        if value not in ("auto", "cpu", "cuda"):
            raise ValueError("must be 'auto', 'cpu' or 'cuda'")
        return value
    if key == "reference_image":
        if value is None:
            return None
        from core_models.render.reference_image import ReferenceImageError, ReferenceSettings

        try:
            return ReferenceSettings.from_dict(value).to_dict()
        except ReferenceImageError as e:
            raise ValueError(str(e)) from None
    raise ValueError("unknown setting")


def validate(raw: Any, source: str = "settings") -> tuple[dict[str, Any], list[str]]:
    """(settings with defaults filled in, list of problems). Never raises."""
    out = defaults()
    problems: list[str] = []
    if not isinstance(raw, dict):
        return out, [f"{source}: expected a JSON object, got {type(raw).__name__}; using defaults"]
    for key, value in raw.items():
        if key not in DEFAULTS:
            problems.append(f"{source}: unknown setting {key!r} ignored")
            continue
        try:
            out[key] = _check(key, value)
        except ValueError as e:
            problems.append(f"{source}: {key} {e}; using the default {DEFAULTS[key]!r}")
    out["version"] = SETTINGS_VERSION
    return out, problems


def load_settings(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Settings from disk merged over the defaults. A missing file gives the defaults silently; an
    unreadable or invalid one gives the defaults (per key where possible) and a SettingsWarning."""
    path = Path(path) if path is not None else settings_path()
    if not path.exists():
        return defaults()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        warnings.warn(f"{path}: unreadable settings file ({e}); using defaults", SettingsWarning, stacklevel=2)
        return defaults()
    out, problems = validate(raw, str(path))
    for p in problems:
        warnings.warn(p, SettingsWarning, stacklevel=2)
    return out


def save_settings(settings: dict[str, Any], path: str | os.PathLike | None = None) -> Path:
    """Validate and write atomically. Invalid values are replaced by defaults (with a warning)."""
    from core_models.autosave import atomic_write_json

    path = Path(path) if path is not None else settings_path()
    out, problems = validate(settings, "settings")
    for p in problems:
        warnings.warn(p, SettingsWarning, stacklevel=2)
    atomic_write_json(path, out)
    return path


def add_recent_file(settings: dict[str, Any], file: str | os.PathLike) -> list[str]:
    """Put ``file`` (absolute) at the front of ``settings['recent_files']``; returns the new list."""
    f = str(Path(file).absolute())
    rec = [f] + [r for r in settings.get("recent_files", []) if r != f]
    settings["recent_files"] = rec[:MAX_RECENT]
    return settings["recent_files"]
