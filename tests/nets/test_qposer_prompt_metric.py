"""The QPoser prompting metric (issue #18): a stated posecode counts only when every part its value depends on is
prompted and the true part codes realise it, so the oracle scores 100 % by construction."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core_models.captioning import posecodes as pc
from core_models.library import load_builtin
from core_models.nets.qposer.data import describe_with_codes
from core_models.nets.qposer.model import PARTS, QPoser, QPoserConfig, body_rotmats
from core_models.nets.qposer.train import (
    CONFIGS,
    PROMPT_POSECODES,
    code_dependencies,
    evaluate_prompting,
    train_prior,
)
from tests.nets._stub_reader import StubReader


@pytest.fixture(scope="module")
def tiny_qposer() -> QPoser:
    """A tiny QPoser fitted for a few seconds to the library poses (an untrained one decodes every code to nearly
    the same pose, so no edit could change a posecode)."""
    cfg = QPoserConfig.from_dict({**QPoserConfig().to_dict(), **CONFIGS["tiny"]["model"]})
    lib = body_rotmats(np.stack([it.pose.body_pose for it in load_builtin()]))
    model, _ = train_prior(cfg, lib, steps=60, minutes=10.0, batch=32, lr=3e-3, log_every=0)
    return model.eval()


@pytest.fixture(scope="module")
def examples(tiny_qposer) -> dict:
    """The library poses described twice (two seeds of the noisy describer), with their QPoser codes."""
    items = load_builtin()
    poses = [it.pose for it in items]
    from core_models.pose import Pose

    batch = Pose(np.stack([p.root_orient for p in poses]), np.stack([p.body_pose for p in poses]))
    texts, used = describe_with_codes(batch, seed=3)
    t2, u2 = describe_with_codes(batch, seed=4)
    with torch.no_grad():
        codes = tiny_qposer.encode(body_rotmats(batch.body_pose))
    return {"texts": texts + t2, "used": used + u2, "codes": codes.repeat(2, 1)}


class _TablePrompter:
    """Answers each text with fixed codes: the true ones (the oracle) or another pose's (no change)."""

    def __init__(self, qp, texts, codes):
        self.qp = qp
        self.table = dict(zip(texts, codes))

    def part_codes(self, text, parts, **_):
        return {p: self.table[text][self.qp.group_slice(p)].numpy() for p in parts}


def test_oracle_scores_100_percent(tiny_qposer, examples):
    res = evaluate_prompting(tiny_qposer, _TablePrompter(tiny_qposer, examples["texts"], examples["codes"]),
                             examples)
    assert res["prompted_codes"] >= 20
    assert res["oracle_pct"] == 100.0
    assert res["realised_pct"] == 100.0  # a prompter answering with the true part codes is the oracle
    assert res["unchanged_pct"] < 100.0
    assert res["legacy"]["prompted_codes"] > 0
    ex = res["excluded"]
    assert res["prompted_codes"] + sum(ex.values()) == res["stated_codes"]
    assert ex["codes_newer_than_model"] == 0 or pc.NUM_CODES > PROMPT_POSECODES


def test_a_prompter_that_changes_nothing_scores_the_unchanged_pose(tiny_qposer, examples):
    n = len(examples["texts"])
    rng = np.random.default_rng(1)  # evaluate_prompting's seed=1 choice of the base pose
    base = examples["codes"][torch.as_tensor((np.arange(n) + rng.integers(1, max(2, n))) % n)]
    res = evaluate_prompting(tiny_qposer, _TablePrompter(tiny_qposer, examples["texts"], base), examples)
    assert res["realised_pct"] == res["unchanged_pct"]
    assert res["oracle_pct"] == 100.0


