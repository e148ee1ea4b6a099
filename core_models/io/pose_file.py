"""The one pose-file reader/writer of PoseTailor: the app, its panels and the CLI read pose files through here.

Formats, chosen by the file's suffix (and, for JSON, by its ``format`` field):

* ``.npz`` — AMASS-style pose files through :mod:`core_models.io.npz_pose` (z-up files are converted to our
  y-up frame; never unpickles: ``allow_pickle=False``);
* ``.json`` with ``"format": "posetailor-library-pose"`` — one library pose, validated by
  :func:`core_models.library.pose_from_dict` (the library's own format; ``core_models.library`` never imports
  this module, so there is no import cycle);
* ``.json`` with ``"format": "posetailor-session"`` — a whole session (pose, body, keyframes).

Every problem raises :class:`PoseFileError` (a ``ValueError``) whose message names the file and says what is
wrong. No Qt here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from core_models.io.npz_pose import PoseFileError, load_pose_npz, save_pose_npz
from core_models.pose import Pose, PoseError

if TYPE_CHECKING:
    from core_models.library import LibraryPose
    from core_models.session import Session

__all__ = ["PoseFile", "PoseFileError", "read_pose_file", "write_pose_file", "pick_frame", "read_json_file",
           "NPZ_SUFFIXES", "JSON_SUFFIXES", "MAX_JSON_BYTES"]

NPZ_SUFFIXES = (".npz",)
JSON_SUFFIXES = (".json",)
#: a pose / session JSON larger than this is refused (a library pose is a few kB)
MAX_JSON_BYTES = 1_000_000

Kind = Literal["npz", "library", "session"]


@dataclass(frozen=True)
class PoseFile:
    """What :func:`read_pose_file` found: ``pose`` is one frame (the one asked for), ``frames`` how many the
    file holds; ``library`` / ``session`` carry the whole library entry / session for those formats."""

    path: Path
    kind: Kind
    pose: Pose
    frames: int = 1
    library: LibraryPose | None = None
    session: Session | None = None


def pick_frame(pose: Pose, frame: int = 0) -> tuple[Pose, int]:
    """(frame ``frame`` of a single or batched pose, number of frames). Negative ``frame`` counts from the end.
    Raises :class:`PoseFileError` when the frame does not exist."""
    if pose.batch_shape == ():
        if frame not in (0, -1):
            raise PoseFileError(f"the file holds one pose; frame {frame} does not exist")
        return pose, 1
    flat = pose if len(pose.batch_shape) == 1 else _flatten(pose)
    n = flat.batch_shape[0]
    if n == 0:
        raise PoseFileError("the file contains no frames")
    if not -n <= frame < n:
        raise PoseFileError(f"frame {frame} out of range: the file has {n} frames")
    return flat[frame], n


def _flatten(pose: Pose) -> Pose:
    n = int(np.prod(pose.batch_shape))
    hands = None if pose.hand_pose is None else pose.hand_pose.reshape(n, 30, 3)
    return Pose(pose.root_orient.reshape(n, 3), pose.body_pose.reshape(n, 21, 3), pose.transl.reshape(n, 3), hands)


def read_json_file(path: str | Path, error: type[ValueError] = PoseFileError) -> Any:
    """The decoded JSON of ``path`` (at most :data:`MAX_JSON_BYTES`); problems raise ``error``."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise error(f"cannot read {p}: {e.strerror or e}") from None
    if len(raw) > MAX_JSON_BYTES:
        raise error(f"{p.name} is too large to be a pose file")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"{p.name} is not valid JSON ({e})") from None


def _read_json_pose(p: Path, frame: int) -> PoseFile:
    from core_models import library
    from core_models.session import SESSION_FORMAT, Session, SessionError

    d = read_json_file(p)
    fmt = d.get("format") if isinstance(d, dict) else None
    try:
        if fmt == library.FORMAT:
            entry = library.pose_from_dict(d, path=p)
            return PoseFile(p, "library", pick_frame(entry.pose, frame)[0], 1, library=entry)
        if fmt == SESSION_FORMAT:
            s = Session.from_dict(d)
            return PoseFile(p, "session", pick_frame(s.pose, frame)[0], 1, session=s)
    except (library.LibraryError, SessionError, PoseError) as e:
        raise PoseFileError(f"{p.name}: {e}") from None
    raise PoseFileError(f"{p.name}: not a PoseTailor pose or session file (format {fmt!r})")


def read_pose_file(path: str | Path, *, frame: int = 0, rest_pelvis: Any = None) -> PoseFile:
    """Read a pose (.npz), a library pose (.json) or a session (.json). ``frame`` picks the frame of a
    multi-frame .npz; ``rest_pelvis`` is the pelvis of the body for the z-up conversion (npz_pose)."""
    p = Path(path)
    if not p.is_file():
        raise PoseFileError(f"{p.name}: file not found ({p})")
    suffix = p.suffix.lower()
    if suffix in JSON_SUFFIXES:
        return _read_json_pose(p, frame)
    if suffix not in NPZ_SUFFIXES:
        raise PoseFileError(f"{p.name}: unknown pose file type {suffix or '(no suffix)'!r}; expected "
                            f"{', '.join(NPZ_SUFFIXES + JSON_SUFFIXES)}")
    try:
        batch, _info = load_pose_npz(p, rest_pelvis=rest_pelvis)
        pose, n = pick_frame(batch, frame)
    except PoseFileError as e:
        msg = str(e)
        raise PoseFileError(msg if p.name in msg else f"{p.name}: {msg}") from None
    except PoseError as e:
        raise PoseFileError(f"{p.name}: {e}") from None
    return PoseFile(p, "npz", pose, n)


def write_pose_file(path: str | Path, pose: Pose, **npz_options: Any) -> Path:
    """Write ``pose`` as an AMASS-style .npz (atomically, through npz_pose); returns the path written."""
    return Path(save_pose_npz(path, pose, **npz_options))
