"""Model services for the GUI: one lazy, lock-guarded place to get the learned models and the pose-file I/O.

The desktop app never loads a model itself: its panels ask a :class:`ModelServices` (normally the process-wide
:func:`default_services`), from worker threads. Every model is loaded at most once per process, under its own
``threading.Lock`` (two workers asking at once get the same instance); a failure (missing or corrupt weights,
``WeightsError`` / ``EditorUnavailable``) is cached too and raised again as :class:`ModelUnavailable` with the
model's own message, so the GUI can say "unavailable: <why>" without retrying a slow load on every click.

Only runtime APIs are imported here (``core_models.nets.<model>`` packages, ``core_models.capture.pipeline``,
``core_models.io.pose_file``), lazily: importing this module does not import torch. No Qt here.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

import numpy as np

from core_models.io import pose_file
from core_models.pose import Pose

if TYPE_CHECKING:
    from core_models.capture.pipeline import CapturePipeline
    from core_models.nets.autopose import AutoPoser
    from core_models.nets.corrector import Corrector
    from core_models.nets.editor import Editor
    from core_models.nets.qposer import LatentEditor
    from core_models.text.compose import SentenceEdit

__all__ = ["ModelServices", "ModelUnavailable", "LazyModel", "Comparison", "default_services",
           "PoseFile", "PoseFileError"]

T = TypeVar("T")
PoseFile = pose_file.PoseFile
PoseFileError = pose_file.PoseFileError


class ModelUnavailable(RuntimeError):
    """A model that cannot be used; ``str(e)`` is the model's own reason (e.g. the WeightsError message)."""

    def __init__(self, model: str, reason: str):
        super().__init__(reason)
        self.model = model
        self.reason = reason


class LazyModel(Generic[T]):
    """``get()`` loads once (under a lock) and returns the same object to every thread; a failed load is
    remembered and raised again as :class:`ModelUnavailable` until :meth:`reset`."""

    def __init__(self, name: str, loader: Callable[[], T]):
        self.name = name
        self._loader = loader
        self._lock = threading.Lock()
        self._value: T | None = None
        self._error: str | None = None
        self.loads = 0  # how many times the loader ran (tests: exactly once)

    def get(self) -> T:
        with self._lock:
            if self._value is not None:
                return self._value
            if self._error is not None:
                raise ModelUnavailable(self.name, self._error)
            self.loads += 1
            try:
                self._value = self._loader()
            except Exception as e:  # noqa: BLE001 - any load failure makes the feature unavailable, with why
                self._error = str(e) or type(e).__name__
                raise ModelUnavailable(self.name, self._error) from e
            return self._value

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def status(self) -> str:
        """"ready", "not loaded" or "unavailable: <why>" (never loads)."""
        if self._value is not None:
            return "ready"
        return f"unavailable: {self._error}" if self._error is not None else "not loaded"

    def reset(self) -> None:
        with self._lock:
            self._value, self._error = None, None


@dataclass
class Comparison:
    """Pose A → pose B: the rule-based coaching text, per-joint displacement (metres) and the learned text
    (``None`` with ``learned_error`` saying why when the learned corrector is unavailable)."""

    rules: str
    displacement: np.ndarray
    learned: str | None
    learned_error: str | None = None