def test_code_dependencies_follow_what_moves_the_value(tiny_qposer):
    lib = np.stack([it.pose.body_pose for it in load_builtin()])
    deps = code_dependencies(body_rotmats(lib), n_codes=PROMPT_POSECODES)
    assert len(deps) == PROMPT_POSECODES
    elbow = pc.code("angle", "left_shoulder", "left_elbow", "left_wrist")
    assert deps[elbow] == {"left_arm"}  # a rigid turn of the torso leaves the elbow angle alone
    knee = pc.code("angle", "right_hip", "right_knee", "right_ankle")
    assert deps[knee] == {"right_leg"}
    above = next(c.index for c in pc.CODES[:PROMPT_POSECODES]
                 if c.op == "relativePosY" and set(c.joints) == {"left_hand", "head"})
    assert {"left_arm", "torso", "head"} <= deps[above]
    assert all(d <= set(PARTS) for d in deps)


def test_refiner_picks_the_candidate_that_realises_the_stated_code(tiny_qposer):
    from core_models.nets.qposer.infer import PromptRefiner, body_code_categories

    qp = tiny_qposer
    lib = body_rotmats(np.stack([it.pose.body_pose for it in load_builtin()]))
    with torch.no_grad():
        codes = qp.encode(lib)
    knee = pc.code("angle", "right_hip", "right_knee", "right_ankle")
    base = codes[0].numpy()
    # a category the base pose does not have, which some library pose's right leg realises in the base pose
    sl = qp.group_slice("right_leg")
    trial = codes[0:1].repeat(len(codes), 1)
    trial[:, sl] = codes[:, sl]
    in_base = body_code_categories(qp.decode_indices(trial), [knee])[:, 0]
    assert (in_base != in_base[0]).any(), "the tiny model should give the library's knees different angles"
    want = int(next(c for c in in_base if c != in_base[0]))
    bank = {"right_leg": codes[:, sl].to(torch.uint8)}
    deps = [["right_leg"] if ci == knee else [] for ci in range(PROMPT_POSECODES)]
    n_cats = int(pc.CODE_NCATS[:PROMPT_POSECODES].max())
    ref = PromptRefiner(StubReader(PROMPT_POSECODES, n_cats, knee, want), bank, deps, top_k=len(codes), rounds=1)
    H, K = sl.stop - sl.start, qp.codebook_size("right_leg")
    flat = {"right_leg": torch.zeros(1, H, K)}  # the prompt model has no preference
    x, m = torch.zeros(1, 1, 384), torch.ones(1, 1, dtype=torch.bool)
    got = ref.choose(qp, base, flat, x, m, ["right_leg"])["right_leg"]
    new = codes[0:1].clone()
    new[0, sl] = torch.as_tensor(got)
    assert body_code_categories(qp.decode_indices(new), [knee])[0, 0] == want


def test_refiner_reads_nothing_outside_the_prompted_parts():
    from core_models.nets.qposer.infer import PromptRefiner

    knee = pc.code("angle", "right_hip", "right_knee", "right_ankle")
    deps = [["right_leg"] if ci == knee else [] for ci in range(PROMPT_POSECODES)]
    n_cats = int(pc.CODE_NCATS[:PROMPT_POSECODES].max())
    ref = PromptRefiner(StubReader(PROMPT_POSECODES, n_cats, knee, 0), {}, deps)
    x, m = torch.zeros(1, 1, 384), torch.ones(1, 1, dtype=torch.bool)
    codes, _, _ = ref.targets(x, m, ["left_arm"])
    assert len(codes) == 0  # a right-knee code is no business of a left-arm prompt
    codes, w, logc = ref.targets(x, m, ["right_leg", "left_arm"])
    assert codes.tolist() == [knee] and w[0] > 0.99 and np.argmax(logc[0]) == 0


