"""Issue 14 item 5: the text-assisted lifter study on real MediaPipe sequences (grid runner; writes JSON).

    nice -n 5 .venv/bin/python tools/study_textlift.py --landmarks real_v1 --seeds 0,1,2 \
        --out docs/capture/studies/textlift_real_v1.json

Grid (every run: ``core_models.nets.textlift.train.train_run`` + ``eval.evaluate``, 1 thread):
  main      windows 27 / 81 × causal / centred × alignment none / cm (the seed's best) × seeds;
  controls  (window 27, causal) cm with the teacher as a fixed KL target (stop-gradient, "sg"), the oracle
            teacher (CM fed the ground-truth canonical joints, sg), cm with a shuffled caption (another pose's
            text), the text as a test-time input; and none / cm / input with the left arm hidden in every frame
            (ambiguous 2D where a description could disambiguate).
Runs already in the output file are skipped (``--resume`` is the default), so an interrupted grid continues.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_models.nets.textlift.config import TextLiftConfig  # noqa: E402
from core_models.nets.textlift.data import heldout_data, study_data  # noqa: E402
from core_models.nets.textlift.eval import evaluate  # noqa: E402
from core_models.nets.textlift.train import train_run  # noqa: E402


#: control settings at window 27, causal (``sg``: the alignment KL does not train the teacher)
CONTROLS = (dict(align="cm", sg=True), dict(align="oracle", sg=True), dict(align="cm", shuffle=True),
            dict(align="input"))
OCCLUDED = (dict(align="none"), dict(align="cm"), dict(align="input"))


def plan(which: str, seeds: list[int], windows: tuple[int, ...] = (27, 81),
         modes: tuple[bool, ...] = (True, False)) -> list[dict]:
    """Seed by seed (an interrupted grid still has every setting at the first seeds): the main grid, then the
    controls, then the occluded-arm settings."""
    parts = {"main", "controls", "occlusion"} if which == "all" else set(which.split(","))
    runs = []
    for s in seeds:
        if "main" in parts:
            runs += [dict(window=w, causal=c, align=a, seed=s) for w in windows for c in modes
                     for a in ("none", "cm")]
        if "controls" in parts:
            runs += [dict(window=27, causal=True, seed=s, **v) for v in CONTROLS]
        if "occlusion" in parts:
            runs += [dict(window=27, causal=True, occlude="left_arm", seed=s, **v) for v in OCCLUDED]
    return runs


def run_key(r: dict) -> str:
    return (f"T{r['window']}{'c' if r['causal'] else 'm'}-{r['align']}{'-sg' if r.get('sg') else ''}"
            f"{'-shuf' if r.get('shuffle') else ''}{'-occ_' + r['occlude'] if r.get('occlude') else ''}-s{r['seed']}")


def setting_key(r: dict) -> str:
    return run_key(r).rsplit("-s", 1)[0]


def summarise(runs: list[dict]) -> dict:
    """Per setting: MPJPE / PA-MPJPE mean ± std over seeds and the gain over the matching no-text runs
    (paired by seed: 100·(none − variant)/none)."""
    by: dict[str, list[dict]] = {}
    for r in runs:
        by.setdefault(setting_key(r), []).append(r)
    out = {}
    for k, rs in sorted(by.items()):
        m = np.array([r["mpjpe_mm"] for r in rs])
        pa = np.array([r["pa_mpjpe_mm"] for r in rs])
        row = {"n": len(rs), "mpjpe_mean": round(float(m.mean()), 2), "mpjpe_std": round(float(m.std()), 2),
               "pa_mean": round(float(pa.mean()), 2), "pa_std": round(float(pa.std()), 2)}
        ref = {r["seed"]: r for r in runs if r["align"] == "none" and not r.get("shuffle")
               and r["window"] == rs[0]["window"] and r["causal"] == rs[0]["causal"]
               and r.get("occlude") == rs[0].get("occlude")}
        gains = [100 * (ref[r["seed"]]["mpjpe_mm"] - r["mpjpe_mm"]) / ref[r["seed"]]["mpjpe_mm"]
                 for r in rs if r["seed"] in ref]
        if gains and rs[0]["align"] != "none":
            row.update(gain_mean=round(float(np.mean(gains)), 2), gain_std=round(float(np.std(gains)), 2))
        if all("val" in r for r in rs):
            v = np.array([r["val"]["mpjpe_mm"] for r in rs])
            row.update(val_mpjpe_mean=round(float(v.mean()), 2), val_mpjpe_std=round(float(v.std()), 2))
            vg = [100 * (ref[r["seed"]]["val"]["mpjpe_mm"] - r["val"]["mpjpe_mm"]) / ref[r["seed"]]["val"]["mpjpe_mm"]
                  for r in rs if r["seed"] in ref and "val" in ref[r["seed"]]]
            if vg and rs[0]["align"] != "none":
                row.update(val_gain_mean=round(float(np.mean(vg)), 2), val_gain_std=round(float(np.std(vg)), 2))
        out[k] = row
    return out


def table(summary: dict) -> str:
    lines = ["| setting | seeds | MPJPE mm (mean ± std) | PA-MPJPE mm | MPJPE gain vs no text (paired) "
             "| val MPJPE mm | val gain |", "|---|---|---|---|---|---|---|"]
    for k, r in summary.items():
        g = f"{r['gain_mean']:+.2f} ± {r['gain_std']:.2f} %" if "gain_mean" in r else ""
        v = f"{r['val_mpjpe_mean']:.1f} ± {r['val_mpjpe_std']:.1f}" if "val_mpjpe_mean" in r else ""
        vg = f"{r['val_gain_mean']:+.2f} ± {r['val_gain_std']:.2f} %" if "val_gain_mean" in r else ""
        lines.append(f"| {k} | {r['n']} | {r['mpjpe_mean']:.1f} ± {r['mpjpe_std']:.1f} | "
                     f"{r['pa_mean']:.1f} ± {r['pa_std']:.1f} | {g} | {v} | {vg} |")
    return "\n".join(lines)


def one_run(r: dict, data, args) -> dict:
    train, tt, test, tt_test = data[:4]
    cfg = TextLiftConfig(window=r["window"], causal=r["causal"], align=r["align"], channels=args.channels,
                         teacher_sg=bool(r.get("sg")))
    model, info = train_run(cfg, train, tt, args.steps, args.batch, args.lr, r["seed"], real_frac=args.real_frac,
                            shuffle_text=bool(r.get("shuffle")), hide=r.get("occlude"))
    res = evaluate(model, test, tt_test, r.get("occlude"))
    if len(data) > 4 and data[4] is not None:
        res["val"] = evaluate(model, *data[4], r.get("occlude"))
    return {**r, "key": run_key(r), **res, "seconds": info["seconds"], "final_losses": info["history"][-1]}


def merge(files: list[str], out: Path) -> int:
    """One result file from several (runs de-duplicated by key; data/settings from the first)."""
    states = [json.loads(Path(f).read_text()) for f in files]
    runs = list({r["key"]: r for st in states for r in st["runs"]}.values())
    merged = {k: v for k, v in states[0].items() if k not in ("runs", "summary")}
    merged["commands"] = [st.get("command") for st in states]
    merged["runs"], merged["summary"] = runs, summarise(runs)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(merged, indent=1))
    print(table(merged["summary"]))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--landmarks", default="real_v1")
    ap.add_argument("--test-landmarks", default=None,
                    help="dataset(s) whose test-split sequences form the test set (default --landmarks; "
                         "comma-separated, e.g. real_v1,textlift_seq from tools/study_textlift_seqs.py)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--plan", default="all", help="all, or a comma list of main / controls / occlusion")
    ap.add_argument("--windows", default="27,81", help="main-grid windows (the controls run at 27)")
    ap.add_argument("--modes", default="causal,centred", help="main-grid modes")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--real-frac", type=float, default=0.5)
    ap.add_argument("--synth-segments", type=int, default=120)
    ap.add_argument("--out", default="docs/capture/studies/textlift_real_v1.json")
    ap.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                    help="merge these result files (e.g. one per seed, run in parallel) into --out and stop")
    args = ap.parse_args(argv)
    if args.merge:
        return merge(args.merge, Path(args.out))
    torch.set_num_threads(1)
    out = Path(args.out)
    state = json.loads(out.read_text()) if out.exists() else {"runs": []}
    done = {r["key"] for r in state["runs"]}
    t0 = time.time()
    data = study_data(args.landmarks or None, args.synth_segments, test_landmarks=args.test_landmarks)
    if args.landmarks:
        data = (*data, heldout_data(args.landmarks, "val"))
    train, test = data[0], data[2]
    state["data"] = {"landmarks": args.landmarks, "test_landmarks": args.test_landmarks or args.landmarks,
                     "train_frames": len(train),
                     "train_real_targets": int(train.targets(True).size),
                     "train_synth_targets": int(train.targets(False).size),
                     "train_sequences": train.n_sequences, "test_frames": int(test.targets().size),
                     "test_sequences": test.n_sequences, "synth_segments": args.synth_segments,
                     "data_seconds": round(time.time() - t0, 1)}
    state["settings"] = {k: getattr(args, k) for k in ("steps", "batch", "lr", "channels", "real_frac")}
    state["command"] = "nice -n 5 .venv/bin/python tools/study_textlift.py " + " ".join(sys.argv[1:])
    windows = tuple(int(w) for w in args.windows.split(","))
    modes = tuple(m == "causal" for m in args.modes.split(","))
    for r in plan(args.plan, [int(s) for s in args.seeds.split(",")], windows, modes):
        if run_key(r) in done:
            continue
        res = one_run(r, data, args)
        print(f"[study] {res['key']}: MPJPE {res['mpjpe_mm']} PA {res['pa_mpjpe_mm']} ({res['seconds']} s)", flush=True)
        state["runs"].append(res)
        state["summary"] = summarise(state["runs"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(state, indent=1))
    print(table(summarise(state["runs"])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
