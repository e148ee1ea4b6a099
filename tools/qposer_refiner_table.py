"""Add the prompt refiner's bank table to existing prompt weights (same tensors otherwise): per part, the
posecodes that depend on that part alone and each bank tuple's category of them, decoded with the training
poses' most common global codes; the refiner's ``extra`` candidates drawn from it and its ``keep`` weight
(unstated single-part posecodes kept as they were; ``PromptRefiner``). A
retrained prompt stage (``train qposer --stage prompt``) writes both itself; this re-saves weights trained before.

    python tools/qposer_refiner_table.py --corpus C [--weights-dir W] [--extra 64] [--keep 0.5] [--no-with-torso]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--weights-dir", default=None)
    ap.add_argument("--extra", type=int, default=64)
    ap.add_argument("--keep", type=float, default=0.5)
    ap.add_argument("--with-torso", action=argparse.BooleanOptionalAction, default=True,
                    help="the table also holds each part's posecodes that depend on it and the torso (as "
                         "`train qposer --stage prompt` writes it since 2026-12-07 night)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from core_models.data.corpus import Corpus
    from core_models.nets.common.weights import load_weights, manifest, save_weights, weights_dir
    from core_models.nets.qposer.data import corpus_rotmats
    from core_models.nets.qposer.infer import bank_code_table, load_qposer
    from core_models.nets.qposer.train import global_mode

    wdir = Path(args.weights_dir) if args.weights_dir else weights_dir()
    qp = load_qposer("qposer", wdir)
    blob = load_weights("qposer_prompt", wdir)
    state, config = dict(blob["state"]), dict(blob["config"])
    if "reader" not in config:
        raise SystemExit("error: these prompt weights have no refiner")
    banks = {k[5:]: v for k, v in state.items() if k.startswith("bank.")}
    t0 = time.time()
    glob = global_mode(qp, corpus_rotmats(Corpus(args.corpus), "train"))
    codes, table = bank_code_table(qp, banks, config["reader"]["deps"], glob, with_torso=args.with_torso)
    state = {k: v for k, v in state.items() if not k.startswith("bankcat.")}
    state.update({f"bankcat.{p}": t for p, t in table.items()})
    reader = dict(config["reader"])
    reader["bank_codes"] = codes
    reader["table_with_torso"] = bool(args.with_torso)
    reader["refine"] = {**reader.get("refine", {}), "extra": int(args.extra), "keep": float(args.keep)}
    config["reader"] = reader
    man = manifest("qposer_prompt", wdir) or {}
    prev = man.get("notes", [])
    notes = [prev] if isinstance(prev, str) else list(prev)  # older manifests hold one string
    notes.append(f"{time.strftime('%Y-%m-%d %H:%M')}: bank table added, refiner extra = {args.extra}, keep = "
                 f"{args.keep} by `python tools/qposer_refiner_table.py --corpus {args.corpus} --extra {args.extra} "
                 f"--keep {args.keep}{'' if args.with_torso else ' --no-with-torso'}` (same tensors "
                 f"otherwise; {sum(len(t) for t in table.values())} tuples, {time.time() - t0:.0f} s)")
    meta = {k: v for k, v in man.items() if k not in ("file", "sha256", "bytes", "created")}
    meta["notes"] = notes
    save_weights("qposer_prompt", state, config, meta, directory=wdir, half=True)
    print(f"[refiner-table] {wdir / 'qposer_prompt.pt'}: codes per part "
          f"{ {p: len(c) for p, c in codes.items()} }, extra {args.extra}, keep {args.keep}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
