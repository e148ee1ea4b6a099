"""Auto-posing network: a tiny training run lowers the loss, inference shapes / devices, the services hook, and the
shipped weights driving DragSolver on a library pose."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core_models import skeleton as sk
from core_models.nets.autopose import AutoPoser, build_model, effectors_of, limit_excess, load_autoposer
from core_models.nets.autopose.data import PoseSet, make_batch
from core_models.nets.autopose.train import autopose_losses, train_net
from core_models.nets.common.weights import WeightsError
from core_models.pose import Pose, aa_to_matrix_np, clamp_to_limits, limit_violation_deg
from core_models.posing import NUM_EFFECTORS, DragSolver, effector_positions
from core_models.services import ModelServices, ModelUnavailable

torch.set_num_threads(1)
REST = sk.DEFAULT_REST_JOINTS
TINY = {"hidden": 32, "blocks": 1, "use_start": True}


def _toy_set(n: int = 400, seed: int = 0) -> PoseSet:
    """Smooth random 'clips' of 40 frames (so start-pose partners exist), within the joint limits."""
    rng = np.random.default_rng(seed)
    clips = n // 40
    base = rng.normal(0, 0.25, (clips, 1, 22, 3))
    drift = np.cumsum(rng.normal(0, 0.02, (clips, 40, 22, 3)), 1)
    aa = (base + drift).reshape(-1, 22, 3).astype(np.float32)
    aa[:, 0] = np.array([0.0, 0.0, 0.0])
    p = clamp_to_limits(Pose.from_full(aa))
    R = aa_to_matrix_np(p.full()).astype(np.float32)
    lo = np.repeat(np.arange(clips) * 40, 40)
    return PoseSet(R, np.zeros(len(R), np.float32), lo, lo + 40)


def test_tiny_config_trains_and_the_loss_drops():
    data = _toy_set()
    rng = np.random.default_rng(5)
    batch = make_batch(data, np.arange(0, 400, 2), rng, REST)
    rest_t = torch.as_tensor(REST, dtype=torch.float32)
    net0 = build_model(TINY)
    with torch.no_grad():
        before = float(autopose_losses(net0, batch, rest_t)["total"])
    net, info = train_net(data, REST, TINY, steps=150, batch=64, lr=3e-3, log=lambda m: None)
    with torch.no_grad():
        after = float(autopose_losses(net, batch, rest_t)["total"])
    assert info["steps_run"] == 150
    assert after < 0.7 * before, (before, after)


def test_batches_are_consistent():
    data = _toy_set()
    b = make_batch(data, np.arange(32), np.random.default_rng(0), REST)
    assert b.eff.shape == (32, NUM_EFFECTORS, 3) and b.mask.shape == (32, NUM_EFFECTORS)
    assert b.mask[:, 0].all()  # the pelvis is always given
    assert torch.allclose(b.eff[:, 0], torch.zeros(32, 3))  # pelvis-relative
    assert torch.allclose(b.start6d[~b.has_start], torch.zeros(1))


def test_inference_shapes_devices_and_proper_rotations():
    ap = AutoPoser(build_model(TINY))
    R = aa_to_matrix_np(np.random.default_rng(1).normal(0, 0.2, (3, 22, 3)))
    E = effectors_of(R, REST)
    out = ap.predict(E, np.ones((3, NUM_EFFECTORS), bool), R)
    assert out.shape == (3, 22, 3, 3) and out.dtype == np.float64
    assert np.allclose(np.linalg.det(out), 1.0, atol=1e-4)
    one = ap.predict_matrices(E[0], np.ones(NUM_EFFECTORS, bool), None)
    assert one.shape == (22, 3, 3)
    assert ap.device == torch.device("cpu")
    with pytest.raises(ValueError, match="effectors"):
        ap.predict(E[:, :5], np.ones((3, 5), bool))
    with pytest.raises(ValueError, match="NaN"):
        ap.predict(np.full((1, NUM_EFFECTORS, 3), np.nan), np.ones((1, NUM_EFFECTORS), bool))


def test_limit_penalty_is_zero_inside_and_positive_outside():
    inside = torch.eye(3).expand(22, 3, 3)
    assert float(limit_excess(inside).max()) == 0.0
    aa = np.zeros((22, 3))
    aa[sk.JOINT_INDEX["left_knee"]] = (-1.0, 0.0, 0.0)  # knee bent backwards by 57°
    out = limit_excess(torch.as_tensor(aa_to_matrix_np(aa), dtype=torch.float32))
    assert float(out[sk.JOINT_INDEX["left_knee"]]) == pytest.approx(np.radians(57.3 - 8), abs=0.02)
    assert float(out[0]) == 0.0


def test_services_report_missing_weights_and_the_solver_works_without(tmp_path):
    svc = ModelServices(weights_dir=tmp_path)
    with pytest.raises(ModelUnavailable, match="autopose"):
        svc.autoposer()
    assert svc.status("autoposer").startswith("unavailable")
    with pytest.raises(WeightsError):
        load_autoposer(tmp_path)
    solver = DragSolver(REST, autoposer=None)
    assert not solver.learned and solver.notice


def _library_pose() -> Pose:
    from core_models.library import load_builtin

    items = load_builtin()
    assert items, "the built-in pose library is empty"
    return items[0].pose


def test_shipped_weights_drive_a_drag_to_within_5mm():
    from core_models.body import load_body

    ap = ModelServices().autoposer()
    assert isinstance(ap, AutoPoser) and ap.meta.get("sha256")
    rest = load_body("anny").skinning.rest_joints
    pose = clamp_to_limits(_library_pose())
    E = effector_positions(pose, rest)
    solver = DragSolver(rest, autoposer=ap, limits=True)
    assert solver.learned
    drags = (("left_wrist", (0.02, 0.02, 0.03)), ("right_ankle", (0.0, 0.02, 0.02)), ("head", (0.01, 0.0, 0.02)))
    for eff, step in drags:
        solver.begin(pose, eff, pins=("left_ankle",) if eff != "left_ankle" else ())
        for k in range(1, 4):
            out = solver.update(E[eff] + np.array(step) * k)
        final = solver.end()
        F = effector_positions(final, rest)
        assert np.linalg.norm(F[eff] - (E[eff] + 3 * np.array(step))) < 5e-3, eff
        if eff != "left_ankle":
            assert np.linalg.norm(F["left_ankle"] - E["left_ankle"]) < 2e-3
        assert limit_violation_deg(out).max() < 1e-3


def test_autopose_forward_builds_its_tensors_where_it_lives():
    """Device-clean model code (the meta device stands in for a GPU): no tensor is built on the CPU in forward."""
    from core_models.nets.autopose.model import build_model
    from core_models.nets.autopose.train import autopose_losses, _to
    from core_models.nets.autopose.data import Batch

    meta = torch.device("meta")
    net = build_model({"hidden": 32, "blocks": 1, "use_start": True}).to(meta)
    B = 3
    b = Batch(torch.zeros(B, 11, 3), torch.ones(B, 11, dtype=torch.bool), torch.zeros(B, 22, 6),
              torch.ones(B, dtype=torch.bool), torch.eye(3).expand(B, 22, 3, 3).clone(), torch.zeros(B, 22, 3))
    losses = autopose_losses(net, _to(b, meta), torch.zeros(22, 3, device=meta))
    assert losses["total"].device.type == "meta"
