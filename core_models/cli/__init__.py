"""Headless sub-commands of ``python main.py``.

Every module in this package that defines ``register(subparsers)`` is discovered automatically; it adds
its sub-command(s) with ``subparsers.add_parser(...)`` and sets ``func=<callable(args) -> int>``.
No Qt here (the GUI is launched by main.py itself).
"""
from __future__ import annotations

import importlib
import pkgutil


def register_all(subparsers) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        reg = getattr(mod, "register", None)
        if callable(reg):
            reg(subparsers)