class ModelServices:
    """Lazy access to the editor, the corrector, the QPoser runtime, the capture pipeline and pose files.

    ``weights_dir`` overrides the shipped weights folder (tests); ``loaders`` replaces a model's loader by name
    ("editor", "corrector", "latent", "generator", "prompter", "autoposer") — e.g. a stand-in editor in a GUI test."""

    def __init__(self, weights_dir: str | Path | None = None, loaders: dict[str, Callable[[], Any]] | None = None,
                 device: str | None = None):
        self.weights_dir = Path(weights_dir) if weights_dir is not None else None
        self.device_spec: str | None = None
        self.set_device(device)
        custom = dict(loaders or {})
        self._editor: LazyModel[Editor] = LazyModel("editor", custom.pop("editor", self._load_editor))
        self._corrector: LazyModel[Corrector] = LazyModel("corrector", custom.pop("corrector", self._load_corrector))
        self._latent: LazyModel[LatentEditor] = LazyModel("latent", custom.pop("latent", self._load_latent))
        self._generator: LazyModel[Any] = LazyModel("qposer_gen", custom.pop("generator", self._load_generator))
        self._prompter: LazyModel[Any] = LazyModel("qposer_prompt", custom.pop("prompter", self._load_prompter))
        self._autoposer: LazyModel[AutoPoser] = LazyModel("autopose", custom.pop("autoposer", self._load_autoposer))
        self._models: dict[str, LazyModel[Any]] = {"editor": self._editor, "corrector": self._corrector,
                                                   "latent": self._latent, "generator": self._generator,
                                                   "prompter": self._prompter, "autoposer": self._autoposer}
        if custom:
            raise ValueError(f"unknown model loader(s): {', '.join(sorted(custom))}")
        self._warm_lock = threading.Lock()
        self._warm_thread: threading.Thread | None = None
        self.phrases_warmed = threading.Event()  # set once the rewrite phrases are encoded (or cannot be)
        self.phrase_warm_up_error: str | None = None

    # --- device (core_models.device) --------------------------------------------------------------------------
    def set_device(self, spec: str | None) -> None:
        """Where the editor and the corrector load next: a spec ("auto", "cpu", "cuda", "cuda:N"); None:
        ``$POSETAILOR_DEVICE``, else "auto" (the GUI passes its settings' "device"). Models already loaded stay
        where they are; ``$POSETAILOR_DEVICE`` wins over this. DeviceError for a malformed spec."""
        from core_models.device import check_spec

        self.device_spec = check_spec(spec) if spec else None

    def device(self) -> Any:
        """The torch.device the models load on (imports torch); DeviceError when the spec names a missing GPU."""
        from core_models.device import default_spec, resolve_device

        return resolve_device(default_spec(self.device_spec, fallback="auto"))

    def device_label(self) -> str:
        """For a status bar: "CPU", "CUDA:0 (…)", or the spec while torch is not imported yet (never imports it:
        a fast start), or why the device cannot be used."""
        import sys

        from core_models.device import DeviceError, default_spec, describe

        spec = default_spec(self.device_spec, fallback="auto")
        if "torch" not in sys.modules:
            return spec
        try:
            return describe(self.device())
        except DeviceError as e:
            return f"{spec} (unavailable: {e})"

    # --- loaders (worker threads) ---------------------------------------------------------------------------
    def _load_editor(self) -> Editor:
        from core_models.nets.editor import load_editor

        return load_editor(self.weights_dir, device=self.device())

    def _load_corrector(self) -> Corrector:
        from core_models.nets.corrector import load_corrector

        return load_corrector(directory=self.weights_dir, device=self.device())

    def _load_latent(self) -> LatentEditor:
        """QPoser + slider paths; the masked-code generator and the prompt model are optional parts (each
        loaded once through its own getter: when one is unavailable the editor works without it)."""
        from core_models.nets.qposer import LatentEditor

        ed = LatentEditor.load(self.weights_dir, with_gen=False, with_prompt=False, device=self.device())
        for attr, lazy in (("gen", self._generator), ("prompter", self._prompter)):
            try:
                setattr(ed, attr, lazy.get())
            except ModelUnavailable:
                setattr(ed, attr, None)
        return ed

    def _load_generator(self) -> Any:
        from core_models.nets.qposer import load_gen

        return load_gen(directory=self.weights_dir, device=self.device())

    def _load_prompter(self) -> Any:
        from core_models.nets.qposer import load_prompter

        return load_prompter(directory=self.weights_dir, device=self.device())

    def _load_autoposer(self) -> AutoPoser:
        from core_models.nets.autopose import load_autoposer

        return load_autoposer(self.weights_dir, device="cpu")  # one pose per drag event: the CPU is faster

    # --- models ---------------------------------------------------------------------------------------------
    def editor(self) -> Editor:
        """The text editor (one instance per process: the Text Edit and Correction panels share it)."""
        return self._editor.get()

    def editor_with_encoder(self) -> Editor:
        """The editor with its MiniLM text encoder loaded too (call from a worker: slow the first time).
        Starts the background phrase warm-up (:meth:`start_phrase_warm_up`) so that a new instruction is fast."""
        ed = self.editor()
        ed.encoder  # noqa: B018 - loads the encoder once
        self.start_phrase_warm_up(ed)
        return ed

    def start_phrase_warm_up(self, editor: Any) -> threading.Thread | None:
        """Once per services: encode every rewrite phrase of the sentence composer
        (:func:`core_models.text.compose.warm_up`, ~0.5 s) in a daemon thread, so that later instructions
        skip MiniLM. Editors without a clause cache (stand-ins in tests) are not warmed. Returns the thread."""
        with self._warm_lock:
            if self._warm_thread is not None:
                return self._warm_thread
            if not hasattr(editor, "_cache") or not hasattr(editor, "predict_normalized"):
                self.phrases_warmed.set()
                return None

            def work() -> None:
                from core_models.text.compose import warm_up

                try:
                    warm_up(editor)
                except Exception as e:  # noqa: BLE001 - only a speed-up: an edit encodes its phrases itself
                    self.phrase_warm_up_error = f"{type(e).__name__}: {e}"
                finally:
                    self.phrases_warmed.set()

            self._warm_thread = threading.Thread(target=work, name="phrase-warm-up", daemon=True)
            self._warm_thread.start()
            return self._warm_thread

    def corrector(self) -> Corrector:
        return self._corrector.get()

    def latent(self) -> LatentEditor:
        """The QPoser latent editor (with its masked-code generator and prompt model when they load)."""
        return self._latent.get()

    def generator(self) -> Any:
        """QPoser's masked code transformer (random codes conditioned on the locked parts)."""
        return self._generator.get()

    def prompter(self) -> Any:
        """QPoser's text → part codes model."""
        return self._prompter.get()

    def autoposer(self) -> AutoPoser:
        """The auto-posing network for drag-to-pose (:class:`core_models.posing.DragSolver` takes it; when this
        raises ModelUnavailable the solver runs optimisation only)."""
        return self._autoposer.get()

    def status(self, model: str) -> str:
        """"ready" | "not loaded" | "unavailable: <why>" for "editor", "corrector", "latent", "generator" or
        "prompter" (never loads anything)."""
        return self._models[model].status()

    # --- model-backed jobs (worker threads) -------------------------------------------------------------------
    def edit_with_text(self, a: Pose, text: str) -> Pose:
        """Move ``a`` with ``text`` through the editor (mean result, no samples). Raises ModelUnavailable when
        the editor is unavailable and ValueError when it does not understand the text."""
        res = self.editor().edit(a, text, n_samples=0)
        if res.notice:
            raise ValueError(res.notice)
        if not isinstance(res.mean, Pose):
            raise TypeError(f"the editor returned {type(res.mean).__name__}, not a Pose")
        return res.mean

    def edit_sentence(self, pose: Pose, text: str, *, hold: bool = True, n_samples: int = 0,
                      keep_global: bool = True, seed: int = 0, strategy: str | None = None) -> SentenceEdit:
        """A human-written instruction applied the shipped way (:func:`core_models.text.compose.edit_sentence`,
        clause by clause through the shared editor): the edited pose, the clauses as understood, the clauses it
        could not use (with why) and ``n_samples`` alternatives. Unusable text gives ``refused`` with a notice
        and the pose unchanged (never raises for it). Raises ModelUnavailable when the editor is unavailable."""
        from core_models.text.compose import DEFAULT_STRATEGY, edit_sentence

        editor = self.editor_with_encoder()
        if strategy is None:  # clause steps need batched predictions; a stand-in editor gets the whole text
            strategy = DEFAULT_STRATEGY if hasattr(editor, "predict_normalized") else "whole"
        return edit_sentence(editor, pose, text, strategy, hold=hold, n_samples=n_samples,
                             keep_global=keep_global, seed=seed)

    def compare(self, a: Pose, b: Pose, keep_heading: bool = False) -> Comparison:
        """Both coaching texts and the per-joint displacement for A → B. Never raises for a missing learned
        corrector: ``learned`` is None and ``learned_error`` says why."""
        from core_models.nets.corrector import normalize_pair, pair_joint_displacement, rule_text

        a, b = normalize_pair(a, b, keep_heading)
        out = Comparison(rule_text(a, b), pair_joint_displacement(a, b), None)
        try:
            text = self.corrector().generate(a, b)  # one pair in, one text out
            out.learned = text if isinstance(text, str) else text[0]
        except ModelUnavailable as e:
            out.learned_error = f"unavailable: {e}"
        return out

    # --- capture ----------------------------------------------------------------------------------------------
    @staticmethod
    def capture_regressor_names() -> list[str]:
        from core_models.capture.pipeline import regressor_names

        return regressor_names()

    @staticmethod
    def capture_pipeline(variant: str = "lite", regressor: str = "auto", mode: str = "video",
                         max_people: int = 1) -> CapturePipeline:
        """A new capture pipeline (one per take: the regressor and the filters keep per-stream state).
        ``max_people`` > 1 lets its detector find several people (``pipeline.detector.detect_all``)."""
        from core_models.capture.pipeline import CapturePipeline

        return CapturePipeline(variant, regressor=regressor, mode=mode, max_people=max_people)

    # --- coach ------------------------------------------------------------------------------------------------
    @staticmethod
    def coach_engine(routine: Any, strictness: str = "standard", cooldown_s: float = 2.0, corrector: str = "auto",
                     mirror: bool = False, variant: str = "lite", **options: Any) -> Any:
        """A new :class:`core_models.coach.CoachEngine` (one per session; it keeps the hold timer and the report).
        ``corrector="auto"`` loads the learned corrector and judge on the first correction (the rules whenever they
        are unavailable); the learned proposals run in a worker thread (``learned_async``), so ``update`` stays
        fast enough for the GUI. ``variant``: the session's MediaPipe landmarker, whose captured target templates
        are used (shipped ones for library poses; others are built in a child Python, since this process's
        PyOpenGL serves Qt). ``options``: further engine arguments (e.g. ``measure``)."""
        from core_models.coach import CoachEngine

        return CoachEngine(routine, strictness=strictness, cooldown_s=cooldown_s, corrector=corrector, mirror=mirror,
                           learned_async=True, template_variant=variant, template_builder="child", **options)

    # --- pose files -------------------------------------------------------------------------------------------
    @staticmethod
    def read_pose_file(path: str | Path, frame: int = 0) -> PoseFile:
        return pose_file.read_pose_file(path, frame=frame)

    @staticmethod
    def write_pose_file(path: str | Path, pose: Pose) -> Path:
        return pose_file.write_pose_file(path, pose)


_DEFAULT: ModelServices | None = None
_DEFAULT_LOCK = threading.Lock()


def default_services() -> ModelServices:
    """The process-wide services (created on first use, thread-safe)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = ModelServices()
        return _DEFAULT
