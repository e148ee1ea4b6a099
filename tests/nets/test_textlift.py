"""Temporal text-aligned lifter of the issue-14 study (core_models.nets.textlift): shapes, window/dense
agreement, causality, text alignment on a toy problem, data helpers, checkpoints and the CLI."""
import numpy as np
import pytest
import torch

from core_models.nets.textlift import TextLiftConfig, TextLifter, fill_undetected, lift_sequence, load_textlift
from core_models.nets.textlift.data import SeqPool, TextTable, concat_pools, window_index
from core_models.nets.textlift.model import textlift_losses
from core_models.nets.textlift.train import make_batch, train_run

torch.set_num_threads(1)


def _tiny(**kw):
    return TextLiftConfig(**{"window": 9, "channels": 16, "d": 8, "heads": 2, "ff": 16, **kw})


@pytest.mark.parametrize("align", ["none", "cm", "fc", "oracle", "input"])
@pytest.mark.parametrize("window,causal", [(9, True), (27, False)])
def test_shapes_window_and_dense_modes_agree(align, window, causal):
    torch.manual_seed(0)
    m = TextLifter(_tiny(window=window, causal=causal, align=align)).eval()
    F_ = 40
    seq = torch.randn(1, F_, 33, 4)
    text, mask = torch.randn(1, F_, 16, 384), torch.ones(1, F_, 16, dtype=torch.bool)
    mask[..., 9:] = False
    needs = align == "input"
    dense = m.forward_sequence(seq, text if needs else None, mask if needs else None)
    assert dense.shape == (1, F_, 22, 3)
    cfg = m.cfg
    for t in (0, 17, F_ - 1):   # windows clamped at the sequence edges = the dense mode's edge padding
        idx = torch.clamp(torch.arange(t - cfg.target_offset, t - cfg.target_offset + window), 0, F_ - 1)
        y = m(seq[:, idx], text[:, t] if needs else None, mask[:, t] if needs else None)
        assert y.shape == (1, 22, 3)
        assert torch.allclose(y[0], dense[0, t], atol=1e-5)
    y1, y2, f, ft = m.forward_train(seq[:, :window], text[:, 0], mask[:, 0], torch.randn(1, 22, 3))
    assert f.shape == (1, 22, cfg.d)
    assert (y2 is None) == (align in ("none", "input"))
    if y2 is not None:
        assert y2.shape == (1, 22, 3) and ft.shape == f.shape
        assert not any(k.startswith(("align.", "head2.")) for k in m.inference_state())


@pytest.mark.parametrize("window", [9, 27])
def test_causal_output_never_sees_future_frames(window):
    torch.manual_seed(1)
    m = TextLifter(_tiny(window=window, causal=True)).eval()
    feats = np.random.default_rng(0).normal(size=(50, 33, 4)).astype(np.float32)
    base = lift_sequence(m, feats)
    t = 30
    moved = feats.copy()
    moved[t + 1:] += np.random.default_rng(1).normal(size=moved[t + 1:].shape).astype(np.float32) * 3
    out = lift_sequence(m, moved)
    np.testing.assert_allclose(out[:t + 1], base[:t + 1], atol=1e-5)
    assert np.abs(out[t + 1:] - base[t + 1:]).max() > 1e-3          # the perturbation does reach later frames
    centred = TextLifter(_tiny(window=window, causal=False)).eval()   # …and a centred model does look ahead
    assert np.abs(lift_sequence(centred, moved)[t] - lift_sequence(centred, feats)[t]).max() > 1e-4


def test_bad_config_and_window_are_refused():
    with pytest.raises(ValueError, match="power of 3"):
        TextLiftConfig(window=20)
    with pytest.raises(ValueError, match="align"):
        TextLiftConfig(align="tf2")
    m = TextLifter(_tiny())
    with pytest.raises(ValueError, match="windows of 9"):
        m(torch.randn(2, 8, 33, 4))
    with pytest.raises(ValueError, match="needs the description"):
        TextLifter(_tiny(align="input"))(torch.randn(2, 9, 33, 4))


def _toy_pool(n_seq=6, length=30, seed=0):
    """Sequences whose 2D input hides the depth of the targets while the 'description' states it."""
    rng = np.random.default_rng(seed)
    n = n_seq * length
    target = rng.normal(0, 0.2, (n, 22, 3)).astype(np.float32)
    target[:, 0] = 0
    feats = np.zeros((n, 33, 4), np.float32)
    feats[:, :22, :2] = target[:, :, :2] * 5
    feats[:, :, 2:] = 1
    start = np.repeat(np.arange(n_seq) * length, length)
    depth_code = rng.normal(size=(22 * 3, 384)).astype(np.float32) * 0.2
    slots = np.repeat((target[:, :, 2].repeat(3, 1) @ depth_code)[:, None], 16, 1).astype(np.float16)
    pool = SeqPool(feats, target, np.zeros((n, 3), np.float32), np.zeros((n, 21, 3), np.float32), start,
                   start + length - 1, np.ones(n, bool), np.arange(n), np.arange(n) % 2 == 0)
    return pool, TextTable([f"t{i}" for i in range(n)], slots, np.ones((n, 16), bool))


