"""What the extractor knows about English words.

Hand-written lists live beside this module as data (one or more words per line, ``#`` comments):
``stopwords.txt`` (function words), ``verbs.txt`` (common verbs of academic prose) and
``boilerplate.txt`` (paper boilerplate such as "paper", "propose", "results", used for related
papers' terms). The rest comes from two well-kept libraries, read once per process:

- lemminflect's lookup tables (derived from the NIH SPECIALIST lexicon): the parts of speech each
  word form can take, verb inflections, and noun lemmas ("networks" -> "network");
- wordfreq's English word list: how common each word is in general English (Zipf scale).
"""

from __future__ import annotations

import collections
import contextlib
import gzip
import hashlib
import math
import os
import re
from collections.abc import Callable
from functools import cache
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import polars as pl

from pipeline.artifacts import parquet_bytes
from pipeline.storage import write_atomic

# Word-class bits of a packed lexicon value; the Zipf frequency x 100 is stored above them.
# KNOWN: in any list; IN_LEXICON: a form lemminflect knows.
STOP, VERB, PARTICIPLE, GERUND, ADJ_ONLY, ADVERB, KNOWN, IN_LEXICON = (1 << i for i in range(8))
ZIPF_UNIT = 1 << 8
# Bump when what the built tables hold changes.
CACHE_FORMAT = "1"
# Words rarer than this in general English (about 3 per 10^8 words) are treated as unknown.
MIN_ZIPF = 1.5
_PLAIN_WORD = re.compile(r"^[a-z][a-z'\-]*$")


@cache
def word_list(name: str) -> frozenset[str]:
    """The lower-cased words of ``pipeline/keyphrases/<name>``."""
    text = files("pipeline.keyphrases").joinpath(name).read_text(encoding="utf-8")
    words = (line.split("#", 1)[0].split() for line in text.splitlines())
    return frozenset(word.lower() for line in words for word in line)


@cache
def breaker_words() -> frozenset[str]:
    """Words that never belong to a topic term: function words and paper boilerplate."""
    return word_list("stopwords.txt") | word_list("boilerplate.txt")


def _parts_of_speech() -> dict[str, set[str]]:
    """Word form -> the roles it can take: noun, adj, adv, aux, and verb forms vb/vbz/vbd/vbn/vbg."""
    from lemminflect import config as lemminflect_tables

    roles: dict[str, set[str]] = collections.defaultdict(set)
    with gzip.open(lemminflect_tables.lemma_lu_fn, "rt", encoding="utf-8") as table:
        for line in table:
            form, pos, _ = line.rstrip("\n").split(",", 2)
            if pos in ("noun", "adj", "adv", "aux"):
                roles[form.lower()].add(pos)
    with gzip.open(lemminflect_tables.inflection_lu_fn, "rt", encoding="utf-8") as table:
        for line in table:
            parts = line.rstrip("\n").split(",")
            if parts[1] != "verb":
                continue
            roles[parts[0].lower()].add("vb")
            slots = dict(zip(["vbd", "vbn", "vbg", "vbz"], parts[2:], strict=False))
            slots["vbn"] = slots.get("vbn") or slots.get("vbd", "")  # empty VBN: same as VBD
            for tag, forms in slots.items():
                for form in filter(None, forms.split("/")):
                    roles[form.lower()].add(tag)
    return roles


def _common_verb_forms() -> set[str]:
    """The lemmas of ``verbs.txt`` with all their inflections."""
    import lemminflect

    forms = set(word_list("verbs.txt"))
    for lemma in word_list("verbs.txt"):
        for inflections in lemminflect.getAllInflections(lemma, upos="VERB").values():
            forms.update(form.lower() for form in inflections)
    return forms


def _word_class(roles: set[str], common_verb: bool) -> int:
    nominal = "noun" in roles or "adj" in roles
    verb_form = roles & {"vb", "vbz", "vbd", "vbn", "vbg"}
    bits = KNOWN | IN_LEXICON
    finite_only = roles & {"vb", "vbz"} and not roles & {"vbd", "vbn", "vbg"}
    if (finite_only and not nominal) or (
        common_verb and "adj" not in roles and not ("vbg" in roles and "noun" in roles)
    ):
        bits |= VERB
    if roles & {"vbd", "vbn"} and not nominal:
        bits |= PARTICIPLE
    if "vbg" in roles and not nominal:
        bits |= GERUND
    if "adj" in roles and "noun" not in roles:
        bits |= ADJ_ONLY
    if "adv" in roles and not nominal and not verb_form:
        bits |= ADVERB
    return bits


