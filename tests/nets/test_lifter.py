"""Text-assisted lifter (core_models.nets.lifter): shapes, alignment variants, metrics, training."""
import numpy as np
import pytest
import torch

from core_models.nets.lifter import Lifter, LifterConfig, lifter_losses, mpjpe, pa_mpjpe, procrustes_align
from core_models.nets.lifter.eval import evaluate
from core_models.nets.lifter.infer import load_lifter, load_variants
from core_models.nets.lifter.train import train_one
from core_models.nets.training.capture_data import TEXT_SLOTS, capture_data_from_poses, make_batch, window_indices
from core_models.pose import Pose

torch.set_num_threads(1)


def _poses(n, seed=0, scale=0.4):
    rng = np.random.default_rng(seed)
    return Pose(rng.normal(0, 0.1, (n, 3)).astype(np.float32), rng.normal(0, scale, (n, 21, 3)).astype(np.float32))


@pytest.fixture(scope="module")
def data():
    n = 96
    rng = torch.Generator().manual_seed(0)
    feats = (torch.randn(n, TEXT_SLOTS, 384, generator=rng).half(), torch.ones(n, TEXT_SLOTS, dtype=torch.bool),
             torch.randn(n, 384, generator=rng))
    return capture_data_from_poses(_poses(n), text_features=feats)


@pytest.mark.parametrize("align", ["none", "fc", "tf", "cm"])
@pytest.mark.parametrize("window", [1, 5])
def test_shapes_and_test_time_weights(align, window):
    cfg = LifterConfig(window=window, align=align, d=16, layers=1, heads=2, ff=32, head_hidden=32)
    m = Lifter(cfg)
    kp = torch.randn(3, window, 33, 4)
    text, mask = torch.randn(3, TEXT_SLOTS, 384), torch.ones(3, TEXT_SLOTS, dtype=torch.bool)
    mask[0, 5:] = False
    y1, y2, f, ft = m.forward_train(kp, text, mask)
    assert y1.shape == (3, 22, 3) and f.shape == (3, 33, 16)
    if align == "none":
        assert y2 is None
    else:
        assert y2.shape == (3, 22, 3) and ft.shape == f.shape
        losses = lifter_losses(m, kp, torch.zeros(3, 22, 3), text, mask)
        assert set(losses) == {"err1", "kl", "err2", "total"} and torch.isfinite(losses["total"])
    # the shipped (test-time) weights drop the text branch and reproduce the prediction without text
    st = m.inference_state()
    assert not any(k.startswith(("align.", "head2.")) for k in st)
    m2 = Lifter(LifterConfig(**{**cfg.to_dict(), "align": "none"}))
    m2.load_state_dict(st)
    m.eval(), m2.eval()
    assert torch.allclose(m(kp), m2(kp), atol=1e-6)


def test_cm_alignment_does_not_backprop_into_the_pose_encoder_through_the_text_branch():
    m = Lifter(LifterConfig(align="cm", d=16, layers=1, heads=2, ff=32, head_hidden=32))
    kp = torch.randn(4, 1, 33, 4)
    _, y2, _, _ = m.forward_train(kp, torch.randn(4, TEXT_SLOTS, 384), torch.ones(4, TEXT_SLOTS, dtype=torch.bool))
    y2.pow(2).sum().backward()
    assert all(p.grad is None or p.grad.abs().max() == 0 for p in m.encoder.parameters())
    assert any(p.grad is not None and p.grad.abs().max() > 0 for p in m.align.parameters())


def test_metrics():
    rng = np.random.default_rng(0)
    t = torch.from_numpy(rng.normal(size=(5, 22, 3)).astype(np.float32))
    a = 0.7
    R = torch.tensor([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]], dtype=torch.float32)
    p = 1.3 * t @ R.T + torch.tensor([0.2, -0.1, 0.5])
    assert pa_mpjpe(p, t).max() < 1e-4
    assert torch.allclose(procrustes_align(p, t), t, atol=1e-4)
    assert mpjpe(t + 0.3, t).max() < 1e-5            # root-aligned: a translation costs nothing
    assert mpjpe(p, t).min() > 0.01


def test_window_indices_stay_in_the_clip():
    arrays = {"clip": np.array([0, 0, 0, 1, 1, 1, 1]), "mirrored": np.zeros(7, bool)}
    w = window_indices(arrays, np.array([0, 2, 3, 6]), window=3)
    assert w.tolist() == [[0, 0, 0], [0, 1, 2], [3, 3, 3], [4, 5, 6]]


def test_batches_are_camera_frame_targets(data):
    kp, tgt, obs = make_batch(data, np.arange(8), np.random.default_rng(0), window=5)
    assert kp.shape == (8, 5, 33, 4) and tgt.shape == (8, 22, 3)
    assert torch.allclose(tgt[:, 0], torch.zeros(8, 3))              # root-relative
    # the target is the body rotated into the camera-aligned frame: bone lengths are preserved
    J = torch.from_numpy(data.joints[:8])
    assert torch.allclose((tgt[:, 4] - tgt[:, 1]).norm(dim=-1), (J[:, 4] - J[:, 1]).norm(dim=-1), atol=1e-5)


def test_tiny_training_learns_and_variants_ship(data, tmp_path):
    cfg = LifterConfig(window=1, align="cm", d=16, layers=1, heads=2, ff=32, head_hidden=32)
    before = evaluate(Lifter(cfg).eval(), data)
    model, info = train_one(cfg, data, epochs=12, batch=32, lr=3e-3, log=lambda *_: None)
    after = evaluate(model, data)
    assert after["mpjpe_mm"] < 0.7 * before["mpjpe_mm"]
    assert {"mpjpe_mm", "pa_mpjpe_mm", "abs_xyz_mm", "n"} <= set(after)
    # ship two variants in one lifter.pt and load them back
    from core_models.nets.common.weights import save_weights

    base = Lifter(LifterConfig(**{**cfg.to_dict(), "align": "none"})).eval()
    state = {f"cm_T1.{k}": v for k, v in model.inference_state().items()}
    state.update({f"none_T1.{k}": v for k, v in base.inference_state().items()})
    save_weights("lifter", state, {"variants": {"cm_T1": cfg.to_dict(), "none_T1": base.cfg.to_dict()},
                                   "default": "cm_T1"}, {"metrics": {}}, directory=tmp_path, half=True)
    models, conf = load_variants(tmp_path)
    assert set(models) == {"cm_T1", "none_T1"} and conf["default"] == "cm_T1"
    kp = torch.randn(2, 1, 33, 4)
    assert torch.allclose(models["cm_T1"](kp), model(kp), atol=2e-2)
    assert load_lifter(directory=tmp_path).cfg.window == 1
