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
import gzip
import math
import re
from functools import cache
from importlib.resources import files

import lemminflect
import wordfreq
from lemminflect import config as lemminflect_tables

# Word-class bits of a packed lexicon value; the Zipf frequency x 100 is stored above them.
# KNOWN: in any list; IN_LEXICON: a form lemminflect knows.
STOP, VERB, PARTICIPLE, GERUND, ADJ_ONLY, ADVERB, KNOWN, IN_LEXICON = (1 << i for i in range(8))
ZIPF_UNIT = 1 << 8
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


@cache
def packed_lexicon() -> dict[str, int]:
    """Lower-cased word -> word-class bits + Zipf frequency x 100 x ``ZIPF_UNIT``.

    A form is a VERB (it ends a candidate span) when it can only be a finite verb, or when it
    inflects a common verb of ``verbs.txt`` and is neither an adjective nor an "-ing" noun;
    PARTICIPLE/GERUND when it can be an "-ed"/"-ing" form but not a noun or adjective; ADJ_ONLY
    when it can be an adjective but not a noun; ADVERB when it can only be an adverb.
    """
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


@cache
def noun_lemmas() -> dict[str, str]:
    """Inflected noun form -> its lemma, as ``lemminflect.getLemma(form, upos="NOUN")`` gives it
    for dictionary words ("networks" -> "network", "criteria" -> "criterion")."""
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
    lemminflect.getLemma("qubits", upos="NOUN")  # load its rules for unknown words now, once
    return {form: lemma for form, lemma in lemmas.items() if form != lemma}
