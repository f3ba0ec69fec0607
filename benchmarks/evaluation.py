"""The keyphrase evaluation protocol used for Inspec and SemEval-style benchmarks.

A prediction matches a gold keyphrase when both, NFKC-normalised and lower-cased, split into
tokens (runs of word characters; every other non-space character is a token of its own) and
Porter-stemmed, are the same token sequence. Predictions are de-duplicated after stemming (the
first occurrence counts) and so is the gold list; P@k divides the matches among the first k
predictions by k (a shorter list counts as misses), R@k by the number of gold phrases, and the
reported F1@k is the mean over documents (macro average), in percent. Documents without gold
phrases are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache

import Stemmer

_TOKEN = re.compile(r"\w+|[^\w\s]")


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("porter")


def normalize(phrase: str) -> str:
    tokens = _TOKEN.findall(unicodedata.normalize("NFKC", phrase).lower())
    return " ".join(_stemmer().stemWords(tokens))


def _unique(phrases: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for phrase in phrases:
        key = normalize(phrase)
        if key:
            seen.setdefault(key, None)
    return list(seen)


def f1_at_k(predicted: Sequence[str], gold: Sequence[str], k: int) -> float:
    """F1 of the first ``k`` predictions of one document (0 to 1)."""
    truth = set(_unique(gold))
    if not truth:
        raise ValueError("a document without gold keyphrases cannot be scored")
    matches = sum(p in truth for p in _unique(predicted)[:k])
    precision, recall = matches / k, matches / len(truth)
    return 2 * precision * recall / (precision + recall) if matches else 0.0


def macro_f1(predictions: Sequence[Sequence[str]], golds: Sequence[Sequence[str]], k: int) -> float:
    """Mean F1@k over the documents that have gold keyphrases, in percent."""
    scores = [f1_at_k(p, g, k) for p, g in zip(predictions, golds, strict=True) if _unique(g)]
    return 100 * sum(scores) / len(scores) if scores else 0.0
