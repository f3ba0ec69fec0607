"""Listing text: the page text of a trending-papers listing, copied or scraped.

After the page chrome, every paper is a title line followed by its abstract. Full-page copies also
carry per-paper card lines (submitter, date, upvotes, authors, stars, "arXiv Page" links); those
never become titles or abstracts, and the facts they carry are kept as optional columns.

Parsing is vectorised over lines: each line is classified (chrome, card fact, title, abstract),
papers are delimited by a running count of titles, and lines are aggregated per paper.
"""

from __future__ import annotations

import re
from importlib.resources import files

import polars as pl
import pyarrow as pa

from pipeline.formats.errors import ParseError
from pipeline.identity import paper_id_expr
from pipeline.schemas import PARSED_PAPERS

NAME = "listing_text"
MAX_LINE_CHARS = 100_000

# Characters that a page copy can leave inside a paragraph; they are not line breaks of the page.
_INLINE_BREAKS = r"[\u2028\u2029\u000b\u000c\u0085]+"
_TERMINAL = r"[.!?。！？][\"'”’)\]]*$"
_SENTENCE_BREAK = r"[.!?][\"'”’)\]]*\s+[\p{Lu}\p{N}(\[]"


def _load_patterns(name: str) -> str:
    """One alternation from a pattern file (one regex per line, ``#`` comments)."""
    text = files("pipeline.formats").joinpath(name).read_text(encoding="utf-8")
    patterns = [line.strip() for line in text.splitlines()]
    return "|".join(f"(?:{p})" for p in patterns if p and not p.startswith("#"))


_CHROME = re.compile(rf"(?i)^(?:{_load_patterns('listing_chrome.txt')})$")
_GLUED_BUTTONS = r"^(?:Subscribe|Sign [Uu]p|Log [Ii]n|Follow|Upvote)(\p{Lu})"


def detect(text: str) -> bool:
    """Listing text is the fallback format: any decoded text is read as a listing."""
    return True


def parse(text: str) -> pa.Table:
    lines = _split_lines(text)
    classified = _classify(lines)
    papers = _assemble(classified)
    if papers.height and papers["abstract"].null_count() == papers.height:
        raise ParseError(
            f"not a paper listing: {papers.height} title-like line(s) but no abstract "
            "(expected a title line followed by an abstract line per paper)"
        )
    return papers.to_arrow().cast(PARSED_PAPERS)


def _split_lines(text: str) -> pl.DataFrame:
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    frame = pl.DataFrame({"line": raw}, schema={"line": pl.String}).with_row_index("line_no", 1)
    longest = frame.select(pl.col("line").str.len_chars().max()).item() or 0
    if longest > MAX_LINE_CHARS:
        where = frame.filter(pl.col("line").str.len_chars() > MAX_LINE_CHARS)["line_no"][0]
        raise ParseError(
            f"line {where} is {longest:,} characters long (limit {MAX_LINE_CHARS:,}); "
            "a listing has one title or abstract per line"
        )
    return frame.with_columns(
        pl.col("line")
        .str.replace_all(_INLINE_BREAKS, " ")
        .str.strip_chars()
        .str.replace(_GLUED_BUTTONS, "$1")
    ).filter(pl.col("line") != "")


def _classify(lines: pl.DataFrame) -> pl.DataFrame:
    """Add ``kind`` (chrome/card/title/abstract) and the card facts to every line."""
    line = pl.col("line")
    chrome = pl.Series([bool(_CHROME.match(text)) for text in lines["line"]], dtype=pl.Boolean)
    facts = _card_facts(line)
    is_card = pl.any_horizontal(expr.is_not_null() for expr in facts.values()) | pl.col(
        "is_card_only"
    )
    n_words = line.str.count_matches(r"\S+")
    is_last = pl.int_range(pl.len()) == pl.len() - 1
    n_chars = line.str.len_chars()
    terminal = line.str.contains(_TERMINAL)
    breaks = line.str.count_matches(_SENTENCE_BREAK)
    clearly_abstract = (n_words >= 30) | (n_chars > 300) | ((breaks >= 1) & terminal)
    # A short single sentence reads as an abstract only right after a title: when it ends like a
    # sentence, runs longer than titles do, or is the page's last line (cut off mid-sentence).
    ambiguous = ~clearly_abstract & (n_words >= 8) & (terminal | (n_words >= 20) | is_last)
    frame = (
        lines.with_columns(chrome=chrome, is_card_only=_card_only(line))
        .with_columns(**facts)
        .with_columns(
            kind=pl.when(pl.col("chrome"))
            .then(pl.lit("chrome"))
            .when(is_card)
            .then(pl.lit("card"))
            .when(clearly_abstract)
            .then(pl.lit("abstract"))
            .when(ambiguous)
            .then(pl.lit("ambiguous"))
            .otherwise(pl.lit("title"))
        )
    )
    content = frame.filter(pl.col("kind").is_in(["title", "abstract", "ambiguous"]))
    previous = pl.col("kind").shift(1)
    resolved = content.with_columns(
        kind=pl.when(pl.col("kind") != "ambiguous")
        .then(pl.col("kind"))
        .when(previous == "title")
        .then(pl.lit("abstract"))
        .otherwise(pl.lit("title"))
    ).select("line_no", "kind")
    return (
        frame.drop("kind")
        .join(resolved, on="line_no", how="left")
        .with_columns(
            kind=pl.coalesce(
                "kind", pl.when(pl.col("chrome")).then(pl.lit("chrome")).otherwise(pl.lit("card"))
            )
        )
    )


