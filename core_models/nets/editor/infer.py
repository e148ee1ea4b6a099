"""Editor runtime: :func:`load_editor` (hash-checked weights) and :class:`Editor` (clause cache + PoseEditor,
``edit(pose, text, ...)`` → :class:`EditResult`), the instruction gate and the named-part hold."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch

from core_models.device import as_device, model_device
from core_models.nets.common.pose_vae import (
    pose_to_rotmats,
    rotmats_to_pose,
)
from core_models.nets.common.text_encoder import get_text_encoder
from core_models.nets.common.weights import float_state, load_weights
from core_models.nets.editor.model import (
    _WORD,
    DEFAULT_CONFIG,
    MAX_CLAUSE_TOKENS,
    TEXT_DIM_IN,
    PoseEditor,
    clause_batch_from_lists,
)
from core_models.nets.editor.realise import DEFAULT_REALISE, RealiseConfig, realise
from core_models.pose import Pose, apply_heading, interpolate, matrix_to_aa_np, normalize_heading
from core_models.text.clauses import split_clauses
from core_models.text.paircode_reader import read_changes

#: words that name a body part or a whole-body action; an instruction without any of them is "nonsense"
BODY_WORDS = frozenset("""head neck shoulder shoulders arm arms upper forearm forearms elbow elbows wrist wrists
hand hands finger fingers hip hips pelvis thigh thighs leg legs knee knees shin shins ankle ankles foot feet
toe toes torso trunk body back spine chest belly waist chin face
lean bend bent straighten stand kneel kneeling lie lying squat crouch sit turn tilt twist rotate bow
raise lift lower drop spread extend flex stretch cross""".split())


def looks_like_instruction(text: str, vocabulary: frozenset[str] | set[str] | None = None) -> bool:
    """Heuristic gate: at least one body-part / action word, and (when the training vocabulary is known) at
    least half of the words known to the model."""
    words = _WORD.findall((text or "").lower())
    if not words or not any(w in BODY_WORDS for w in words):
        return False
    if vocabulary:
        known = sum(w in vocabulary for w in words)
        return known >= 0.5 * len(words)
    return True


#: words that name a body part → the part kinds they let the edit move ("arm"/"leg" get their side from the clause)
_PART_WORDS = {
    "arm": ("arm",), "arms": ("arm",), "hand": ("arm",), "hands": ("arm",), "elbow": ("arm",),
    "elbows": ("arm",), "wrist": ("arm",), "wrists": ("arm",), "forearm": ("arm",), "forearms": ("arm",),
    "finger": ("arm",), "fingers": ("arm",), "shoulder": ("arm",), "shoulders": ("arm", "torso"),
    "leg": ("leg",), "legs": ("leg",), "knee": ("leg",), "knees": ("leg",), "foot": ("leg",),
    "feet": ("leg",), "ankle": ("leg",), "ankles": ("leg",), "thigh": ("leg",), "thighs": ("leg",),
    "shin": ("leg",), "shins": ("leg",), "toe": ("leg",), "toes": ("leg",),
    "head": ("head",), "neck": ("head",), "chin": ("head",), "face": ("head",), "look": ("head",),
}


#: words after which the whole body may move (no masking for the instruction)
_WHOLE_BODY_WORDS = frozenset("""torso trunk back spine chest belly waist body hip hips pelvis stomach lean bend
bow squat crouch kneel kneeling sit lie lying stand standing rotate turn twist tilt upright jump step""".split())


#: whole-body words that also act on a named limb ("bend your left knee", "turn your head")
_LIMB_VERBS = frozenset("bend turn tilt rotate twist step".split())


def named_parts(text: str) -> set[str] | None:
    """Body parts an instruction names, as ``skeleton.BODY_PARTS`` keys (e.g. {"left_arm"}), or None when a
    clause names the torso / whole body or no part at all (then nothing is held fixed). A clause with "left"
    only picks the left side, "right" only the right side, otherwise both sides."""
    out: set[str] = set()
    for clause in split_clauses(text):
        words = _WORD.findall(clause)
        parts = {p for w in words for p in _PART_WORDS.get(w, ())}
        if not parts or any(w in _WHOLE_BODY_WORDS - _LIMB_VERBS for w in words):
            return None
        sides = {w for w in words if w in ("left", "right")}
        if "both" in words or len(sides) != 1:
            sides = {"left", "right"}
        for p in parts:
            if p in ("arm", "leg"):
                out |= {f"{sd}_{p}" for sd in sides}
            else:
                out.add(p)
    return out or None


def hold_unnamed(A: torch.Tensor, R: torch.Tensor, parts: set[str] | None) -> torch.Tensor:
    """R (..., 22, 3, 3) with every joint outside ``parts`` (and the root) set back to A's rotation; ``parts``
    None → R unchanged."""
    if parts is None:
        return R
    from core_models import skeleton as sk
    free = torch.zeros(22, dtype=torch.bool)
    for p in parts:
        free[list(sk.BODY_PARTS[p])] = True
    keep = ~free
    R = R.clone()
    R[..., keep, :, :] = A.expand_as(R)[..., keep, :, :]
    return R


@dataclass
class EditResult:
    mean: Pose                        # single pose
    samples: Pose                     # (n,) poses
    notice: str | None = None
    clauses: list[str] = field(default_factory=list)


class EditorUnavailable(RuntimeError):
    pass


class Editor:
    """Inference wrapper: text features (frozen MiniLM, clause cache) + PoseEditor. Thread-safe."""

    def __init__(self, model: PoseEditor, vocabulary: set[str] | None = None, encoder=None, meta: dict | None = None):
        self.model = model.eval()
        self.vocabulary = frozenset(vocabulary or ())
        self._encoder = encoder
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()
        self.meta = meta or {}
        #: hold the body parts an instruction does not name (limb/head-only instructions) at A
        self.hold_unnamed = True
        #: test-time compliance (:mod:`.realise`): the returned mean is the candidate (mean, samples, scaled on the
        #: named parts) that realises the most of the paircode changes the text names; None: the plain mean
        self.realise: RealiseConfig | None = DEFAULT_REALISE

    # text
    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = get_text_encoder()
        return self._encoder

    def _encode_clauses(self, clauses: list[str]):
        todo = [c for c in clauses if c not in self._cache]
        if todo:
            tf = self.encoder.encode_tokens(todo)
            for c, s, m in zip(todo, tf.states, tf.mask):
                self._cache[c] = s[m][:MAX_CLAUSE_TOKENS].float().clone()
                if len(self._cache) > 4096:
                    self._cache.popitem(last=False)
        L = max(len(self._cache[c]) for c in clauses)
        states = torch.zeros(len(clauses), L, TEXT_DIM_IN)
        mask = torch.zeros(len(clauses), L, dtype=torch.bool)
        for i, c in enumerate(clauses):
            s = self._cache[c]
            self._cache.move_to_end(c)
            states[i, :len(s)] = s
            mask[i, :len(s)] = True
        return states, mask

    @property
    def device(self) -> torch.device:
        """Where the model runs (see :func:`load_editor`); inputs are moved there, results come back on the CPU."""
        return model_device(self.model)

    def text_feature(self, texts: list[str]) -> torch.Tensor:
        cb = clause_batch_from_lists([split_clauses(t) for t in texts], self._encode_clauses)
        return self.model.text_head(cb.to(self.device))

    def check_text(self, text: str) -> str | None:
        """None when the text can be used, else the notice to show."""
        if not (text or "").strip():
            return "No instruction given: the pose is unchanged."
        if not looks_like_instruction(text, self.vocabulary):
            return (f"Could not understand \"{text.strip()[:60]}\" as a pose instruction (name a body part and "
                    "what to do, e.g. \"raise your left arm\"): the pose is unchanged.")
        return None

    # poses
    @torch.no_grad()
    def predict_normalized(self, A_rot: torch.Tensor, texts: list[str], n_samples: int = 0, seed: int = 0,
                           hold: bool | None = None, realise: bool = True):
        """A_rot (B,22,3,3) heading-normalised → (mean rotmats (B,22,3,3), samples (B,n,22,3,3) | None).

        ``hold`` (default: ``self.hold_unnamed``): joints of body parts the text does not name keep A's
        rotation when every clause names limbs / the head only (see :func:`named_parts`).

        With ``self.realise`` set (the default) and ``realise`` True, the mean returned is
        :func:`.realise.realise`'s pick for each text that names paircode changes (``samples`` are the editor's
        own draws either way). The clause composer passes ``realise=False`` for its clause rows and alternatives
        and honours the whole sentence once at the end (:meth:`honour`)."""
        cfg = self.realise if realise else None
        n_draw = max(n_samples, cfg.samples) if cfg is not None else n_samples
        mean, samples = self._predict(A_rot, texts, n_draw, seed)
        if self.hold_unnamed if hold is None else hold:
            parts = [named_parts(t) for t in texts]
            mean = torch.stack([hold_unnamed(A_rot[i], mean[i], p) for i, p in enumerate(parts)])
            if samples is not None:
                samples = torch.stack([hold_unnamed(A_rot[i], samples[i], p) for i, p in enumerate(parts)])
        if cfg is not None:
            mean = self._realised(A_rot, mean, samples, texts, cfg)
        return mean, (samples[:, :n_samples] if n_samples and samples is not None else None)

    @staticmethod
    def _realised(A_rot: torch.Tensor, mean: torch.Tensor, samples: torch.Tensor | None, texts: list[str],
                  cfg: RealiseConfig) -> torch.Tensor:
        out = mean.clone()
        A, M = (x.detach().cpu().double().numpy() for x in (A_rot, mean))
        S = None if samples is None or not cfg.samples else samples[:, :cfg.samples].detach().cpu().double().numpy()
        for i, t in enumerate(texts):
            changes = read_changes(t)
            if changes:
                R, _ = realise(A[i], M[i], None if S is None else S[i], changes, cfg)
                out[i] = torch.as_tensor(R, dtype=mean.dtype)
        return out

    def honour(self, start: Pose, edited: Pose, text: str, frozen: list[int] | tuple[int, ...] = ()) -> Pose:
        """``edited`` (a single pose made from ``start`` for ``text``, e.g. by the clause composer) with the
        joints of the paircode changes the text names and ``edited`` leaves unrealised scaled further from
        ``start`` (:func:`.realise.realise` without samples; ``frozen`` joints untouched, joint limits kept).
        Unchanged when nothing is read from the text, every change is already realised, or ``self.realise``
        is None."""
        cfg = self.realise
        changes = read_changes(text) if cfg is not None else []
        if cfg is None or not changes:
            return edited
        R, info = realise(start.matrices(), edited.matrices(), None, changes, cfg, frozen=frozen)
        if info["realised"] <= info["mean_realised"]:
            return edited
        out = Pose.from_full(matrix_to_aa_np(R).astype(np.float32), edited.transl.copy())
        out.hand_pose = edited.hand_pose
        return out

    def _predict(self, A_rot: torch.Tensor, texts: list[str], n_samples: int = 0, seed: int = 0):
        with self._lock:
            m = self.text_feature(texts)
            p = self.model.prior_dist(A_rot.to(m.device), text_feat=m)
            mean = self.model.decoder(p.loc)
            samples = None
            if n_samples:  # the noise is drawn on the CPU: the same seed gives the same samples on any device
                g = torch.Generator().manual_seed(int(seed))
                eps = torch.randn(n_samples, *p.loc.shape, generator=g).to(m.device)
                z = (p.loc + p.scale * eps).transpose(0, 1).reshape(-1, p.loc.shape[-1])
                samples = self.model.decoder(z).reshape(p.loc.shape[0], n_samples, 22, 3, 3).cpu()
        return mean.cpu(), samples

    def edit(self, pose, text: str, n_samples: int = 8, strength: float = 1.0, keep_global: bool = True,
             seed: int = 0, hold: bool | None = None, realise: bool = True) -> EditResult:
        if pose.batch_shape != ():
            raise ValueError("Editor.edit takes a single pose")
        notice = self.check_text(text)
        if notice is not None:
            same = Pose.stack([pose.copy() for _ in range(max(n_samples, 0))]) if n_samples else \
                Pose(np.zeros((0, 3)), np.zeros((0, 21, 3)))
            return EditResult(pose.copy(), same, notice, [])
        strength = float(np.clip(strength, 0.0, 1.0))
        A_n, heading = normalize_heading(pose)
        mean_R, samp_R = self.predict_normalized(pose_to_rotmats(A_n), [text], n_samples, seed, hold, realise)
        outs = rotmats_to_pose(torch.cat([mean_R, samp_R[0]]) if samp_R is not None else mean_R)
        if strength < 1.0:
            outs = Pose.stack([interpolate(A_n, outs[i], strength) for i in range(len(outs))])
        if keep_global:  # keep the user's facing direction: drop the heading change the model predicted
            outs, _ = normalize_heading(outs)
        outs = apply_heading(outs, np.full(len(outs), heading, np.float32))  # batched: one call for all poses
        results = [Pose(outs.root_orient[i], outs.body_pose[i], pose.transl.copy(), pose.hand_pose)
                   for i in range(len(outs))]
        mean = results[0]
        samples = Pose.stack(results[1:]) if n_samples else Pose(np.zeros((0, 3)), np.zeros((0, 21, 3)))
        return EditResult(mean, samples, None, split_clauses(text))


def build_model(config: dict) -> PoseEditor:
    return PoseEditor({k: config[k] for k in DEFAULT_CONFIG if k in config})


def load_state_compat(model: PoseEditor, state: dict) -> list[str]:
    """Load a state dict; parameters added since it was saved (the zero-initialised keyword channel) keep
    their initial values. Returns the names that were missing."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("text_head.kw.") for k in missing):
        raise RuntimeError(f"editor weights do not fit the model (missing {missing}, unexpected {unexpected})")
    return list(missing)


def load_editor(directory=None, device: str | torch.device | None = "cpu") -> Editor:
    """Load the shipped editor (sha256-checked) onto ``device`` (a :mod:`core_models.device` spec or a
    torch.device; None: ``$POSETAILOR_DEVICE`` / auto). Raises
    :class:`~core_models.nets.common.weights.WeightsError` with a clear message when the weights are missing or
    corrupt, :class:`~core_models.device.DeviceError` for a device this machine lacks. The MiniLM text encoder
    (frozen, on the CPU) loads lazily on first use. The test-time compliance pick (:attr:`Editor.realise`) is on
    unless ``$POSETAILOR_EDITOR_REALISE`` is ``0`` (before/after measurements)."""

    blob = load_weights("editor", directory)
    cfg = dict(blob["config"])
    model = build_model(cfg)
    load_state_compat(model, float_state(blob["state"]))
    model.to(as_device(device))
    ed = Editor(model, set(cfg.get("vocabulary", [])), meta=cfg)
    if os.environ.get("POSETAILOR_EDITOR_REALISE", "1").strip() == "0":  # the plain mean, for before/after runs
        ed.realise = None
    return ed
