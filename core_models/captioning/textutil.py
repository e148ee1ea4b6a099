"""Small text helpers shared by the captioners: left/right flipping, agreement, sentence assembly."""
from __future__ import annotations

import re

# "right" that is not a side: "right angle(s)", "right-angled", "right away", "all right", "right now"
_NOT_SIDE = re.compile(r"(?:[\s-]+angle|[\s-]+angled|\s+away|\s+now)\b", re.IGNORECASE)
_SIDE_WORD = re.compile(r"\b(left|right)(?=(?:[^a-z]|$))", re.IGNORECASE)
# adverbial "right" before a place ("right by your feet", "right next to the knee", "right above the head"); after
# "the" / "to" / "your" … it is still a side ("to the right by 10 cm")
_ADVERB_NEXT = re.compile(r"\s+(?:by|next|above|below|behind|beside|against|under|over|in\s+front|up\s+to|down\s+to"
                          r"|between|on\s+top|at\s+the)\b", re.IGNORECASE)
_SIDE_BEFORE = re.compile(r"\b(?:the|to|your|his|her|their|my|its|on|at|turn\w*|twist\w*|rotat\w*|lean\w*|tilt\w*"
                          r"|step\w*|mov\w*|look\w*|shift\w*|swivel\w*|pivot\w*|fac\w*|go|bit|more|further"
                          r"|slightly)\s+$", re.IGNORECASE)


def _match_case(src: str, word: str) -> str:
    if src.isupper() and len(src) > 1:
        return word.upper()
    if src[0].isupper():
        return word[0].upper() + word[1:]
    return word


def flip_text(text: str) -> str:
    """Swap every left/right side word (keeping its case), consistently with ``pose.mirror``.

    Handles compounds such as "left-hand", "right side", "left-most". "A right angle" and a few idioms
    where "right" is not a side are kept."""

    def repl(m: re.Match) -> str:
        word = m.group(1)
        if word.lower() == "right":
            if _NOT_SIDE.match(text, m.end()) or re.search(r"\ball\s+$", text[:m.start()], re.IGNORECASE):
                return word
            if _ADVERB_NEXT.match(text, m.end()) and not _SIDE_BEFORE.search(text[:m.start()]):
                return word
            return _match_case(word, "left")
        return _match_case(word, "right")

    return _SIDE_WORD.sub(repl, text)


_FORMS = re.compile(r"\[([^\[\]|]*)\|([^\[\]|]*)\]")


def agree(template: str, plural: bool) -> str:
    """Resolve ``[singular|plural]`` alternatives, e.g. ``"[is|are] bent"``."""
    return _FORMS.sub(lambda m: m.group(2) if plural else m.group(1), template)


def capitalize(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def join_list(items: list[str], conj: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.])", r"\1", text)
    text = re.sub(r"\.\.+", ".", text)
    # capitalise sentence starts
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
