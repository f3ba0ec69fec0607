"""Links found in the bundled sample and the canonical forms they take."""

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from pipeline.formats import parse_dump
from pipeline.links import canonicalize, link_table
from pipeline.snapshots import with_snapshot_id

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("raw", "url", "kind", "repo"),
    [
        (
            "https://github.com/taufeeque9/codebook-features.",
            "https://github.com/taufeeque9/codebook-features",
            "code",
            "taufeeque9/codebook-features",
        ),
        (
            "https://github.com/RUCAIBox/FMLP-Rec}.",
            "https://github.com/RUCAIBox/FMLP-Rec",
            "code",
            "RUCAIBox/FMLP-Rec",
        ),
        ("github.com/edwardjhu/TP4.", "https://github.com/edwardjhu/TP4", "code", "edwardjhu/TP4"),
        ("https://goo.gl/G2Vu5y.", "https://goo.gl/G2Vu5y", "shortener", None),
        (
            "https://github.com/dipkmr/train-nn-wobp/",
            "https://github.com/dipkmr/train-nn-wobp",
            "code",
            "dipkmr/train-nn-wobp",
        ),
        (
            "HTTPS://GitHub.com/Owner/Repo.git",
            "https://github.com/Owner/Repo.git",
            "code",
            "Owner/Repo",
        ),
        (
            "https://sites.google.com/view/swarm-rl.",
            "https://sites.google.com/view/swarm-rl",
            "project_page",
            None,
        ),
        ("modelzoos.cc", "https://modelzoos.cc", "other", None),
        (
            "https://gist.github.com/someone/abc123",
            "https://gist.github.com/someone/abc123",
            "other",
            None,
        ),
        (
            "https://someone.github.io/project/",
            "https://someone.github.io/project",
            "project_page",
            None,
        ),
        ("https://github.com/someone", "https://github.com/someone", "other", None),
        ("https://arxiv.org/abs/2310.17230", "https://arxiv.org/abs/2310.17230", "paper", None),
        (
            "https://huggingface.co/datasets/org/data",
            "https://huggingface.co/datasets/org/data",
            "dataset",
            "org/data",
        ),
    ],
)
def test_canonical_forms(raw, url, kind, repo):
    link = canonicalize(raw)
    assert link is not None
    assert (link.url, link.kind, link.repo) == (url, kind, repo)


def test_code_subpaths_are_split_off():
    link = canonicalize("https://github.com/o/r/tree/main/src).")
    assert link.repo == "o/r"
    assert link.repo_path == "tree/main/src"


def _links_of(text: str) -> list[str]:
    papers = pa.table({"snapshot_id": ["s"], "paper_id": ["p"], "title": ["T"], "abstract": [text]})
    return link_table(papers).column("url").to_pylist()


def test_file_names_and_emails_are_not_links():
    text = "Run train.py as in README.md, write to me@lab.edu, see i.e. results.The end."
    assert _links_of(text) == []


def test_sample_links_match_the_hand_checked_list(sample_bytes):
    papers = with_snapshot_id(parse_dump(sample_bytes, "s.txt").papers, "s")
    links = pl.from_arrow(link_table(papers)).select("url_raw", "url", "kind", "repo", "repo_path")
    expected = pl.read_csv(
        FIXTURES / "sample-links.tsv",
        separator="\t",
        schema=dict.fromkeys(links.columns, pl.String),
    )
    assert links.to_dicts() == expected.to_dicts()
    assert links.height == 26
    assert links.filter(pl.col("kind") == "code").height == 19


@pytest.mark.parametrize(
    "case", json.loads((FIXTURES / "link-cases.json").read_text()), ids=lambda c: c["text"][:40]
)
def test_hard_cases(case):
    assert _links_of(case["text"]) == case["urls"]
