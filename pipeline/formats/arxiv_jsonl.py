"""JSON Lines in the arXiv metadata snapshot schema (one paper object per line).

Fields used: ``id``, ``title``, ``abstract``, ``authors`` / ``authors_parsed``, ``versions``,
``update_date``. The arXiv id (without version suffix) is the paper's identity; papers keep the
order of the file as their rank.
"""

import io
import json

import polars as pl
import pyarrow as pa

from pipeline.formats.errors import ParseError
from pipeline.identity import ARXIV_ID, paper_id_expr
from pipeline.schemas import PARSED_PAPERS

NAME = "arxiv_jsonl"
PRIORITY = 10
# One record per line: large files may be parsed in batches cut at any line break.
SPLITTABLE = True
REQUIRED = ("id", "title", "abstract")

_SCHEMA = {
    "id": pl.String,
    "title": pl.String,
    "abstract": pl.String,
    "authors_parsed": pl.List(pl.List(pl.String)),
    "versions": pl.List(pl.Struct({"version": pl.String, "created": pl.String})),
    "update_date": pl.String,
}


def detect(text: str) -> bool:
    """The first non-blank line is a JSON object with an id, a title and an abstract."""
    first = next((line for line in text.lstrip("\ufeff").splitlines() if line.strip()), "")
    if not first.lstrip().startswith("{"):
        return False
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and all(key in record for key in REQUIRED)


def parse(text: str) -> pa.Table:
    try:
        raw = pl.read_ndjson(io.StringIO(text), schema=_SCHEMA, ignore_errors=False)
    except Exception as error:  # polars raises several error types for malformed JSON
        raise ParseError(f"invalid arXiv JSON Lines: {_first_line(error)}") from None
    bad = raw.with_row_index("record", 1).filter(
        ~pl.col("id").str.strip_chars().str.contains(f"^(?:{ARXIV_ID.pattern})$").fill_null(False)
        | (pl.col("title").str.strip_chars().fill_null("") == "")
    )
    if bad.height:
        raise ParseError(
            f"{bad.height} arXiv record(s) without a valid id or a title "
            f"(first: record {bad['record'][0]})"
        )
    whitespace = r"\s+"
    papers = raw.select(
        arxiv_id=pl.col("id").str.strip_chars().str.replace(r"v\d+$", ""),
        title=pl.col("title").str.replace_all(whitespace, " ").str.strip_chars(),
        abstract=pl.col("abstract").str.replace_all(whitespace, " ").str.strip_chars(),
        authors=pl.col("authors_parsed").list.eval(
            pl.concat_str(
                pl.element().list.get(1, null_on_oob=True), pl.element().list.get(0), separator=" "
            ).str.strip_chars()
        ),
        published_on=pl.coalesce(
            pl.col("versions")
            .list.first()
            .struct.field("created")
            .str.to_date("%a, %d %b %Y %H:%M:%S GMT", strict=False),
            pl.col("update_date").str.to_date("%Y-%m-%d", strict=False),
        ),
    ).with_columns(
        abstract=pl.when(pl.col("abstract") != "").then(pl.col("abstract")),
        paper_id=paper_id_expr(pl.col("arxiv_id"), pl.col("title")),
        truncated=pl.lit(False),
        upvotes=pl.lit(None, pl.Int32),
        github_repo=pl.lit(None, pl.String),
        github_stars=pl.lit(None, pl.Int32),
    )
    return (
        papers.unique("paper_id", keep="first", maintain_order=True)
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int32))
        .select(PARSED_PAPERS.names)
        .to_arrow()
        .cast(PARSED_PAPERS)
    )


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200]
