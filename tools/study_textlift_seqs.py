"""Extra held-out **real MediaPipe sequences** for the text-assisted lifter study (issue 14 item 5).

The shared landmark dataset (``python main.py data landmarks --name real_v1``) interleaves its ~60 sequences
with 24k stills, and on the shared CPU only a handful of them are ready when the study must start — about one
in ten from the test split. This tool renders more sequences of **test-split** (and ``--splits``) corpus clips
with the same builder (``core_models.capture.realdata.render_job``: random phenotype, camera, background, light,
MediaPipe in VIDEO mode), one job per sequence, into its own dataset folder (``--name``, default
``textlift_seq``), readable with ``load_landmark_dataset``. Shorter sequences than the builder's 96 frames
(``--frames``) keep it affordable; a re-run resumes (finished shards are kept).

    nice -n 5 .venv/bin/python tools/study_textlift_seqs.py --n 26 --frames 64
    nice -n 5 .venv/bin/python tools/study_textlift_seqs.py --name textlift_seq_train --splits train --n 40 \
        --frames 96 --seed 8
    .venv/bin/python tools/study_textlift_seqs.py --snapshot real_v1      # → real_v1_snap (sequences only)
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
for _var in ("LP_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("GLOG_minloglevel", "2")


def jobs(n: int, frames: int, splits: list[str], seed: int):
    from core_models.capture import realdata as rd
    from core_models.data.corpus import SPLITS

    corpus = rd._load_corpus(None)
    a = corpus.arrays
    rng = np.random.default_rng([seed, 3])
    settings = rd.BuildSettings(n_still=0, n_seq_clips=n, seq_frames=frames, variants=("lite", "full"),
                                coaching_fraction=0.0, seed=seed)
    cands = [i for i, c in enumerate(corpus.clips) if c.get("split") in splits and int(c.get("frames", 0)) >= frames]
    chosen = rng.permutation(cands)[:n]
    out = []
    for k, c in enumerate(chosen):
        c = int(c)
        mirrored = bool(rng.random() < 0.5)
        n_frames = int(((a["clip"] == c) & (a["mirrored"] == mirrored)).sum())
        start = int(rng.integers(0, n_frames - frames + 1))
        seg = rd._segment(corpus, c, mirrored, start, frames)
        m = len(seg["rows"])
        out.append(rd.Job(k, "seq", seg["root"], seg["body"], seg["transl"],
                          [SPLITS[int(a["split"][seg["rows"][0]])]] * m, [corpus.clips[c].get("source", "?")] * m,
                          np.full(m, c, np.int32), a["frame"][seg["rows"]].astype(np.int32), seg["time"],
                          seq_id=k, seed=seed, variants=settings.variant_probs()))
    return settings, out


def snapshot(name: str) -> int:
    """Freeze the sequence shards of a dataset that is still being built into ``<name>_snap`` (the study's
    cached pools depend on the data not changing between its parallel runs)."""
    import json
    import shutil

    from core_models.capture import realdata as rd

    src, dst = rd.dataset_dir(name), rd.dataset_dir(name + "_snap")
    dst.mkdir(parents=True, exist_ok=True)
    n = 0
    for p in sorted(src.glob("shard_[0-9][0-9][0-9][0-9].npz")):
        with np.load(p, allow_pickle=False) as z:
            if len(z["kind"]) and (z["kind"] == "seq").all():
                if not (dst / p.name).exists():
                    shutil.copy(p, dst / p.name)
                n += 1
    meta = json.loads((src / "meta.json").read_text())
    meta.update(snapshot_of=f"{name} (its sequence shards at {time.strftime('%H:%M:%S')})", sequences=n)
    (dst / "meta.json").write_text(json.dumps(meta, indent=1))
    print(f"[seqs] {dst}: {n} sequence shards")
    return 0


def main(argv=None) -> int:
    from core_models.capture import realdata as rd

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="textlift_seq")
    ap.add_argument("--n", type=int, default=12, help="sequences (distinct clips)")
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--splits", default="test")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--snapshot", default=None, metavar="NAME",
                    help="only copy NAME's finished sequence shards into NAME_snap and stop")
    args = ap.parse_args(argv)
    if args.snapshot:
        return snapshot(args.snapshot)
    settings, todo = jobs(args.n, args.frames, args.splits.split(","), args.seed)
    out = rd.dataset_dir(args.name)
    out.mkdir(parents=True, exist_ok=True)
    done, t0 = [], time.perf_counter()
    for job in todo:
        old = rd._old_counts(out, job)
        if old is None:
            old = dict(rd.render_job(job, out), new=True)
        done.append(old)
        print(f"[seqs] {len(done)}/{len(todo)}: clip {int(job.clip[0])} ({job.split[0]}), "
              f"{old['detected']}/{old['rows']} detected ({time.perf_counter() - t0:.0f} s)", flush=True)
        rd._write_meta(out, settings, done, time.perf_counter() - t0, len(done) == len(todo), len(todo), 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
