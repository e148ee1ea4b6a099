"""QPoser runtime: loaders (:func:`load_qposer`, :func:`load_gen`, :func:`load_prompter`,
:func:`load_vae_baseline`), the part sliders (:func:`compute_part_paths`), :class:`LatentEditor` (the app's
latent panel), the prompt side (:func:`prompted_parts`, :class:`ClauseFeatures`, :class:`Prompter`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core_models.device import as_device, model_device
from core_models.nets.common.pose_vae import (
    PoseVAE,
)
from core_models.nets.common.text_encoder import get_text_encoder
from core_models.nets.common.weights import WeightsError, float_state, load_weights
from core_models.nets.qposer.model import (
    NUM_BODY,
    PART_JOINTS,
    PARTS,
    TEXT_DIM,
    MaskedCodeTransformer,
    PromptToCodes,
    QPoser,
    build_qposer,
    full_rotmats,
    mpjae_deg,
)
from core_models.pose import (
    matrix_to_6d,
)
from core_models.nets.qposer.prompt_parts import prompted_parts  # noqa: F401  (re-exported)
from core_models.nets.qposer.prompt_states import state_codes as phrase_states
from core_models.text.clauses import split_clauses


def _dev(device) -> torch.device:
    """A loader's ``device`` (a :mod:`core_models.device` spec or torch.device; None: the CPU)."""
    return as_device(device if device is not None else "cpu")


def load_qposer(name: str = "qposer", directory=None, device=None) -> QPoser:
    """The shipped QPoser (eval mode, float32) on ``device`` (None: the CPU). Raises WeightsError when
    missing/corrupt, DeviceError for a device this machine lacks."""
    dev = _dev(device)

    blob = load_weights(name, directory)
    try:
        model = build_qposer(blob["config"]["model"])
        model.load_state_dict(float_state(blob["state"]))
    except Exception as e:
        raise WeightsError(f"the '{name}' weights do not fit the QPoser model: {e}") from e
    model.to(dev).eval()
    return model


