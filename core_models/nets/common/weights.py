"""Shipped model weights: ``resources/weights/<name>.pt`` (a plain state dict + config, loaded with
``torch.load(weights_only=True)``) and ``resources/weights/<name>.json`` (its manifest entry: sha256, size,
training command, data, metrics). Loading verifies the hash; a missing or corrupt file raises
:class:`WeightsError` with a message the app shows as is (the feature is disabled, nothing else breaks).

``save_weights(name, state, config, manifest)`` writes both files atomically and fills in sha256/size.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from collections.abc import Callable
from typing import Any

import torch

from core_models.resources import resource_path

WEIGHTS_DIR = resource_path("weights")


class WeightsError(RuntimeError):
    pass


def weights_dir() -> Path:
    return Path(os.environ.get("POSETAILOR_WEIGHTS", WEIGHTS_DIR))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest(name: str, directory: Path | None = None) -> dict[str, Any]:
    f = (directory or weights_dir()) / f"{name}.json"
    if not f.exists():
        raise WeightsError(f"no manifest for model '{name}' ({f})")
    return json.loads(f.read_text())


def load_weights(name: str, directory: Path | None = None, verify: bool = True) -> dict[str, Any]:
    """Returns the saved dict {'state': state_dict, 'config': dict, ...}. Raises WeightsError with a clear
    message when the file is missing, its hash does not match the manifest, or it cannot be read."""
    d = directory or weights_dir()
    f = d / f"{name}.pt"
    if not f.exists():
        raise WeightsError(f"the '{name}' model weights are missing ({f}); train them with the command in "
                           f"README (python main.py train {name}) or restore resources/weights from git")
    if verify:
        man = manifest(name, d)
        got = sha256_file(f)
        if got != man.get("sha256"):
            raise WeightsError(f"the '{name}' model weights are corrupt (sha256 {got[:12]}… does not match the "
                               f"manifest {str(man.get('sha256'))[:12]}…); restore resources/weights/{name}.pt")
    try:
        blob = torch.load(f, map_location="cpu", weights_only=True)
    except Exception as e:
        raise WeightsError(f"cannot read the '{name}' model weights ({f}): {e}") from e
    if not isinstance(blob, dict) or "state" not in blob:
        raise WeightsError(f"'{name}' weights file has an unexpected layout")
    return blob


def save_weights(name: str, state: dict, config: dict, meta: dict[str, Any] | None = None,
                 directory: Path | None = None, half: bool = False) -> Path:
    """Write <name>.pt ({'state', 'config'}) and <name>.json (meta + sha256, size, date). ``half`` stores
    floating tensors as float16 (loaders cast back)."""
    d = directory or weights_dir()
    d.mkdir(parents=True, exist_ok=True)
    st = {k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
          for k, v in state.items()}
    f = d / f"{name}.pt"
    tmp = f.with_suffix(".pt.tmp")
    torch.save({"state": st, "config": config}, tmp)
    os.replace(tmp, f)
    man = dict(meta or {})
    man.update({"file": f.name, "sha256": sha256_file(f), "bytes": f.stat().st_size,
                "created": time.strftime("%Y-%m-%d %H:%M:%S")})
    jf = d / f"{name}.json"
    tmpj = jf.with_suffix(".json.tmp")
    tmpj.write_text(json.dumps(man, indent=1))
    os.replace(tmpj, jf)
    return f


def continued(prev: dict[str, Any] | None, command: str, seconds: float) -> tuple[str, float]:
    """Manifest command and training time of a run that continued from weights with manifest ``prev``
    (None: a fresh run): the earlier command(s) chained with `` && `` and the seconds summed."""
    if prev is None:
        return command, float(seconds)
    return f"{prev.get('command')} && {command}", float(seconds) + float(prev.get("train_seconds", 0))


def float_state(state: dict) -> dict:
    """Cast float16-stored tensors back to float32."""
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}


def load_module(name: str, build: Callable[[Any], torch.nn.Module], directory: Path | None = None,
                device: torch.device | None = None) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The shipped ``name`` weights built with ``build(config)``, loaded, moved to ``device`` (CPU if None), with
    its manifest ({} when the manifest cannot be read; the weights themselves were verified against it)."""
    blob = load_weights(name, directory)
    net = build(blob["config"])
    net.load_state_dict(float_state(blob["state"]))
    net.to(device if device is not None else torch.device("cpu"))
    try:
        meta = manifest(name, directory)
    except (WeightsError, OSError, ValueError):
        meta = {}
    return net, meta