def test_text_alignment_losses_decrease_on_a_toy_problem():
    pool, table = _toy_pool()
    cfg = _tiny(align="cm")
    torch.manual_seed(0)
    m = TextLifter(cfg)
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    rows = np.arange(0, len(pool), 2)
    kp, tgt, text, mask = make_batch(pool, table, rows, cfg)
    first = None
    for _ in range(60):
        losses = textlift_losses(m, kp, tgt, text, mask)
        first = first or {k: float(v.detach()) for k, v in losses.items()}
        opt.zero_grad()
        losses["total"].backward()
        opt.step()
    last = {k: float(v.detach()) for k, v in textlift_losses(m, kp, tgt, text, mask).items()}
    assert last["kl"] < 0.5 * first["kl"]
    assert last["err2"] < 0.7 * first["err2"] and last["total"] < 0.7 * first["total"]


def test_train_run_shuffled_text_and_occlusion_options():
    pool, table = _toy_pool()
    model, info = train_run(_tiny(align="cm"), pool, table, steps=5, batch=8, shuffle_text=True, hide="left_arm",
                            log=lambda *a: None)
    assert info["steps"] == 5 and len(info["history"]) == 5 and not model.training
    kp = make_batch(pool, table, np.arange(4), model.cfg, hide="left_arm")[0]
    assert float(kp[..., [13, 15, 17, 19, 21], :].abs().sum()) == 0.0


def test_window_index_clamps_to_each_sequence():
    pool, _ = _toy_pool(n_seq=2, length=10)
    both = concat_pools([pool, pool])
    assert both.n_sequences == 4 and both.end[-1] == 39
    idx = window_index(both, np.array([0, 12, 39]), window=9, offset=8)
    assert idx[0].tolist() == [0] * 9
    assert idx[1].tolist() == [10] * 6 + [10, 11, 12]
    assert idx[2].tolist() == list(range(31, 40))
    centred = window_index(both, np.array([11]), window=9, offset=4)
    assert centred[0].tolist() == [10, 10, 10, 10, 11, 12, 13, 14, 15]


def test_fill_undetected_uses_the_past_only():
    feats = np.arange(5 * 33 * 4, dtype=np.float32).reshape(5, 33, 4) + 1
    det = np.array([False, True, False, False, True])
    out = fill_undetected(feats, det)
    np.testing.assert_array_equal(out[2, :, :2], feats[1, :, :2])
    np.testing.assert_array_equal(out[0, :, :2], feats[1, :, :2])
    assert (out[[0, 2, 3], :, 2:] == 0).all() and (out[[1, 4]] == feats[[1, 4]]).all()
    assert (fill_undetected(feats, np.zeros(5, bool)) == 0).all()


def test_checkpoint_roundtrip_and_clear_errors(tmp_path):
    m = TextLifter(_tiny(align="cm")).eval()
    f = tmp_path / "t.pt"
    torch.save({"config": m.cfg.to_dict(), "state": m.inference_state()}, f)
    back = load_textlift(f)
    x = np.random.default_rng(0).normal(size=(12, 33, 4)).astype(np.float32)
    np.testing.assert_allclose(lift_sequence(back, x), lift_sequence(m, x), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="no textlift checkpoint"):
        load_textlift(tmp_path / "missing.pt")
    torch.save({"weights": 1}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a textlift checkpoint"):
        load_textlift(tmp_path / "bad.pt")


def test_cli_eval_reports_a_missing_checkpoint(tmp_path, capsys):
    import main

    assert main.main(["eval", "textlift", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "no textlift checkpoint" in capsys.readouterr().out


def test_merge_described_reindexes_text_rows():
    from core_models.nets.textlift.data import merge_described

    a, ta = _toy_pool(n_seq=1, length=4, seed=0)
    b, tb = _toy_pool(n_seq=1, length=4, seed=1)
    b.text_row[1] = -1
    pool, table = merge_described([(a, ta), (b, tb)])
    assert len(table.texts) == 8 and len(pool) == 8 and pool.n_sequences == 2
    assert pool.text_row.tolist() == [0, 1, 2, 3, 4, -1, 6, 7]
    np.testing.assert_array_equal(table.slots[pool.text_row[6]], tb.slots[2])


def test_cli_eval_without_checkpoint_says_what_is_missing(capsys):
    import main

    assert main.main(["eval", "textlift"]) == 2
    assert "needs --checkpoint" in capsys.readouterr().out
