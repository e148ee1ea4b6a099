"""The prompt model's hand-written human prompt set and ``eval qposer --stage prompt --prompts``."""
from __future__ import annotations

import argparse
import json

import pytest
import torch

from core_models.library import load_builtin
from core_models.nets.qposer import eval as qe
from core_models.nets.qposer.infer import prompted_parts
from core_models.nets.qposer.model import QPoser, QPoserConfig
from core_models.nets.qposer.train import CONFIGS

HUMAN = "resources/eval/prompts/human.jsonl"
DESCRIBED = "resources/eval/prompts/described_test.jsonl"


@pytest.mark.parametrize("path,n_min", [(HUMAN, 60), ("resources/eval/prompts/human_dev.jsonl", 30)])
def test_human_prompt_set_is_valid(path, n_min):
    recs = qe.read_prompt_file(path)
    names = {it.name for it in load_builtin()}
    assert len(recs) >= n_min
    assert len({r["text"] for r in recs}) == len(recs)
    for r in recs:
        assert r["start"] in names
        assert r["expect"]
        for e in r["expect"]:
            qe.expectation_codes(e)  # raises on an unknown code or category
        assert set(r["parts"]) <= set(prompted_parts(r["text"])), r["text"]
    assert {"short", "numbers", "british", "casual", "typo", "long"} <= {r["style"] for r in recs}
    assert len({r["start"] for r in recs}) >= (1 if path == HUMAN else 4)


def test_frozen_described_set_is_valid():
    recs = qe.read_prompt_file(DESCRIBED)
    assert len(recs) == 500
    assert all(isinstance(r["corpus_index"], int) and r["codes"] for r in recs)


def test_prompt_file_errors_name_the_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"text": "arms up", "expect": []}\nnot json\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        qe.read_prompt_file(f)
    f.write_text('{"words": "arms up"}\n')
    with pytest.raises(ValueError, match="needs 'text'"):
        qe.read_prompt_file(f)
    with pytest.raises(ValueError, match="no posecode"):
        qe.expectation_codes({"op": "angle", "joints": ["left_knee"], "cats": ["straight"]})
    with pytest.raises(ValueError, match="unknown categories"):
        qe.expectation_codes({"op": "angle", "joints": ["left_hip", "left_knee", "left_ankle"], "cats": ["up"]})


class _KeepPrompter:
    """Answers every part with the codes it was given: the edited pose is the start pose."""

    def __init__(self, qp, start_codes):
        self.qp, self.codes = qp, start_codes

    def part_codes(self, text, parts, **_):
        return {p: self.codes[0, self.qp.group_slice(p)].numpy() for p in parts}


def test_human_metric_counts_start_pose_hits_when_nothing_changes():
    torch.manual_seed(0)
    cfg = QPoserConfig.from_dict({**QPoserConfig().to_dict(), **CONFIGS["tiny"]["model"]})
    qp = QPoser(cfg).eval()
    mountain = next(it.pose for it in load_builtin() if it.name.startswith("Mountain"))
    from core_models.nets.qposer.model import body_rotmats

    codes = qp.encode(body_rotmats(mountain.body_pose[None]))
    recs = [r for r in qe.read_prompt_file(HUMAN) if r["start"].startswith("Mountain")][:6]
    res = qe.evaluate_human_prompts(qp, _KeepPrompter(qp, codes), recs)
    assert res["prompts"] == 6 and res["expectations"] == sum(len(r["expect"]) for r in recs)
    assert res["realised_pct"] == res["unchanged_pct"]
    assert res["parts_found_pct"] == 100.0


def test_stage_prompt_option_parses():
    p = argparse.ArgumentParser()
    qe.add_eval_args(p)
    a = p.parse_args(["--stage", "prompt", "--prompts", HUMAN, "--prompts", DESCRIBED])
    assert a.stage == "prompt" and a.prompts == [HUMAN, DESCRIBED]
    assert p.parse_args([]).stage == "all"
    assert json.loads(open(HUMAN).readline())["id"] == 0