def test_refiner_scores_codes_shared_with_unprompted_parts_at_the_partial_weight():
    """"left hand above the head" depends on the left arm and on the head / torso: a left-arm prompt scores it at
    weight ``partial`` (the head stays where it is, so the arm alone can realise it); partial = 0 drops it."""
    from core_models.nets.qposer.infer import PromptRefiner

    above = pc.code("relativePosY", "left_hand", "head")
    deps = [["left_arm", "head", "torso"] if ci == above else [] for ci in range(PROMPT_POSECODES)]
    n_cats = int(pc.CODE_NCATS[:PROMPT_POSECODES].max())
    x, m = torch.zeros(1, 1, 384), torch.ones(1, 1, dtype=torch.bool)
    codes, w, _ = PromptRefiner(StubReader(PROMPT_POSECODES, n_cats, above, 4), {}, deps).targets(x, m, ["left_arm"])
    assert codes.tolist() == [above] and abs(float(w[0]) - 0.25) < 0.01  # the default partial weight
    codes, w, _ = PromptRefiner(StubReader(PROMPT_POSECODES, n_cats, above, 4), {}, deps,
                                partial=0.0).targets(x, m, ["left_arm"])
    assert len(codes) == 0
    codes, w, _ = PromptRefiner(StubReader(PROMPT_POSECODES, n_cats, above, 4), {}, deps).targets(
        x, m, ["left_arm", "head", "torso"])
    assert codes.tolist() == [above] and float(w[0]) > 0.99
    with pytest.raises(ValueError, match="partial"):
        PromptRefiner(StubReader(PROMPT_POSECODES, n_cats, above, 4), {}, deps, partial=2.0)


def test_prompt_weights_round_trip_with_and_without_the_refiner(tmp_path, tiny_qposer):
    from core_models.nets.common.weights import save_weights
    from core_models.nets.qposer.infer import PosecodeReader, load_prompter, model_spec
    from core_models.nets.qposer.model import PromptToCodes

    ph, pcodes = model_spec(tiny_qposer)
    model = PromptToCodes(ph, pcodes, d=16)
    base_cfg = {"part_heads": ph, "part_codes": pcodes, "d": 16}
    save_weights("qposer_prompt", model.state_dict(), base_cfg, {"command": "test"}, directory=tmp_path, half=True)
    old = load_prompter(directory=tmp_path)
    assert old.refiner is None and old.posecodes is None  # pre-#18 weights: per-head argmax

    reader = PosecodeReader(PROMPT_POSECODES, 6, d=8)
    banks = {p: torch.randint(0, pcodes[p], (5, ph[p])).to(torch.uint8) for p in PARTS}
    deps = [["left_arm"]] * PROMPT_POSECODES
    state = {**model.state_dict(), **{f"reader.{k}": v for k, v in reader.state_dict().items()},
             **{f"bank.{p}": b for p, b in banks.items()}}
    cfg = {**base_cfg, "posecodes": PROMPT_POSECODES,
           "reader": {"n_codes": PROMPT_POSECODES, "n_cats": 6, "d": 8, "deps": deps,
                      "refine": {"top_k": 3, "rounds": 1, "alpha": 0.1}}}
    save_weights("qposer_prompt", state, cfg, {"command": "test"}, directory=tmp_path, half=True)
    new = load_prompter(directory=tmp_path)
    assert new.posecodes == PROMPT_POSECODES and new.refiner is not None
    assert new.refiner.top_k == 3 and new.refiner.rounds == 1
    assert all(torch.equal(new.refiner.banks[p], banks[p]) for p in PARTS)
    assert torch.allclose(new.refiner.reader.query, reader.query.half().float())
    assert new.refiner.deps[0] == {"left_arm"}


