"""Issue #17 item 7: every model's inference and training take a device. This machine has no GPU, so:

* each model runs a tiny train step and an inference call with ``device="cpu"`` through the new parameter, and
  the run is checked to have put its modules on that device (``nn.Module.to`` is spied on);
* asking for CUDA where there is none is a clear DeviceError at every loader and on every ``train``/``eval`` entry;
* device cleanliness of the model code (every tensor it builds follows its inputs) is checked on torch's "meta"
  device: a module and its inputs moved there fail on the first tensor the code creates on the CPU instead — the
  same mistake that fails on a GPU. Only forward passes run there (meta tensors have no values, so loops that
  read numbers back are covered by the CPU runs only).
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from core_models import device as dv
from core_models.pose import Pose

torch.set_num_threads(1)
META = torch.device("meta")


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv(dv.ENV_VAR, raising=False)


@pytest.fixture
def moves(monkeypatch):
    """Records the device of every ``nn.Module.to(device)`` call."""
    seen: list[torch.device] = []
    orig = torch.nn.Module.to

    def spy(self, *args, **kw):
        dev = kw.get("device", args[0] if args else None)
        if isinstance(dev, (str, torch.device)):
            seen.append(torch.device(dev))
        return orig(self, *args, **kw)

    monkeypatch.setattr(torch.nn.Module, "to", spy)
    return seen


def _poses(n: int, seed: int = 0, scale: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(4, 21, 3)) * scale
    return np.einsum("nk,kjc->njc", rng.uniform(-1, 1, size=(n, 4)), basis).astype(np.float32)


def _tiny_qposer_cfg():
    from core_models.nets.qposer import QPoserConfig
    from core_models.nets.qposer.train import CONFIGS

    return QPoserConfig.from_dict({**QPoserConfig().to_dict(), **CONFIGS["tiny"]["model"]})


def _capture_data(n: int = 32):
    from core_models.nets.training.capture_data import TEXT_SLOTS, capture_data_from_poses

    rng = np.random.default_rng(0)
    pose = Pose(rng.normal(0, 0.1, (n, 3)).astype(np.float32), rng.normal(0, 0.4, (n, 21, 3)).astype(np.float32))
    g = torch.Generator().manual_seed(0)
    feats = (torch.randn(n, TEXT_SLOTS, 384, generator=g).half(), torch.ones(n, TEXT_SLOTS, dtype=torch.bool),
             torch.randn(n, 384, generator=g))
    return capture_data_from_poses(pose, text_features=feats)


class _FakeEncoder:
    """Stands in for MiniLM in ClauseFeatures (random but fixed clause vectors)."""

    def encode_pooled(self, texts):
        g = torch.Generator().manual_seed(len(texts))
        return torch.randn(len(texts), 384, generator=g)


# --- tiny train step + inference through device="cpu" ---------------------------------------------------------

def test_qposer_prior_vae_and_latent_editor_on_the_given_device(moves):
    from core_models.nets.qposer import LatentEditor
    from core_models.nets.qposer.infer import VAEPrior
    from core_models.nets.qposer.model import body_rotmats
    from core_models.nets.qposer.train import train_prior, train_vae

    R = body_rotmats(_poses(16))
    model, stats = train_prior(_tiny_qposer_cfg(), R, R[:4], steps=3, minutes=1.0, batch=8, log_every=1,
                               logf=lambda *_: None, device="cpu")
    assert stats["steps"] == 3 and torch.device("cpu") in moves
    ed = LatentEditor(model)
    assert ed.device == torch.device("cpu")
    p = Pose(np.zeros(3, np.float32), _poses(1, seed=3)[0])
    codes = ed.encode(p)
    assert isinstance(codes, np.ndarray) and codes.shape == (len(model.head_sizes()),)
    body = ed.decode_body(codes)
    assert isinstance(body, np.ndarray) and body.shape == (21, 3) and np.isfinite(body).all()
    assert ed.interpolate(p, p, 0.5).shape == (21, 3)
    moves.clear()
    vae, _ = train_vae(R, steps=2, minutes=1.0, batch=8, hidden=32, logf=lambda *_: None, device="cpu")
    assert moves == [torch.device("cpu")]
    assert VAEPrior(vae).reconstruct(R[:2]).device.type == "cpu"


def test_qposer_gen_and_prompt_on_the_given_device(moves):
    from core_models.nets.qposer import LatentEditor
    from core_models.nets.qposer.infer import ClauseFeatures, Prompter
    from core_models.nets.qposer.model import QPoser
    from core_models.nets.qposer.train import train_gen, train_prompt

    qp = QPoser(_tiny_qposer_cfg()).eval()
    sizes = qp.head_sizes()
    codes = torch.stack([torch.randint(0, k, (64,)) for k in sizes], 1)
    gen, _ = train_gen(codes, sizes, steps=2, minutes=1.0, batch=16, d=16, layers=1, logf=lambda *_: None,
                       val_codes=codes[:8], device="cpu")
    assert torch.device("cpu") in moves
    ed = LatentEditor(qp, gen=gen)
    new = ed.resample(np.zeros(len(sizes), np.int64), ["left_arm"], np.random.default_rng(0))
    assert isinstance(new, np.ndarray) and (new[ed.slice("right_arm")] == 0).all()
    feats = ClauseFeatures(encoder=_FakeEncoder())
    ex = {"texts": ["the left arm is raised", "the knees are bent", "lean forward"],
          "codes": codes[:3]}
    moves.clear()
    model, st = train_prompt(qp, feats, ex, epochs=1, batch=2, d=16, logf=lambda *_: None, device="cpu")
    assert st["examples"] == 3 and moves == [torch.device("cpu")]
    pc = Prompter(model, feats).part_codes("raise the left arm")
    assert list(pc) == ["left_arm"] and isinstance(pc["left_arm"], np.ndarray)


def test_lifter_train_step_and_evaluation_on_the_given_device(moves):
    from core_models.nets.lifter import LifterConfig
    from core_models.nets.lifter.eval import evaluate
    from core_models.nets.lifter.train import train_one

    data = _capture_data()
    cfg = LifterConfig(window=1, align="cm", d=16, layers=1, heads=2, ff=32, head_hidden=32)
    model, info = train_one(cfg, data, epochs=1, batch=16, log=lambda *_: None, device="cpu")
    assert info["epochs_run"] == 1 and moves[0] == torch.device("cpu")
    r = evaluate(model, data)
    assert r["n"] == len(data) and np.isfinite(r["mpjpe_mm"])


def test_embroider_train_steps_and_evaluation_on_the_given_device(moves):
    from core_models.capture.synth import LandmarkModel
    from core_models.nets.embroider import Aligner, EmbroiderConfig, PoseEmbroider
    from core_models.nets.embroider.eval import evaluate_all
    from core_models.nets.embroider.infer import Encoders
    from core_models.nets.embroider.train import pretrain_pose_vae, train_contrastive, train_head
    from core_models.nets.lifter import Lifter, LifterConfig

    data = _capture_data()
    rest = torch.from_numpy(LandmarkModel().rest_joints.astype(np.float32))
    vae = pretrain_pose_vae(data, rest, epochs=1, batch=16, log=lambda *_: None, device="cpu")
    assert moves == [torch.device("cpu")]
    lifter = Lifter(LifterConfig(window=1, d=16, layers=1, heads=2, ff=32, head_hidden=32)).eval()
    enc = Encoders(lifter, vae)
    assert enc.device == torch.device("cpu")
    cfg = EmbroiderConfig(in_dims={"v": 16 + 66, "p": 32, "t": 384}, d=32, layers=1, heads=2, ff=64, proj_hidden=64)
    emb, ali = PoseEmbroider(cfg), Aligner(cfg)
    train_contrastive(emb, enc, data, epochs=1, batch=16, log=lambda *_: None)
    heads = {"embroider": train_head(emb, enc, data, rest, 1, batch=16, log=lambda *_: None),
             "aligner": train_head(ali, enc, data, rest, 1, batch=16, log=lambda *_: None)}
    ret, reg = evaluate_all({"embroider": emb, "aligner": ali}, heads, enc, data, rest)
    assert 0 <= ret["embroider"]["mRecall"] <= 100 and all(np.isfinite(r["mpjpe_mm"]) for r in reg.values())


def test_shipped_qposer_runtime_loads_on_the_cpu(no_cuda):
    from core_models.nets.common.weights import WeightsError
    from core_models.nets.qposer import LatentEditor

    try:
        ed = LatentEditor.load(device="cpu")
    except WeightsError as e:
        pytest.skip(f"shipped QPoser weights unavailable: {e}")
    assert ed.device == torch.device("cpu")
    assert ed.gen is None or dv.model_device(ed.gen) == torch.device("cpu")
    p = Pose.zeros()
    assert ed.decode_body(ed.encode(p)).shape == (21, 3)


def test_services_qposer_getters_follow_the_services_device(no_cuda, monkeypatch):
    from core_models import services as sv
    from core_models.nets import qposer

    got = {}
    monkeypatch.setattr(qposer, "load_gen", lambda directory=None, device=None: got.setdefault("gen", device))
    monkeypatch.setattr(qposer, "load_prompter", lambda directory=None, device=None: got.setdefault("pr", device))
    s = sv.ModelServices(device="cpu")
    s._load_generator()
    s._load_prompter()
    assert got == {"gen": torch.device("cpu"), "pr": torch.device("cpu")}


def test_text_encoder_moves_and_answers_on_the_cpu():
    from core_models.nets.common.text_encoder import TextEncoderUnavailable, get_text_encoder

    try:
        enc = get_text_encoder(device="cpu")
    except TextEncoderUnavailable as e:
        pytest.skip(str(e))
    assert enc.device == torch.device("cpu")
    assert enc.encode_pooled(["raise your arm"]).device.type == "cpu"


# --- a clear DeviceError where CUDA is asked for and absent -----------------------------------------------------

def test_loaders_refuse_a_missing_gpu_before_reading_weights(no_cuda, tmp_path):
    from core_models.nets.embroider.infer import load_embroider
    from core_models.nets.qposer import LatentEditor, load_gen, load_prompter, load_qposer
    from core_models.nets.qposer.infer import load_vae_baseline

    for load in (load_qposer, load_gen, load_prompter):
        with pytest.raises(dv.DeviceError, match="was asked for but"):
            load(directory=tmp_path, device="cuda")  # the empty folder is never read
    for call in (lambda: load_vae_baseline(tmp_path, "cuda:0"), lambda: load_embroider(tmp_path, "cuda"),
                 lambda: LatentEditor.load(tmp_path, device="cuda")):
        with pytest.raises(dv.DeviceError, match="was asked for but"):
            call()


def _entries():
    from core_models.cli.train_eval import EVAL_MODULES, TRAIN_MODULES

    return [("train", m) for m in TRAIN_MODULES] + [("eval", m) for m in EVAL_MODULES]


@pytest.mark.parametrize("verb,model", _entries())
def test_every_train_and_eval_entry_says_cuda_is_missing(no_cuda, capsys, verb, model):
    import main

    assert main.main([verb, model, "--device", "cuda"]) == 2
    assert "was asked for but" in capsys.readouterr().out


@pytest.mark.parametrize("verb,model", [e for e in _entries() if e[1] != "phrasing"])
def test_every_model_loop_is_declared_device_clean(verb, model):
    from core_models.cli.train_eval import EVAL_MODULES, TRAIN_MODULES

    mod = importlib.import_module((TRAIN_MODULES if verb == "train" else EVAL_MODULES)[model])
    assert getattr(mod, "DEVICE_CLEAN", False) is True


# --- device cleanliness of the model code (the meta device stands in for a GPU) ---------------------------------

def _meta(module: torch.nn.Module) -> torch.nn.Module:
    return module.to(META).eval()


def test_meta_device_catches_a_tensor_built_on_the_cpu():
    """The check itself: code that builds a tensor without ``device=`` fails on meta as it would on a GPU."""
    x = torch.zeros(2, 3, 3, device=META)
    with pytest.raises(RuntimeError, match="device"):
        torch.cat([torch.eye(3).expand(2, 1, 3, 3), x[:, None]], 1)


def test_qposer_models_build_their_tensors_where_they_live():
    from core_models.nets.qposer.model import (
        PARTS,
        MaskedCodeTransformer,
        PromptToCodes,
        QPoser,
        full_rotmats,
        joints_of,
        mpjae_deg,
    )

    qp = _meta(QPoser(_tiny_qposer_cfg()))
    R = torch.zeros(3, 21, 3, 3, device=META)
    idx = qp.encode(R)
    assert idx.device == META and qp.decode_indices(idx).device == META
    assert qp.reconstruct(R).device == META and full_rotmats(R).device == META and joints_of(R).device == META
    assert mpjae_deg(R, R).device == META
    gen = _meta(MaskedCodeTransformer([4, 8, 3], d=16, layers=1, ff=32))
    codes = torch.zeros(2, 3, dtype=torch.long, device=META)
    assert gen(codes, torch.zeros(2, 3, dtype=torch.bool, device=META)).device == META
    pt = _meta(PromptToCodes({p: 2 for p in PARTS}, {p: 4 for p in PARTS}, d=16))
    out = pt(torch.zeros(1, 2, 384, device=META), torch.ones(1, 2, dtype=torch.bool, device=META))
    assert all(v.device == META for v in out.values())


def test_minilm_lifter_and_embroider_build_their_tensors_where_they_live():
    from core_models.nets.common.text_encoder import MiniLM
    from core_models.nets.embroider import Aligner, EmbroiderConfig, PoseEmbroider, SMPLHead, info_nce
    from core_models.nets.lifter import Lifter, LifterConfig, lifter_losses

    lm = _meta(MiniLM(vocab=64, max_pos=16))
    ids = torch.zeros(2, 5, dtype=torch.long, device=META)
    assert lm(ids, torch.ones(2, 5, dtype=torch.bool, device=META)).device == META
    lifter = _meta(Lifter(LifterConfig(window=2, align="cm", d=16, layers=1, heads=2, ff=32, head_hidden=32)))
    kp = torch.zeros(4, 2, 33, 4, device=META)
    assert lifter(kp).device == META
    text = torch.zeros(4, 16, 384, device=META)
    losses = lifter_losses(lifter, kp, torch.zeros(4, 22, 3, device=META), text,
                           torch.ones(4, 16, dtype=torch.bool, device=META))
    assert losses["total"].device == META
    cfg = EmbroiderConfig(in_dims={"v": 8, "p": 8, "t": 8}, d=16, layers=1, heads=2, ff=32, proj_hidden=16)
    raw = {m: torch.zeros(4, 8, device=META) for m in ("v", "p", "t")}
    emb, ali = _meta(PoseEmbroider(cfg)), _meta(Aligner(cfg))
    assert emb(raw, ("v", "t")).device == META and emb.query(raw, ("v",), "p").device == META
    assert ali.joint(ali.embed(raw), ("v", "t")).device == META
    assert info_nce(raw["v"], raw["p"], torch.zeros((), device=META)).device == META
    head = _meta(SMPLHead(16))
    assert head(torch.zeros(2, 16, device=META)).device == META


def test_editor_training_body_follows_the_rotations_device(anny_body):
    """BodyTorch keeps its skeleton/skin on the CPU until rotations arrive from another device (a GPU run): then
    it moves them there instead of failing at the first step (checked on the data-less meta device)."""
    from core_models.nets.editor.data import BodyTorch, mirror_rotmats

    body = BodyTorch(anny_body, n_verts=32)
    R = torch.eye(3).expand(2, 22, 3, 3).clone()
    J_cpu, V_cpu = body(R)
    J, V = body(R.to("meta"))
    assert J.device.type == "meta" and V.device.type == "meta" and J.shape == J_cpu.shape and V.shape == V_cpu.shape
    assert mirror_rotmats(R.to("meta")).device.type == "meta"
    J_back, _ = body(R)  # and back on the CPU, same numbers
    assert torch.allclose(J_back, J_cpu)
