"""`data build` and `data stats`: the pose corpus from mocap, its pairs and automatic captions."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def register(sub) -> None:
    d = sub.add_parser("data", help="build / inspect the pose corpus from motion capture")
    dsub = d.add_subparsers(dest="data_cmd", metavar="<build|stats|landmarks>", required=True)
    b = dsub.add_parser("build", help="mocap folder → corpus (+ pairs and captions) in a cache folder")
    b.add_argument("--mocap", required=True, help="folder of BVH / ASF+AMC / exp-map CSV / DeepMimic files")
    b.add_argument("--out", default=None, help="output folder (default ~/.cache/posetailor/corpus)")
    b.add_argument("--target", type=int, default=60000, help="max poses in the farthest-point subset")
    b.add_argument("--min-dist", type=float, default=0.02,
                   help="stop sampling when poses are closer than this (RMS per-joint, metres)")
    b.add_argument("--texts", type=int, default=3, help="automatic modifiers per pair")
    b.add_argument("--no-pairs", action="store_true", help="corpus only")
    b.add_argument("--pairs-only", action="store_true",
                   help="keep the existing corpus in --out; rebuild pairs, modifiers and descriptions")
    b.add_argument("--limit-files", type=int, default=None, help="use only the first N files (quick runs)")
    b.set_defaults(func=_build)
    s = dsub.add_parser("stats", help="corpus and caption statistics + examples")
    s.add_argument("--corpus", default=None, help="corpus folder (default ~/.cache/posetailor/corpus)")
    s.add_argument("--examples", type=int, default=10)
    s.add_argument("--thumbs", default=None, help="write thumbnails of the examples into this folder")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true", help="end with one JSON line of the statistics")
    s.set_defaults(func=_stats)
    from core_models.cli.capture_eval import add_landmarks_parser

    add_landmarks_parser(dsub)


def _build(args) -> int:
    import numpy as np

    from core_models.body import load_body
    from core_models.data.corpus import Corpus, build_corpus, default_corpus_dir

    out = Path(args.out) if args.out else default_corpus_dir()
    body = load_body("anny")
    t0 = time.time()
    if not args.pairs_only:
        build_corpus(args.mocap, out, body=body, target=args.target, min_dist=args.min_dist,
                     limit_files=args.limit_files)
    if not args.no_pairs:
        from core_models.data.pairs import build_pairs, caption_pairs, save_captions

        corpus = Corpus(out)
        pairs = build_pairs(corpus, rest_joints=body.skinning.rest_joints)
        pairs.save(out / "pairs.npz")
        texts = caption_pairs(corpus, pairs, n_texts=args.texts, rest_joints=body.skinning.rest_joints)
        save_captions(out / "modifiers.json", texts)
        _describe_selected(corpus, body, out)
    c = Corpus(out)
    n_pairs = len(np.load(out / "pairs.npz", allow_pickle=False)["a"]) if (out / "pairs.npz").exists() else 0
    print(json.dumps({"name": "corpus_build", "selected": int(c.arrays["selected"].sum()), "frames": len(c) // 2,
                      "pairs": n_pairs, "seconds": round(time.time() - t0, 1)}))
    return 0


def _describe_selected(corpus, body, out: Path, n_texts: int = 3) -> None:
    import numpy as np

    from core_models.captioning.describe import describe
    from core_models.data.pairs import save_captions

    idx = corpus.indices(selected_only=True)
    texts = []
    for s in range(0, len(idx), 4096):
        poses = corpus.poses(idx[s:s + 4096])
        per = [describe(poses, seed=1000 * k + s, rest_joints=body.skinning.rest_joints) for k in range(n_texts)]
        texts.extend([list(t) for t in zip(*per)])
        print(f"[data] descriptions {min(s + 4096, len(idx))}/{len(idx)}", file=sys.stderr)
    np.save(out / "descriptions_index.npy", idx)
    save_captions(out / "descriptions.json", texts)


def _stats(args) -> int:
    import numpy as np

    from core_models.data.corpus import SPLITS, Corpus

    c = Corpus(args.corpus)
    a = c.arrays
    print(f"corpus: {c.dir}")
    stats: dict[str, Any] = {"per_source": _source_stats(c)}
    for k, name in enumerate(SPLITS):
        m = a["split"] == k
        print(f"split {name:<5}: {int(m.sum())} poses, {int((m & a['selected']).sum())} selected")
    stats["poses"] = int(len(a["clip"]))
    stats["selected"] = int(a["selected"].sum())
    stats["mirrored"] = int(a["mirrored"].sum())
    rep = c.dir / "report.json"
    if rep.exists():
        r = json.loads(rep.read_text())
        stats["fps_min_dist_mm"] = round(1000 * r.get("fps_min_dist_m", float("nan")), 1)
        print(f"farthest-point subset: {stats['selected']} distinct poses, min separation "
              f"{stats['fps_min_dist_mm']} mm RMS per joint")
    rng = np.random.default_rng(args.seed)
    examples: dict = {}
    for fname, label in (("modifiers.json", "modifiers"), ("descriptions.json", "descriptions")):
        f = c.dir / fname
        if not f.exists():
            continue
        texts = json.loads(f.read_text())
        flat = [t for group in texts for t in group]
        words = [w.strip(".,;:").lower() for t in flat for w in t.split()]
        distinct = np.mean([len(set(g)) for g in texts]) if texts else 0
        stats[label] = {"items": len(texts), "texts": len(flat), "vocabulary": len(set(words)),
                        "avg_words": round(len(words) / max(1, len(flat)), 1),
                        "distinct_per_item": round(float(distinct), 2)}
        print(f"{label}: {stats[label]}")
        examples[label] = []
        for i in rng.choice(len(texts), size=min(args.examples, len(texts)), replace=False):
            print(f"  [{i}] {texts[i][0]}")
            examples[label].append((int(i), texts[i][0]))
    pf = c.dir / "pairs.npz"
    if pf.exists():
        from core_models.data.pairs import PairSet

        ps = PairSet.load(pf)
        stats["pairs"] = {SPLITS[k]: int((ps.split == k).sum()) for k in range(3)}
        stats["pairs"]["in_sequence"] = int((ps.kind == 0).sum())
        stats["pairs"]["out_of_sequence"] = int((ps.kind == 1).sum())
        print(f"pairs: {stats['pairs']}")
    # most frequent posecodes over the selected poses (deterministic extraction)
    try:
        from core_models.captioning.posecodes import CODES, OPERATORS, extract

        sel = c.indices(selected_only=True)[:20000]
        pcs = extract(c.poses(sel))
        counts = {}
        for ci, spec in enumerate(CODES):
            cats = OPERATORS[spec.op].categories
            vals, n = np.unique(pcs.cats[:, ci], return_counts=True)
            for v, k in zip(vals, n):
                if "ignored" not in cats[int(v)]:
                    counts[f"{spec.key}={cats[int(v)]}"] = int(k)
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:10]
        print("most frequent codes:", ", ".join(f"{k} ({v})" for k, v in top))
        stats["top_codes"] = top
    except Exception as e:  # statistics are best effort, never fatal
        print(f"(posecode statistics unavailable: {e})")
    if args.thumbs:
        _thumbs(c, args, examples)
    if args.json:
        print(json.dumps(stats))
    return 0


def _source_stats(c) -> dict:
    """Per source: clips, frames (un-mirrored), poses (with mirrors), selected (farthest-point subset),
    minutes, frame-weighted retarget error, % frames changed by the joint-limit clamp, pose-space coverage;
    printed as a table."""
    import numpy as np

    from core_models.data.corpus import _corpus_stats, source_coverage

    per, _ = _corpus_stats(c.clips, c.arrays)
    src = np.array([cl["source"] for cl in c.clips])[c.arrays["clip"]]
    rep = c.dir / "report.json"
    min_dist = json.loads(rep.read_text()).get("fps_min_dist_m", 0.025) if rep.exists() else 0.025
    radius = 2.0 * float(min_dist)
    cov = source_coverage(c, radius)
    print(f"{'source':<22}{'clips':>6}{'frames':>8}{'poses':>8}{'selected':>9}{'minutes':>8}{'retarget mm':>12}"
          f"{'clamped %':>10}{'coverage %':>11}")
    for s, d in sorted(per.items()):
        d["poses"] = int((src == s).sum())
        d["coverage_pct"] = cov.get(s, float("nan"))
        print(f"{s:<22}{d['clips']:>6}{d['frames']:>8}{d['poses']:>8}{d['selected']:>9}{d['minutes']:>8.1f}"
              f"{d['retarget_mpjpe_mm']:>12.1f}{d['clamped_pct']:>10.1f}{d['coverage_pct']:>11.1f}")
    print(f"(retarget mm: frame-weighted MPJPE of the retarget check; clamped %: frames whose solve exceeded a "
          f"joint limit by > 2° and were clamped — n/a (nan) for a corpus built before that was recorded; "
          f"coverage %: of 1,000 poses drawn from the whole farthest-point subset, those with a pose of the "
          f"source within {1000 * radius:.0f} mm RMS per joint)")
    return per


def _thumbs(c, args, examples: dict) -> None:
    """One sheet per text kind: the printed examples with their pose (descriptions) or pose pair A → B
    (modifiers) rendered by the headless renderer, the first text wrapped under the images."""
    import textwrap

    import numpy as np
    from PIL import Image, ImageDraw

    from core_models.body import load_body
    from core_models.data.pairs import PairSet, pair_poses
    from core_models.render.offscreen import render_pose_image

    body = load_body("anny")
    out = Path(args.thumbs)
    out.mkdir(parents=True, exist_ok=True)
    T = 200
    for label, items in examples.items():
        if not items:
            continue
        if label == "descriptions":
            idx = np.load(c.dir / "descriptions_index.npy", allow_pickle=False)
            groups = [[c.poses(int(idx[i]))] for i, _ in items]
        else:
            ps = PairSet.load(c.dir / "pairs.npz")
            groups = []
            for i, _ in items:
                pa, pb = pair_poses(c, ps, slice(i, i + 1))
                groups.append([pa[0], pb[0]])
        cols = max(len(g) for g in groups)
        W = T * cols + 420
        sheet = Image.new("RGB", (W, T * len(items)), "white")
        d = ImageDraw.Draw(sheet)
        for r, ((i, text), g) in enumerate(zip(items, groups)):
            for k, pose in enumerate(g):
                img = render_pose_image(body, pose, size=(T, T), view="three_quarter")
                sheet.paste(Image.fromarray(img), (k * T, r * T))
                if len(g) == 2:
                    d.text((k * T + 4, r * T + 4), "AB"[k], fill=(255, 255, 255))
            d.multiline_text((cols * T + 8, r * T + 8), f"[{i}] " + "\n".join(textwrap.wrap(text, 62)),
                             fill=(0, 0, 0))
        f = out / f"{label}_examples.png"
        sheet.save(f)
        print(f"thumbnails: {f}")
