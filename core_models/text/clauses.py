"""Splitting an instruction or a pose description into short lower-cased clauses.

Two learned models encode text clause by clause, and each was trained with its own splitting rule, so both
rules are kept (the shipped weights expect them):

* ``style="instruction"`` (the text-based pose editor, :mod:`core_models.nets.editor`): cut at ``. ; , ! ? :``,
  line breaks and the words "then" / "and"; leading "and / then / also / now" dropped; at most
  :data:`MAX_CLAUSES` clauses; empty text → ``[]``.
* ``style="description"`` (QPoser's text-prompt model, :mod:`core_models.nets.qposer`): sentences (after
  ``. ! ? ;`` + space), then ", " / ", and " / " while " / "; " pieces; trailing punctuation stripped;
  connective words kept; empty text → ``["."]`` (the prompter always needs one clause).
"""
from __future__ import annotations

import re
from typing import Literal

#: most clauses the editor reads from one instruction
MAX_CLAUSES = 12

ClauseStyle = Literal["instruction", "description"]

_INSTRUCTION_CUT = re.compile(r"[.;,!?:]+\s*|\s+then\s+|\s+and\s+|\n+", re.IGNORECASE)
_INSTRUCTION_LEAD = re.compile(r"^(?:(?:and|then|also|now)\b\s*)+")
_SENTENCE_CUT = re.compile(r"(?<=[.!?;])\s+")
_DESCRIPTION_CUT = re.compile(r",?\s+while\s+|,\s+(?:and\s+)?|;\s*")


def _instruction_clauses(text: str) -> list[str]:
    parts = [_INSTRUCTION_LEAD.sub("", p.strip().lower()) for p in _INSTRUCTION_CUT.split(text or "")]
    return [p for p in parts if p][:MAX_CLAUSES]


def _description_clauses(text: str) -> list[str]:
    out = []
    for sentence in _SENTENCE_CUT.split(text.strip()):
        for c in _DESCRIPTION_CUT.split(sentence):
            c = c.strip().strip(".!?;").strip()
            if c:
                out.append(c.lower())
    return out or [text.strip().lower() or "."]


def split_clauses(text: str, style: ClauseStyle = "instruction") -> list[str]:
    """Lower-cased clauses of ``text`` ("Raise your left arm, then bend the knees." → ["raise your left arm",
    "bend the knees"]) by the rule of ``style`` (see the module docstring)."""
    if style == "instruction":
        return _instruction_clauses(text)
    if style == "description":
        return _description_clauses(text)
    raise ValueError(f"unknown clause style {style!r}: 'instruction' or 'description'")
