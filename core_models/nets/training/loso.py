"""Leave-one-source-out (LOSO): train without one mocap source, evaluate on that source alone.

The corpus rows carry their clip (``corpus.npz`` ``clip``) and each clip its source (``clips.json``: the
top-level folder under the mocap root: hdm05, cmu_expmap, …). A LOSO run does not change any model code: it
points the model at a *view* of the corpus whose split ids are rewritten (the arrays, pairs and texts are the
originals; the text files are symbolic links):

* ``without-SOURCE`` (``train X --exclude-source SOURCE``): every pose of SOURCE, and every pair touching one,
  gets split id 3 (in no split), so the train / val / test splits hold the other sources only;
* ``only-SOURCE`` (``eval X --loso SOURCE``, alias ``--holdout-source``): every pose of SOURCE is in the test
  split (whatever its clip's split was) and the other sources' test poses leave it (id 3); test pairs are the
  pairs between two poses of SOURCE (pairs never cross clips' splits, so those are SOURCE's own pairs).

Views live in ``<corpus>/loso/<name>/`` and are rebuilt when the corpus changes. ``eval X --loso SOURCE``
refuses weights whose manifest does not say they were trained without SOURCE (``--allow-seen-source``
evaluates them anyway: the in-distribution number on the same poses, for comparison).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from core_models.nets.training.common import log

#: split id of the poses and pairs a view leaves out of every split
EXCLUDED = 3
#: the manifests ``eval X --loso`` checks (the weights each evaluation reads)
MANIFESTS = {"editor": ("editor",), "corrector": ("corrector",), "qposer": ("qposer",), "lifter": ("lifter",),
             "embroider": ("embroider",), "autopose": ("autopose",)}
_LINKED = ("modifiers.json", "descriptions.json", "descriptions_index.npy", "report.json")


class LosoError(ValueError):
    """A LOSO request that cannot be honoured (unknown source, corpus without clip sources, seen weights)."""


def _corpus_dir(corpus_dir: str | Path | None) -> Path:
    from core_models.data.corpus import default_corpus_dir

    d = Path(corpus_dir) if corpus_dir else default_corpus_dir()
    return d.parent if d.suffix == ".npz" else d  # --corpus may name corpus.npz itself


def clip_sources(corpus_dir: str | Path | None) -> list[str]:
    """The source of every clip (index = the clip id stored with each pose)."""
    d = _corpus_dir(corpus_dir)
    cj = d / "clips.json"
    if not cj.exists():
        raise LosoError(f"{d} has no clips.json: the clip → source mapping is missing (rebuild with data build)")
    return [str(c.get("source", "other")) for c in json.loads(cj.read_text())]


def pose_sources(clip: np.ndarray, sources: list[str]) -> np.ndarray:
    """(N,) source name of each pose from its clip id."""
    names = np.asarray(sources + ["?"], dtype=object)
    c = np.asarray(clip, np.int64)
    return names[np.where((c >= 0) & (c < len(sources)), c, len(sources))]


def source_counts(corpus_dir: str | Path | None) -> dict[str, int]:
    """{source: poses (mirrored copies included)} of a built corpus."""
    d = _corpus_dir(corpus_dir)
    with np.load(d / "corpus.npz", allow_pickle=False) as z:
        clip = z["clip"]
    names, counts = np.unique(pose_sources(clip, clip_sources(d)).astype(str), return_counts=True)
    return {str(n): int(k) for n, k in zip(names, counts)}


def check_source(corpus_dir: str | Path | None, source: str) -> None:
    known = sorted(set(clip_sources(corpus_dir)))
    if source not in known:
        raise LosoError(f"unknown source {source!r}; the corpus at {_corpus_dir(corpus_dir)} has: {', '.join(known)}")


def loso_splits(split: np.ndarray, in_source: np.ndarray, role: str) -> np.ndarray:
    """Rewritten split ids. ``role`` "train": the source's rows leave every split; "test": the source's rows
    are the test split and nothing else is."""
    out = np.asarray(split).astype(np.int8).copy()
    if role == "train":
        out[in_source] = EXCLUDED
    elif role == "test":
        out[out == 2] = EXCLUDED
        out[in_source] = 2
    else:
        raise ValueError(f"role must be 'train' or 'test', not {role!r}")
    return out


def pair_splits(pair_split: np.ndarray, a_in: np.ndarray, b_in: np.ndarray, role: str) -> np.ndarray:
    """Pairs: "train" — a pair touching the source leaves every split; "test" — pairs inside the source are the
    test split, every other test pair and every mixed pair leave it."""
    out = np.asarray(pair_split).astype(np.int8).copy()
    if role == "train":
        out[a_in | b_in] = EXCLUDED
    else:
        out[(out == 2) | (a_in != b_in)] = EXCLUDED
        out[a_in & b_in] = 2
    return out


def _stamp(d: Path) -> dict:
    return {f: [st.st_mtime_ns, st.st_size] for f in ("corpus.npz", "pairs.npz", "clips.json")
            if (st := (d / f).stat() if (d / f).exists() else None) is not None}


def view_name(source: str, role: str) -> str:
    return f"{'without' if role == 'train' else 'only'}-{source}"


def make_view(corpus_dir: str | Path | None, source: str, role: str) -> Path:
    """The corpus view for ``role`` ("train": without ``source``; "test": ``source`` as the test split),
    built once per corpus version under ``<corpus>/loso/``."""
    d = _corpus_dir(corpus_dir).resolve()
    check_source(d, source)
    out = d / "loso" / view_name(source, role)
    info = {"origin": str(d), "source": source, "role": role, "stamp": _stamp(d)}
    vf = out / "view.json"
    if vf.exists() and json.loads(vf.read_text()) == info:
        return out
    out.mkdir(parents=True, exist_ok=True)
    with np.load(d / "corpus.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    sources = clip_sources(d)
    in_src = pose_sources(arrays["clip"], sources) == source
    arrays["split"] = loso_splits(arrays["split"], in_src, role)
    np.savez(out / "corpus.tmp.npz", **arrays)
    os.replace(out / "corpus.tmp.npz", out / "corpus.npz")
    clips = json.loads((d / "clips.json").read_text())
    for c in clips:
        if c.get("source") == source:
            c["split"] = "test" if role == "test" else "excluded"
        elif role == "test" and c.get("split") == "test":
            c["split"] = "excluded"
    (out / "clips.json").write_text(json.dumps(clips, indent=1))
    if (d / "pairs.npz").exists():
        from core_models.data.pairs import PairSet

        ps = PairSet.load(d / "pairs.npz")
        ps.split = pair_splits(ps.split, in_src[ps.a], in_src[ps.b], role)
        ps.save(out / "pairs.npz")
    for name in _LINKED:
        link = out / name
        if (d / name).exists() and not link.exists():
            link.symlink_to(d / name)
    vf.write_text(json.dumps(info))
    n = int(in_src.sum())
    log(f"[loso] view {out.name}: {n} poses of {source} {'left out' if role == 'train' else 'as the test split'}")
    return out


# --- command-line hooks (core_models.cli.train_eval adds them to every train / eval that reads the corpus) ----

def add_train_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--exclude-source", default=None, metavar="SOURCE",
                   help="train without this mocap source (leave-one-source-out; see eval --loso)")


def add_eval_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--loso", "--holdout-source", dest="loso", default=None, metavar="SOURCE",
                   help="evaluate on this mocap source alone (all its clips); the weights must have been trained "
                        "with --exclude-source SOURCE")
    p.add_argument("--allow-seen-source", action="store_true",
                   help="with --loso: evaluate weights that saw the source too (the in-distribution number)")


def apply_train(args: argparse.Namespace) -> None:
    """``--exclude-source``: point ``args.corpus`` at the view without the source."""
    src = getattr(args, "exclude_source", None)
    if src:
        args.corpus = str(make_view(getattr(args, "corpus", None), src, "train"))
        log(f"[loso] training without {src}: corpus view {args.corpus}")


def _weights_dir(args: argparse.Namespace) -> Path:
    for key in ("weights_dir", "weights"):
        v = getattr(args, key, None)
        if v:
            return Path(v)
    from core_models.nets.common.weights import weights_dir

    return weights_dir()


def trained_without(manifest_text: str, source: str) -> bool:
    return f"{view_name(source, 'train')}" in manifest_text or f"--exclude-source {source}" in manifest_text


def apply_eval(args: argparse.Namespace, model: str) -> None:
    """``--loso``: check the weights were trained without the source, then point ``args.corpus`` at the view
    where that source is the test split. LosoError when the check fails."""
    src = getattr(args, "loso", None)
    if not src:
        return
    if getattr(args, "mocap", None):
        raise LosoError("--loso and --mocap both choose the test clips; give one")
    check_source(getattr(args, "corpus", None), src)
    if not getattr(args, "allow_seen_source", False):
        wd = _weights_dir(args)
        for name in MANIFESTS.get(model, (model,)):
            f = wd / f"{name}.json"
            if not f.exists() or not trained_without(f.read_text(), src):
                raise LosoError(f"{f} does not say it was trained without {src}: train it with "
                                f"`python main.py train {model} --exclude-source {src} …` into its own folder and "
                                f"evaluate that folder, or pass --allow-seen-source for the in-distribution number")
    args.corpus = str(make_view(getattr(args, "corpus", None), src, "test"))
    log(f"[loso] evaluating on {src} alone: corpus view {args.corpus}")
