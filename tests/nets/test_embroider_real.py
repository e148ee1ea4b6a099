"""``train embroider --landmarks NAME``: the SMPL-H heads fine-tuned on real-landmark rows (a tiny stand-in
dataset here), kept only when they improve on the val split, saved with their metrics in the manifest."""
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from test_lifter_real import fake_landmark_dataset, split_of

WEIGHTS = Path(__file__).resolve().parents[2] / "resources" / "weights"


def test_head_finetune_on_real_rows(tmp_path, monkeypatch):
    import core_models.capture.realdata as realdata
    from core_models.nets.common.weights import load_weights, manifest
    from core_models.nets.embroider.real import run_train_real

    torch.set_num_threads(1)
    ds = fake_landmark_dataset(30)
    monkeypatch.setattr(realdata, "load_landmark_dataset", lambda name, split=None, **kw: split_of(ds, split))
    for n in ("lifter", "embroider"):
        for ext in ("pt", "json"):
            shutil.copy(WEIGHTS / f"{n}.{ext}", tmp_path / f"{n}.{ext}")
    before = load_weights("embroider", tmp_path)["state"]
    args = SimpleNamespace(landmarks="fake", out_dir=str(tmp_path), lifter_dir=None, threads=1, steps=3, batch=8,
                           seed=0)
    assert run_train_real(args) == 0
    man = manifest("embroider", tmp_path)
    m = man["real_heads"]["metrics"]
    assert set(m) == {"embroider", "aligner"} and man["real_heads"]["rows"]["train"] == 2 * int(
        (ds.split == "train").sum())
    after = load_weights("embroider", tmp_path)["state"]   # the sha256 in the new manifest matches
    for name in ("embroider", "aligner"):
        k = f"head_{name}.net.0.weight"
        changed = not torch.equal(before[k], after[k])
        assert changed == m[name]["kept"]     # a head is replaced only when it improved on val
        assert np.isfinite(m[name]["after"]["val"]["pa_mpjpe_mm"])
    # the rest of the chain is untouched
    assert torch.equal(before["embroider.glob"], after["embroider.glob"])
