"""The pose library: built-in poses (resources/poses/*.json) + the user's own saved poses.

File format (JSON, one pose per file, UTF-8)::

    {
      "format": "posetailor-library-pose",
      "version": 1,
      "name": "Warrior II",
      "category": "yoga",
      "description": "Bend the front knee over the ankle and reach the arms long.",
      "joint_order": "smplh22",
      "pose": {"axis_angle": [[x, y, z], ... 22 rows, root first ...], "transl": [x, y, z],
               "hand_pose": [[x, y, z], ... 30 rows ...]},   # optional: SMPL-H fingers, left hand then right
      "thumbnail": "thumbs/warrior_ii.png",      # optional, relative to the file's folder
      "order": 7                                  # optional, sort key of built-ins
    }

Loading validates everything (format, version, shapes, finite numbers, text fields) and *skips* a file
that is not valid with a logged warning, so a broken or hand-edited file never takes the app down.
User poses live in ``user_library_dir()`` = ``$POSETAILOR_DATA/library`` or
``~/.local/share/posetailor/library``; they are written atomically (temp file + rename).

No Qt here.
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core_models import skeleton as sk
from core_models.pose import Pose, PoseError
from core_models.resources import resource_path

log = logging.getLogger(__name__)

FORMAT = "posetailor-library-pose"
VERSION = 1
MAX_NAME_LEN = 80
MAX_DESCRIPTION_LEN = 500
USER_CATEGORY = "user"

#: The built-in library (shipped with the app).
BUILTIN_DIR = resource_path("poses")


class LibraryError(ValueError):
    """A library operation that cannot be done (bad name, built-in pose, unreadable file...)."""


class LibraryWarning(UserWarning):
    """A library file was skipped (also logged); the GUI collects these to tell the user."""


def _skip(msg: str) -> None:
    log.warning("pose library: skipping %s", msg)
    warnings.warn(f"pose library: skipped {msg}", LibraryWarning, stacklevel=3)


@dataclass
class LibraryPose:
    name: str
    category: str  # "basic" | "yoga" | "fitness" | "user" | ...
    pose: Pose
    description: str = ""
    thumbnail: Path | None = None
    builtin: bool = False
    path: Path | None = None  # the JSON file it was loaded from / saved to

    @property
    def slug(self) -> str:
        return self.path.stem if self.path is not None else slugify(self.name)


# --- locations ----------------------------------------------------------------------------------------

def user_data_dir() -> Path:
    env = os.environ.get("POSETAILOR_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "posetailor"


def user_library_dir() -> Path:
    """Where the user's own poses are saved (not created until the first save)."""
    return user_data_dir() / "library"


# --- names --------------------------------------------------------------------------------------------

def validate_name(name: object) -> str:
    """The cleaned-up display name, or LibraryError saying what is wrong with it."""
    if not isinstance(name, str):
        raise LibraryError(f"a pose name must be text, got {type(name).__name__}")
    clean = " ".join(name.split())
    if not clean:
        raise LibraryError("a pose name cannot be empty")
    if len(clean) > MAX_NAME_LEN:
        raise LibraryError(f"a pose name can have at most {MAX_NAME_LEN} characters (got {len(clean)})")
    if any(unicodedata.category(c).startswith("C") for c in clean):
        raise LibraryError("a pose name cannot contain control characters")
    return clean


def slugify(name: str) -> str:
    """A safe, lower-case ASCII file stem for a name ("Warrior II" → "warrior_ii")."""
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")[:60].strip("_")
    return s or "pose"


# --- (de)serialisation ----------------------------------------------------------------------------------

def pose_to_dict(name: str, category: str, pose: Pose, description: str = "",
                 thumbnail: str | None = None, order: int | None = None) -> dict:
    if pose.batch_shape != ():
        raise PoseError(f"a library pose is a single pose, got a batch of shape {pose.batch_shape}")
    pose_d: dict[str, list] = {
        "axis_angle": [[round(float(v), 6) for v in row] for row in pose.full()],
        "transl": [round(float(v), 6) for v in pose.transl],
    }
    if pose.hand_pose is not None:  # SMPL-H finger joints (core_models.hands order); absent = no hand pose
        pose_d["hand_pose"] = [[round(float(v), 6) for v in row] for row in pose.hand_pose]
    d = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "category": category,
        "description": description,
        "joint_order": "smplh22",
        "pose": pose_d,
    }
    if thumbnail:
        d["thumbnail"] = thumbnail
    if order is not None:
        d["order"] = int(order)
    return d


