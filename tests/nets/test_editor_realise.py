"""Test-time text compliance (core_models/nets/editor/realise.py): the pick among the editor's mean, samples and
their scaled versions realises more of the named paircode changes than the plain mean, keeps held / unnamed
parts, respects the joint limits, and leaves bad text to the existing notices."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core_models import skeleton as sk
from core_models.captioning.compare import extract_pairs, pair
from core_models.nets.common.pose_vae import pose_to_rotmats, rotmats_to_pose
from core_models.nets.editor.realise import DEFAULT_REALISE, RealiseConfig, change_joints, realise, score
from core_models.pose import Pose, limit_violation_deg, normalize_heading
from core_models.text.paircode_reader import ExpectedChange, read_changes

torch.set_num_threads(1)
_J = sk.JOINT_INDEX

#: instructions on the library poses (fixed batch: 5 starts × 8 texts)
TEXTS = ["bend your left knee", "raise your right hand", "move your left foot forward", "lean forward",
         "turn your head to the left", "straighten your right arm", "lower your left hand a bit",
         "look up and bend your right elbow"]
STARTS = ["A-pose", "Mountain (Tadasana)", "Warrior II (Virabhadrasana II)", "Chair (Utkatasana)", "Lunge"]


@pytest.fixture(scope="module")
def editor():
    from core_models.nets.editor import load_editor
    return load_editor()


@pytest.fixture(scope="module")
def starts():
    from core_models.library import load_builtin
    by_name = {it.name: it.pose for it in load_builtin()}
    return [normalize_heading(by_name[n])[0] for n in STARTS]


def _realised(editor, starts, cfg) -> np.ndarray:
    """(texts,) how many of its named changes each edit of the fixed batch realises."""
    editor.realise = cfg
    try:
        A = torch.cat([pose_to_rotmats(p) for p in starts for _ in TEXTS])
        texts = [t for _ in starts for t in TEXTS]
        mean, _ = editor.predict_normalized(A, texts, 0)
    finally:
        editor.realise = DEFAULT_REALISE
    got = extract_pairs(rotmats_to_pose(A), rotmats_to_pose(mean)).values
    return np.array([sum(c.sign * got[i, c.code] >= c.threshold() for c in read_changes(t))
                     for i, t in enumerate(texts)])


def test_pick_realises_more_named_changes_than_the_plain_mean(editor, starts):
    plain = _realised(editor, starts, None)
    picked = _realised(editor, starts, DEFAULT_REALISE)
    assert (picked >= plain).all()  # never fewer on any edit
    # several more edits honour their text (the rest are impossible from these starts: "straighten your right
    # arm" with the arm already straight, "lower your left hand" with it hanging)
    assert picked.sum() >= plain.sum() + 4, (plain.sum(), picked.sum())


def test_unnamed_parts_stay_held_and_limits_are_kept(editor, starts):
    A = torch.cat([pose_to_rotmats(p) for p in starts])
    for text, moving in (("bend your left knee", "left_leg"), ("raise your right hand", "right_arm"),
                         ("look up", "head")):
        mean, _ = editor.predict_normalized(A, [text] * len(starts), 0)
        still = [j for j in range(sk.NUM_JOINTS) if j not in sk.BODY_PARTS[moving]]
        assert torch.allclose(mean[:, still], A[:, still], atol=1e-5), text
        editor.realise = None
        try:
            plain, _ = editor.predict_normalized(A, [text] * len(starts), 0)
        finally:
            editor.realise = DEFAULT_REALISE
        # no joint further outside its limits than in the model's own mean (which can be: 8 deg on one start)
        over = limit_violation_deg(rotmats_to_pose(mean)) - limit_violation_deg(rotmats_to_pose(plain))
        assert over.max() <= 0.5, (text, over.max())


def test_scaling_reaches_the_threshold_and_frozen_joints_do_not_move():
    start = Pose.zeros()
    A = start.matrices().astype(np.float64)
    small = start.copy()
    full = small.full().copy()
    full[_J["left_knee"]] = [0.25, 0, 0]  # ~14 degrees: below the 18 degree edge of "bend"
    bent = Pose.from_full(full).matrices().astype(np.float64)
    change = [ExpectedChange(pair("pair_angle", "left_hip", "left_knee", "left_ankle"), 1)]
    assert score(A, bent[None], change)[0, 0] < 1.0
    R, info = realise(A, bent, None, change)
    assert info["realised"] == 1 and info["mean_realised"] == 0 and info["scale"] > 1.0 and not info["refined"]
    assert score(A, R[None], change)[0, 0] >= 1.0
    others = [j for j in range(22) if j not in change_joints(change)]
    assert np.allclose(R[others], A[others])
    frozen, info = realise(A, bent, None, change, frozen=sk.BODY_PARTS["left_leg"])
    assert np.allclose(frozen, bent) and info["realised"] == 0
    # a bend too small for any scale: the finite-difference refinement finishes it, on the leg only
    tiny = Pose.from_full(np.where(np.arange(22)[:, None] == _J["left_knee"], [[0.03, 0, 0]], 0).astype(np.float32))
    R, info = realise(A, tiny.matrices().astype(np.float64), None, change)
    assert info["refined"] and info["realised"] == 1 and score(A, R[None], change)[0, 0] >= 1.0
    assert np.allclose(R[others], A[others])
    assert limit_violation_deg(rotmats_to_pose(torch.as_tensor(R[None], dtype=torch.float32))).max() < 1e-3


def test_no_changes_or_nothing_better_returns_the_mean_bit_for_bit():
    rng = np.random.default_rng(0)
    A = Pose.zeros().matrices().astype(np.float64)
    mean = Pose.from_full(rng.normal(0, 0.1, (22, 3)).astype(np.float32)).matrices().astype(np.float64)
    out, info = realise(A, mean, None, [])
    assert out is not None and np.array_equal(out, mean) and info["pick"] == "mean"
    # asked to raise the hand, the mean and its scalings do not move the hand at all (only the legs changed):
    # without the refinement the mean comes back bit for bit; with it, only the left arm moves, the hand goes up
    legs = A.copy()
    legs[_J["left_knee"]] = mean[_J["left_knee"]]
    raise_hand = read_changes("raise your left hand")
    out, info = realise(A, legs, None, raise_hand, RealiseConfig(refine_steps=0))
    assert np.array_equal(out, legs) and info["realised"] == 0
    out, info = realise(A, legs, None, raise_hand)
    arm = list(sk.BODY_PARTS["left_arm"])
    assert info["refined"] and info["realised"] == 1
    assert np.allclose(np.delete(out, arm, 0), np.delete(legs, arm, 0))


@pytest.mark.parametrize("text", ["", "   ", "make me a sandwich", "raise your left arm and " * 120])
def test_bad_text_keeps_the_existing_notices(editor, starts, text):
    from core_models.text.compose import edit_sentence
    a = starts[1]
    res = edit_sentence(editor, a, text)
    if len(text) > 2000 or not text.strip() or "sandwich" in text:
        assert res.refused and res.notice and a.allclose(res.pose)
    plain = editor.edit(a, text[:2000], n_samples=2)
    if not text.strip() or "sandwich" in text:
        assert plain.notice and a.allclose(plain.mean)
    else:
        assert plain.notice is None and np.all(np.isfinite(plain.mean.full()))


def test_app_path_honours_the_text_and_keeps_held_parts(editor, starts):
    from core_models.text.compose import edit_sentence
    text = "bend your left knee a little and keep your right leg where it is"
    knee = pair("pair_angle", "left_hip", "left_knee", "left_ankle")
    ok = []
    for a in starts:
        res = edit_sentence(editor, a, text)
        right = list(sk.BODY_PARTS["right_leg"])
        assert np.allclose(res.pose.full()[right], a.full()[right], atol=1e-6)
        ok.append(extract_pairs(a, res.pose).values[0, knee] >= 18.0)
    editor.realise = None
    try:
        plain = [extract_pairs(a, edit_sentence(editor, a, text).pose).values[0, knee] >= 18.0 for a in starts]
    finally:
        editor.realise = DEFAULT_REALISE
    assert sum(ok) > sum(plain) and all(ok), (ok, plain)


def test_eval_options_and_the_environment_switch(monkeypatch):
    import argparse

    from core_models.nets.editor import load_editor
    from core_models.nets.editor.eval import _realise_config, add_eval_args

    p = argparse.ArgumentParser()
    add_eval_args(p)
    args = p.parse_args(["--split", "val", "--realise-refine", "0", "--realise-scales", "1,1.5", "--compliance-only"])
    cfg = _realise_config(args)
    assert args.split == "val" and args.compliance_only
    assert cfg == RealiseConfig(samples=DEFAULT_REALISE.samples, scales=(1.0, 1.5), margin=DEFAULT_REALISE.margin,
                                refine_steps=0)
    assert _realise_config(p.parse_args(["--no-realise"])) is None
    assert _realise_config(p.parse_args([])) == DEFAULT_REALISE
    with pytest.raises(SystemExit):
        p.parse_args(["--split", "train"])  # never evaluate on the training split
    monkeypatch.setenv("POSETAILOR_EDITOR_REALISE", "0")
    assert load_editor().realise is None
    monkeypatch.setenv("POSETAILOR_EDITOR_REALISE", "1")
    assert load_editor().realise == DEFAULT_REALISE


def test_a_change_the_mean_already_makes_keeps_its_size():
    """Regression: "raise your right hand slightly and look to the left" with the head already turned 40 deg by the
    mean and the hand short of the band: only the arm is scaled, the head keeps the mean's turn (it was scaled
    along with the arm to 90 deg)."""
    A = Pose.zeros()
    full = A.full().copy()
    full[_J["right_shoulder"]] = [0, 0, 1.2]   # arm hanging
    A = Pose.from_full(full)
    mean_full = full.copy()
    mean_full[_J["right_shoulder"]] = [0, 0, 0.95]  # raised a little: short of the 15 cm band
    mean_full[_J["neck"]] = [0, 0.35, 0]
    mean_full[_J["head"]] = [0, 0.35, 0]
    Am, Mm = A.matrices().astype(np.float64), Pose.from_full(mean_full).matrices().astype(np.float64)
    changes = read_changes("raise your right hand slightly and look to the left")
    m0 = score(Am, Mm[None], changes)[0]
    assert sorted(m0 >= 1.0) == [False, True]
    R, info = realise(Am, Mm, None, changes)
    assert info["realised"] == 2
    head = list(sk.BODY_PARTS["head"])
    assert np.allclose(R[head], Mm[head])
