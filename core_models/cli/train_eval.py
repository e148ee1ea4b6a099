"""``python main.py train MODEL ...`` and ``python main.py eval MODEL ...`` for the learned models.

Each model lives in its own module (``TRAINING_MODULES``) that defines ``add_train_args(parser)``,
``run_train(args) -> int``, ``add_eval_args(parser)``, ``run_eval(args) -> int``. A module that is absent or fails
to import is listed as unavailable instead of breaking the CLI.
"""
from __future__ import annotations

import argparse
import importlib

TRAINING_MODULES = {
    "editor": "core_models.nets.editor_train",
    "corrector": "core_models.nets.corrector_train",
    "qposer": "core_models.nets.qposer_train",
    "lifter": "core_models.nets.lifter_train",
    "embroider": "core_models.nets.embroider_train",
}


def _module(name: str):
    try:
        return importlib.import_module(TRAINING_MODULES[name]), None
    except ModuleNotFoundError as e:
        if e.name == TRAINING_MODULES[name]:
            return None, "not implemented yet"
        return None, f"{type(e).__name__}: {e}"
    except Exception as e:  # a broken model module must not break the whole CLI
        return None, f"{type(e).__name__}: {e}"


def _unavailable(reason: str):
    def run(args) -> int:
        print(f"error: {args.model} is unavailable ({reason})")
        return 2
    return run


def register(sub) -> None:
    for verb, help_ in (("train", "train a learned model (writes resources/weights/<model>.pt + manifest)"),
                        ("eval", "evaluate a learned model on held-out data (table + one JSON line)")):
        p = sub.add_parser(verb, help=help_)
        models = p.add_subparsers(dest="model", metavar="MODEL", required=True)
        for name in TRAINING_MODULES:
            mod, why = _module(name)
            mp = models.add_parser(name, help=f"{verb} the {name}" + (f" (unavailable: {why})" if why else ""),
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
            if mod is None:
                mp.set_defaults(func=_unavailable(why))
            elif verb == "train":
                mod.add_train_args(mp)
                mp.set_defaults(func=mod.run_train)
            else:
                mod.add_eval_args(mp)
                mp.set_defaults(func=mod.run_eval)