def _text(d: dict, key: str, required: bool, max_len: int) -> str:
    v = d.get(key, None)
    if v is None:
        if required:
            raise LibraryError(f"missing '{key}'")
        return ""
    if not isinstance(v, str):
        raise LibraryError(f"'{key}' must be text")
    if len(v) > max_len:
        raise LibraryError(f"'{key}' is too long ({len(v)} > {max_len} characters)")
    return v


def _finite_matrix(v, shape: tuple[int, ...], what: str) -> np.ndarray:
    def ok_number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    arr = np.asarray(v, dtype=object) if isinstance(v, list) else None
    if arr is None or arr.shape != shape or not all(ok_number(x) for x in arr.reshape(-1)):
        raise LibraryError(f"'{what}' must be a {'x'.join(map(str, shape))} array of finite numbers")
    return arr.astype(np.float32)


def pose_from_dict(d: object, *, builtin: bool = False, path: Path | None = None) -> LibraryPose:
    """Validate a decoded JSON object and build a LibraryPose (LibraryError if anything is wrong)."""
    if not isinstance(d, dict):
        raise LibraryError("not a JSON object")
    if d.get("format") != FORMAT:
        raise LibraryError(f"not a PoseTailor library pose (format {d.get('format')!r})")
    ver = d.get("version")
    if not isinstance(ver, int) or isinstance(ver, bool) or ver < 1:
        raise LibraryError(f"bad version {ver!r}")
    if ver > VERSION:
        raise LibraryError(f"written by a newer PoseTailor (format version {ver}, this one reads ≤ {VERSION})")
    if d.get("joint_order", "smplh22") != "smplh22":
        raise LibraryError(f"unknown joint order {d.get('joint_order')!r}")
    name = validate_name(_text(d, "name", True, MAX_NAME_LEN * 4))
    category = _text(d, "category", False, 40).strip() or USER_CATEGORY
    description = _text(d, "description", False, MAX_DESCRIPTION_LEN)
    p = d.get("pose")
    if not isinstance(p, dict):
        raise LibraryError("missing 'pose' object")
    aa = _finite_matrix(p.get("axis_angle"), (sk.NUM_JOINTS, 3), "pose.axis_angle")
    transl = _finite_matrix(p.get("transl", [0.0, 0.0, 0.0]), (3,), "pose.transl")
    if np.abs(aa).max() > 4 * math.pi or np.abs(transl).max() > 1e3:
        raise LibraryError("pose values out of range")
    hands = None
    if p.get("hand_pose") is not None:  # optional (files without it load as before)
        hands = _finite_matrix(p.get("hand_pose"), (30, 3), "pose.hand_pose")
        if np.abs(hands).max() > 4 * math.pi:
            raise LibraryError("pose.hand_pose values out of range")
    try:
        pose = Pose.from_full(aa, transl)
    except PoseError as e:  # pragma: no cover - shapes/finite values were checked above
        raise LibraryError(str(e)) from None
    pose.hand_pose = hands
    thumb = None
    t = d.get("thumbnail")
    if t is not None:
        if not isinstance(t, str) or Path(t).is_absolute() or ".." in Path(t).parts:
            raise LibraryError("'thumbnail' must be a relative path inside the library folder")
        if path is not None:
            cand = path.parent / t
            thumb = cand if cand.is_file() else None
    elif path is not None:
        cand = path.with_suffix(".png")
        thumb = cand if cand.is_file() else None
    return LibraryPose(name=name, category=category, pose=pose, description=description,
                       thumbnail=thumb, builtin=builtin, path=path)


def read_pose_file(path: Path, *, builtin: bool = False) -> LibraryPose:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise LibraryError(f"cannot read {path}: {e.strerror or e}") from None
    if len(raw) > 1_000_000:
        raise LibraryError(f"{path.name} is too large to be a library pose")
    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LibraryError(f"{path.name} is not valid JSON ({e})") from None
    try:
        return pose_from_dict(d, builtin=builtin, path=path)
    except LibraryError as e:
        raise LibraryError(f"{path.name}: {e}") from None


def _load_dir(folder: Path, builtin: bool) -> list[tuple[int, LibraryPose]]:
    out: list[tuple[int, LibraryPose]] = []
    if not folder.is_dir():
        return out
    try:
        files = sorted(folder.glob("*.json"))
    except OSError as e:
        _skip(f"folder {folder}: cannot list it ({e})")
        return out
    for f in files:
        try:
            item = read_pose_file(f, builtin=builtin)
        except LibraryError as e:
            _skip(str(e))
            continue
        order = 10_000
        if builtin:
            try:
                order = int(json.loads(f.read_text("utf-8")).get("order", order))
            except Exception:
                pass
        out.append((order, item))
    return out


