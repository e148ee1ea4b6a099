"""Text-based pose editing (PoseFix §4 on our corpus): pose A + instruction text → pose B (mean + samples).

Model (:class:`PoseEditor`, own implementation of the PoseFix cVAE):

* pose auto-encoder pieces from :mod:`core_models.nets.pose_vae` (VPoser-style MLPs, 6D rotation output,
  latent d = 32, learned constant decoder variances for rotations / joints / vertices);
* text: the instruction is split into short clauses (:func:`split_clauses`: at ``. , ;`` "then", "and"); each
  clause is encoded by the frozen MiniLM (:mod:`core_models.nets.text_encoder`) into token states; a trainable
  head pools each clause's tokens (token MLP + multi-query attention pooling, so side words such as
  "left"/"right" are picked up — raw MiniLM cosine is side-blind) and runs a small transformer over the clause
  vectors, masked mean → text feature ``m``. Encoding clauses instead of whole texts lets the training corpus
  share a few thousand unique clauses (hundreds of thousands of modifier texts would take hours to encode on
  a CPU), and repeated clauses are cached at inference;
* TIRG fusion ``p = w_f·σ(f([a,m]))⊙a + w_g·g([a,m])``;
* two Gaussian heads: posterior N(b) from pose B's features, prior N(p) from the fusion;
  loss = NLL(6D rotations) + NLL(joints) + NLL(vertices) + KL(N(b) ‖ N(p)) (see ``editor_train``).

Inference: :func:`load_editor` (hash-checked weights, no text encoder load), then
``Editor.edit(pose, text, n_samples=8, strength=1.0, keep_global=True, seed=0)`` → :class:`EditResult`
(``mean``, ``samples``, ``notice``). Empty or nonsense text returns the pose unchanged with a notice.
The model sees the heading-normalised pose; the user's heading and translation are put back afterwards.
"""
from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

from core_models.nets.pose_vae import (LATENT_DIM, GaussianHead, PoseDecoder, PoseEncoder, gaussian_nll,
                                       pose_to_rotmats, rotmats_to_pose)

TEXT_DIM_IN = 384
MAX_CLAUSES = 12
MAX_CLAUSE_TOKENS = 32

# --- text handling --------------------------------------------------------------------------------------

