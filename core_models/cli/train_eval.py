"""``python main.py train MODEL ...`` and ``python main.py eval MODEL ...`` for the learned models.

Each model has a training module and an evaluation module (``TRAIN_MODULES`` / ``EVAL_MODULES``) that define
``add_train_args(parser)`` + ``run_train(args) -> int`` and ``add_eval_args(parser)`` + ``run_eval(args) -> int``.
Every ``train``/``eval`` takes ``--device`` (default ``cpu``: the tested path and the shipped weights; ``auto``,
``cuda``, ``cuda:N``): it is resolved before the run (a clear error when CUDA is asked for and absent) and
``args.device`` holds the resolved device. A module whose loop is device-clean sets ``DEVICE_CLEAN = True``;
the others refuse a GPU with a clear message instead of failing half-way.
Nothing is imported until a command actually runs: the model's sub-parser is built the first time argparse
reaches it (``train editor --help`` included), so the GUI, ``info`` or ``edit`` never load training code. A
module that is absent or fails to import makes that command print a clear "unavailable" error instead.
"""
from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from core_models.device import add_device_arg

TRAIN_MODULES = {
    "editor": "core_models.nets.editor.train",
    "corrector": "core_models.nets.corrector.train",
    "qposer": "core_models.nets.qposer.train",
    "lifter": "core_models.nets.lifter.train",
    "embroider": "core_models.nets.embroider.train",
    "autopose": "core_models.nets.autopose.train",
    "textlift": "core_models.nets.textlift.train",
    "all": "core_models.cli.train_all",  # every model above, from raw mocap, in dependency order
}
EVAL_MODULES = {
    "editor": "core_models.nets.editor.eval",
    "corrector": "core_models.nets.corrector.eval",
    "qposer": "core_models.nets.qposer.eval",
    "lifter": "core_models.nets.lifter.eval",
    "embroider": "core_models.nets.embroider.eval",
    "autopose": "core_models.nets.autopose.eval",
    "textlift": "core_models.nets.textlift.eval",
    "phrasing": "core_models.text.phrasing_eval",  # evaluation only
    "coach": "core_models.cli.coach",  # evaluation only (rendered clips: tools/render_coach_clips.py)
    "capture": "core_models.cli.capture_eval",  # evaluation only: real MediaPipe on rendered poses
}
_VERBS = {"train": (TRAIN_MODULES, "add_train_args", "run_train"), "eval": (EVAL_MODULES, "add_eval_args", "run_eval")}


def _module(path: str) -> tuple[ModuleType | None, str | None]:
    try:
        return importlib.import_module(path), None
    except ModuleNotFoundError as e:
        if e.name is not None and path.startswith(e.name):
            return None, f"{path} is not installed"
        return None, f"{type(e).__name__}: {e}"
    except Exception as e:  # a broken model module must not break the whole CLI
        return None, f"{type(e).__name__}: {e}"


def _unavailable(reason: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        print(f"error: {args.verb} {args.model} is unavailable ({reason})")
        return 2
    return run


class LazyModelParser(argparse.ArgumentParser):
    """The sub-parser of one ``train|eval MODEL``: imports the model's module and adds its options when
    :class:`_LazySubParsers` hands it the command line (argparse only does when that model was named)."""

    def __init__(self, *args: Any, verb: str = "train", model: str = "", **kw: Any):
        super().__init__(*args, **kw)
        self._verb, self._model, self._built = verb, model, False

    def build(self) -> None:
        if self._built:
            return
        self._built = True
        modules, add_name, run_name = _VERBS[self._verb]
        mod, why = _module(modules[self._model])
        add_args = getattr(mod, add_name, None) if mod is not None else None
        run = getattr(mod, run_name, None) if mod is not None else None
        if mod is not None and (add_args is None or run is None):
            why = f"{modules[self._model]} defines no {add_name}/{run_name}"
        if add_args is None or run is None:
            self.description = f"unavailable: {why}"
            self.set_defaults(func=_unavailable(why or "unknown reason"))
            return
        add_args(self)
        if not any(a.dest == "device" for a in self._actions):
            add_device_arg(self, default="cpu", what=f"the {self._model} {self._verb}")
        loso = any(a.dest == "corpus" for a in self._actions)
        if loso:  # leave-one-source-out on every model that reads the corpus (core_models.nets.training.loso)
            from core_models.nets.training import loso as loso_

            (loso_.add_train_arg if self._verb == "train" else loso_.add_eval_arg)(self)
        run = _scaled(run, self._verb, self._model, loso)
        self.set_defaults(func=_on_device(run, bool(getattr(mod, "DEVICE_CLEAN", False))))


def _on_device(run: Callable[[argparse.Namespace], int], device_clean: bool) -> Callable[[argparse.Namespace], int]:
    """Resolve ``args.device`` (clear error, exit code 2, when it names a device this machine lacks or one the
    module cannot use), then run."""
    def go(args: argparse.Namespace) -> int:
        from core_models.device import DeviceError, resolve_device

        try:
            dev = resolve_device(getattr(args, "device", None) or "cpu")
        except DeviceError as e:
            print(f"error: {e}")
            return 2
        if dev.type != "cpu" and not device_clean:
            print(f"error: {args.verb} {args.model} runs on the CPU only for now (its loop is not device-clean); "
                  "use --device cpu")
            return 2
        args.device = str(dev)
        return run(args)
    return go



def _scaled(run: Callable[[argparse.Namespace], int], verb: str, model: str,
            loso: bool) -> Callable[[argparse.Namespace], int]:
    """``train``: join the torchrun process group when there is one (``nets.training.distributed``: DDP, gloo
    on the CPU / nccl on CUDA, rank 0 writes); ``--exclude-source`` / ``--loso``: run on the corpus view."""
    def go(args: argparse.Namespace) -> int:
        from core_models.nets.training import distributed
        from core_models.nets.training import loso as loso_

        if verb == "train" and distributed.env_world_size() > 1:
            args.device = distributed.setup(args.device)
        code = 1
        try:
            if loso:  # under torchrun the other ranks reach this once rank 0 has built the corpus view
                try:
                    loso_.apply_train(args) if verb == "train" else loso_.apply_eval(args, model)
                except (loso_.LosoError, FileNotFoundError) as e:
                    print(f"error: {e}")
                    code = 2
                    return code
            code = run(args)
            return code
        finally:
            distributed.teardown(code)  # under torchrun this ends the process with ``code``
    return go


class _LazySubParsers(argparse._SubParsersAction):
    """Builds a :class:`LazyModelParser` just before argparse hands it the rest of the command line."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        if isinstance(values, Sequence) and values:
            sub = self._name_parser_map.get(str(values[0]))
            if isinstance(sub, LazyModelParser):
                sub.build()
        super().__call__(parser, namespace, values, option_string)


def register(sub: Any) -> None:
    for verb, help_ in (("train", "train a learned model (writes resources/weights/<model>.pt + manifest)"),
                        ("eval", "evaluate a learned model on held-out data (table + one JSON line)")):
        p = sub.add_parser(verb, help=help_)
        p.set_defaults(verb=verb)
        models = p.add_subparsers(dest="model", metavar="MODEL", required=True, parser_class=LazyModelParser,
                                  action=_LazySubParsers)
        for name in _VERBS[verb][0]:
            models.add_parser(name, help=f"{verb} the {name}", verb=verb, model=name,
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
