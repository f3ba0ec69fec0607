"""Every kind of input a user may drop, and what becomes of it."""

import json
from pathlib import Path

import polars as pl
import pytest

from pipeline.formats import ParseError, formats, parse_dump

FIXTURES = Path(__file__).parent / "fixtures"
ABSTRACT_1 = (
    "We study sparse codes in neural networks and find them interpretable. Results are strong."
)
ABSTRACT_2 = (
    "A second abstract, long enough to be read as one, about graph transformers. It ends here."
)


def _papers(data: bytes, name: str = "dump.txt") -> pl.DataFrame:
    return pl.from_arrow(parse_dump(data, name).papers)


def _listing(*lines: str, sep: str = "\n") -> bytes:
    return sep.join(lines).encode("utf-8")


# ------------------------------------------------------------------ listing text, robustness


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"])
def test_line_endings(sep):
    papers = _papers(_listing("Paper One", ABSTRACT_1, "Paper Two", ABSTRACT_2, sep=sep))
    assert papers["title"].to_list() == ["Paper One", "Paper Two"]
    assert papers["abstract"].to_list() == [ABSTRACT_1, ABSTRACT_2]


def test_bom_blank_lines_and_trailing_spaces():
    data = (
        "\ufeff\n\nPaper One   \n\n\n"
        + ABSTRACT_1
        + "  \t\n\n\nPaper Two\n\n"
        + ABSTRACT_2
        + "\n\n"
    )
    papers = _papers(data.encode("utf-8"))
    assert papers["title"].to_list() == ["Paper One", "Paper Two"]
    assert papers["abstract"].to_list() == [ABSTRACT_1, ABSTRACT_2]


def test_unicode_separators_inside_an_abstract_are_not_line_breaks():
    broken = (
        "We study sparse codes\u2028in neural networks\u2029and find them\x0cinterpretable. Done."
    )
    papers = _papers(_listing("Paper One", broken, "Paper Two", ABSTRACT_2))
    assert papers["abstract"][0] == (
        "We study sparse codes in neural networks and find them interpretable. Done."
    )
    assert papers.height == 2


def test_unicode_is_preserved_exactly():
    title = "Ψ-Net: Café «résumé» 深度学习 for “curly” quotes 🚀"
    abstract = "We estimate α, β and γ with naïve Bayes; 日本語のテキストも含む。 Results are 👍 and “good”."
    assert _papers(_listing(title, abstract)).row(0, named=True)["title"] == title
    assert _papers(_listing(title, abstract))["abstract"][0] == abstract


def test_utf16_with_and_without_bom():
    text = "\n".join(["Paper One", ABSTRACT_1])
    assert _papers(text.encode("utf-16"))["title"].to_list() == ["Paper One"]
    assert _papers(text.encode("utf-16-le"))["title"].to_list() == ["Paper One"]


def test_file_ending_in_the_middle_of_a_title_keeps_it_flagged():
    papers = _papers(
        _listing("Paper One", ABSTRACT_1, "Paper Two", ABSTRACT_2, "A Third Paper Whose Tit")
    )
    assert papers["title"].to_list() == ["Paper One", "Paper Two", "A Third Paper Whose Tit"]
    assert papers["abstract"][2] is None
    assert papers["truncated"].to_list() == [False, False, True]


def test_blank_line_between_title_and_abstract_does_not_split_them():
    papers = _papers(_listing("Paper One", "", "", ABSTRACT_1, "", "Paper Two", "", ABSTRACT_2))
    assert papers["abstract"].to_list() == [ABSTRACT_1, ABSTRACT_2]


# ------------------------------------------------------------------ full-page copies

SAMPLE_TITLES = [
    "Codebook Features: Sparse and Discrete Interpretability for Neural Networks",
    "Testing Hateful Speeches against Policies",
    "Tunable Convolutions with Parametric Multi-Loss Optimization",
    "Feature Learning in Infinite-Width Neural Networks",
]


@pytest.mark.parametrize("layout", ["below", "above", "twice"])
def test_card_lines_never_become_papers(layout, sample_bytes):
    papers = _papers((FIXTURES / f"page-cards-{layout}.txt").read_bytes())
    assert papers["title"].to_list() == SAMPLE_TITLES
    sample = _papers(sample_bytes)
    assert papers["abstract"].to_list() == sample["abstract"][:4].to_list()
    assert papers["upvotes"].to_list() == [142, 37, 9, 5]
    assert papers["github_stars"].to_list() == [1200, 87, 2304, 640]
    assert papers["published_on"].cast(pl.String).to_list() == [
        "2023-10-26",
        "2023-11-02",
        "2023-04-12",
        "2020-11-30",
    ]