def _cache_file(kind: str) -> Path:
    """Where a derived table is cached: keyed by the library versions and the word lists it is
    built from, so a stale cache is never read. ``PAPERLAKE_CACHE`` or the user's cache folder."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for library in ("lemminflect", "wordfreq"):
        digest.update(f"{library}={metadata.version(library)}".encode())
    for name in ("stopwords.txt", "verbs.txt"):
        digest.update(files("pipeline.keyphrases").joinpath(name).read_bytes())
    root = os.environ.get("PAPERLAKE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "paperlake"
    )
    return Path(root) / f"{kind}-{digest.hexdigest()[:16]}.parquet"


def _cached(kind: str, columns: tuple[str, str], build: Callable[[], dict]) -> dict:
    """``build()``'s mapping, read from the cache file when there is one (built in ~2 s,
    read in ~0.1 s)."""
    path = _cache_file(kind)
    if path.exists():
        table = pl.read_parquet(path)
        return dict(zip(table[columns[0]].to_list(), table[columns[1]].to_list(), strict=True))
    mapping = build()
    table = pl.DataFrame({columns[0]: list(mapping), columns[1]: list(mapping.values())})
    with contextlib.suppress(OSError):  # an unwritable cache only costs time
        write_atomic(path, parquet_bytes(table.to_arrow()))
    return mapping


@cache
def packed_lexicon() -> dict[str, int]:
    """``build_packed_lexicon()``, cached on disk."""
    return _cached("lexicon", ("word", "bits"), build_packed_lexicon)


@cache
def noun_lemmas() -> dict[str, str]:
    """``build_noun_lemmas()``, cached on disk."""
    import lemminflect

    lemmas = _cached("noun-lemmas", ("form", "lemma"), build_noun_lemmas)
    lemminflect.getLemma("qubits", upos="NOUN")  # load its rules for unknown words now, once
    return lemmas


def build_packed_lexicon() -> dict[str, int]:
    """Lower-cased word -> word-class bits + Zipf frequency x 100 x ``ZIPF_UNIT``.

    A form is a VERB (it ends a candidate span) when it can only be a finite verb, or when it
    inflects a common verb of ``verbs.txt`` and is neither an adjective nor an "-ing" noun;
    PARTICIPLE/GERUND when it can be an "-ed"/"-ing" form but not a noun or adjective; ADJ_ONLY
    when it can be an adjective but not a noun; ADVERB when it can only be an adverb.
    """
    import wordfreq

    common = _common_verb_forms()
    roles = _parts_of_speech()
    lexicon = {
        form: _word_class(roles.get(form, set()), form in common)
        for form in roles.keys() | common
        if form and "," not in form
    }
    for word, frequency in wordfreq.get_frequency_dict("en").items():
        zipf = round(math.log10(frequency) + 9, 2)
        if zipf >= MIN_ZIPF and _PLAIN_WORD.match(word):
            lexicon[word] = lexicon.get(word, KNOWN) | (round(zipf * 100) * ZIPF_UNIT)
    for word in word_list("stopwords.txt"):
        lexicon[word] = lexicon.get(word, 0) | STOP | KNOWN
    return lexicon


def build_noun_lemmas() -> dict[str, str]:
    """Inflected noun form -> its lemma, as ``lemminflect.getLemma(form, upos="NOUN")`` gives it
    for dictionary words ("networks" -> "network", "criteria" -> "criterion")."""
    from lemminflect import config as lemminflect_tables

    lemmas: dict[str, str] = {}
    with gzip.open(lemminflect_tables.lemma_lu_fn, "rt", encoding="utf-8") as table:
        for line in table:
            form, pos, lemma = line.rstrip("\n").split(",", 2)
            if pos == "noun":
                lemmas.setdefault(form.lower(), lemma.split("/")[0].lower())
    with open(lemminflect_tables.lemma_overrides_fn, encoding="utf-8") as overrides:
        for line in overrides:
            parts = line.strip().split(",")
            if len(parts) == 3 and parts[1] == "NOUN":
                lemmas[parts[0].lower()] = parts[2].split("/")[0].lower()
    return {form: lemma for form, lemma in lemmas.items() if form != lemma}