_SPLIT = re.compile(r"[.;,!?:]+\s*|\s+then\s+|\s+and\s+|\n+", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
_LEAD = re.compile(r"^(?:(?:and|then|also|now)\b\s*)+")

#: words that name a body part or a whole-body action; an instruction without any of them is "nonsense"
BODY_WORDS = frozenset("""head neck shoulder shoulders arm arms upper forearm forearms elbow elbows wrist wrists
hand hands finger fingers hip hips pelvis thigh thighs leg legs knee knees shin shins ankle ankles foot feet
toe toes torso trunk body back spine chest belly waist chin face
lean bend bent straighten stand kneel kneeling lie lying squat crouch sit turn tilt twist rotate bow
raise lift lower drop spread extend flex stretch cross""".split())


#: side / direction words given to the text head as explicit presence flags per clause: frozen MiniLM token
#: states barely separate "left" from "right" (the first shipped model, trained without this channel, raised
#: both arms for "raise your left arm")
KEYWORDS = ("left", "right", "both", "up", "down", "forward", "back", "backward", "higher", "lower", "closer",
            "farther", "apart", "together", "front", "behind", "above", "below", "more", "less")
_KW_INDEX = {w: i for i, w in enumerate(KEYWORDS)}
_KW_ALIAS = {"forwards": "forward", "backwards": "backward", "upward": "up",
             "upwards": "up", "downward": "down", "downwards": "down", "further": "farther", "raise": "up",
             "lift": "up"}


def keyword_flags(clause: str) -> list[float]:
    """(len(KEYWORDS),) 0/1 presence of each side/direction keyword in a clause."""
    v = [0.0] * len(KEYWORDS)
    for w in _WORD.findall(clause.lower()):
        w = _KW_ALIAS.get(w, w)
        if w in _KW_INDEX:
            v[_KW_INDEX[w]] = 1.0
    return v


def split_clauses(text: str) -> list[str]:
    """Lower-cased clauses of an instruction ("Raise your left arm, then bend the knees." →
    ["raise your left arm", "bend the knees"]); at most :data:`MAX_CLAUSES`."""
    parts = [_LEAD.sub("", p.strip().lower()) for p in _SPLIT.split(text or "")]
    return [p for p in parts if p][:MAX_CLAUSES]


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
class ClauseBatch:
    """Token states of the unique clauses of a batch and, per text, the indices of its clauses.

    states (C, L, 384) float, mask (C, L) bool, seq (B, K) long (−1 = padding; a row of −1 = empty text),
    kw (C, len(KEYWORDS)) keyword flags (None: computed as zeros)."""
    states: torch.Tensor
    mask: torch.Tensor
    seq: torch.Tensor
    kw: torch.Tensor | None = None

    def to(self, device) -> "ClauseBatch":
        return ClauseBatch(self.states.to(device), self.mask.to(device), self.seq.to(device),
                           None if self.kw is None else self.kw.to(device))


def clause_batch_from_lists(clauses_per_text: list[list[str]], encode) -> ClauseBatch:
    """Build a ClauseBatch; ``encode(list_of_unique_clauses) -> (states (C,L,384), mask (C,L))``."""
    uniq: dict[str, int] = {}
    for cl in clauses_per_text:
        for c in cl:
            uniq.setdefault(c, len(uniq))
    K = max([len(c) for c in clauses_per_text] + [1])
    seq = torch.full((len(clauses_per_text), K), -1, dtype=torch.long)
    for i, cl in enumerate(clauses_per_text):
        for k, c in enumerate(cl):
            seq[i, k] = uniq[c]
    if uniq:
        states, mask = encode(list(uniq))
    else:
        states, mask = torch.zeros(0, 1, TEXT_DIM_IN), torch.zeros(0, 1, dtype=torch.bool)
    kw = torch.tensor([keyword_flags(c) for c in uniq], dtype=torch.float32).reshape(len(uniq), len(KEYWORDS))
    return ClauseBatch(states.float(), mask.bool(), seq, kw)


# --- networks -------------------------------------------------------------------------------------------

class _MixBlock(nn.Module):
    """Pre-norm transformer block (self-attention over the clauses of one instruction + feed-forward)."""

    def __init__(self, d: int, heads: int, dropout: float):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.att = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * d, d))

    def forward(self, x, pad):
        h = self.n1(x)
        x = x + self.att(h, h, h, key_padding_mask=pad, need_weights=False)[0]
        return x + self.ff(self.n2(x))


class ClauseTextHead(nn.Module):
    """Frozen token states of clauses → one text feature per instruction (B, out_dim).

    Per clause: multi-query attention pooling of the (frozen, contextual) MiniLM token states — trained scores,
    so single words such as "left"/"right" can dominate — and a projection to ``d``; then ``layers`` small
    transformer blocks over the clauses of each instruction (learned clause positions), masked mean, Linear."""

    def __init__(self, d: int = 128, out_dim: int = 256, layers: int = 2, heads: int = 4, pool_queries: int = 4,
                 dropout: float = 0.1):
        super().__init__()
        self.scores = nn.Linear(TEXT_DIM_IN, pool_queries)
        self.pool_out = nn.Sequential(nn.Linear(pool_queries * TEXT_DIM_IN, d), nn.GELU(), nn.Linear(d, d))
        self.kw = nn.Linear(len(KEYWORDS), d)  # keyword channel, zero-initialised (fine-tuning starts unchanged)
        nn.init.zeros_(self.kw.weight)
        nn.init.zeros_(self.kw.bias)
        self.pos = nn.Parameter(torch.zeros(MAX_CLAUSES, d))
        self.blocks = nn.ModuleList([_MixBlock(d, heads, dropout) for _ in range(layers)])
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, out_dim)
        self.empty = nn.Parameter(torch.zeros(out_dim))  # feature of an empty instruction (PoseCopy)

    def clause_vectors(self, states: torch.Tensor, mask: torch.Tensor, kw: torch.Tensor | None = None):
        s = self.scores(states).transpose(1, 2)  # (C,Q,L)
        s = s.masked_fill(~mask[:, None, :], float("-inf"))
        pooled = torch.softmax(s, -1) @ states  # (C,Q,384)
        h = self.pool_out[0](pooled.flatten(1))
        if kw is not None:
            h = h + self.kw(kw)
        return self.pool_out[2](self.pool_out[1](h))

    def forward(self, cb: ClauseBatch) -> torch.Tensor:
        B, K = cb.seq.shape
        if cb.states.shape[0] == 0:
            return self.empty.expand(B, -1)
        cv = self.clause_vectors(cb.states, cb.mask, cb.kw)  # (C,d)
        pad = cb.seq < 0
        x = cv[cb.seq.clamp(min=0)] + self.pos[:K]
        empty_row = pad.all(1)
        pad_safe = pad.clone()
        pad_safe[empty_row, 0] = False  # keep attention defined; result replaced below
        for blk in self.blocks:
            x = blk(x, pad_safe)
        x = self.norm(x)
        keep = (~pad).float()[..., None]
        m = (x * keep).sum(1) / keep.sum(1).clamp(min=1)
        out = self.out(m)
        return torch.where(empty_row[:, None], self.empty.expand(B, -1), out)


