"""Multi-process training on PyTorch's own engine (``torch.distributed`` + DistributedDataParallel).

Every ``python main.py train X`` runs unchanged under ``torchrun --nproc_per_node N main.py train X …``:
torchrun sets ``WORLD_SIZE`` / ``RANK`` / ``LOCAL_RANK`` / ``MASTER_ADDR`` / ``MASTER_PORT`` and
:func:`setup` (called by ``core_models.cli.train_eval`` before the run) joins the process group — gloo on the
CPU, nccl on CUDA (each process on ``cuda:LOCAL_RANK``). Without those variables nothing here does anything:
the single-process path is the plain loop, bit for bit.

The scheme keeps one *global* batch per step, so N processes train the same run as one process:
* every rank draws the same random numbers (same seed) and builds the same global batch, then keeps its own
  contiguous slice (:func:`shard`, the distributed sampler: equal shares in rank order; a global batch that
  does not divide by the process count gives the first ranks one row more);
* the loss is computed through a DistributedDataParallel module (:func:`wrap`), which averages the gradients
  over the ranks in ``backward`` — the mean of equal-size slice means is the global mean, so the update is
  the one-process update (up to float summation order);
* anything that depends on the wall clock (time budgets, schedules that follow them) reads
  :func:`elapsed`, the maximum over the ranks, so every rank stops at the same step;
* only rank 0 writes checkpoints, manifests and logs (:func:`is_main`; the CLI silences the stdout of the
  other ranks).
Known difference: module *buffers* that a forward pass updates (QPoser's EMA codebooks) follow rank 0's slice —
DDP broadcasts rank 0's buffers before each forward pass.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

#: filled with the global mean loss of every :func:`wrap` step while not None (tests, loss-curve checks)
TRACE: list[float] | None = None


def env_world_size() -> int:
    """WORLD_SIZE from the environment (1 when unset: a plain run)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def active() -> bool:
    """A process group of more than one process is up."""
    dist = torch.distributed
    return bool(dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1)


def world_size() -> int:
    return torch.distributed.get_world_size() if active() else 1


def rank() -> int:
    return torch.distributed.get_rank() if active() else 0


def is_main() -> bool:
    """Rank 0 (or a plain run): the process that saves weights, manifests and logs."""
    return rank() == 0


_CONTROL: Any = None  # a gloo group for control messages (works beside nccl)
_RELEASED = False


def setup(device: str = "cpu", quiet_others: bool = True) -> str:
    """Join the process group torchrun described (a no-op without ``WORLD_SIZE`` > 1) and return the device
    this process trains on: ``cpu`` (gloo) or ``cuda:LOCAL_RANK`` (nccl). ``quiet_others``: ranks > 0 write
    their stdout to /dev/null (their stderr stays, for errors).

    Ranks > 0 then wait until rank 0 has prepared its data and reaches its first :func:`wrap` (caches written
    next to the corpus — text encodings, corpus views — are then written once, by rank 0, and read by the
    others); when rank 0 finishes without ever training through :func:`wrap`, the other ranks exit quietly."""
    global _CONTROL
    if env_world_size() <= 1 or active():
        return device
    dist = torch.distributed
    cuda = str(device).startswith("cuda")
    local = int(os.environ.get("LOCAL_RANK", os.environ.get("RANK", "0")))
    if cuda:
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    # long timeouts: ranks > 0 wait in one broadcast while rank 0 prepares its data (or trains a model whose loop
    # has no distributed hooks, alone)
    dist.init_process_group(backend="nccl" if cuda else "gloo", timeout=datetime.timedelta(hours=24))
    _CONTROL = dist.new_group(backend="gloo", timeout=datetime.timedelta(hours=24)) if cuda else dist.group.WORLD
    if dist.get_rank() > 0:
        if quiet_others:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
        flag = torch.zeros(1)
        dist.broadcast(flag, 0, group=_CONTROL)  # wait for rank 0's data preparation
        if flag.item() == 0:  # rank 0 finished without a distributed loop: nothing for this rank to do
            dist.destroy_process_group()
            _leave(0)
    return device


def _release(go: bool) -> None:
    """Rank 0: let the waiting ranks go on (``go``) or exit."""
    global _RELEASED
    if active() and rank() == 0 and not _RELEASED:
        _RELEASED = True
        torch.distributed.broadcast(torch.tensor([1.0 if go else 0.0]), 0, group=_CONTROL)


