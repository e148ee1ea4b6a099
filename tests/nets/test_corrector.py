"""Corrector (pair → text): vocabulary, decoding (EOS, max length, cache = teacher forcing, beam 1 = greedy),
no-change answer, L/R equivariance, a tiny training step, and the shipped weights when present."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core_models.captioning.compare import NO_CHANGE_TEXT
from core_models.captioning.textutil import flip_text
from core_models.nets import corrector as cr
from core_models.pose import Pose, mirror

torch.set_num_threads(1)

TEXTS = [
    "Bend your left knee a lot more, then raise the right hand.",
    "Move the hands closer to each other. The feet need to be shoulder-width apart.",
    "Straighten your right elbow and tilt the head to the left.",
    "Turn a quarter to the right and lean forward.",
    NO_CHANGE_TEXT,
]


@pytest.fixture(scope="module")
def vocab():
    return cr.Vocab.build(TEXTS + [flip_text(t) for t in TEXTS])


@pytest.fixture(scope="module")
def tiny(vocab):
    torch.manual_seed(0)
    cfg = cr.CorrectorConfig(vocab=vocab.words, d_model=32, n_layers=2, n_heads=2, d_ff=64, d_pose=32,
                             n_pose_tokens=2, max_len=24, dropout=0.0)
    return cr.CorrectorNet(cfg).eval()


def _pair(seed=0, scale=0.4):
    rng = np.random.default_rng(seed)
    a = Pose(rng.normal(0, 0.2, 3).astype(np.float32), rng.normal(0, scale, (21, 3)).astype(np.float32))
    b = Pose(rng.normal(0, 0.2, 3).astype(np.float32), rng.normal(0, scale, (21, 3)).astype(np.float32))
    return a, b


def test_vocab_round_trip(vocab):
    assert vocab.words[:4] == cr.SPECIALS
    for t in TEXTS:
        ids = vocab.encode([t])[0]
        assert cr.UNK not in ids
        assert vocab.decode(ids + [cr.EOS, 5, 6]) == t  # stops at EOS, restores case and punctuation
    assert vocab.encode(["Bend the zzyzx knee"])[0][2] == cr.UNK
    assert cr.Vocab(vocab.words).words == vocab.words


def test_pose_features_shape_and_joints():
    a, b = _pair()
    f = cr.pose_features(Pose.from_full(np.stack([a.full(), b.full()])))
    assert f.shape == (2, cr.POSE_FEAT_DIM)
    z = cr.pose_features(Pose(np.zeros(3, np.float32), np.zeros((21, 3), np.float32)))
    # zero pose: identity 6D rotations and the rest skeleton (×2) centred on the pelvis
    assert torch.allclose(z[0, :6], torch.tensor([1.0, 0, 0, 0, 1, 0]))
    assert torch.allclose(z[0, 132:135], torch.zeros(3))


def test_cached_decoding_matches_teacher_forcing(tiny):
    a, b = _pair(1)
    fa, fb = cr.pose_features(a), cr.pose_features(b)
    seq = torch.tensor([[cr.BOS, 7, 9, 11, 4, 5]])
    full = torch.log_softmax(tiny(fa, fb, seq), -1)[0]
    mem_kv = tiny.memory_kv(tiny.pose_tokens(fa, fb))
    caches = [[None, None] for _ in tiny.layers]
    for t in range(seq.shape[1]):
        step = tiny._step(seq[:, t], t, mem_kv, caches)[0]
        assert torch.allclose(step, full[t], atol=1e-5)


def test_decoding_stops_at_eos_and_respects_max_len(tiny):
    a, b = _pair(2)
    fa, fb = cr.pose_features(Pose.from_full(np.stack([a.full(), b.full()]))), \
        cr.pose_features(Pose.from_full(np.stack([b.full(), a.full()])))
    with torch.no_grad():
        saved = tiny.out.bias.clone()
        tiny.out.bias[cr.EOS] = 1e4  # EOS first: empty texts
        assert tiny.greedy(fa, fb) == [[], []]
        assert tiny.beam(fa, fb, beam=3) == [[], []]
        tiny.out.bias[cr.EOS] = -1e4  # never EOS: cut at max_len
        out = tiny.greedy(fa, fb, max_len=9)
        assert [len(o) for o in out] == [9, 9]
        assert all(len(o) == tiny.cfg.max_len for o in tiny.greedy(fa, fb, max_len=10 ** 6))
        assert [len(o) for o in tiny.beam(fa, fb, beam=2, max_len=7)] == [7, 7]
        tiny.out.bias.copy_(saved)
        seqs = tiny.greedy(fa, fb, max_len=20)  # returned ids never contain EOS / PAD
        assert all(cr.EOS not in s and cr.PAD not in s and len(s) <= 20 for s in seqs)


def test_beam_one_equals_greedy(tiny):
    a, b = _pair(3)
    fa, fb = cr.pose_features(a), cr.pose_features(b)
    assert tiny.beam(fa, fb, beam=1, max_len=15) == tiny.greedy(fa, fb, max_len=15)
    assert len(tiny.beam(fa, fb, beam=4, max_len=15)) == 1


def test_identical_pair_gives_no_change_text(tiny):
    c = cr.Corrector(tiny)
    a, _ = _pair(4)
    assert c.generate(a, a) == NO_CHANGE_TEXT
    # a tiny jitter, and the same pose facing elsewhere once each pose is compared in its own heading
    from core_models.pose import apply_heading

    b = apply_heading(Pose(a.root_orient, a.body_pose + 1e-4), np.float32(1.0))
    assert c.generate(*cr.normalize_pair(a, b)) == NO_CHANGE_TEXT
    # with the heading kept, a 57° turn is a real change: the network is asked
    assert cr.pair_joint_displacement(*cr.normalize_pair(a, b, keep_heading=True)).max() > 0.1


def test_mirrored_pair_gives_side_swapped_text(tiny):
    c = cr.Corrector(tiny)
    for seed in range(4):
        a, b = _pair(10 + seed)
        t = c.generate(a, b)
        tm = c.generate(mirror(a), mirror(b))
        assert tm == flip_text(t)
        assert cr.chirality(mirror(a), mirror(b)) == -cr.chirality(a, b)


def test_batch_generation_matches_single(tiny):
    c = cr.Corrector(tiny)
    pairs = [_pair(20 + k) for k in range(3)]
    A = Pose.from_full(np.stack([p[0].full() for p in pairs]))
    B = Pose.from_full(np.stack([p[1].full() for p in pairs]))
    assert c.generate(A, B) == [c.generate(a, b) for a, b in pairs]
    assert len(c.generate(A, B, method="beam", beam=2)) == 3
    with pytest.raises(ValueError):
        c.generate(A, B, method="nucleus")


def test_tiny_training_steps_fit_a_batch(vocab):
    torch.manual_seed(0)
    cfg = cr.CorrectorConfig(vocab=vocab.words, d_model=32, n_layers=1, n_heads=2, d_ff=64, d_pose=32,
                             n_pose_tokens=2, max_len=24, dropout=0.0)
    net = cr.CorrectorNet(cfg)
    pairs = [_pair(30 + k) for k in range(4)]
    fa = cr.pose_features(Pose.from_full(np.stack([p[0].full() for p in pairs])))
    fb = cr.pose_features(Pose.from_full(np.stack([p[1].full() for p in pairs])))
    ids = vocab.encode(TEXTS[:4], 22)
    tok = torch.zeros((4, 24), dtype=torch.long)
    for i, s in enumerate(ids):
        row = [cr.BOS] + s + [cr.EOS]
        tok[i, :len(row)] = torch.tensor(row)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    first = net.loss(fa, fb, tok).item()
    for _ in range(150):
        loss = net.loss(fa, fb, tok)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first
    # after fitting, greedy decoding reproduces each pair's own text and stops at EOS
    out = net.eval().greedy(fa, fb)
    assert [vocab.decode(o) for o in out] == TEXTS[:4]


def _load_shipped(directory=None) -> cr.Corrector:
    """The committed corrector weights must load: a missing or corrupt file is a failure, never a skip."""
    return cr.load_corrector(directory=directory)


@pytest.fixture(scope="module")
def shipped():
    return _load_shipped()


def test_shipped_weights_are_committed():
    import subprocess

    from core_models.nets.common.weights import weights_dir

    tracked = subprocess.run(["git", "ls-files", "resources/weights/corrector.pt", "resources/weights/corrector.json"],
                             capture_output=True, text=True, cwd=weights_dir().parents[1]).stdout.split()
    assert sorted(tracked) == ["resources/weights/corrector.json", "resources/weights/corrector.pt"]


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_broken_shipped_weights_fail_instead_of_skipping(tmp_path, damage):
    import shutil

    from core_models.nets.common.weights import WeightsError, weights_dir

    shutil.copy(weights_dir() / "corrector.json", tmp_path / "corrector.json")
    if damage == "corrupt":
        blob = bytearray((weights_dir() / "corrector.pt").read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        (tmp_path / "corrector.pt").write_bytes(bytes(blob))
    with pytest.raises(WeightsError):
        _load_shipped(tmp_path)


def test_shipped_model_mirror_and_no_change(shipped):
    from core_models.library import load_builtin

    lib = {p.slug: p.pose for p in load_builtin()}
    a, b = cr.normalize_pair(lib["mountain"], lib["tree"])
    t = shipped.generate(a, b)
    assert t and t != NO_CHANGE_TEXT and len(t.split()) >= 4
    assert ("left" in t.lower()) or ("right" in t.lower())
    assert shipped.generate(mirror(a), mirror(b)) == flip_text(t)
    assert shipped.generate(a, a) == NO_CHANGE_TEXT
    assert len(shipped.net.cfg.vocab) == len(shipped.vocab)


def test_no_repeat_ngram_guard(tiny):
    a, b = _pair(5)
    fa, fb = cr.pose_features(a), cr.pose_features(b)
    with torch.no_grad():
        saved = tiny.out.bias.clone()
        tiny.out.bias[cr.EOS] = -1e4
        plain = tiny.greedy(fa, fb, max_len=20)[0]
        guarded = tiny.greedy(fa, fb, max_len=20, no_repeat=2)[0]
        tiny.out.bias.copy_(saved)
    bigrams = [tuple(guarded[i:i + 2]) for i in range(len(guarded) - 1)]
    assert len(bigrams) == len(set(bigrams))
    pb = [tuple(plain[i:i + 2]) for i in range(len(plain) - 1)]
    if len(pb) == len(set(pb)):  # nothing to block: identical outputs
        assert guarded == plain
