"""Greedy decoding latency of the corrector: one pose pair, exactly N tokens (EOS suppressed), 1 thread.

    .venv/bin/python tests/bench/bench_corrector.py [--tokens 40] [--repeats 30] [--weights DIR]

Uses the shipped weights when present (else a randomly initialised network of the shipped default size).
Prints the wall-clock median / p90 and the median CPU time of the process (what the decode costs when
it is not waiting for a core on a shared machine) and ends with a JSON line {"name", "value", "unit"};
target ≤ 50 ms for 40 tokens.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import torch  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from core_models.nets.corrector import EOS, CorrectorConfig, CorrectorNet, load_corrector, pose_features
    from core_models.pose import Pose

    try:
        net = load_corrector(directory=Path(args.weights) if args.weights else None).net
        src = "shipped weights"
    except Exception as e:
        vocab = ["<pad>", "<bos>", "<eos>", "<unk>"] + [f"w{i}" for i in range(180)]
        net = CorrectorNet(CorrectorConfig(vocab=vocab)).eval()
        src = f"random init ({e.__class__.__name__})"
    with torch.no_grad():
        net.out.bias[EOS] = -1e4  # never stop early: measure exactly --tokens steps
    rng = np.random.default_rng(0)
    a = Pose(rng.normal(0, 0.3, (1, 3)).astype(np.float32), rng.normal(0, 0.3, (1, 21, 3)).astype(np.float32))
    b = Pose(rng.normal(0, 0.3, (1, 3)).astype(np.float32), rng.normal(0, 0.3, (1, 21, 3)).astype(np.float32))
    times, cpu = [], []
    for r in range(args.repeats + 3):
        t, c = time.perf_counter(), time.process_time()
        fa, fb = pose_features(a), pose_features(b)
        ids = net.greedy(fa, fb, max_len=args.tokens)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        assert len(ids[0]) == args.tokens, len(ids[0])
        if r >= 3:
            times.append(dt * 1000)
            cpu.append(dc * 1000)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"corrector greedy decode, {args.tokens} tokens, 1 pair, {args.threads} thread(s), {src}, "
          f"{n_params / 1e6:.2f} M parameters: wall median {np.median(times):.1f} ms (p90 "
          f"{np.percentile(times, 90):.1f}), CPU time median {np.median(cpu):.1f} ms "
          f"(wall minus waiting for a core on a loaded machine)")
    print(json.dumps({"name": "corrector_greedy_40_tokens", "value": round(float(np.median(times)), 2),
                      "unit": "ms", "target": 50, "cpu_ms": round(float(np.median(cpu)), 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