def test_reader_null_slot_lets_a_one_clause_prompt_leave_a_posecode_unread(tmp_path, tiny_qposer):
    """With the null slot a posecode's query can attend to "nothing" instead of the prompt's only clause; the
    slot is saved and loaded with the weights (``null_slot`` in the config; older weights load without it)."""
    from core_models.nets.common.weights import save_weights
    from core_models.nets.qposer.infer import PosecodeReader, load_prompter, model_spec
    from core_models.nets.qposer.model import PromptToCodes

    torch.manual_seed(0)
    r = PosecodeReader(PROMPT_POSECODES, 6, d=8, null_slot=True)
    x, m = torch.randn(2, 3, 384), torch.tensor([[True, False, False], [True, True, True]])
    assert r(x, m).shape == (2, PROMPT_POSECODES, 7)
    with torch.no_grad():  # a query aligned with the null slot: that posecode's logits stop depending on the text
        r.null.copy_(torch.full((1, 1, 8), 50.0))
        r.query.copy_(torch.ones_like(r.query))
    r.eval()
    a, b = r(x[:1], m[:1]), r(torch.randn(1, 3, 384), m[:1])
    assert torch.allclose(a, b, atol=1e-4)

    ph, pcodes = model_spec(tiny_qposer)
    model = PromptToCodes(ph, pcodes, d=16)
    state = {**model.state_dict(), **{f"reader.{k}": v for k, v in r.state_dict().items()},
             **{f"bank.{p}": torch.zeros(1, ph[p], dtype=torch.uint8) for p in PARTS}}
    cfg = {"part_heads": ph, "part_codes": pcodes, "d": 16, "posecodes": PROMPT_POSECODES,
           "reader": {"n_codes": PROMPT_POSECODES, "n_cats": 6, "d": 8, "null_slot": True,
                      "deps": [["left_arm"]] * PROMPT_POSECODES}}
    save_weights("qposer_prompt", state, cfg, {"command": "test"}, directory=tmp_path, half=True)
    got = load_prompter(directory=tmp_path).refiner.reader
    assert got.null_slot and torch.allclose(got.null, r.null.half().float())


def _right_leg_bank(qp):
    """The library poses' codes, the right-knee angle posecode, the right leg's code slice, and a right-leg bank of
    the library's distinct right-leg tuples."""
    lib = body_rotmats(np.stack([it.pose.body_pose for it in load_builtin()]))
    with torch.no_grad():
        codes = qp.encode(lib)
    sl = qp.group_slice("right_leg")
    bank = {"right_leg": torch.unique(codes[:, sl], dim=0).to(torch.uint8)}
    return codes, pc.code("angle", "right_hip", "right_knee", "right_ankle"), sl, bank


def test_refiner_extra_candidates_come_from_bank_tuples_that_realise_the_read_category(tiny_qposer):
    """A category the prompt model ranks last (its top_k holds no tuple that realises it) is still realised when the
    bank table says which tuples do (``extra``); without the table (``extra`` 0, older weights) it is not."""
    from core_models.nets.qposer.infer import PromptRefiner, bank_code_table, body_code_categories

    qp = tiny_qposer
    codes, knee, sl, bank = _right_leg_bank(qp)
    deps = [["right_leg"] if ci == knee else [] for ci in range(PROMPT_POSECODES)]
    tcodes, table = bank_code_table(qp, bank, deps, codes[0, qp.group_slice("global")])
    assert tcodes["right_leg"] == [knee] and table["right_leg"].shape == (len(bank["right_leg"]), 1)
    base = codes[0].numpy()
    trial = codes[0:1].repeat(len(bank["right_leg"]), 1)
    trial[:, sl] = bank["right_leg"].long()
    cats = body_code_categories(qp.decode_indices(trial), [knee])[:, 0]
    assert np.array_equal(cats, table["right_leg"][:, 0].numpy())  # the table's categories (same global codes)
    vals, counts = np.unique(cats, return_counts=True)
    assert len(vals) > 1, "the tiny model should give the library's knees different angles"
    want = int(vals[np.argmin(counts)])  # the rarest knee category among the bank's tuples
    # a prompt model that prefers every tuple but those realising ``want``: score = -[tuple realises want]
    H, K = sl.stop - sl.start, qp.codebook_size("right_leg")
    logits = torch.zeros(1, H, K)
    for row in bank["right_leg"][torch.as_tensor(cats == want)].long():
        logits[0, torch.arange(H), row] -= 5.0
    fav = bank["right_leg"][int(np.nonzero(cats != want)[0][0])].long()
    logits[0, torch.arange(H), fav] += 10.0  # its favourite: a tuple that does not realise ``want``
    n_cats = int(pc.CODE_NCATS[:PROMPT_POSECODES].max())
    x, m = torch.zeros(1, 1, 384), torch.ones(1, 1, dtype=torch.bool)
    n_other = int((cats != want).sum())

    def realised(extra: int, with_table: bool = True) -> bool:
        ref = PromptRefiner(StubReader(PROMPT_POSECODES, n_cats, knee, want), bank, deps, top_k=1, rounds=1,
                            bank_codes=tcodes if with_table else None,
                            bank_cats=table if with_table else None, extra=extra)
        got = ref.choose(qp, base, {"right_leg": logits}, x, m, ["right_leg"])["right_leg"]
        new = codes[0:1].clone()
        new[0, sl] = torch.as_tensor(got)
        return int(body_code_categories(qp.decode_indices(new), [knee])[0, 0]) == want

    assert n_other > 1
    assert realised(8)
    assert not realised(0) and not realised(8, with_table=False)