def load_builtin(folder: Path | None = None) -> list[LibraryPose]:
    items = _load_dir(Path(folder) if folder is not None else BUILTIN_DIR, builtin=True)
    return [p for _, p in sorted(items, key=lambda t: (t[0], t[1].name.lower()))]


def load_user(folder: Path | None = None) -> list[LibraryPose]:
    items = _load_dir(Path(folder) if folder is not None else user_library_dir(), builtin=False)
    return sorted((p for _, p in items), key=lambda p: p.name.lower())


def load_library(builtin_dir: Path | None = None, user_dir: Path | None = None) -> list[LibraryPose]:
    """Built-in poses (in their curated order) followed by the user's poses (by name). Never raises for
    bad files: they are skipped with a warning."""
    return load_builtin(builtin_dir) + load_user(user_dir)


# --- writing ------------------------------------------------------------------------------------------

from core_models.autosave import atomic_write_bytes  # noqa: E402  (one implementation of atomic writes)


def _unique_path(folder: Path, stem: str, suffix: str = ".json") -> Path:
    cand = folder / f"{stem}{suffix}"
    n = 2
    while cand.exists() or cand.with_suffix(".png").exists():
        cand = folder / f"{stem}_{n}{suffix}"
        n += 1
    return cand


def save_user_pose(name: str, pose: Pose, *, description: str = "", category: str = USER_CATEGORY,
                   thumbnail_png: bytes | None = None, folder: Path | None = None) -> LibraryPose:
    """Save ``pose`` into the user library under a new, unique file name; returns the saved entry.

    Refuses (LibraryError / PoseError, nothing written) an empty or invalid name, a batched or invalid pose."""
    clean = validate_name(name)
    if not isinstance(pose, Pose):
        raise PoseError(f"expected a Pose, got {type(pose).__name__}")
    if pose.batch_shape != ():
        raise PoseError(f"save one pose at a time (got a batch of shape {pose.batch_shape})")
    pose = Pose(pose.root_orient, pose.body_pose, pose.transl, pose.hand_pose)  # re-validates (finite values)
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_LEN:
        raise LibraryError(f"the description must be text of at most {MAX_DESCRIPTION_LEN} characters")
    category = (category or USER_CATEGORY).strip()[:40] or USER_CATEGORY
    folder = Path(folder) if folder is not None else user_library_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise LibraryError(f"cannot create the library folder {folder}: {e.strerror or e}") from None
    path = _unique_path(folder, slugify(clean))
    thumb_rel = None
    if thumbnail_png is not None:
        if not bytes(thumbnail_png[:8]) == b"\x89PNG\r\n\x1a\n":
            raise LibraryError("the thumbnail must be PNG data")
        thumb_rel = path.with_suffix(".png").name
    data = json.dumps(pose_to_dict(clean, category, pose, description, thumb_rel), indent=1).encode("utf-8")
    try:
        if thumbnail_png is not None:
            atomic_write_bytes(path.with_suffix(".png"), bytes(thumbnail_png))
        atomic_write_bytes(path, data)
    except OSError as e:
        raise LibraryError(f"cannot save the pose to {path}: {e.strerror or e}") from None
    return read_pose_file(path, builtin=False)


def delete_user_pose(item: LibraryPose | str | Path, *, folder: Path | None = None) -> None:
    """Delete a user pose (its JSON and its thumbnail). Built-in poses and files outside the user
    library are refused with LibraryError; a pose that is already gone is not an error."""
    folder = (Path(folder) if folder is not None else user_library_dir()).resolve()
    if isinstance(item, LibraryPose):
        if item.builtin:
            raise LibraryError(f"'{item.name}' is a built-in pose and cannot be deleted")
        if item.path is None:
            raise LibraryError(f"'{item.name}' has no file")
        path = Path(item.path)
    else:
        path = Path(item)
        if not path.is_absolute() and path.parent == Path("."):
            path = folder / (path.name if path.suffix == ".json" else path.name + ".json")
    path = path.resolve()
    if path.parent != folder or path.suffix != ".json":
        raise LibraryError(f"{path} is not a pose in the user library ({folder})")
    for p in (path, path.with_suffix(".png")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            raise LibraryError(f"cannot delete {p}: {e.strerror or e}") from None
