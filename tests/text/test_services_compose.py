"""The app's path to the sentence composer: ModelServices.edit_sentence (shared editor, shipped strategy,
background phrase warm-up) and `python main.py edit` on the same path."""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from core_models.pose import Pose
from core_models.text.compose import all_rewrites
from core_models.text.measures import PoseFrame, measure, part_rotation_change_deg
from core_models.text.phrasing_eval import resolve_start


@pytest.fixture(scope="module")
def services():
    import torch

    from core_models.services import ModelServices

    torch.set_num_threads(1)
    return ModelServices()


def test_services_edit_sentence_composes_clauses_and_warms_the_phrases(services):
    """Before: the services offered only edit_with_text (the raw text to the editor); a hold clause was not
    honoured and no clause was reported."""
    pose = resolve_start("Mountain")
    text = "Raise your left arm about 20 cm, keep your right arm where it is, and sing a song"
    res = services.edit_sentence(pose, text, n_samples=2)
    assert res.strategy == "clauses" and not res.refused
    assert measure(PoseFrame(res.pose), "left_wrist", "height") - measure(PoseFrame(pose), "left_wrist",
                                                                          "height") >= 0.1
    assert part_rotation_change_deg(pose, res.pose, "right_arm") <= 5.0
    assert [u["text"] for u in res.unused] == ["sing a song"]
    assert res.samples is not None and len(res.samples) == 2
    assert services.phrases_warmed.wait(120)
    cached = services.editor()._cache
    assert all(t in cached for t in all_rewrites())  # every rewrite phrase encoded in the background


def test_unusable_text_is_refused_not_raised(services):
    pose = resolve_start("T-pose")
    for text in ("", "blorp zzkx"):
        res = services.edit_sentence(pose, text)
        assert res.refused and "unchanged" in res.notice
        assert np.allclose(res.pose.full(), pose.full())


class _StandIn:
    """An editor without batched predictions: the services send it the whole text in one call."""

    encoder = None

    def __init__(self):
        self.calls = []

    def edit(self, pose, text, n_samples=0, **kw):
        self.calls.append(text)
        moved = Pose(pose.root_orient, pose.body_pose + 0.05, pose.transl)
        return SimpleNamespace(mean=moved, samples=Pose.stack([moved] * n_samples) if n_samples else None,
                               notice=None)


def test_stand_in_editor_gets_the_whole_text_and_no_warm_up():
    from core_models.services import ModelServices

    ed = _StandIn()
    s = ModelServices(loaders={"editor": lambda: ed})
    res = s.edit_sentence(Pose.zeros(), "raise your left arm", n_samples=0)
    assert res.strategy == "whole" and ed.calls == ["raise your left arm"]
    assert s.phrases_warmed.is_set()  # nothing to warm: no background thread


def test_cli_edit_uses_the_composer(tmp_path, capsys):
    """Before: `main.py edit` sent the raw text to the editor; now it composes clauses (the hold is honoured)
    and its JSON line lists what was understood and what was not used."""
    from core_models.io.npz_pose import load_pose_npz, save_pose_npz
    from main import main

    pose = resolve_start("Mountain")
    src, out = tmp_path / "in.npz", tmp_path / "out.npz"
    save_pose_npz(src, pose)
    text = "bend your right knee 40 degrees, don't move your left leg and whistle"
    assert main(["edit", "--pose", str(src), "--text", text, "--samples", "2", "--out", str(out)]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["frames"] == 3 and line["notice"] is None
    assert [c["role"] for c in line["understood"]] == ["action", "hold"]
    assert [u["text"] for u in line["unused"]] == ["whistle"]
    got, _ = load_pose_npz(out)
    assert measure(PoseFrame(got[0]), "right_knee", "flexion") - measure(PoseFrame(pose), "right_knee",
                                                                           "flexion") >= 25.0
    assert part_rotation_change_deg(pose, got[0], "left_leg") <= 5.0