def test_card_facts_arxiv_ids_and_authors():
    papers = _papers((FIXTURES / "page-cards-below.txt").read_bytes())
    assert papers["paper_id"][0] == "arxiv:2310.17230"
    assert papers["arxiv_id"].to_list() == ["2310.17230", "2311.01234", "2304.00898", "2011.14522"]
    assert papers["authors"][2].to_list() == ["Renán A. Rojas-Gómez", "Teck-Yian Lim", "Minh N. Do"]


# ------------------------------------------------------------------ other formats


def test_formats_are_discovered_with_listing_text_last():
    assert [f.NAME for f in formats()] == ["arxiv_jsonl", "daily_papers_json", "listing_text"]


def test_arxiv_metadata_jsonl():
    parsed = parse_dump((FIXTURES / "arxiv-2026-11-25.jsonl").read_bytes(), "arxiv.jsonl")
    papers = pl.from_arrow(parsed.papers)
    assert parsed.format == "arxiv_jsonl"
    assert papers["paper_id"][:2].to_list() == ["arxiv:2310.17230", "arxiv:2311.01234"]
    assert papers["title"][:4].to_list() == SAMPLE_TITLES
    assert papers["title"][4].startswith("Going Beyond Neural Network Feature Similarity: ")
    assert "\n" not in papers["abstract"][0] and "  " not in papers["abstract"][0]
    assert papers["authors"][0].to_list() == [
        "Alex Tamkin",
        "Mohammad Taufeeque",
        "Noah D. Goodman",
    ]
    assert str(papers["published_on"][0]) == "2023-10-26"


def test_daily_papers_api_json():
    parsed = parse_dump((FIXTURES / "daily-papers-2026-11-24.json").read_bytes(), "daily.json")
    papers = pl.from_arrow(parsed.papers)
    assert parsed.format == "daily_papers_json"
    assert papers["title"][:4].to_list() == SAMPLE_TITLES
    assert papers["upvotes"].to_list() == [40, 39, 38, 37, 36]
    assert papers["github_repo"][0] == "taufeeque9/codebook-features"
    assert papers["github_stars"][0] == 1234


def test_daily_papers_json_with_a_broken_entry_is_rejected():
    data = json.dumps([{"paper": {"id": "1", "title": "T", "summary": "S"}}, {"nope": 1}]).encode()
    with pytest.raises(ParseError, match="entry 2 has no 'paper' object"):
        parse_dump(data, "daily.json")


# ------------------------------------------------------------------ bad input

BAD_INPUT = {
    "empty": (b"", "file is empty"),
    "whitespace only": (b" \n\t\r\n  ", "only whitespace"),
    "PNG image": (b"\x89PNG\r\n\x1a\n" + bytes(100), "binary file (a PNG image)"),
    "PDF": (b"%PDF-1.7\n%\xe2\xe3", "binary file (a PDF document)"),
    "NUL bytes": (b"abc\x00\x01\x02def" * 10, "binary file (contains NUL bytes)"),
    "HTML page": (b"<!DOCTYPE html>\n<html><head><title>Trending</title></head>", "HTML page"),
    "30 MB line": (b"Title\n" + b"word " * 6_000_000, "characters long"),
    "invalid UTF-8": (b"Title\nCaf\xc3\x28 \x81\x8d", "not UTF-8"),
    "not a listing": (b"hello\nworld\n", "not a paper listing"),
    "broken JSON lines": (
        b'{"id": "1", "title": "t", "abstract": "a"}\n{"id": \n',
        "invalid arXiv JSON Lines",
    ),
}


@pytest.mark.parametrize("kind", BAD_INPUT)
def test_bad_input_is_rejected_with_a_reason_naming_the_file(kind):
    data, reason = BAD_INPUT[kind]
    with pytest.raises(ParseError) as raised:
        parse_dump(data, "dropped.txt")
    message = str(raised.value)
    assert message.startswith("dropped.txt: ")
    assert reason in message
    assert "\n" not in message


def test_json_in_an_unknown_schema_is_named_as_such():
    with pytest.raises(ParseError, match="format not recognised"):
        parse_dump(b'{"papers": [{"name": "x"}]}', "export.json")
    with pytest.raises(ParseError, match="format not recognised"):
        parse_dump(b'[{"title": "no paper object"}]', "export.json")
