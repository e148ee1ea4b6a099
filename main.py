"""PoseTailor entry point: the GUI by default, ``python main.py <command>`` for headless jobs."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    from core_models.cli import register_all

    p = argparse.ArgumentParser(
        prog="posetailor",
        description="PoseTailor: edit 3D human body poses (SMPL-H pose on the open Anny body). "
        "Without a command the desktop app starts.",
    )
    sub = p.add_subparsers(dest="command", metavar="<command>")
    g = sub.add_parser("gui", help="start the desktop app (the default)")
    g.add_argument("files", nargs="*", help="pose files to open (.npz)")
    g.set_defaults(func=_run_gui)
    register_all(sub)
    return p


def _run_gui(args) -> int:
    from app.main_window import run_app

    return run_app(getattr(args, "files", []))


def gui_files(argv: list[str]) -> list[str] | None:
    """The files to open when ``argv`` plainly asks for the GUI (no arguments, ``gui FILE…``, or only existing
    files), else None. The GUI then starts without building the CLI, so it imports no ``core_models.cli`` module."""
    args = argv[1:] if argv[:1] == ["gui"] else argv
    if any(a.startswith("-") for a in args):
        return None
    if argv[:1] == ["gui"] or all(Path(a).is_file() for a in args):
        return list(args)
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    files = gui_files(argv)
    if files is not None:
        return _run_gui(argparse.Namespace(files=files))
    parser = build_parser()
    if not argv or (argv[0] not in parser._subparsers._group_actions[0].choices and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