def _card_only(line: pl.Expr) -> pl.Expr:
    """Card lines that carry no fact worth keeping."""
    return line.str.contains(
        r"(?i)^(?:submitted by\b.*|·?\s*\d+\s+authors?|organi[sz]ation:?.*|arxiv page|"
        r"view (?:arxiv|pdf|paper)|code|github|upvote|\d+\s*comments?|#\d+|"
        r"(?:paper|project) page|collections?|(?:·\s*)?\d+\s+(?:models?|datasets?|spaces?))$"
    )


def _card_facts(line: pl.Expr) -> dict[str, pl.Expr]:
    """Facts that card lines carry; null on lines that carry none."""
    count = r"(\d[\d,]*(?:\.\d+)?\s*[kK]?)"
    return {
        "fact_upvotes": _parse_count(
            line.str.extract(rf"(?i)^(?:▲\s*)?{count}\s*upvotes?$|^(?i:upvotes?)\s*:?\s*{count}$")
        ),
        "fact_stars": _parse_count(
            pl.coalesce(
                line.str.extract(rf"(?i)^(?:github|code)\s*[·:]?\s*{count}\s*(?:stars?)?$"),
                line.str.extract(rf"^[★⭐]\s*{count}$"),
                line.str.extract(rf"(?i)^{count}\s*(?:github\s+)?stars?$"),
            )
        ),
        "fact_published": line.str.extract(r"(?i)^published on\s+(.+)$"),
        "fact_authors": line.str.extract(r"(?i)^authors?\s*:\s*(.+)$"),
        "fact_arxiv": line.str.extract(
            r"(?i)^(?:arxiv(?: page)?\s*[:·]?\s*|https?://arxiv\.org/(?:abs|pdf)/)(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?$"
        ),
        "fact_github": line.str.extract(
            r"(?i)^(?:code:\s*)?https?://github\.com/([\w.\-]+/[\w.\-]+?)(?:\.git)?/?$"
        ),
    }


def _parse_count(text: pl.Expr) -> pl.Expr:
    """``1,234`` → 1234, ``1.2k`` → 1200."""
    cleaned = text.str.replace_all(r"[,\s]", "")
    thousands = cleaned.str.to_lowercase().str.ends_with("k")
    number = cleaned.str.replace(r"(?i)k$", "").cast(pl.Float64, strict=False)
    return pl.when(thousands).then(number * 1000).otherwise(number).round(0).cast(pl.Int32)


def _assemble(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per paper, in listing order, with its abstract lines and card facts."""
    numbered = lines.with_columns(
        paper=(pl.col("kind") == "title").cast(pl.Int32).cum_sum()
    ).filter(pl.col("paper") > 0)
    body = pl.col("kind") == "abstract"
    papers = (
        numbered.group_by("paper", maintain_order=True)
        .agg(
            title=pl.col("line").filter(pl.col("kind") == "title").first(),
            abstract=pl.col("line").filter(body).str.join("\n"),
            n_abstract_lines=body.sum(),
            arxiv_id=pl.col("fact_arxiv").drop_nulls().first(),
            published=pl.col("fact_published").drop_nulls().first(),
            authors_text=pl.col("fact_authors").drop_nulls().first(),
            upvotes=pl.col("fact_upvotes").drop_nulls().first(),
            github_repo=pl.col("fact_github").drop_nulls().first(),
            github_stars=pl.col("fact_stars").drop_nulls().first(),
        )
        .with_columns(
            abstract=pl.when(pl.col("n_abstract_lines") > 0).then(pl.col("abstract")),
            authors=pl.col("authors_text")
            .str.split(r", ")
            .list.eval(pl.element().str.strip_chars().filter(pl.element() != "")),
            published_on=_parse_date(pl.col("published")),
        )
    )
    is_last = pl.int_range(pl.len()) == pl.len() - 1
    truncated = pl.col("abstract").str.ends_with("…") | pl.col("abstract").str.ends_with("...")
    cut_off = is_last & (pl.col("abstract").is_null() | ~pl.col("abstract").str.contains(_TERMINAL))
    return (
        papers.with_columns(
            paper_id=paper_id_expr(pl.col("arxiv_id"), pl.col("title")),
            truncated=(truncated | cut_off).fill_null(False),
        )
        .unique("paper_id", keep="first", maintain_order=True)
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int32))
        .select(PARSED_PAPERS.names)
    )


def _parse_date(text: pl.Expr) -> pl.Expr:
    """Card dates such as ``Oct 26, 2023`` or ``2023-10-26``; null when unreadable."""
    return pl.coalesce(
        text.str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%b %d, %Y", strict=False),
        text.str.to_date("%B %d, %Y", strict=False),
    )