def tour_order(x: np.ndarray, two_opt_rounds: int = 4) -> np.ndarray:
    """A short open path through the rows of ``x`` (N,D): start at the extreme of the first principal
    direction, greedy nearest neighbour, then a few rounds of 2-opt. Returns a permutation of range(N)."""
    x = np.asarray(x, np.float64)
    n = len(x)
    if n <= 2:
        return np.arange(n)
    xc = x - x.mean(0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    proj = xc @ vt[0]
    D = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    start = int(np.argmin(proj))
    path = [start]
    left = np.ones(n, bool)
    left[start] = False
    for _ in range(n - 1):
        d = np.where(left, D[path[-1]], np.inf)
        j = int(np.argmin(d))
        path.append(j)
        left[j] = False
    order = np.array(path)
    for _ in range(two_opt_rounds):  # open-path 2-opt: reverse order[i:j+1] when it shortens the path
        improved = False
        for i in range(1, n - 1):
            a, b = order[i - 1], order[i]
            for j in range(i + 1, n):
                c = order[j]
                d_ = order[j + 1] if j + 1 < n else None
                old = D[a, b] + (D[c, d_] if d_ is not None else 0.0)
                new = D[a, c] + (D[b, d_] if d_ is not None else 0.0)
                if new < old - 1e-12:
                    order[i:j + 1] = order[i:j + 1][::-1].copy()
                    improved = True
                    a, b = order[i - 1], order[i]
        if not improved:
            break
    return order


def slider_orders(model: QPoser) -> dict[str, list[np.ndarray]]:
    """For every group and head: the order in which a slider walks through that head's codebook entries
    (a permutation of range(K), a short path through the code vectors)."""
    out: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for g in model.groups:
            cb = model.codebook(g).detach().float().cpu().numpy()
            out[g] = [tour_order(cb[h]) for h in range(model.n_heads[g])]
    return out


@torch.no_grad()
def compute_part_paths(model: QPoser, body_rotmats: torch.Tensor, n: int = 96, seed: int = 0,
                       batch: int = 4096) -> dict[str, list[list[int]]]:
    """Per part: ``n`` distinct code tuples seen on real poses, chosen by farthest-point sampling of the part's
    decoded joint rotations and ordered along a short path, so one "part slider" walks through diverse real
    configurations of that part. Returns {group: [[code per head] * n]} (JSON/torch-save friendly)."""
    dev = model_device(model)
    idx = torch.cat([model.encode(body_rotmats[i:i + batch].to(dev)).cpu()
                     for i in range(0, len(body_rotmats), batch)])
    paths: dict[str, list[list[int]]] = {}
    rng = np.random.default_rng(seed)
    for g in model.decoded_groups + (("global",) if "global" in model.groups else ()):
        cols = idx[:, model.group_slice(g)]
        uniq, counts = torch.unique(cols, dim=0, return_counts=True)
        keep = uniq[counts >= 2] if (counts >= 2).sum() >= n else uniq
        if len(keep) > 4000:
            keep = keep[torch.as_tensor(rng.choice(len(keep), 4000, replace=False))]
        # feature: the part's decoded rotations with the other codes of a fixed typical pose
        ref = idx[0:1].repeat(len(keep), 1)
        ref[:, model.group_slice(g)] = keep
        R = model.decode_indices(ref.to(dev)).cpu()
        joints = [j - 1 for j in (model.group_joints[g] if g in model.group_joints else range(1, 22))]
        feat = matrix_to_6d(R[:, joints]).reshape(len(keep), -1).numpy()
        # farthest-point sampling
        m = min(n, len(keep))
        sel = [int(rng.integers(len(keep)))]
        dmin = np.linalg.norm(feat - feat[sel[0]], axis=1)
        for _ in range(m - 1):
            j = int(np.argmax(dmin))
            sel.append(j)
            dmin = np.minimum(dmin, np.linalg.norm(feat - feat[j], axis=1))
        chosen = np.array(sel)
        order = tour_order(feat[chosen])
        paths[g] = keep[torch.as_tensor(chosen[order])].tolist()
    return paths


class LatentEditor:
    """Numpy-level QPoser operations on :class:`~core_models.pose.Pose` objects (the Latent panel's engine).

    Codes are int arrays (H,) in the model's code order. Decoding writes only the body joints of the parts it is
    told to (``parts``); other joints, the root orientation and the translation come from ``base`` — so editing a
    part never touches the rest of the user's pose, and the global code ("global" in ``parts``) changes every
    part (all decoded)."""

    def __init__(self, model: QPoser, paths: dict | None = None, gen=None, prompter=None):
        self.model = model.eval()
        self.paths = {g: np.asarray(v, np.int64) for g, v in (paths or {}).items()}
        self.gen = gen
        self.prompter = prompter
        self.orders = slider_orders(model)

    @classmethod
    def load(cls, directory=None, with_gen: bool = True, with_prompt: bool = True,
             device=None) -> "LatentEditor":
        """The shipped QPoser (+ the optional generator / prompt model) on ``device`` (None: the CPU)."""
        dev = _dev(device)
        model = load_qposer("qposer", directory, dev)
        paths = load_weights("qposer", directory, verify=False)["config"].get("paths")
        gen = prompter = None
        if with_gen:
            try:
                gen = load_gen("qposer_gen", directory, dev)
            except WeightsError:
                gen = None
        if with_prompt:
            try:
                prompter = load_prompter("qposer_prompt", directory, dev)
            except WeightsError:
                prompter = None
        return cls(model, paths, gen, prompter)

    @property
    def device(self) -> torch.device:
        """Where the QPoser runs (poses go in and codes / rotations come out as CPU numpy either way)."""
        return model_device(self.model)

    # --- groups
    @property
    def groups(self) -> tuple[str, ...]:
        return self.model.groups

    def slice(self, g: str) -> slice:
        return self.model.group_slice(g)

    def n_heads(self, g: str) -> int:
        return self.model.n_heads[g]

    def codebook_size(self, g: str) -> int:
        return self.model.codebook_size(g)

    # --- encode / decode
    def _R(self, pose) -> torch.Tensor:
        from core_models.pose import aa_to_matrix
        R = aa_to_matrix(torch.as_tensor(np.asarray(pose.body_pose, np.float32)).reshape(-1, NUM_BODY, 3))
        return R.to(self.device)

    @torch.no_grad()
    def encode(self, pose) -> np.ndarray:
        return self.model.encode(self._R(pose))[0].cpu().numpy()

    @torch.no_grad()
    def encode_continuous(self, pose) -> torch.Tensor:
        return self.model.encode_continuous(self._R(pose))[0]

    @torch.no_grad()
    def decode_body(self, codes: np.ndarray) -> np.ndarray:
        """codes (H,) → body_pose axis-angle (21,3)."""
        import roma
        idx = torch.as_tensor(np.asarray(codes, np.int64), device=self.device)[None]
        R = self.model.decode_indices(idx)[0]
        return roma.rotmat_to_rotvec(R).cpu().numpy().astype(np.float32)

    def parts_joints(self, parts) -> list[int]:
        """Body joint indices (1..21) written when ``parts`` change ("global" or "all" = every joint)."""
        if any(p in ("global", "all") for p in parts):
            return list(range(1, 22))
        return sorted(j for p in parts for j in PART_JOINTS[p])

    def compose(self, base, body_aa: np.ndarray, parts, keep_floor: bool = False) -> "object":
        """A copy of ``base`` with the joints of ``parts`` taken from ``body_aa`` (21,3). ``keep_floor``: the body
        is moved vertically so that its lowest joint stays at the height it had in ``base`` — bending the legs
        ("squat down a bit") lowers the body instead of lifting the feet off the floor; raising a foot leaves the
        standing one where it was."""
        from core_models.pose import Pose
        bp = np.array(base.body_pose, np.float32, copy=True)
        for j in self.parts_joints(parts):
            bp[j - 1] = body_aa[j - 1]
        out = Pose(base.root_orient.copy(), bp, base.transl.copy(),
                   None if base.hand_pose is None else base.hand_pose.copy())
        if keep_floor:
            out.transl[1] += lowest_joint_y(base) - lowest_joint_y(out)
        return out

    def decode(self, codes: np.ndarray, base, parts) -> "object":
        return self.compose(base, self.decode_body(codes), parts)

    # --- edits on code arrays
    def set_head(self, codes: np.ndarray, g: str, h: int, slider_pos: int) -> np.ndarray:
        """Head ``h`` of group ``g`` takes the code at position ``slider_pos`` of its slider order."""
        out = np.array(codes, copy=True)
        out[self.slice(g).start + h] = int(self.orders[g][h][slider_pos])
        return out

    def slider_pos(self, codes: np.ndarray, g: str, h: int) -> int:
        c = int(codes[self.slice(g).start + h])
        return int(np.nonzero(self.orders[g][h] == c)[0][0])

    def set_path(self, codes: np.ndarray, g: str, i: int) -> np.ndarray:
        """The part takes the ``i``-th code tuple of its part path."""
        out = np.array(codes, copy=True)
        out[self.slice(g)] = self.paths[g][i]
        return out

    def path_pos(self, codes: np.ndarray, g: str) -> int:
        """Index of the path entry closest (Hamming) to the part's current codes."""
        if g not in self.paths or not len(self.paths[g]):
            return 0
        return int(np.argmin((self.paths[g] != codes[self.slice(g)][None]).sum(1)))

    def copy_part(self, codes: np.ndarray, ref_pose, g: str) -> np.ndarray:
        out = np.array(codes, copy=True)
        out[self.slice(g)] = self.encode(ref_pose)[self.slice(g)]
        return out

    def resample(self, codes: np.ndarray, groups, rng: np.random.Generator | None = None) -> np.ndarray:
        """New codes for ``groups``; the other positions stay. With the masked transformer the new codes are
        drawn conditioned on the kept ones, otherwise uniformly from the codebooks (QPoser B.2)."""
        rng = rng or np.random.default_rng()
        out = np.array(codes, copy=True)
        free = np.zeros(len(out), bool)
        for g in groups:
            free[self.slice(g)] = True
        if not free.any():
            return out
        if self.gen is not None:
            gtor = torch.Generator().manual_seed(int(rng.integers(2 ** 31)))  # CPU draws: same seed, same codes
            dev = model_device(self.gen)
            fixed = torch.as_tensor(out, device=dev)[None]
            fixed_mask = torch.as_tensor(~free, device=dev)[None]
            new = self.gen.sample(1, fixed=fixed, fixed_mask=fixed_mask, generator=gtor)[0]
            out[free] = new.cpu().numpy()[free]
            return out
        sizes = np.array(self.model.head_sizes())
        out[free] = rng.integers(0, sizes[free])
        return out

    @torch.no_grad()
    def interpolate(self, pose_a, pose_b, t: float) -> np.ndarray:
        """Body pose (21,3) decoded from the linear mix of the two poses' continuous latents (QPoser B.1)."""
        import roma
        za, zb = self.encode_continuous(pose_a), self.encode_continuous(pose_b)
        R = self.model.decode(((1 - t) * za + t * zb)[None])[0]
        return roma.rotmat_to_rotvec(R).cpu().numpy().astype(np.float32)

    def prompt(self, codes: np.ndarray, text: str) -> tuple[np.ndarray, list[str]]:
        """Codes with the parts the text talks about set from the text; returns (codes, parts changed)."""
        if self.prompter is None:
            raise RuntimeError("the QPoser prompt model is not available (train it: python main.py train qposer "
                               "--stage prompt)")
        pc = prompt_part_codes(self.prompter, text, None, np.asarray(codes), self.model)
        out = np.array(codes, copy=True)
        for p, c in pc.items():
            out[self.slice(p)] = c
        return out, list(pc)


def lowest_joint_y(pose) -> float:
    """World height of the lowest of the 22 body joints (default skeleton)."""
    from core_models import skeleton as sk
    from core_models.kinematics import fk_numpy
    from core_models.pose import aa_to_matrix_np

    aa = np.concatenate([np.asarray(pose.root_orient, np.float64)[None], np.asarray(pose.body_pose, np.float64)])
    _, joints, _ = fk_numpy(aa_to_matrix_np(aa), np.asarray(sk.DEFAULT_REST_JOINTS, np.float64))
    return float(joints[:, 1].min() + float(pose.transl[1]))


def load_gen(name: str = "qposer_gen", directory=None, device=None) -> MaskedCodeTransformer:
    """The masked code transformer on ``device`` (None: the CPU)."""
    dev = _dev(device)
    blob = load_weights(name, directory)
    c = blob["config"]
    try:
        m = MaskedCodeTransformer(c["head_sizes"], d=c["d"], layers=c["layers"], ff=2 * c["d"])
        m.load_state_dict(float_state(blob["state"]))
    except Exception as e:
        raise WeightsError(f"the '{name}' weights do not fit the masked code transformer: {e}") from e
    m.to(dev).eval()
    return m


class ClauseFeatures:
    """Mean-pooled frozen-MiniLM vectors per unique clause (fp16 cache, saved as a plain npz)."""

    def __init__(self, encoder=None):
        self._encoder = encoder
        self.store: dict[str, torch.Tensor] = {}

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = get_text_encoder()
        return self._encoder

    def add(self, clauses, batch: int = 128, progress=None) -> None:
        todo = sorted(set(clauses) - self.store.keys(), key=len)
        for i in range(0, len(todo), batch):
            chunk = todo[i:i + batch]
            with torch.no_grad():
                v = self.encoder.encode_pooled(chunk)
            for c, x in zip(chunk, v):
                self.store[c] = x.to(torch.float16).clone()
            if progress:
                progress(min(i + batch, len(todo)), len(todo))

    def batch(self, texts: list[str], max_clauses: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
        """→ (B, C, 384) float32, mask (B, C) bool."""
        cl = [split_clauses(t, "description")[:max_clauses] for t in texts]
        self.add([c for cs in cl for c in cs])
        C = max(len(cs) for cs in cl)
        x = torch.zeros(len(texts), C, TEXT_DIM)
        m = torch.zeros(len(texts), C, dtype=torch.bool)
        for i, cs in enumerate(cl):
            for j, c in enumerate(cs):
                x[i, j] = self.store[c].float()
                m[i, j] = True
        return x, m

    def save(self, path: Path) -> None:
        keys = sorted(self.store)
        np.savez(path, texts=np.array(keys, dtype=str),
                 vecs=torch.stack([self.store[k] for k in keys]).numpy() if keys else np.zeros((0, TEXT_DIM),
                                                                                                np.float16))

    def load(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as z:
            for t, v in zip(z["texts"].tolist(), z["vecs"]):
                self.store[str(t)] = torch.as_tensor(v)


def model_spec(qp) -> tuple[dict, dict]:
    return ({p: qp.n_heads[p] for p in PARTS}, {p: qp.codebook_size(p) for p in PARTS})


class PosecodeReader(torch.nn.Module):
    """Clause vectors → per posecode (the first ``n_codes``): logits over its categories plus a last "not stated"
    class. It reads which posecodes a text states (the test-time check of :class:`Prompter`). ``null_slot``: a
    learned empty clause every posecode can attend to, so a one-clause prompt need not lend its clause to posecodes
    it does not speak of (attention weights sum to one)."""

    def __init__(self, n_codes: int, n_cats: int, d: int = 128, dropout: float = 0.1, null_slot: bool = False):
        super().__init__()
        self.n_codes, self.n_cats, self.d, self.null_slot = int(n_codes), int(n_cats), int(d), bool(null_slot)
        self.proj = torch.nn.Sequential(torch.nn.Linear(TEXT_DIM, d), torch.nn.GELU(), torch.nn.Dropout(dropout),
                                        torch.nn.Linear(d, d))
        self.query = torch.nn.Parameter(torch.randn(n_codes, d) * 0.05)
        self.weight = torch.nn.Parameter(torch.randn(n_codes, d, n_cats + 1) * d ** -0.5)
        self.bias = torch.nn.Parameter(torch.zeros(n_codes, n_cats + 1))
        if self.null_slot:
            self.null = torch.nn.Parameter(torch.zeros(1, 1, d))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.proj(x)  # (B,C,d)
        if self.null_slot:
            h = torch.cat([self.null.expand(len(h), 1, -1), h], 1)
            mask = torch.cat([torch.ones_like(mask[:, :1]), mask], 1)
        att = torch.einsum("bcd,qd->bqc", h, self.query) / self.d ** 0.5
        att = att.masked_fill(~mask[:, None, :], float("-inf")).softmax(-1)
        pooled = torch.einsum("bqc,bcd->bqd", att, h)
        return torch.einsum("bqd,qdk->bqk", pooled, self.weight) + self.bias


def reader_targets(used: list[list[tuple[int, int]]], n_codes: int, n_cats: int) -> torch.Tensor:
    """(N, n_codes) class per posecode: the stated category, or ``n_cats`` ("not stated")."""
    t = torch.full((len(used), n_codes), n_cats, dtype=torch.long)
    for i, u in enumerate(used):
        for ci, cat in u:
            if ci < n_codes:
                t[i, ci] = int(cat)
    return t


def category_mask(n_codes: int, n_cats: int) -> torch.Tensor:
    """(n_codes, n_cats + 1) bool: the classes a posecode can take (its categories and "not stated")."""
    from core_models.captioning.posecodes import CODE_NCATS

    m = torch.zeros(n_codes, n_cats + 1, dtype=torch.bool)
    for ci in range(n_codes):
        m[ci, :int(CODE_NCATS[ci])] = True
    m[:, n_cats] = True
    return m


def measure_codes(features, codes) -> np.ndarray:
    """Raw measurements (N, len(codes)) of the posecodes ``codes`` (indices into ``posecodes.CODES``) on
    :class:`~core_models.captioning.features.PoseFeatures`: one vectorised call per operator and joint count."""
    from core_models.captioning import posecodes as pc
    from core_models.captioning.features import EXT_INDEX

    codes = [int(c) for c in codes]
    out = np.empty((len(features), len(codes)), np.float32)
    groups: dict[tuple[str, int], list[int]] = {}
    for k, ci in enumerate(codes):
        groups.setdefault((pc.CODES[ci].op, len(pc.CODES[ci].joints)), []).append(k)
    for (op, _), ks in groups.items():
        joints = np.array([[EXT_INDEX[j] for j in pc.CODES[codes[k]].joints] for k in ks], np.int64)
        out[:, ks] = pc.measure(op, features, joints)
    return out


def bin_codes(values: np.ndarray, codes) -> np.ndarray:
    """Deterministic categories (int16, same shape) of raw measurements ``values`` (N, len(codes))."""
    from core_models.captioning import posecodes as pc

    out = np.empty(values.shape, np.int16)
    for k, ci in enumerate(codes):
        out[:, k] = pc.OPERATORS[pc.CODES[int(ci)].op].bin(values[:, k])
    return out


def body_code_categories(R: torch.Tensor, codes) -> np.ndarray:
    """Deterministic categories (N, len(codes)) of body rotations R (N,21,3,3) under the identity root."""
    from core_models.captioning.features import compute_features
    from core_models.nets.common.pose_vae import rotmats_to_pose

    f = compute_features(rotmats_to_pose(full_rotmats(R.detach().float().cpu())), normalize=False)  # no heading
    return bin_codes(measure_codes(f, codes), codes)


@torch.no_grad()
def _decode_part(qp, idx: torch.Tensor, part: str) -> torch.Tensor:
    """The rotations (B, J_part, 3, 3) of ``part``'s joints decoded from code rows ``idx`` (B,H): only that part's
    decoder runs (it reads the part's codes and the global codes; the refiner's inner loop)."""
    from core_models.pose import sixd_to_matrix

    zq = qp.lookup(idx)
    x = zq[:, qp.group_slice(part)].reshape(len(idx), -1)
    if "global" in qp.groups:
        x = torch.cat([x, zq[:, qp.group_slice("global")].reshape(len(idx), -1)], 1)
    return sixd_to_matrix(qp.decoders[part](x))


class PromptRefiner:
    """Test-time choice of the prompted parts' codes. Candidates per part: the ``top_k`` code tuples of real
    training poses (``banks``) that the prompt model scores highest, plus its per-head argmax; the posecodes the
    :class:`PosecodeReader` reads in the text are measured on each candidate decoded into the current pose, and a
    few rounds of coordinate ascent over the parts keep the candidate that realises them best (ties: the prompt
    model's score). The posecodes scored are those whose value depends on the prompted parts alone (``deps``),
    weight 1, and — with ``partial`` > 0 — those that depend on a prompted part and on others, at weight
    ``partial``: "left arm above the head" is scored although the head's height is not the arm's (the other parts
    stay as they are in the current pose, so the arm can still realise it). ``partial`` = 0: the weights before
    2026-12-07."""

    def __init__(self, reader: PosecodeReader, banks: dict[str, torch.Tensor], deps: list[list[str]],
                 top_k: int = 24, rounds: int = 2, alpha: float = 0.05, partial: float = 0.25,
                 bank_codes: dict[str, list[int]] | None = None, bank_cats: dict[str, torch.Tensor] | None = None,
                 extra: int = 0, keep: float = 0.0, phrases: float = 1.0):
        if not 0.0 <= partial <= 1.0:
            raise ValueError(f"partial must be in [0, 1] (got {partial})")
        self.reader = reader.eval()
        self.partial = partial
        self.banks = banks
        self.deps = [frozenset(d) for d in deps]
        self.top_k, self.rounds, self.alpha = top_k, rounds, alpha
        self.mask = category_mask(reader.n_codes, reader.n_cats)
        # per part: the posecodes that depend on it alone and each bank tuple's category of them
        # (:func:`bank_code_table`); ``extra`` more candidates are drawn from the tuples that realise what the
        # reader read, so a configuration the prompt model ranks low (a head tilt: < 1 % of poses) is still tried
        self.bank_codes = {p: [int(c) for c in cs] for p, cs in (bank_codes or {}).items()}
        self.bank_cats = bank_cats or {}
        self.extra = int(extra)
        # ``keep`` > 0: each posecode of a prompted part that depends on it alone and that the text does not state
        # adds ``keep`` to a candidate's score when it keeps the current pose's category ("tilt your head to the
        # left" should not also bow it) — a tie-breaker next to the stated codes' log-probabilities
        self.keep = float(keep)
        # ``phrases`` > 0: the states :func:`prompt_states.read_states` reads in everyday phrasing ("arms out to the
        # sides", "hands on hips") are scored at this weight (not down-weighted for a partial scope) in place of the
        # reader's reading of the same posecode (:meth:`with_states`); 0: the reader alone (before 2026-12-07 night)
        self.phrases = float(phrases)

    @torch.no_grad()
    def targets(self, x: torch.Tensor, m: torch.Tensor, parts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(codes read as stated and within ``parts``, their weights = P(stated) × scope weight, log P(category |
        stated))."""
        lg = self.reader(x, m)[0].cpu().masked_fill(~self.mask, float("-inf"))
        p = lg.softmax(-1)
        stated = 1.0 - p[:, -1]
        logc = lg[:, :-1].log_softmax(-1)
        scope = self._scope(parts)
        keep = [ci for ci in range(self.reader.n_codes) if stated[ci] > 0.5 and scope[ci] > 0]
        return np.asarray(keep, np.int64), stated[keep].numpy() * scope[keep], logc[keep].numpy()

    def _scope(self, parts) -> np.ndarray:
        ps = set(parts)
        return np.array([1.0 if d and d <= ps else (self.partial if d & ps else 0.0) for d in self.deps], np.float32)

    def with_states(self, codes: np.ndarray, w: np.ndarray, logc: np.ndarray, states, parts
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`targets` with the phrase-read ``states`` ([(posecode, accepted categories)]) in place of the
        reader's reading of the same posecodes: P = 0.99 spread over the accepted categories, weight ``phrases`` (a
        state the words name is not down-weighted for its partial scope); states that do not depend on a prompted
        part are dropped. Where the reader states the posecode in an accepted category, its (more precise) row
        is kept at weight ≥ ``phrases``."""
        if self.phrases <= 0 or not states:
            return codes, w, logc
        scope = self._scope(parts)
        rows = {int(c): k for k, c in enumerate(codes)}
        codes_l, w_l, logc_l = list(codes), list(w), list(logc)
        for ci, cats in states:
            if ci >= self.reader.n_codes or scope[ci] <= 0:
                continue
            valid = self.mask[ci, :-1].numpy()
            n_ok = sum(1 for c in cats if valid[c])
            if n_ok == 0:
                continue
            row = np.where(valid, np.log(0.01 / max(int(valid.sum()) - n_ok, 1)), -np.inf).astype(np.float32)
            row[list(cats)] = np.log(0.99 / n_ok) if n_ok < valid.sum() else 0.0
            if ci in rows and int(np.argmax(logc_l[rows[ci]])) in cats:  # the reader agrees, more precisely
                w_l[rows[ci]] = max(float(w_l[rows[ci]]), self.phrases)
            elif ci in rows:
                w_l[rows[ci]], logc_l[rows[ci]] = self.phrases, row
            else:
                rows[ci] = len(codes_l)
                codes_l.append(ci)
                w_l.append(self.phrases)
                logc_l.append(row)
        return (np.asarray(codes_l, np.int64), np.asarray(w_l, np.float32),
                np.stack(logc_l).astype(np.float32) if logc_l else np.zeros((0, logc.shape[1]), np.float32))

    def candidates(self, logp: torch.Tensor, part: str, wanted: dict[int, int] | None = None) -> torch.Tensor:
        """(k+1[+extra], H) code tuples: the per-head argmax, then the bank's best-scored tuples, then (``wanted``:
        {posecode: category} of codes that depend on ``part`` alone) the best-scored tuples that realise the most
        of ``wanted`` according to the bank table."""
        if part not in self.banks or not len(self.banks[part]):
            return logp.argmax(-1)[None]
        bank = self.banks[part].long()
        sc = logp.gather(1, bank.T).sum(0)
        out = [logp.argmax(-1)[None], bank[sc.topk(min(self.top_k, len(bank))).indices]]
        cols = self.bank_codes.get(part, [])
        if wanted and self.extra > 0 and part in self.bank_cats:
            use = [(cols.index(ci), cat) for ci, cat in wanted.items() if ci in cols]
            if use:
                tab = self.bank_cats[part].long()
                hits = torch.stack([tab[:, k] == cat for k, cat in use], 1).sum(1)
                best = int(hits.max())
                if best > 0:
                    ok = torch.nonzero(hits == best).flatten()
                    out.append(bank[ok[sc[ok].topk(min(self.extra, len(ok))).indices]])
        return torch.cat(out)

    @torch.no_grad()
    def choose(self, qp, base: np.ndarray, logits: dict[str, torch.Tensor], x, m, parts,
               states=None) -> dict[str, np.ndarray]:
        logp = {p: logits[p][0].cpu().log_softmax(-1) for p in parts}
        cur = torch.as_tensor(np.asarray(base, np.int64)).clone()
        codes, w, logc = self.with_states(*self.targets(x, m, parts), states, parts)
        wanted = {p: {int(ci): int(np.argmax(logc[k])) for k, ci in enumerate(codes)
                      if (self.deps[ci] == {p} or ci in self.bank_codes.get(p, ())) and w[k] >= 0.5} for p in parts}
        cands = {p: self.candidates(logp[p], p, wanted[p]) for p in parts}
        for p in parts:
            cur[qp.group_slice(p)] = cands[p][0]
        if not len(codes):
            return {p: cur[qp.group_slice(p)].numpy() for p in parts}
        dev = model_device(qp)
        R_cur = qp.decode_indices(cur[None].to(dev))[0].cpu()  # parts decode independently (global codes fixed)
        kept = self._kept(qp, base, codes, parts)
        for _ in range(self.rounds):
            for p in parts:
                c = cands[p]
                full = cur[None].repeat(len(c), 1)
                full[:, qp.group_slice(p)] = c
                jj = [j - 1 for j in qp.group_joints[p]]
                Rp = _decode_part(qp, full.to(dev), p).cpu()
                R = R_cur[None].repeat(len(c), 1, 1, 1)
                R[:, jj] = Rp
                kc, kcat = kept.get(p, ([], np.zeros(0, np.int64)))
                allc = body_code_categories(R, list(codes) + kc).astype(np.int64)
                cats = allc[:, :len(codes)]
                fit = (w[None] * np.take_along_axis(logc[None].repeat(len(c), 0), cats[..., None], 2)[..., 0]).sum(1)
                fit = fit + self.keep * (allc[:, len(codes):] == kcat[None]).sum(1)
                prior = logp[p].gather(1, c.T).sum(0).numpy()
                best = int(np.argmax(fit + self.alpha * prior))
                cur[qp.group_slice(p)] = c[best]
                R_cur[jj] = Rp[best]
        return {p: cur[qp.group_slice(p)].numpy() for p in parts}


    def _kept(self, qp, base: np.ndarray, codes: np.ndarray, parts) -> dict[str, tuple[list[int], np.ndarray]]:
        """Per prompted part: the unstated posecodes that depend on it alone, and their categories in ``base``."""
        if self.keep <= 0:
            return {}
        stated = {int(c) for c in codes}
        kc = {p: [c for c in self.bank_codes.get(p, []) if c not in stated and self.deps[c] == {p}] for p in parts}
        flat = [c for p in parts for c in kc[p]]
        if not flat:
            return {}
        R0 = qp.decode_indices(torch.as_tensor(np.asarray(base, np.int64))[None].to(model_device(qp))).cpu()
        cat0 = dict(zip(flat, body_code_categories(R0, flat)[0].astype(np.int64)))
        return {p: (kc[p], np.array([cat0[c] for c in kc[p]], np.int64)) for p in parts}


@torch.no_grad()
def bank_code_table(qp, banks: dict[str, torch.Tensor], deps: list[list[str]] | list[frozenset[str]],
                    global_codes: torch.Tensor | None = None, batch: int = 4096, with_torso: bool = False
                    ) -> tuple[dict[str, list[int]], dict[str, torch.Tensor]]:
    """Per part: the posecodes whose value depends on that part alone (``deps``) — with ``with_torso`` also those
    that depend on it and the torso (an upper arm's angle to the vertical: the torso only tilts its frame) — and,
    per bank tuple (rows of ``banks[part]``), their deterministic categories (int8), decoded with ``global_codes``
    (the training poses' most common global codes; zeros when None; the torso as in those poses) —
    :class:`PromptRefiner`'s table for its ``extra`` candidates."""
    dev = model_device(qp)
    n_total = sum(qp.n_heads[g] for g in qp.groups)
    row = torch.zeros(n_total, dtype=torch.long)
    if global_codes is not None and "global" in qp.groups:
        row[qp.group_slice("global")] = global_codes.long()
    codes: dict[str, list[int]] = {}
    cats: dict[str, torch.Tensor] = {}
    for p, bank in banks.items():
        cs = [ci for ci, d in enumerate(deps) if set(d) == {p} or (with_torso and p in d and set(d) == {p, "torso"})]
        codes[p] = cs
        out = []
        for i in range(0, len(bank), batch):
            b = bank[i:i + batch].long()
            full = row[None].repeat(len(b), 1)
            full[:, qp.group_slice(p)] = b
            R = qp.decode_indices(full.to(dev)).cpu()
            out.append(torch.from_numpy(body_code_categories(R, cs).astype(np.int8)) if cs else
                       torch.zeros(len(b), 0, dtype=torch.int8))
        cats[p] = torch.cat(out) if out else torch.zeros(0, len(cs), dtype=torch.int8)
    return codes, cats


def prompt_part_codes(prompter, text: str, parts, base: np.ndarray, qp) -> dict[str, np.ndarray]:
    """``prompter.part_codes`` with the current pose's codes ``base`` when the prompter refines its choice against
    that pose (a :class:`Prompter` with a refiner); stand-ins and plain prompters get ``(text, parts)``."""
    if getattr(prompter, "refiner", None) is not None:
        return prompter.part_codes(text, parts, base=base, qp=qp)
    return prompter.part_codes(text, parts)


class Prompter:
    """Runtime: text → {part: code indices (H_p,)} for the parts the text talks about. With a ``refiner`` and the
    current pose's codes (``base``) the codes are chosen by :class:`PromptRefiner`; else the per-head argmax."""

    def __init__(self, model: PromptToCodes, feats: ClauseFeatures | None = None, posecodes: int | None = None,
                 refiner: PromptRefiner | None = None):
        self.model = model.eval()
        self.feats = feats or ClauseFeatures()
        #: how many posecodes (CODES[:n]) the training descriptions were drawn from; None: the pre-#18 weights
        self.posecodes = posecodes
        self.refiner = refiner

    @torch.no_grad()
    def part_codes(self, text: str, parts: list[str] | None = None, base: np.ndarray | None = None,
                   qp=None) -> dict[str, np.ndarray]:
        parts = prompted_parts(text) if parts is None else parts
        if not parts:
            return {}
        x, m = self.feats.batch([text])  # the clause vectors are cached on the CPU
        dev = model_device(self.model)
        logits = self.model(x.to(dev), m.to(dev))
        if self.refiner is not None and base is not None and qp is not None:
            return self.refiner.choose(qp, base, logits, x.to(model_device(self.refiner.reader)),
                                       m.to(model_device(self.refiner.reader)), parts, states=phrase_states(text))
        return {p: logits[p][0].argmax(-1).cpu().numpy() for p in parts}


def load_prompter(name: str = "qposer_prompt", directory=None, device=None) -> Prompter:
    """The prompt model on ``device`` (None: the CPU; the MiniLM clause encoder stays where it is), with its
    posecode reader and part banks when the weights carry them (``reader.*`` / ``bank.*`` entries)."""
    dev = _dev(device)
    blob = load_weights(name, directory)
    c = blob["config"]
    state = float_state(blob["state"])
    banks = {k[5:]: v for k, v in state.items() if k.startswith("bank.")}
    rstate = {k[7:]: v for k, v in state.items() if k.startswith("reader.")}
    try:
        m = PromptToCodes(c["part_heads"], c["part_codes"], d=c["d"])
        m.load_state_dict({k: v for k, v in state.items() if not k.startswith(("bank.", "bankcat.", "reader."))})
        refiner = None
        if rstate:
            r = PosecodeReader(c["reader"]["n_codes"], c["reader"]["n_cats"], d=c["reader"]["d"],
                               null_slot=bool(c["reader"].get("null_slot", False)))
            r.load_state_dict(rstate)
            table = {k[8:]: v for k, v in state.items() if k.startswith("bankcat.")}
            refiner = PromptRefiner(r.to(dev), banks, c["reader"]["deps"], **c["reader"].get("refine", {}),
                                    bank_codes=c["reader"].get("bank_codes"), bank_cats=table or None)
    except Exception as e:
        raise WeightsError(f"the '{name}' weights do not fit the prompt model: {e}") from e
    return Prompter(m.to(dev), posecodes=c.get("posecodes"), refiner=refiner)


def load_vae_baseline(directory=None, device=None):
    """The baseline pose VAE on ``device`` (None: the CPU)."""
    dev = _dev(device)
    blob = load_weights("qposer_vae_baseline", directory)
    try:
        vae = PoseVAE(latent_dim=32, hidden=blob["config"]["hidden"], feat_dim=blob["config"]["hidden"],
                      layers=2, dropout=0.0)
        vae.load_state_dict(float_state(blob["state"]))
    except Exception as e:
        raise WeightsError(f"qposer_vae_baseline weights do not fit: {e}") from e
    vae.to(dev).eval()
    return vae


class VAEPrior:
    """The baseline VAE seen through the same interface as QPoser for the metrics (latent = posterior mean).
    Rotations go to the VAE's device; the results come back on the device ``R`` was on."""

    def __init__(self, vae):
        self.vae = vae

    @torch.no_grad()
    def reconstruct(self, R: torch.Tensor) -> torch.Tensor:
        x = R.to(model_device(self.vae))
        return self.vae.decode(self.vae.encode(full_rotmats(x)).loc)[:, 1:].to(R.device)

    @torch.no_grad()
    def plausibility(self, R: torch.Tensor) -> torch.Tensor:
        """Per pose: −‖μ(x)‖²/2 − the reconstruction error (deg/10): a cheap prior score; higher = more typical."""
        x = R.to(model_device(self.vae))
        q = self.vae.encode(full_rotmats(x))
        rec = mpjae_deg(self.vae.decode(q.loc)[:, 1:], x)
        return (-0.5 * (q.loc ** 2).sum(-1) / q.loc.shape[-1] - rec / 10.0).to(R.device)
