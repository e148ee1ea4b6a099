"""Multi-process training (core_models.nets.training.distributed): 2 CPU processes under torchrun (gloo) train the
same run as 1 process — same global batch, the loss curve and the parameters after k steps agree — and a
``train X`` command runs unchanged under torchrun with rank 0 alone writing the weights."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core_models.nets.training import distributed as dist
from core_models.nets.training.ddp_check import compare

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def _run(cmd: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                       env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def test_two_cpu_processes_reproduce_one_process(tmp_path):
    """The real auto-posing loop, 6 steps of a global batch of 32: 1 process vs 2 gloo processes (16 rows each)."""
    check = ["-m", "core_models.nets.training.ddp_check", "--steps", "6", "--batch", "32"]
    from core_models.nets.training import ddp_check

    assert ddp_check.main([*check[2:], "--out", str(tmp_path / "one.npz")]) == 0  # in this process: no group
    _run([*TORCHRUN, *check, "--out", str(tmp_path / "two.npz")])
    res = compare(str(tmp_path / "one.npz"), str(tmp_path / "two.npz"))
    assert res["world_sizes"] == [1, 2] and res["steps"] == 6
    assert res["loss_rel_diff"] < 1e-5  # the global-batch loss curve
    assert res["param_abs_diff"] < 1e-6  # the parameters after 6 AdamW steps
    assert res["param_change"] > 100 * max(res["param_abs_diff"], 1e-9)  # and they did move


def _tiny_corpus(folder: Path, n: int = 240) -> None:
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(4, 21, 3)) * 0.35
    aa = np.einsum("nk,kjc->njc", rng.uniform(-1, 1, (n, 4)), basis).astype(np.float32)
    split = np.zeros(n, np.int8)
    split[n - 60:n - 30] = 1
    split[n - 30:] = 2
    np.savez(folder / "corpus.npz", root_orient=np.zeros((n, 3), np.float32), body_pose=aa, split=split,
             mirrored=np.zeros(n, bool), selected=np.ones(n, bool), clip=(np.arange(n) // 30).astype(np.int32),
             heading=rng.normal(size=n).astype(np.float32))


def test_a_train_command_runs_unchanged_under_torchrun(tmp_path):
    """``torchrun --nproc_per_node 2 main.py train qposer …``: both ranks train, rank 0 alone reports and saves."""
    _tiny_corpus(tmp_path)
    w = tmp_path / "w"
    r = _run([*TORCHRUN, "main.py", "train", "qposer", "--config", "tiny", "--corpus", str(tmp_path),
              "--weights-dir", str(w), "--steps", "12"])
    assert r.stdout.count("[qposer] saved qposer") == 1  # rank 1's stdout is silenced
    man = json.loads((w / "qposer.json").read_text())
    assert man["steps"] == 12 and man["metrics"]["val_mpjae_deg"] > 0
    assert sorted(p.name for p in w.iterdir()) == ["qposer.json", "qposer.pt"]


def test_plain_run_helpers_change_nothing():
    assert not dist.active() and dist.world_size() == 1 and dist.rank() == 0 and dist.is_main()
    x = torch.arange(10)
    assert dist.shard(x) is x and dist.mean(2.5) == 2.5
    c = torch.tensor(7.0)
    assert dist.share(c) is c
    t0 = time.time() - 3.0
    assert 3.0 <= dist.elapsed(t0) < 60.0
    model = torch.nn.Linear(3, 1)
    step = dist.wrap(model, lambda m, a: m(a).pow(2).mean())
    a = torch.ones(4, 3)
    assert step.ddp is None and torch.equal(step(a), model(a).pow(2).mean())


@pytest.mark.parametrize("n", [1, 2, 7, 32])
def test_shards_cover_the_global_batch_in_rank_order(monkeypatch, n):
    """3 ranks: contiguous shares in rank order that cover every row once (sizes differ by at most one); a batch
    smaller than the world goes whole to every rank (no rank trains on an empty share)."""
    monkeypatch.setattr(dist, "active", lambda: True)
    monkeypatch.setattr(dist, "world_size", lambda: 3)
    rows = []
    for r in range(3):
        monkeypatch.setattr(dist, "rank", lambda r=r: r)
        part = dist.shard({"x": np.arange(n), "t": (torch.arange(n), list(range(n)))})
        assert list(part["x"]) == part["t"][0].tolist() == part["t"][1]
        rows.append(list(part["x"]))
    if n < 3:
        assert all(r == list(range(n)) for r in rows)
    else:
        assert sum(rows, []) == list(range(n)) and max(map(len, rows)) - min(map(len, rows)) <= 1


def test_progress_logs_come_from_rank_0_only(monkeypatch, capsys):
    from core_models.nets.training.common import log

    log("from rank 0")
    monkeypatch.setattr(dist, "rank", lambda: 1)
    log("from rank 1")
    assert capsys.readouterr().err == "from rank 0\n"


def test_a_loop_without_hooks_runs_on_rank_0_alone(tmp_path):
    """A training command that never reaches ``wrap`` (no distributed loop) under torchrun: rank 0 runs it as a
    plain process, the other ranks wait and then exit quietly — no rank writes twice, nothing hangs."""
    script = tmp_path / "plain.py"
    script.write_text("import pathlib, sys\n"
                      "from core_models.nets.training import distributed as d\n"
                      "d.setup('cpu')\n"
                      "pathlib.Path(sys.argv[1], f'rank{d.rank()}').write_text('ran')\n"
                      "d.teardown()\n")
    _run([*TORCHRUN, str(script), str(tmp_path)])
    assert sorted(p.name for p in tmp_path.glob("rank*")) == ["rank0"]
