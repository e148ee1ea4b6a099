"""The real-landmark trainer's learning-rate schedule (``core_models.nets.lifter.real._schedule``): warm-up, then a
cosine decay over the step count or — with a time budget — over the elapsed time, so a run cut by
``--max-minutes`` still ends annealed (the OneCycle schedule it replaces stayed high when the time ran out)."""
import torch

from core_models.nets.lifter import real


def _lr_after(sched, opt, n: int) -> float:
    for _ in range(n):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]


def _opt():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)


def test_step_schedule_warms_up_and_decays_to_near_zero():
    opt = _opt()
    sched = real._schedule(opt, 1.0, steps=100, max_minutes=None)
    assert opt.param_groups[0]["lr"] < 0.1                 # warm-up starts low
    assert _lr_after(sched, opt, 5) > 0.95                  # peak after 5 %
    assert 0.4 < _lr_after(sched, opt, 47) < 0.6            # half way down the cosine
    assert _lr_after(sched, opt, 48) < 0.01                 # annealed at the last step


def test_time_budget_anneals_even_when_few_steps_ran(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(real.time, "time", lambda: clock[0])
    opt = _opt()
    sched = real._schedule(opt, 1.0, steps=1_000_000, max_minutes=10)
    clock[0] += 60 * 5                                       # half the budget gone after 10 of 1e6 steps
    assert 0.4 < _lr_after(sched, opt, 10) < 0.6
    clock[0] += 60 * 5
    assert _lr_after(sched, opt, 1) < 0.01
