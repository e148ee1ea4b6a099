"""Vocabulary and speed of the modifier grammar, measured over pose pairs.

``modifier_vocabulary(pose_a, pose_b, n_texts)`` generates ``n_texts`` noisy modifier texts per pair and
counts their distinct words; ``sample_pairs(n)`` makes corpus-like pairs without the corpus (library poses,
each with one to three body parts perturbed at random, plus pairs of random poses). From a shell::

    python -m core_models.captioning.vocab                    # corpus pairs if the corpus exists, else sampled
    python -m core_models.captioning.vocab --sampled --pairs 2000 --texts 3
"""
from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core_models import skeleton as sk
from core_models.pose import Pose, euler_to_aa

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
#: body-part groups that a perturbation redraws (one to three of them per pair)
_GROUPS = ("left_arm", "right_arm", "left_leg", "right_leg", "torso", "head")


def words_of(text: str) -> list[str]:
    """Lower-cased words of a text (apostrophes kept: "don't", "hand's")."""
    return _WORD.findall(text.lower())


@dataclass
class VocabularyReport:
    n_pairs: int
    n_texts: int
    words: dict[str, int]       # word -> count
    examples: list[str]         # random example texts
    seconds: float              # time spent in modifier()

    @property
    def size(self) -> int:
        return len(self.words)

    def summary(self) -> str:
        rate = self.n_pairs * self.n_texts / max(self.seconds, 1e-9)
        lines = [f"modifier vocabulary: {self.size} distinct words over {self.n_pairs} pairs x {self.n_texts} texts "
                 f"({rate:.0f} texts/s)"]
        lines += [f"  {k + 1:2d}. {t}" for k, t in enumerate(self.examples)]
        return "\n".join(lines)


def _random_euler(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    lim = sk.JOINT_LIMITS_DEG * scale
    return rng.uniform(lim[..., 0], lim[..., 1], size=(n, sk.NUM_JOINTS, 3))


def perturb(base: Pose, rng: np.random.Generator, scale: float = 0.6) -> Pose:
    """``base`` (a batch) with one to three random body parts per pose redrawn within the joint limits × scale."""
    full = base.full().copy()
    new = euler_to_aa(_random_euler(rng, len(full), scale).astype(np.float32))
    for r in range(len(full)):
        k = int(rng.integers(1, 4))
        for g in rng.choice(len(_GROUPS), k, replace=False):
            js = list(sk.BODY_PARTS[_GROUPS[g]])
            full[r, js] = new[r, js]
    return Pose.from_full(full)


def sample_pairs(n: int, seed: int = 0, random_share: float = 0.25) -> tuple[Pose, Pose]:
    """``n`` corpus-like pairs (A, B) without the corpus: a library pose (or its mirror) → the same pose with one
    to three parts redrawn, either way round, and a share of pairs between two random poses."""
    from core_models.library import load_builtin
    from core_models.pose import mirror

    rng = np.random.default_rng(seed)
    lib = np.stack([p.pose.full() for p in load_builtin()])
    lib = np.concatenate([lib, mirror(Pose.from_full(lib)).full()])
    n_rand = int(round(n * random_share))
    n_lib = n - n_rand
    base = Pose.from_full(lib[rng.integers(len(lib), size=n_lib)])
    moved = perturb(base, rng)
    swap = rng.random(n_lib) < 0.5
    a_full = np.where(swap[:, None, None], moved.full(), base.full())
    b_full = np.where(swap[:, None, None], base.full(), moved.full())
    e = _random_euler(rng, 2 * n_rand, 0.6)
    e[:, 0] = rng.uniform(-25, 25, size=(2 * n_rand, 3))
    e[:, 0, 1] = rng.uniform(-60, 60, size=2 * n_rand)
    rnd = euler_to_aa(e.astype(np.float32))
    a_full = np.concatenate([a_full, rnd[:n_rand]])
    b_full = np.concatenate([b_full, rnd[n_rand:]])
    return Pose.from_full(a_full.astype(np.float32)), Pose.from_full(b_full.astype(np.float32))


def modifier_vocabulary(pose_a: Pose, pose_b: Pose, n_texts: int = 3, seed: int = 0, n_examples: int = 20,
                        batch: int = 4096, rest_joints: np.ndarray | None = None) -> VocabularyReport:
    """Distinct words of ``n_texts`` noisy modifiers per pair (seeded as the editor's data builder seeds them)."""
    from core_models.captioning.compare import modifier

    n = len(pose_a.full())
    texts: list[str] = []
    t0 = time.perf_counter()
    for s in range(0, n, batch):
        pa, pb = pose_a[s:s + batch], pose_b[s:s + batch]
        for k in range(n_texts):
            out = modifier(pa, pb, seed=seed + 7919 * k + s, rest_joints=rest_joints)
            texts.extend([out] if isinstance(out, str) else out)
    seconds = time.perf_counter() - t0
    words: dict[str, int] = {}
    for t in texts:
        for w in words_of(t):
            words[w] = words.get(w, 0) + 1
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(texts), min(n_examples, len(texts)), replace=False) if texts else np.zeros(0, np.int64)
    return VocabularyReport(n, n_texts, words, [texts[int(i)] for i in pick], seconds)


def _corpus_pairs(path: str | None, n: int, seed: int) -> tuple[Pose, Pose]:
    from core_models.data.corpus import Corpus
    from core_models.data.pairs import PairSet, pair_poses

    corpus = Corpus(path)
    pfile = Path(corpus.dir) / "pairs.npz"
    if not pfile.exists():
        raise FileNotFoundError(f"{pfile} does not exist yet; run python main.py data build, or use --sampled")
    pairs = PairSet.load(pfile)
    idx = np.sort(np.random.default_rng(seed).choice(len(pairs), min(n, len(pairs)), replace=False))
    sub = PairSet(*(getattr(pairs, k)[idx] for k in ("a", "b", "kind", "two_way", "split", "n_diff")))
    return pair_poses(corpus, sub)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m core_models.captioning.vocab", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=None, help="corpus folder or corpus.npz (default: the cache folder)")
    ap.add_argument("--sampled", action="store_true", help="library-based sampled pairs instead of corpus pairs")
    ap.add_argument("--pairs", type=int, default=5000, help="number of pairs (default 5000)")
    ap.add_argument("--texts", type=int, default=3, help="modifier texts per pair (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.pairs <= 0 or args.texts <= 0:
        ap.error("--pairs and --texts must be positive")
    try:
        pa, pb = sample_pairs(args.pairs, args.seed) if args.sampled else \
            _corpus_pairs(args.corpus, args.pairs, args.seed)
    except FileNotFoundError as e:
        print(f"error: {e}")
        return 2
    print(modifier_vocabulary(pa, pb, args.texts, args.seed).summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
