"""Corrector evaluation (``python main.py eval corrector``): R-precision by the independent judge, BLEU /
ROUGE-L / METEOR against the automatic references, and reconstruction of B by the text editor."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from core_models.nets.common.weights import (
    WeightsError,
)
from core_models.nets.corrector.infer import Corrector, load_corrector
from core_models.nets.editor.infer import (
    load_editor,
)
from core_models.nets.judge.infer import Judge, load_judge
from core_models.nets.training.common import log, set_threads
from core_models.nets.training.pairs import (
    SPLIT_IDS,
    PairData,
    load_pairs,
    pairs_from_mocap,
)
from core_models.nets.training.retrieval import pools, r_precision
from core_models.nets.training.textmetrics import (
    all_metrics,
)
from core_models.pose import Pose


def add_eval_args(p) -> None:
    p.add_argument("--corpus", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    p.add_argument("--split", default="test", choices=list(SPLIT_IDS))
    p.add_argument("--mocap", default=None, help="evaluate on a folder of mocap files (imported on the fly)")
    p.add_argument("--max-pairs", type=int, default=2000, help="evaluate a random subset of this many pairs")
    p.add_argument("--beam", type=int, default=0, help="also a beam-search row with this beam size (0: off)")
    p.add_argument("--no-repeat", type=int, default=0,
                   help="also a greedy row that forbids repeating any n-gram of this size (0: off)")
    p.add_argument("--recon-pairs", type=int, default=100,
                   help="pairs used for the reconstruction columns (text editor, best of --samples)")
    p.add_argument("--samples", type=int, default=30)
    p.add_argument("--pools", default="32,200")
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)


def _rule_texts(a: np.ndarray, b: np.ndarray) -> list[str]:
    from core_models.captioning.compare import correct
    from core_models.pose import Pose

    return [correct(Pose.from_full(a[i]), Pose.from_full(b[i])).text for i in range(len(a))]


def _reconstruction(rows: dict[str, list[str]], data: PairData, n: int, samples: int, seed: int,
                    device="cpu"):
    """{row: {MPJE, MPVE, geodesic}} (mm, mm, degrees; best of ``samples`` per pair and metric, averaged),
    or a string saying why it is pending. The editor runs on ``device`` and hands its samples back on the CPU."""
    try:
        editor = load_editor(device=device)
    except Exception as e:  # the editor (issue #5) is optional for this evaluation
        return f"pending: text editor unavailable ({type(e).__name__}: {e})"
    from core_models.body import load_body
    from core_models.pose import Pose, aa_to_matrix, geodesic_deg

    body = load_body("anny")
    n = min(n, len(data))
    out: dict[str, dict[str, float]] = {}
    torch.manual_seed(seed)
    vsub = np.random.default_rng(0).choice(len(body.skinning.rest_vertices), 2000, replace=False)

    def centred(p: Pose):
        o = body.forward(Pose(p.root_orient, p.body_pose))
        root = o.joints[..., :1, :]
        return o.joints - root, o.vertices[..., vsub, :] - root

    jb, vb = centred(Pose.from_full(data.b[:n]))
    for name, texts in rows.items():
        mj, mv, gd = [], [], []
        for s0 in range(0, n, 25):
            idx = range(s0, min(n, s0 + 25))
            if hasattr(editor, "predict_normalized"):  # batched; A is heading-normalised, B in A's frame
                from core_models.pose import matrix_to_aa

                A_rot = torch.as_tensor(aa_to_matrix(data.a[s0:s0 + len(idx)]), dtype=torch.float32)
                _, samp = editor.predict_normalized(A_rot, [texts[i] for i in idx], samples, seed)
                full = np.asarray(matrix_to_aa(np.asarray(samp, np.float64)), np.float32)  # (b,n,22,3)
            else:
                full = np.stack([editor.edit(Pose.from_full(data.a[i]), texts[i], n_samples=samples,
                                             keep_global=False).samples.full() for i in idx])
            for k, i in enumerate(idx):
                sp = Pose.from_full(full[k])
                js, vs = centred(sp)
                mj.append(1000 * np.linalg.norm(js - jb[i], axis=-1).mean(-1).min())
                mv.append(1000 * np.linalg.norm(vs - vb[i], axis=-1).mean(-1).min())
                g = np.asarray(geodesic_deg(full[k], np.broadcast_to(data.b[i], full[k].shape).copy()))
                gd.append(g.mean(-1).min())
        out[name] = {"MPJE": float(np.mean(mj)), "MPVE": float(np.mean(mv)), "geodesic": float(np.mean(gd))}
    return out


def _eval_pairs(args) -> tuple[PairData, str]:
    if args.mocap:
        return pairs_from_mocap(args.mocap, args.max_pairs, args.seed), f"mocap folder {args.mocap}"
    return load_pairs(args.corpus, args.split, args.max_pairs, args.seed), f"corpus {args.split} split"


def _generated_texts(args, corrector: Corrector, data: PairData) -> dict[str, list[str]]:
    """Every text row of the table: ground truth, a shuffled (wrong) text, the rule-based coach, the corrector."""
    n = len(data)
    gt = [g[0] for g in data.texts]
    perm = np.random.default_rng(args.seed).permutation(n)
    fix = perm == np.arange(n)
    perm[fix] = (perm[fix] + 1) % n
    A, B = Pose.from_full(data.a), Pose.from_full(data.b)
    rows: dict[str, list[str]] = {"ground-truth auto text": gt, "random text": [gt[j] for j in perm]}
    t = time.time()
    rows["rule-based (compare.correct)"] = _rule_texts(data.a, data.b)
    rule_s = time.time() - t
    t = time.time()
    rows["learned (greedy)"] = _as_list(corrector.generate(A, B, method="greedy", no_repeat=0))
    gen_s = time.time() - t
    if args.no_repeat:
        rows[f"learned (greedy, no-rep {args.no_repeat})"] = _as_list(
            corrector.generate(A, B, method="greedy", no_repeat=args.no_repeat))
    if args.beam:
        t = time.time()
        rows[f"learned (beam {args.beam})"] = _as_list(corrector.generate(A, B, method="beam", beam=args.beam))
        log(f"[eval] beam decoding {time.time() - t:.0f} s")
    log(f"[eval] texts: rules {rule_s:.0f} s, greedy {gen_s:.0f} s ({1000 * gen_s / n:.1f} ms/pair batched)")
    return rows


def _as_list(texts: str | list[str]) -> list[str]:
    return [texts] if isinstance(texts, str) else texts


def _score_rows(args, judge: Judge, data: PairData, rows: dict[str, list[str]],
                pool_sizes: list[int]) -> dict[str, dict]:
    """R-precision by the judge for each pool size and the NLP metrics against the other references."""
    n = len(data)
    refs = [g[1:] if len(g) > 1 else g for g in data.texts]
    zp = judge.embed_pairs(Pose.from_full(data.a), Pose.from_full(data.b))
    table: dict[str, dict] = {}
    for name, texts in rows.items():
        zt = judge.embed_texts(texts)
        r: dict = {}
        for ps in pool_sizes:
            rp = r_precision(zt, zp, pools(n, ps, args.seed))
            r.update({f"{k}/{ps}": v for k, v in rp.items()})
        # the ground-truth row is scored against the other two references, as every other row
        r.update(all_metrics(texts, refs))
        r["words"] = float(np.mean([len(x.split()) for x in texts]))
        table[name] = r
    return table


def _print_table(args, table: dict[str, dict], pool_sizes: list[int], n: int, source: str, recon) -> None:
    cols = [f"R@{k}/{ps}" for ps in pool_sizes for k in (1, 2, 3)] + ["bleu4", "rouge_l", "meteor", "words"]
    rcols = ["MPJE", "MPVE", "geodesic"]
    print(f"Correction text generation — {n} held-out pairs ({source}); R@k/pool = R-precision (%) by the "
          f"independent judge; NLP metrics vs 2 automatic references; reconstruction = text editor on A, "
          f"best of {args.samples} vs B on {min(args.recon_pairs, n)} pairs (mm, mm, deg)")
    head = f"{'text':<30}" + "".join(f"{c:>9}" for c in cols) + "".join(f"{c:>9}" for c in rcols)
    print(head)
    print("-" * len(head))
    for name, r in table.items():
        line = f"{name:<30}" + "".join(f"{r[c]:>9.2f}" for c in cols)
        line += "".join(f"{r[c]:>9.1f}" if c in r else f"{'pending':>9}" for c in rcols)
        print(line)
    if not isinstance(recon, dict):
        print(f"reconstruction: {recon}")


#: ``--device cuda`` is allowed (core_models.cli.train_eval): corrector, judge and editor load on the device and
#: hand their results back on the CPU
DEVICE_CLEAN = True


def run_eval(args) -> int:
    set_threads(args.threads)
    wd = Path(args.weights_dir) if args.weights_dir else None
    dev = getattr(args, "device", None) or "cpu"  # resolved by core_models.cli.train_eval
    try:
        corrector = load_corrector(directory=wd, device=dev)
        judge = load_judge(directory=wd, device=dev)
    except WeightsError as e:
        print(f"error: {e}")
        return 2
    t0 = time.time()
    data, source = _eval_pairs(args)
    n = len(data)
    if n < 2:
        print(f"error: only {n} pairs to evaluate")
        return 2
    log(f"[eval] {n} pairs from {source} ({time.time() - t0:.0f} s)")
    rows = _generated_texts(args, corrector, data)
    pool_sizes = [int(x) for x in args.pools.split(",") if int(x) <= n]
    table = _score_rows(args, judge, data, rows, pool_sizes)
    recon = _reconstruction(rows, data, args.recon_pairs, args.samples, args.seed, dev) if args.recon_pairs > 0 \
        else "skipped (--recon-pairs 0)"
    if isinstance(recon, dict):
        for name, m in recon.items():
            table[name].update(m)
    _print_table(args, table, pool_sizes, n, source, recon)
    print(json.dumps({"name": "eval_corrector", "pairs": n, "source": source,
                      "reconstruction": "done" if isinstance(recon, dict) else recon,
                      "rows": {k: {c: round(v, 2) for c, v in r.items()} for k, r in table.items()}}))
    return 0