class TIRG(nn.Module):
    """Text-image residual gating (Vo et al.), here pose features ``a`` modified by text ``m``."""

    def __init__(self, pose_dim: int, text_dim: int, hidden: int | None = None):
        super().__init__()
        h = hidden or pose_dim
        self.f = nn.Sequential(nn.Linear(pose_dim + text_dim, h), nn.ReLU(), nn.Linear(h, pose_dim))
        self.g = nn.Sequential(nn.Linear(pose_dim + text_dim, h), nn.ReLU(), nn.Linear(h, pose_dim))
        self.w = nn.Parameter(torch.tensor([1.0, 1.0]))

    def forward(self, a: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        am = torch.cat([a, m], -1)
        return self.w[0] * torch.sigmoid(self.f(am)) * a + self.w[1] * self.g(am)


DEFAULT_CONFIG = dict(latent=LATENT_DIM, pose_feat=256, pose_hidden=512, pose_layers=2, text_d=128,
                      text_dim=256, text_layers=2, dropout=0.1)


class PoseEditor(nn.Module):
    """PoseFix-style conditional VAE (see module docstring). Poses are rotmats (B,22,3,3), heading-normalised."""

    def __init__(self, cfg: dict | None = None):
        super().__init__()
        c = dict(DEFAULT_CONFIG, **(cfg or {}))
        self.cfg = c
        self.pose_enc = PoseEncoder(c["pose_feat"], c["pose_hidden"], c["pose_layers"], c["dropout"])
        self.text_head = ClauseTextHead(c["text_d"], c["text_dim"], c["text_layers"], dropout=c["dropout"])
        self.fusion = TIRG(c["pose_feat"], c["text_dim"])
        self.posterior = GaussianHead(c["pose_feat"], c["latent"])
        self.prior = GaussianHead(c["pose_feat"], c["latent"])
        self.decoder = PoseDecoder(c["latent"], c["pose_hidden"], c["pose_layers"], c["dropout"])
        # learned constant decoder scales, started near the typical errors (6D units, metres, metres)
        self.log_sigma_rot = nn.Parameter(torch.tensor(math.log(0.2)))
        self.log_sigma_joints = nn.Parameter(torch.tensor(math.log(0.05)))
        self.log_sigma_verts = nn.Parameter(torch.tensor(math.log(0.05)))

    def prior_dist(self, A: torch.Tensor, cb: ClauseBatch | None = None, text_feat: torch.Tensor | None = None):
        m = self.text_head(cb) if text_feat is None else text_feat
        return self.prior(self.fusion(self.pose_enc(A), m))

    def posterior_dist(self, B: torch.Tensor):
        return self.posterior(self.pose_enc(B))

    def forward(self, A: torch.Tensor, B: torch.Tensor, cb: ClauseBatch):
        q = self.posterior_dist(B)
        p = self.prior_dist(A, cb)
        return self.decoder.decode_6d(q.rsample()), q, p


# --- inference API ----------------------------------------------------------------------------------------

@dataclass
class EditResult:
    mean: object                      # Pose (single)
    samples: object                   # Pose (n,)
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

    # text
    @property
    def encoder(self):
        if self._encoder is None:
            from core_models.nets.text_encoder import get_text_encoder
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

    def text_feature(self, texts: list[str]) -> torch.Tensor:
        cb = clause_batch_from_lists([split_clauses(t) for t in texts], self._encode_clauses)
        return self.model.text_head(cb)

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
                           hold: bool | None = None):
        """A_rot (B,22,3,3) heading-normalised → (mean rotmats (B,22,3,3), samples (B,n,22,3,3) | None).

        ``hold`` (default: ``self.hold_unnamed``): joints of body parts the text does not name keep A's
        rotation when every clause names limbs / the head only (see :func:`named_parts`)."""
        mean, samples = self._predict(A_rot, texts, n_samples, seed)
        if self.hold_unnamed if hold is None else hold:
            parts = [named_parts(t) for t in texts]
            mean = torch.stack([hold_unnamed(A_rot[i], mean[i], p) for i, p in enumerate(parts)])
            if samples is not None:
                samples = torch.stack([hold_unnamed(A_rot[i], samples[i], p) for i, p in enumerate(parts)])
        return mean, samples

    def _predict(self, A_rot: torch.Tensor, texts: list[str], n_samples: int = 0, seed: int = 0):
        with self._lock:
            m = self.text_feature(texts)
            p = self.model.prior_dist(A_rot, text_feat=m)
            mean = self.model.decoder(p.loc)
            samples = None
            if n_samples:
                g = torch.Generator().manual_seed(int(seed))
                eps = torch.randn(n_samples, *p.loc.shape, generator=g)
                z = (p.loc + p.scale * eps).transpose(0, 1).reshape(-1, p.loc.shape[-1])
                samples = self.model.decoder(z).reshape(p.loc.shape[0], n_samples, 22, 3, 3)
        return mean, samples

    def edit(self, pose, text: str, n_samples: int = 8, strength: float = 1.0, keep_global: bool = True,
             seed: int = 0, hold: bool | None = None) -> EditResult:
        from core_models.pose import Pose, apply_heading, interpolate, normalize_heading

        if pose.batch_shape != ():
            raise ValueError("Editor.edit takes a single pose")
        notice = self.check_text(text)
        if notice is not None:
            same = Pose.stack([pose.copy() for _ in range(max(n_samples, 0))]) if n_samples else \
                Pose(np.zeros((0, 3)), np.zeros((0, 21, 3)))
            return EditResult(pose.copy(), same, notice, [])
        strength = float(np.clip(strength, 0.0, 1.0))
        A_n, heading = normalize_heading(pose)
        mean_R, samp_R = self.predict_normalized(pose_to_rotmats(A_n), [text], n_samples, seed, hold)
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


