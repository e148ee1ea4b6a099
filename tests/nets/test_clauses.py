"""core_models.text.clauses.split_clauses keeps each trained model's clause splitting: the expected lists below
were produced by the two functions it replaces (nets/editor.py and nets/qposer_prompt.py before the
restructuring), for the editor ("instruction") and QPoser's prompter ("description")."""
from __future__ import annotations

import pytest

from core_models.text.clauses import MAX_CLAUSES, split_clauses

#: (text, editor clauses before, prompter clauses before)
BEFORE = [
    ('Raise your left arm, then bend the knees.',
     ['raise your left arm', 'bend the knees'],
     ['raise your left arm', 'then bend the knees']),
    ('and then lift the right leg; now turn the head',
     ['lift the right leg', 'turn the head'],
     ['and then lift the right leg', 'now turn the head']),
    ('Bend your left knee a lot more, then raise the right hand.',
     ['bend your left knee a lot more', 'raise the right hand'],
     ['bend your left knee a lot more', 'then raise the right hand']),
    ('Move the hands closer to each other. The feet need to be shoulder-width apart.',
     ['move the hands closer to each other', 'the feet need to be shoulder-width apart'],
     ['move the hands closer to each other', 'the feet need to be shoulder-width apart']),
    ('The person is standing while the arms are raised, and the head is tilted.',
     ['the person is standing while the arms are raised', 'the head is tilted'],
     ['the person is standing', 'the arms are raised', 'the head is tilted']),
    ('Lean forward!Look up? Spread the legs: wide',
     ['lean forward', 'look up', 'spread the legs', 'wide'],
     ['lean forward!look up', 'spread the legs: wide']),
    ('',
     [],
     ['.']),
    ('   ',
     [],
     ['.']),
    ('...',
     [],
     ['...']),
    ('Kneel on the right knee\nand put the hands on the hips',
     ['kneel on the right knee', 'put the hands on the hips'],
     ['kneel on the right knee\nand put the hands on the hips']),
    ('Also straighten both arms and then look left.',
     ['straighten both arms', 'look left'],
     ['also straighten both arms and then look left']),
    ('a, b, c, d, e, f, g, h, i, j, k, l, m, n',
     ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'],
     ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n']),
    ('The left hand is above the head; the right elbow is bent.',
     ['the left hand is above the head', 'the right elbow is bent'],
     ['the left hand is above the head', 'the right elbow is bent']),
    ('Her knees are bent, and her torso leans back while she looks down.',
     ['her knees are bent', 'her torso leans back while she looks down'],
     ['her knees are bent', 'her torso leans back', 'she looks down']),
    ('Squat down.',
     ['squat down'],
     ['squat down']),
    ('Bend forward, and the arms hang; then stand',
     ['bend forward', 'the arms hang', 'stand'],
     ['bend forward', 'the arms hang', 'then stand']),
]


@pytest.mark.parametrize("text,editor,prompter", BEFORE)
def test_both_models_get_the_clauses_they_were_trained_with(text, editor, prompter):
    assert split_clauses(text) == editor
    assert split_clauses(text, "instruction") == editor
    assert split_clauses(text, "description") == prompter


def test_models_use_their_own_style():
    """The editor's clause store and QPoser's prompt features really split with their own rule."""
    from collections import defaultdict

    import torch

    from core_models.nets.editor.data import ClauseStore
    from core_models.nets.qposer.infer import ClauseFeatures

    text = "The person is standing while the arms are raised, and the head is tilted."
    seen: list[str] = []
    feats = ClauseFeatures()
    feats.add = lambda clauses, **_: seen.extend(clauses)  # type: ignore[method-assign]  # no text encoder
    feats.store = defaultdict(lambda: torch.zeros(384, dtype=torch.float16))
    feats.batch([text])
    assert seen == BEFORE[4][2]
    store = ClauseStore.__new__(ClauseStore)  # only the clause indexing, no encoder / cache
    store.index = {}
    ids = ClauseStore._clause_ids(store, text)
    assert [c for c, i in sorted(store.index.items(), key=lambda kv: kv[1]) if i in ids] == BEFORE[4][1]


def test_instruction_style_caps_the_number_of_clauses():
    assert len(split_clauses(", ".join("x" * (i + 1) for i in range(30)))) == MAX_CLAUSES


def test_unknown_style_is_an_error():
    with pytest.raises(ValueError, match="clause style"):
        split_clauses("raise the arms", "poem")  # type: ignore[arg-type]
