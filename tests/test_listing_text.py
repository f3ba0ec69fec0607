"""The listing-text parser on the bundled sample and on hand-written pages."""

import polars as pl
import pytest

from pipeline.formats import ParseError, parse_dump


def _papers(data: bytes, name: str = "dump.txt") -> pl.DataFrame:
    return pl.from_arrow(parse_dump(data, name).papers)


def test_sample_has_exactly_248_papers(sample_bytes):
    papers = _papers(sample_bytes)
    assert papers.height == 248
    assert papers["rank"].to_list() == list(range(1, 249))
    assert papers["paper_id"].n_unique() == 248


def test_sample_first_title_has_no_glued_button(sample_bytes):
    first = _papers(sample_bytes)["title"][0]
    assert first == "Codebook Features: Sparse and Discrete Interpretability for Neural Networks"


ABSTRACT = "An abstract that explains the paper in enough words to be a real abstract. It has two sentences."


@pytest.mark.parametrize(
    ("first_line", "title"),
    [
        ("SubscribeCodebook Features", "Codebook Features"),
        (
            "SubscribemHC: Manifold-Constrained Hyper-Connections",
            "mHC: Manifold-Constrained Hyper-Connections",
        ),
        ("Subscribek-means Revisited", "k-means Revisited"),
        (
            "Subscribers Churn Less With Better Recommendations",
            "Subscribers Churn Less With Better Recommendations",
        ),
        ("Subscribed Users and Their Feeds", "Subscribed Users and Their Feeds"),
        ("Following the Gradient", "Following the Gradient"),
    ],
)
def test_a_button_glued_to_the_first_title_is_removed(first_line, title):
    page = f"Trending Papers\n{first_line}\n{ABSTRACT}\n"
    assert _papers(page.encode())["title"].to_list() == [title]


def test_sample_pairs_every_abstract_with_its_own_title(sample_bytes):
    lines = sample_bytes.decode("utf-8").splitlines()
    # after the two chrome lines the file alternates title, abstract
    expected_titles = [lines[2].removeprefix("Subscribe"), *lines[4::2]]
    expected_abstracts = lines[3::2]
    papers = _papers(sample_bytes)
    assert papers["title"].to_list() == expected_titles
    assert papers["abstract"].to_list() == expected_abstracts


def test_sample_known_pairs(sample_bytes):
    papers = _papers(sample_bytes)
    by_title = dict(zip(papers["title"], papers["abstract"], strict=True))
    assert by_title["Testing Hateful Speeches against Policies"].startswith(
        "In the recent years, many software systems have adopted AI techniques"
    )
    assert papers["abstract"][-1].endswith(
        "with the information compression from the previous layer."
    )
    assert not papers["truncated"].any()


def test_chrome_is_never_a_paper(sample_bytes):
    titles = _papers(sample_bytes)["title"].str.to_lowercase()
    assert not titles.str.contains("email inbox").any()


def test_paper_without_abstract_does_not_shift_the_next_one():
    page = (
        "Trending Papers\n"
        "First Paper Title\n"
        "An abstract that explains the first paper in enough words to be a real abstract. It has two sentences.\n"
        "Second Paper Has No Abstract\n"
        "Third Paper Title\n"
        "The third abstract is also long enough to count as an abstract. It talks about the third paper.\n"
    )
    papers = _papers(page.encode())
    assert papers["title"].to_list() == [
        "First Paper Title",
        "Second Paper Has No Abstract",
        "Third Paper Title",
    ]
    assert papers["abstract"][1] is None
    assert papers["abstract"][2].startswith("The third abstract")


def test_paper_listed_twice_is_one_paper_at_its_first_position():
    abstract = (
        "A sufficiently long abstract sentence about a method for the task. It has results too."
    )
    page = f"Alpha Paper\n{abstract}\nBeta Paper\n{abstract} Beta.\nAlpha Paper\n{abstract}\n"
    papers = _papers(page.encode())
    assert papers["title"].to_list() == ["Alpha Paper", "Beta Paper"]
    assert papers["rank"].to_list() == [1, 2]


def test_last_abstract_cut_off_mid_word_is_kept_and_flagged():
    page = (
        "One Title\nA complete abstract about one thing, long enough to be an abstract. Done here.\n"
        "Two Title\nAn abstract that the page cut off in the middle of a sentence, right in the midd"
    )
    papers = _papers(page.encode())
    assert papers["truncated"].to_list() == [False, True]
    assert papers["abstract"][1].endswith("midd")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "file is empty"),
        (b"  \n\t\n ", "only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"just a hostname\n", "not a paper listing"),
        (b"Title\n" + b"x" * 200_001 + b"\n", "characters long"),
        (b"Caf\xe9 \x81 broken", "not UTF-8"),
    ],
)
def test_unusable_input_raises_parse_error_naming_the_file(data, problem):
    with pytest.raises(ParseError) as raised:
        parse_dump(data, "bad.txt")
    assert str(raised.value).startswith("bad.txt: ")
    assert problem in str(raised.value)


def test_windows_1252_is_decoded_not_mangled():
    abstract = "We study caf\xe9 \u201cdynamics\u201d in a long enough abstract for the parser. Results follow."
    page = f"A Title About Caf\xe9s\n{abstract}\n".encode("cp1252")
    parsed = parse_dump(page, "cp.txt")
    assert parsed.encoding == "windows-1252"
    assert pl.from_arrow(parsed.papers)["abstract"][0] == abstract