def _leave(code: int) -> None:
    """End a rank > 0 without the interpreter's normal shutdown: once its process group is gone, gloo's worker
    threads can still be joinable at exit, and their C++ destructors abort the process ("terminate called
    without an active exception", exit -6), which torchrun reports as a failed run."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def teardown(code: int = 0) -> None:
    """Leave the process group and end the process with ``code`` (1 when an error is propagating): every rank
    exits through :func:`_leave` once the group was joined, rank 0 too — its gloo threads abort a normal
    interpreter shutdown just as often."""
    if active():
        _release(False)
        failing = sys.exc_info()[0] is not None  # called from a ``finally`` while an error propagates
        torch.distributed.destroy_process_group()
        _leave(1 if failing else int(code or 0))


def _slice(n: int) -> slice:
    """Rank r's rows of a global batch of n: equal contiguous shares (the first n % w ranks one row more when
    n does not divide; a batch smaller than the world goes whole to every rank, so no rank sees an empty one)."""
    w, r = world_size(), rank()
    if n < w:
        return slice(0, n)
    q, extra = divmod(n, w)
    lo = r * q + min(r, extra)
    return slice(lo, lo + q + (1 if r < extra else 0))


def shard(x: Any) -> Any:
    """This rank's contiguous share of a global batch: a tensor / array / list (rows), or a dataclass / tuple /
    dict of them (each field alike). The whole batch in a plain run."""
    if not active():
        return x
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return x[_slice(len(x))]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return dataclasses.replace(x, **{f.name: shard(getattr(x, f.name)) for f in dataclasses.fields(x)})
    if isinstance(x, dict):
        return {k: shard(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(shard(v) for v in x)
    if isinstance(x, list):
        return x[_slice(len(x))]
    if hasattr(x, "shard") and callable(x.shard):  # batch containers that know how to cut themselves
        return x.shard(_slice)
    return x


def _group_for(t: torch.Tensor) -> Any:
    """CPU scalars go through the gloo control group (nccl only reduces CUDA tensors)."""
    return None if t.is_cuda else _CONTROL


def elapsed(t0: float) -> float:
    """Seconds since ``t0``, the maximum over the ranks (so time budgets end on the same step everywhere)."""
    e = time.time() - t0
    if not active():
        return e
    t = torch.tensor([e], dtype=torch.float64)
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX, group=_group_for(t))
    return float(t.item())


def mean(value: float) -> float:
    """The mean of a number over the ranks (a logged loss of the global batch)."""
    if not active():
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64)
    torch.distributed.all_reduce(t, group=_group_for(t))
    return float(t.item()) / world_size()


def share(count: torch.Tensor) -> torch.Tensor:
    """The per-rank share of a count summed over the global batch (its all-reduced sum / world size): a loss
    normalised by a data-dependent count (``x.sum() / share(mask.sum())``) then averages to the global-batch
    loss under DDP. ``count`` itself in a plain run."""
    if not active():
        return count
    t = count.detach().clone().to(torch.float64)
    torch.distributed.all_reduce(t, group=_group_for(t))
    return (t / world_size()).to(count.dtype if count.is_floating_point() else torch.float32)


def barrier() -> None:
    if active():
        torch.distributed.barrier()


class _LossModule(torch.nn.Module):
    """``forward(*a)`` = ``fn(model, *a)``: lets DDP see a loss computed through any of the model's methods."""

    def __init__(self, model: torch.nn.Module, fn: Callable[..., Any]):
        super().__init__()
        self.model = model
        self.fn = fn

    def forward(self, *args: Any, **kw: Any) -> Any:
        return self.fn(self.model, *args, **kw)


def _first_tensor(out: Any) -> torch.Tensor | None:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out:
        return _first_tensor(out[0])
    if isinstance(out, dict):
        return _first_tensor(out.get("total", next(iter(out.values()), None)))
    return None


class LossStep:
    """The loss of one step, ``fn(model, *batch)``: through DistributedDataParallel when a process group is up
    (gradients averaged over the ranks in ``backward``), a direct call otherwise. Returns what ``fn`` returns."""

    def __init__(self, model: torch.nn.Module, fn: Callable[..., Any]):
        self.model, self.fn = model, fn
        self.ddp: torch.nn.Module | None = None
        if active():
            _release(True)
            from torch.nn.parallel import DistributedDataParallel as DDP

            dev = next(model.parameters()).device
            ids = [dev.index] if dev.type == "cuda" else None
            self.ddp = DDP(_LossModule(model, fn), device_ids=ids, find_unused_parameters=True)

    def __call__(self, *args: Any, **kw: Any) -> Any:
        out = self.ddp(*args, **kw) if self.ddp is not None else self.fn(self.model, *args, **kw)
        if TRACE is not None:
            t = _first_tensor(out)
            if t is not None:
                TRACE.append(mean(float(t.detach())))
        return out


def wrap(model: torch.nn.Module, fn: Callable[..., Any]) -> LossStep:
    """See :class:`LossStep`."""
    return LossStep(model, fn)