def load_editor(directory=None) -> Editor:
    """Load the shipped editor (sha256-checked). Raises :class:`~core_models.nets.weights.WeightsError` with a
    clear message when the weights are missing or corrupt. The MiniLM text encoder loads lazily on first use."""
    from core_models.nets.weights import float_state, load_weights

    blob = load_weights("editor", directory)
    cfg = dict(blob["config"])
    model = build_model(cfg)
    load_state_compat(model, float_state(blob["state"]))
    return Editor(model, set(cfg.get("vocabulary", [])), meta=cfg)


def recon_nll(model: PoseEditor, d6_hat: torch.Tensor, B_rot: torch.Tensor, body_fn):
    """(nll_rot, nll_joints, nll_verts) per sample. ``body_fn(rotmats) -> (joints (B,22,3), verts (B,V,3))``."""
    from core_models.nets.pose_vae import matrix_to_rot6d, rot6d_to_matrix

    R_hat = rot6d_to_matrix(d6_hat)
    J_hat, V_hat = body_fn(R_hat)
    with torch.no_grad():
        J, V = body_fn(B_rot)
    return (gaussian_nll(matrix_to_rot6d(R_hat), matrix_to_rot6d(B_rot), model.log_sigma_rot),
            gaussian_nll(J_hat, J, model.log_sigma_joints),
            gaussian_nll(V_hat, V, model.log_sigma_verts), R_hat, J_hat, V_hat, J, V)


__all__ = ["PoseEditor", "Editor", "EditResult", "load_editor", "split_clauses", "looks_like_instruction",
           "ClauseBatch", "clause_batch_from_lists", "TIRG", "ClauseTextHead", "recon_nll", "named_parts",
           "hold_unnamed"]