def test_refiner_keep_prefers_candidates_that_leave_unstated_codes_as_they_were(tiny_qposer):
    """Among candidates that realise the stated code, ``keep`` > 0 picks one that changes no more of the part's
    other (unstated) posecodes than ``keep`` = 0 does, and it still realises the stated code."""
    from core_models.nets.qposer.infer import PromptRefiner, bank_code_table, body_code_categories

    qp = tiny_qposer
    codes, knee, sl, bank = _right_leg_bank(qp)
    leg_only = [ci for ci in range(PROMPT_POSECODES)
                if pc.CODES[ci].joints and all(j.startswith("right_") and j[6:] in ("hip", "knee", "ankle", "foot")
                                               for j in pc.CODES[ci].joints)]
    assert knee in leg_only and len(leg_only) > 3
    deps = [["right_leg"] if ci in leg_only else [] for ci in range(PROMPT_POSECODES)]
    tcodes, table = bank_code_table(qp, bank, deps, codes[0, qp.group_slice("global")])
    base = codes[0].numpy()
    trial = codes[0:1].repeat(len(bank["right_leg"]), 1)
    trial[:, sl] = bank["right_leg"].long()
    cats = body_code_categories(qp.decode_indices(trial), [knee])[:, 0]
    vals, counts = np.unique(cats, return_counts=True)
    want = int(vals[np.argmax(counts)])  # a category several tuples realise: room to choose among them
    others = [c for c in tcodes["right_leg"] if c != knee]
    n_cats = int(pc.CODE_NCATS[:PROMPT_POSECODES].max())
    H, K = sl.stop - sl.start, qp.codebook_size("right_leg")
    x, m = torch.zeros(1, 1, 384), torch.ones(1, 1, dtype=torch.bool)
    base_other = body_code_categories(qp.decode_indices(codes[0:1]), others)[0]

    def run(keep: float) -> tuple[bool, int]:
        ref = PromptRefiner(StubReader(PROMPT_POSECODES, n_cats, knee, want), bank, deps,
                            top_k=len(bank["right_leg"]), rounds=1, bank_codes=tcodes, bank_cats=table, keep=keep)
        got = ref.choose(qp, base, {"right_leg": torch.zeros(1, H, K)}, x, m, ["right_leg"])["right_leg"]
        new = codes[0:1].clone()
        new[0, sl] = torch.as_tensor(got)
        R = qp.decode_indices(new)
        same = int((body_code_categories(R, others)[0] == base_other).sum())
        return int(body_code_categories(R, [knee])[0, 0]) == want, same

    ok0, same0 = run(0.0)
    ok1, same1 = run(0.5)
    assert ok0 and ok1
    assert same1 > same0 or same0 == len(others), (same0, same1)  # here 4 -> 5 of the leg's 8 other codes
