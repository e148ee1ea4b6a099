"""PoseEmbroider / Aligner / SMPL head (core_models.nets.embroider) and the learned capture
regressor (core_models.capture.regressor) on tiny models."""
import numpy as np
import pytest
import torch

from core_models.nets.embroider import SUBSETS, Aligner, EmbroiderConfig, PoseEmbroider, SMPLHead, info_nce
from core_models.nets.embroider.data import fixed_raw
from core_models.nets.embroider.eval import evaluate_all, retrieval_table
from core_models.nets.embroider.infer import Encoders, load_embroider
from core_models.nets.embroider.train import pretrain_pose_vae, train_contrastive, train_head
from core_models.nets.lifter import Lifter, LifterConfig
from core_models.nets.training.capture_data import TEXT_SLOTS, capture_data_from_poses
from core_models.pose import Pose

torch.set_num_threads(1)
DIMS = {"v": 16 + 66, "p": 32, "t": 384}


def _cfg():
    return EmbroiderConfig(in_dims=DIMS, d=32, layers=1, heads=2, ff=64, proj_hidden=64)


def _raw(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(n, d, generator=g) for m, d in DIMS.items()}


def test_embroider_any_subset_and_loss_reaches_every_modality():
    m = PoseEmbroider(_cfg())
    raw = {k: v.requires_grad_() for k, v in _raw().items()}
    for G in SUBSETS:
        x = m(raw, G)
        assert x.shape == (8, 32)
        assert set(m.reproject(x)) == {"v", "p", "t"}
    loss, parts = m.loss(raw)
    assert torch.isfinite(loss) and set(parts) == {"v", "p", "t", "vp", "vt", "pt"}
    loss.backward()
    assert all(raw[k].grad.abs().sum() > 0 for k in raw)
    # a missing modality changes the embedding (the transformer really composes its inputs)
    assert not torch.allclose(m(raw, ("v",)), m(raw, ("v", "t")))


def test_embroider_variants_mlp_tokenizers_and_loss_on_missing_modalities():
    from dataclasses import replace

    seed_cfg = _cfg()
    # the seed's tokenizer is linear + ReLU, and its state-dict keys stay those of the shipped weights
    assert [type(x).__name__ for x in PoseEmbroider(seed_cfg).inp["v"]] == ["Linear", "ReLU"]
    deep = PoseEmbroider(replace(seed_cfg, tok_layers=3))
    assert sum(isinstance(x, torch.nn.Linear) for x in deep.inp["t"]) == 3
    assert deep.encode_inputs(_raw())["t"].min() < 0    # MLP tokenizer ends linear: features can be negative
    raw = _raw()
    torch.manual_seed(0)
    every = PoseEmbroider(seed_cfg)
    torch.manual_seed(0)
    missing = PoseEmbroider(replace(seed_cfg, loss_on="missing"))
    # same weights; for G = (v,) the "missing" loss drops InfoNCE(v̂, v): smaller by exactly that term
    feats = every.encode_inputs(raw)
    hat = every.reproject(every.embroider(feats, ("v",)))
    own = float(info_nce(hat["v"], feats["v"], every.log_scale["v"]).detach())
    assert missing.loss(raw, (("v",),))[0].item() == pytest.approx(every.loss(raw, (("v",),))[0].item() - own,
                                                                   rel=1e-5)
    with pytest.raises(ValueError, match="loss_on"):
        PoseEmbroider(replace(seed_cfg, loss_on="some"))
    # configs saved before the options existed load as the seed's model
    assert EmbroiderConfig.from_dict({"in_dims": DIMS, "d": 32}).tok_layers == 1


def test_info_nce_prefers_matched_pairs():
    y = torch.randn(16, 8)
    s = torch.tensor(2.66)
    assert info_nce(y, y + 0.01 * torch.randn(16, 8), s) < info_nce(y, torch.randn(16, 8), s)


def test_aligner_and_retrieval_table():
    a = Aligner(_cfg())
    raw = _raw()
    loss, parts = a.loss(raw)
    assert torch.isfinite(loss) and len(parts) == 6
    assert a(raw, ("v", "t")).shape == (8, 32)

    class Oracle:   # every modality carries the same vector: perfect retrieval
        def query(self, raw, subset, target):
            return sum(raw[m] for m in subset)

        def candidates(self, raw, target):
            return raw[target]

    base = torch.randn(50, 16)
    tab = retrieval_table(Oracle(), {"v": base, "p": base.clone(), "t": base.clone()})
    assert tab["mRecall"] == 100.0 and tab["V→P"] == 100.0 and tab["VT→P"] == 100.0
    rnd = retrieval_table(Aligner(_cfg()), _raw(200))
    assert rnd["mRecall"] < 30


