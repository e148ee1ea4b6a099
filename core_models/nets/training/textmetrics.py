"""Text-generation metrics, own implementations: BLEU-4, ROUGE-L, METEOR (multi-reference).

All three work on lower-cased word tokens (punctuation dropped, see :func:`words`) and return values in
[0, 100] like the PoseFix tables.

* BLEU-4 (Papineni et al. 2002): corpus level, clipped n-gram precisions for n = 1..4 (counts clipped by the
  maximum count in any reference), geometric mean, brevity penalty against the reference length closest
  to each hypothesis (ties → shorter). No smoothing (an empty n-gram order gives 0).
* ROUGE-L (Lin 2004): sentence level LCS F-measure with beta = 1.2 (as in the COCO caption tool), best
  reference per hypothesis, averaged over the corpus.
* METEOR (Banerjee & Lavie 2005, parameters alpha 0.9, beta 3, gamma 0.5): unigram alignment in two
  stages (exact form, then a light suffix-stripping stem; no WordNet synonyms), greedy left-to-right,
  F-mean ``P·R / (alpha·P + (1-alpha)·R)`` times ``1 - gamma·(chunks/matches)^beta``; best reference per
  hypothesis, averaged. Without the synonym stage the values are slightly below the NLTK / official ones.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Sequence

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ngrams(tok: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tok[i:i + n]) for i in range(len(tok) - n + 1))


def bleu4(hyps: Sequence[str], refs: Sequence[Sequence[str]], max_n: int = 4) -> float:
    """Corpus BLEU-4 ×100. ``refs[i]`` is the list of reference texts of ``hyps[i]``."""
    if len(hyps) != len(refs):
        raise ValueError("hyps and refs must have the same length")
    match = [0] * max_n
    total = [0] * max_n
    hyp_len = ref_len = 0
    for h, rs in zip(hyps, refs):
        ht = words(h)
        rts = [words(r) for r in rs]
        if not rts:
            raise ValueError("every hypothesis needs at least one reference")
        hyp_len += len(ht)
        ref_len += min((abs(len(r) - len(ht)), len(r)) for r in rts)[1]
        for n in range(1, max_n + 1):
            hc = _ngrams(ht, n)
            mx: Counter = Counter()
            for r in rts:
                for g, c in _ngrams(r, n).items():
                    if c > mx[g]:
                        mx[g] = c
            match[n - 1] += sum(min(c, mx[g]) for g, c in hc.items())
            total[n - 1] += max(0, len(ht) - n + 1)
    if hyp_len == 0 or min(match) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(match, total)) / max_n
    bp = 1.0 if hyp_len > ref_len else math.exp(1.0 - ref_len / hyp_len)
    return 100.0 * bp * math.exp(log_p)


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l_sentence(hyp: str, refs: Sequence[str], beta: float = 1.2) -> float:
    ht = words(hyp)
    best = 0.0
    for r in refs:
        rt = words(r)
        lcs = _lcs(ht, rt)
        if lcs == 0:
            continue
        p, rc = lcs / len(ht), lcs / len(rt)
        f = (1 + beta ** 2) * p * rc / (rc + beta ** 2 * p)
        best = max(best, f)
    return best


def rouge_l(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> float:
    if not hyps:
        return 0.0
    return 100.0 * sum(rouge_l_sentence(h, r) for h, r in zip(hyps, refs)) / len(hyps)


_SUFFIXES = ("ingly", "edly", "ing", "ies", "ied", "ed", "es", "ly", "er", "s")


def stem(w: str) -> str:
    """Light suffix stripping (enough to match "bend"/"bending", "hand"/"hands", "raise"/"raised")."""
    for s in _SUFFIXES:
        if w.endswith(s) and len(w) - len(s) >= 3:
            w = w[: -len(s)]
            break
    return w[:-1] if len(w) > 3 and w.endswith("e") else w


def _align(ht: list[str], rt: list[str]) -> list[tuple[int, int]]:
    used_h, used_r = set(), set()
    pairs: list[tuple[int, int]] = []
    for key in (lambda w: w, stem):
        hk = [key(w) for w in ht]
        rk = [key(w) for w in rt]
        for i, w in enumerate(hk):
            if i in used_h:
                continue
            # prefer the unmatched reference position that keeps the alignment monotone with the last match
            cands = [j for j, v in enumerate(rk) if v == w and j not in used_r]
            if not cands:
                continue
            last = max((p[1] for p in pairs if p[0] < i), default=-1)
            after = [j for j in cands if j > last]
            j = after[0] if after else cands[0]
            used_h.add(i)
            used_r.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def meteor_sentence(hyp: str, refs: Sequence[str], alpha: float = 0.9, beta: float = 3.0,
                    gamma: float = 0.5) -> float:
    ht = words(hyp)
    best = 0.0
    for r in refs:
        rt = words(r)
        al = _align(ht, rt)
        m = len(al)
        if m == 0:
            continue
        p, rc = m / len(ht), m / len(rt)
        fmean = p * rc / (alpha * p + (1 - alpha) * rc)
        chunks = 1
        for (i0, j0), (i1, j1) in zip(al, al[1:]):
            if not (i1 == i0 + 1 and j1 == j0 + 1):
                chunks += 1
        pen = gamma * (chunks / m) ** beta
        best = max(best, fmean * (1 - pen))
    return best


def meteor(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> float:
    if not hyps:
        return 0.0
    return 100.0 * sum(meteor_sentence(h, r) for h, r in zip(hyps, refs)) / len(hyps)


def all_metrics(hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> dict[str, float]:
    return {"bleu4": bleu4(hyps, refs), "rouge_l": rouge_l(hyps, refs), "meteor": meteor(hyps, refs)}
