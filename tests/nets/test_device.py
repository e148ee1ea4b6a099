"""Device choice (core_models.device): spec checking, auto → CPU without a GPU, a clear error when CUDA is asked
for and absent (also through every CLI that takes --device), the environment / settings order, loaders and
services on the CPU (the tested path). This machine has no GPU: CUDA is simulated only where a test says so."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core_models import device as dv


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv(dv.ENV_VAR, raising=False)


@pytest.fixture
def one_gpu(monkeypatch):
    """Pretend torch sees one GPU (nothing is moved to it in these tests)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.delenv(dv.ENV_VAR, raising=False)


@pytest.mark.parametrize("spec,norm", [("auto", "auto"), (" CPU ", "cpu"), ("cuda", "cuda"), ("cuda:1", "cuda:1")])
def test_check_spec_accepts(spec, norm):
    assert dv.check_spec(spec) == norm


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "cuda:x", "", None, 3, "mps0"])
def test_check_spec_rejects_with_the_choices(spec):
    with pytest.raises(dv.DeviceError, match="auto .*cpu, cuda or cuda:N"):
        dv.check_spec(spec)


def test_resolve_without_gpu(no_cuda):
    assert dv.resolve_device("cpu") == torch.device("cpu")
    assert dv.resolve_device("auto") == torch.device("cpu")  # auto falls back quietly
    assert dv.resolve_device(None) == torch.device("cpu")
    for spec in ("cuda", "cuda:0"):
        with pytest.raises(dv.DeviceError, match=r"was asked for but .*--device cpu"):
            dv.resolve_device(spec)


def test_resolve_with_a_gpu(one_gpu):
    assert dv.resolve_device("auto") == torch.device("cuda")
    assert dv.resolve_device("cuda:0") == torch.device("cuda:0")
    assert dv.resolve_device("cpu") == torch.device("cpu")  # asked for: the CPU even with a GPU
    with pytest.raises(dv.DeviceError, match=r"has 1 CUDA device"):
        dv.resolve_device("cuda:1")


def test_broken_cuda_counts_as_absent(monkeypatch):
    def boom():
        raise RuntimeError("driver too old")

    monkeypatch.setattr(torch.cuda, "is_available", boom)
    assert dv.resolve_device("auto") == torch.device("cpu")
    with pytest.raises(dv.DeviceError, match="driver too old"):
        dv.resolve_device("cuda")


def test_environment_then_settings_then_fallback(monkeypatch, no_cuda):
    assert dv.default_spec() == "auto"
    assert dv.default_spec("cpu") == "cpu"
    monkeypatch.setenv(dv.ENV_VAR, "cuda")
    assert dv.default_spec("cpu") == "cuda"
    with pytest.raises(dv.DeviceError):
        dv.resolve_device(None)
    monkeypatch.setenv(dv.ENV_VAR, "tpu")
    with pytest.raises(dv.DeviceError, match="unknown device 'tpu'"):
        dv.default_spec()


def test_describe_and_on_device_is_a_no_op_on_the_cpu():
    assert dv.describe(torch.device("cpu")) == "CPU"
    net = torch.nn.Linear(2, 2)
    assert dv.model_device(net) == torch.device("cpu")
    with dv.on_device(net):
        assert torch.zeros(1).device.type == "cpu"


def test_services_device_from_settings_and_environment(monkeypatch, no_cuda):
    from core_models.services import ModelServices

    s = ModelServices(device="cpu")
    assert s.device() == torch.device("cpu") and s.device_label() == "CPU"
    s.set_device("cuda")
    with pytest.raises(dv.DeviceError):
        s.device()
    assert "unavailable" in s.device_label()
    monkeypatch.setenv(dv.ENV_VAR, "cpu")  # the environment wins over the settings
    assert s.device() == torch.device("cpu")
    with pytest.raises(dv.DeviceError):
        s.set_device("gpu")


def test_shipped_editor_and_corrector_load_on_the_cpu(no_cuda):
    from core_models.nets.corrector import load_corrector
    from core_models.nets.editor import load_editor
    from core_models.pose import Pose

    ed = load_editor(device="cpu")
    assert ed.device == torch.device("cpu")
    p = Pose.zeros()
    res = ed.edit(p, "raise your left arm", n_samples=2)
    assert np.isfinite(res.mean.body_pose).all() and len(res.samples) == 2 and res.notice is None
    with pytest.raises(dv.DeviceError):
        load_editor(device="cuda")
    c = load_corrector(device=torch.device("cpu"))
    b = Pose.zeros()
    b.body_pose[15, 2] = -1.2
    assert isinstance(c.generate(p, b), str)


@pytest.mark.parametrize("argv", [
    ["edit", "--pose", "x.npz", "--text", "raise your arm", "--out", "y.npz", "--device", "cuda"],
    ["correct", "--a", "a.npz", "--b", "b.npz", "--device", "cuda"],
    ["capture", "--images", "x.npz", "--out", "y.npz", "--device", "cuda"],
    ["train", "corrector", "--device", "cuda"],
    ["eval", "editor", "--device", "cuda:0"],
])
def test_cli_device_cuda_without_gpu_is_a_clear_error(no_cuda, tmp_path, capsys, argv):
    import main
    from core_models.io.npz_pose import save_pose_npz
    from core_models.pose import Pose

    for name in ("x.npz", "a.npz", "b.npz"):
        save_pose_npz(tmp_path / name, Pose.stack([Pose.zeros()]))
    argv = [str(tmp_path / a) if a.endswith(".npz") else a for a in argv]
    assert main.main(argv) == 2
    out = capsys.readouterr()
    assert "was asked for but" in out.out + out.err and not (tmp_path / "y.npz").exists()


def test_cli_device_unknown_is_an_argparse_error(capsys):
    import main

    with pytest.raises(SystemExit) as e:
        main.main(["train", "editor", "--device", "gpu"])
    assert e.value.code == 2 and "unknown device 'gpu'" in capsys.readouterr().err


def test_a_loop_that_is_not_device_clean_refuses_a_gpu(one_gpu, capsys):
    """Every model's train/eval is device-clean now (tests/nets/test_device_models.py); the phrasing evaluation
    (no DEVICE_CLEAN flag) still shows the refusal."""
    import main

    assert main.main(["eval", "phrasing", "--device", "cuda"]) == 2
    assert "runs on the CPU only" in capsys.readouterr().out