def test_smpl_head_starts_from_the_mean_pose():
    h = SMPLHead(32)
    steps = h(torch.randn(4, 32), all_steps=True)
    assert len(steps) == 3 and steps[-1].shape == (4, 22, 6)
    assert torch.allclose(steps[0], h.mean6d.view(22, 6).expand(4, -1, -1), atol=0.2)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Tiny lifter + embroider trained for a few steps on random poses, shipped into a temp weights folder."""
    from core_models.capture.synth import LandmarkModel
    from core_models.nets.common.weights import save_weights

    rng = np.random.default_rng(0)
    n = 64
    pose = Pose(rng.normal(0, 0.1, (n, 3)).astype(np.float32), rng.normal(0, 0.4, (n, 21, 3)).astype(np.float32))
    g = torch.Generator().manual_seed(0)
    feats = (torch.zeros(n, TEXT_SLOTS, 384, dtype=torch.float16), torch.ones(n, TEXT_SLOTS, dtype=torch.bool),
             torch.randn(n, 384, generator=g))
    data = capture_data_from_poses(pose, text_features=feats)
    lcfg = LifterConfig(window=2, d=16, layers=1, heads=2, ff=32, head_hidden=32)
    lifter = Lifter(lcfg).eval()
    d = tmp_path_factory.mktemp("w")
    save_weights("lifter", {f"none_T2.{k}": v for k, v in lifter.inference_state().items()},
                 {"variants": {"none_T2": lcfg.to_dict()}, "default": "none_T2"}, {}, directory=d)
    rest = torch.from_numpy(LandmarkModel().rest_joints.astype(np.float32))
    vae = pretrain_pose_vae(data, rest, epochs=1, batch=32, log=lambda *_: None)
    enc = Encoders(lifter, vae)
    emb, ali = PoseEmbroider(_cfg()), Aligner(_cfg())
    raw0 = fixed_raw(enc, data)
    l0 = float(emb.loss(raw0)[0].detach())
    train_contrastive(emb, enc, data, epochs=6, batch=32, lr=3e-3, log=lambda *_: None)
    l1 = float(emb.loss(raw0)[0].detach())
    heads = {"embroider": train_head(emb, enc, data, rest, 2, batch=32, log=lambda *_: None),
             "aligner": SMPLHead(32).eval()}
    state = {}
    for prefix, mod in (("embroider.", emb), ("aligner.", ali), ("head_embroider.", heads["embroider"]),
                        ("head_aligner.", heads["aligner"])):
        state.update({prefix + k: v for k, v in mod.state_dict().items()})
    state.update({"pose_vae." + k: v for k, v in vae.state_dict().items() if not k.startswith("decoder.")})
    save_weights("embroider", state, {"embroider": _cfg().to_dict(), "lifter_variant": "none_T2", "window": 2},
                 {}, directory=d, half=True)
    return dict(dir=d, data=data, enc=enc, emb=emb, ali=ali, heads=heads, rest=rest, l0=l0, l1=l1)


def test_training_lowers_the_contrastive_loss_and_evaluation_runs(tiny):
    assert tiny["l1"] < tiny["l0"]
    ret, reg = evaluate_all({"embroider": tiny["emb"], "aligner": tiny["ali"]}, tiny["heads"], tiny["enc"],
                               tiny["data"], tiny["rest"])
    assert set(ret) == {"embroider", "aligner"} and 0 <= ret["embroider"]["mRecall"] <= 100
    assert set(reg) == {f"{m} ({i})" for m in ("embroider", "aligner") for i in ("keypoints", "keypoints + text")}
    assert all(np.isfinite(r["pa_mpjpe_mm"]) and r["pa_mpjpe_mm"] > 0 for r in reg.values())


def test_load_and_learned_regressor(tiny):
    from core_models.capture.regressor import LearnedRegressor, _hip_heading
    from core_models.capture.synth import synthesize

    emb, ali, heads, vae, cfg = load_embroider(tiny["dir"])
    assert cfg["window"] == 2 and set(heads) == {"embroider", "aligner"}
    reg = LearnedRegressor(tiny["dir"])
    assert reg.window == 2
    obs = synthesize(tiny["data"].world[:3, -1], np.random.default_rng(0))
    pose, conf = reg.predict(obs.landmarks(0))
    assert pose.body_pose.shape == (21, 3) and np.isfinite(pose.full()).all() and 0 <= conf <= 1
    with_text, _ = reg.predict(obs.landmarks(0), "the left hand touches the knee")
    assert not np.allclose(with_text.body_pose, pose.body_pose)
    poses, confs = reg.predict_sequence([obs.landmarks(0), None, obs.landmarks(1)])
    assert len(poses) == 3 and confs[1] == 0 and np.allclose(poses[1].full(), poses[0].full())
    # heading from a hip line: facing the camera (+z) = 0, turned to the body's left = +90°
    assert abs(_hip_heading([0.1, 0, 0], [-0.1, 0, 0])) < 1e-6
    assert abs(_hip_heading([0, 0, -0.1], [0, 0, 0.1]) - np.pi / 2) < 1e-6


def test_weights_with_mlp_tokenizers_load_as_saved(tmp_path):
    from dataclasses import replace

    from core_models.nets.common.weights import save_weights

    cfg = replace(_cfg(), tok_layers=3, loss_on="missing")
    emb, ali = PoseEmbroider(cfg), Aligner(cfg)
    state = {}
    for prefix, mod in (("embroider.", emb), ("aligner.", ali), ("head_embroider.", SMPLHead(32)),
                        ("head_aligner.", SMPLHead(32))):
        state.update({prefix + k: v for k, v in mod.state_dict().items()})
    save_weights("embroider", state, {"embroider": cfg.to_dict(), "lifter_variant": "none_T2", "window": 2}, {},
                 directory=tmp_path)
    emb2, *_, saved = load_embroider(tmp_path)
    assert saved["embroider"]["tok_layers"] == 3 and emb2.cfg.loss_on == "missing"
    raw = _raw()
    assert torch.allclose(emb2.encode_inputs(raw)["t"], emb.eval().encode_inputs(raw)["t"], atol=1e-6)
