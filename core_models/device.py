"""Which torch device the learned models run on (Qt-free; torch is imported only when a device is resolved).

A device *spec* is ``"auto"`` (CUDA when torch sees a usable GPU, else the CPU), ``"cpu"``, ``"cuda"`` or
``"cuda:N"``. It comes from ``--device`` on the command line, ``$POSETAILOR_DEVICE`` or the GUI settings
(``"device"``), in that order. The CPU is the default of training (reproducible shipped weights) and the tested
path; asking for CUDA where there is none is a clear :class:`DeviceError`, never a silent fall-back.
"""
from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

ENV_VAR = "POSETAILOR_DEVICE"
CHOICES_HELP = "auto (CUDA when available, else CPU), cpu, cuda or cuda:N"
_SPEC = re.compile(r"^(auto|cpu|cuda(?::\d+)?)$")


class DeviceError(ValueError):
    """A device spec that is malformed or names a device this machine does not have."""


def check_spec(spec: object) -> str:
    """The normalised spec (lower case, stripped); DeviceError when it is not one of :data:`CHOICES_HELP`."""
    s = str(spec).strip().lower() if isinstance(spec, str) else ""
    if not _SPEC.match(s):
        raise DeviceError(f"unknown device {spec!r}: use {CHOICES_HELP}")
    return s


def default_spec(setting: str | None = None, fallback: str = "auto") -> str:
    """The spec to use when none was given explicitly: ``$POSETAILOR_DEVICE``, else ``setting`` (the GUI
    settings' "device"), else ``fallback``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return check_spec(env)
    return check_spec(setting) if setting else check_spec(fallback)


def _cuda_state(torch_mod: Any) -> tuple[bool, int, str]:
    """(usable, device count, why not) without raising: a broken driver counts as no CUDA."""
    try:
        if not torch_mod.cuda.is_available():
            built = getattr(torch_mod.version, "cuda", None)
            why = ("this torch build has no CUDA support" if not built
                   else f"torch (CUDA {built}) finds no usable GPU or driver")
            return False, 0, why
        return True, int(torch_mod.cuda.device_count()), ""
    except Exception as e:  # noqa: BLE001 - a broken CUDA set-up is reported, not raised
        return False, 0, f"CUDA failed to initialise ({type(e).__name__}: {e})"


def resolve_device(spec: str | None = None, *, fallback: str = "auto") -> torch.device:
    """``spec`` (None: :func:`default_spec`) → a :class:`torch.device` that exists on this machine.

    ``auto`` picks ``cuda`` when available, else ``cpu``. ``cuda`` / ``cuda:N`` without a usable GPU (or N out
    of range) raise :class:`DeviceError` saying why and what to use instead."""
    import torch

    s = check_spec(spec) if spec is not None else default_spec(fallback=fallback)
    if s == "cpu":
        return torch.device("cpu")
    ok, count, why = _cuda_state(torch)
    if s == "auto":
        return torch.device("cuda" if ok else "cpu")
    if not ok:
        raise DeviceError(f"device {s!r} was asked for but {why}; use --device cpu (or auto), or unset "
                          f"${ENV_VAR}")
    index = int(s.split(":")[1]) if ":" in s else 0
    if index >= count:
        raise DeviceError(f"device {s!r} was asked for but this machine has {count} CUDA device(s) "
                          f"(cuda:0 … cuda:{count - 1})")
    return torch.device(s)


def describe(device: Any) -> str:
    """A short label for a status bar / log line: ``CPU`` or ``CUDA:0 (NVIDIA H100 …)``."""
    dev = str(device)
    if not dev.startswith("cuda"):
        return dev.upper()
    torch = sys.modules.get("torch")
    index = int(dev.split(":")[1]) if ":" in dev else 0
    try:
        name = torch.cuda.get_device_name(index) if torch is not None else ""
    except Exception:  # noqa: BLE001 - the label is informative only
        name = ""
    return f"CUDA:{index}" + (f" ({name})" if name else "")


def model_device(module: Any) -> torch.device:
    """Where an ``nn.Module``'s parameters live (the CPU for a module without parameters)."""
    import torch

    for p in module.parameters():
        return p.device
    return torch.device("cpu")


def add_device_arg(parser: Any, default: str | None = "auto", what: str = "the model") -> None:
    """``--device`` on an argparse parser (default None: ``$POSETAILOR_DEVICE`` or ``auto``)."""
    import argparse

    def spec(text: str) -> str:
        try:
            return check_spec(text)
        except DeviceError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parser.add_argument("--device", default=default, type=spec,
                        help=f"where {what} runs: {CHOICES_HELP}; ${ENV_VAR} sets the default")


def as_device(device: Any = None) -> torch.device:
    """A loader's ``device`` argument → torch.device: a torch.device as is, a spec (or None) resolved."""
    import torch

    if isinstance(device, torch.device):
        return device
    return resolve_device(device)


def on_device(module: Any):
    """A context in which torch factory functions (``torch.zeros``, ``torch.full``, ``torch.as_tensor`` …) create
    tensors where ``module`` lives, so model code that builds tensors without ``device=`` runs on a GPU too. On
    the CPU it is a no-op (nothing changes on the default, tested path)."""
    import contextlib

    dev = model_device(module)
    return contextlib.nullcontext() if dev.type == "cpu" else dev
