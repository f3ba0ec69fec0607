"""Word lists kept as data beside this module (one or more words per line, ``#`` comments)."""

from functools import cache
from importlib.resources import files


@cache
def word_list(name: str) -> frozenset[str]:
    """The lower-cased words of ``pipeline/keyphrases/<name>``."""
    text = files("pipeline.keyphrases").joinpath(name).read_text(encoding="utf-8")
    words = (line.split("#", 1)[0].split() for line in text.splitlines())
    return frozenset(word.lower() for line in words for word in line)


@cache
def breaker_words() -> frozenset[str]:
    """Words that never belong to a keyphrase or a topic term: stopwords and paper boilerplate."""
    return word_list("stopwords.txt") | word_list("boilerplate.txt")
