"""What the sentence composer understood, for people: one row per clause (part, side, change, amount) and the
input's words marked as used, ignored or not usable, so a user can see what to rephrase.

``clause_rows(edit)`` turns a :class:`core_models.text.compose.SentenceEdit` into display rows (understood
clauses first in sentence order, then every clause it could not use with the reason); ``word_marks(text,
unused_texts)`` splits the raw input into pieces tagged "used" | "ignored" | "unused" | "plain" (spaces and
punctuation, "and" / "then" separators). Qt-free.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from core_models.text.parse import _BREAK, Clause, _FILLER, _KNOWN, _PUNCT, _UNITS, _number, normalise, parse_sentence

_CHANGE = {
    ("flexion", 1): "bend", ("flexion", -1): "straighten", ("height", 1): "raise", ("height", -1): "lower",
    ("forward", 1): "forward", ("forward", -1): "back", ("sideways", 0): "out to the side",
    ("sideways", 1): "to the left", ("sideways", -1): "to the right", ("turn", 1): "turn left",
    ("turn", -1): "turn right", ("turn", 0): "face front", ("tilt", 1): "tilt left", ("tilt", -1): "tilt right",
}
_HEAD = {("flexion", 1): "look down", ("flexion", -1): "look up"}
_TORSO = {("flexion", 1): "lean forward", ("flexion", -1): "lean back / upright", ("sideways", 1): "lean left",
          ("sideways", -1): "lean right", ("turn", 1): "twist left", ("turn", -1): "twist right"}
_DEGREE = {"slight": "slightly", "normal": "default", "large": "a lot"}
_REFERENCE = {"same": "same as before", "other": "the other one", "pronoun": "'it'"}


@dataclass
class ClauseRow:
    """One line of the "understood" table. ``status``: "action" | "hold" | "unused"."""
    text: str
    part: str
    side: str
    change: str
    amount: str
    status: str


def describe_change(part: str | None, actions: list[dict]) -> str:
    table = {**_CHANGE, **(_HEAD if part == "head" else _TORSO if part == "torso" else {})}
    return ", ".join(table.get((a["measure"], a["direction"]), f"{a['measure']} {a['direction']:+d}")
                     for a in actions)


def describe_amount(c: dict) -> str:
    amount, unit = c.get("amount"), c.get("unit")
    if c.get("goal") == "above_head":
        return "above the head"
    if amount is not None and unit == "m":
        text = f"{amount * 100:.0f} cm"
    elif amount is not None and unit == "deg":
        text = f"{amount:.0f}°"
    else:
        return _DEGREE.get(c.get("degree", "normal"), "default")
    return f"to {text}" if c.get("absolute") else text


def describe_side(c: dict) -> str:
    sides = c.get("side") or []
    side = "both" if len(sides) == 2 else sides[0] if sides else "—"
    found = [f"{c['relative']} one" if c.get("relative") else None, _REFERENCE.get(c.get("reference") or "")]
    extra = [e for e in found if e]
    return f"{side} ({', '.join(extra)})" if extra else side


def _clean(text: str) -> str:
    return text.replace(" | ", " … ").replace("|", "…")


def clause_rows(edit) -> list[ClauseRow]:
    """Rows for the understood clauses (holds: "keep still") and for every unusable clause (its reason)."""
    rows = []
    failed = {u["text"] for u in edit.unused}
    for c in edit.understood:
        if c["text"] in failed:  # understood, but the editor could not do it: listed once, as not used
            continue
        if c["role"] == "hold":
            held = ", ".join(p.replace("_", " ") for p in c.get("held") or []) or (c.get("part") or "—")
            rows.append(ClauseRow(_clean(c["text"]), held, describe_side(c), "keep still", "", "hold"))
        else:
            rows.append(ClauseRow(_clean(c["text"]), c.get("part") or "—", describe_side(c),
                                  describe_change(c.get("part"), c.get("actions") or []), describe_amount(c),
                                  "action"))
    for u in edit.unused:
        rows.append(ClauseRow(_clean(u["text"]), "—", "—", f"not used: {u['reason']}", "", "unused"))
    return rows


_SEPARATORS = _BREAK | {"so", "until", "till"}  # clause / goal boundaries: neither used nor ignored
_PIECE = re.compile(r"\s+|[^\s]+")


def _unknown(t: str) -> bool:
    """A word the parser has no use for (also in goal tails, which Clause.ignored does not cover)."""
    return (t not in _KNOWN or t in _FILLER) and t not in _UNITS and _number(t) is None


def _flat_tokens(text: str) -> list[tuple[str, int, Clause]]:
    parsed = parse_sentence(text)
    flat = []
    for n, c in enumerate(parsed.clauses):
        for t in c.text.split():
            if t != "|":
                flat.append((t, n, c))
    return flat


def word_marks(text: str, unused_texts: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """The raw ``text`` as (piece, mark) in order; joined pieces give back ``text``. Marks: "used" (a word of
    an understood clause), "ignored" (a word no clause used: fillers, unknown words), "unused" (a word of a
    clause that could not be used, or whose clause text is in ``unused_texts``), "plain" (spaces, punctuation,
    clause separators)."""
    flat = _flat_tokens(text) if text.strip() else []
    k, out = 0, []
    for m in _PIECE.finditer(text):
        piece = m.group(0)
        toks = [t for t in normalise(piece) if t not in _PUNCT] if not piece.isspace() else []
        if not toks:
            out.append((piece, "plain"))
            continue
        mark = "plain" if all(t in _SEPARATORS for t in toks) else "ignored"
        for t in toks:
            j = next((j for j in range(k, min(k + 8, len(flat))) if flat[j][0] == t), None)
            if j is None:
                continue
            k = j + 1
            clause = flat[j][2]
            if clause.role == "unused" or _clean(clause.text) in unused_texts or clause.text in unused_texts:
                mark = "unused"
            elif t not in clause.ignored and not _unknown(t):
                mark = "used"
            break
        out.append((piece, mark))
    return out
