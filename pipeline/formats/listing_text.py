"""Listing text: the page text of a trending-papers listing, copied or scraped.

After the page chrome, every paper is a title line followed by its abstract. Full-page copies also
carry per-paper card lines (submitter, date, upvotes, authors, organisation, stars, "arXiv Page"
links), sometimes every card twice; those never become titles or abstracts, and the facts they
carry are kept as optional columns.

Parsing is vectorised over lines with polars: each line is classified (chrome, card, title,
abstract), papers are delimited by a running count of titles, and lines are aggregated per paper.
"""

import json
from importlib.resources import files

import polars as pl
import pyarrow as pa

from pipeline.formats.errors import ParseError
from pipeline.identity import paper_id_expr
from pipeline.schemas import PARSED_PAPERS

NAME = "listing_text"
# Listing text accepts any decoded text, so every other format is tried first.
PRIORITY = 100
# Large listings may be parsed in batches cut after abstract lines (see pipeline.batches).
SPLITTABLE = True
MAX_LINE_CHARS = 100_000
# Titles and card lines are shorter than this; a longer line is an abstract.
SURELY_ABSTRACT_CHARS = 300
_FACTS = (
    "fact_upvotes",
    "fact_stars",
    "fact_published",
    "fact_authors",
    "fact_arxiv",
    "fact_github",
)

# Characters a page copy can leave inside a paragraph; they are not line breaks of the page.
_INLINE_BREAKS = r"[\u2028\u2029\u000b\u000c\u0085\u001c-\u001f]+"
# Other control characters carry nothing a reader could see.
_CONTROL = r"[\u0000-\u0008\u000e-\u001b\u007f]+"
_TERMINAL = r"[.!?。！？][\"'”’)\]]*$"
_SENTENCE_BREAK = r"[.!?][\"'”’)\]]*\s+[\p{Lu}\p{N}(\[]"
# A button's label glued to the first title: before a capital, or "Subscribe" before a small
# letter that does not make it "subscriber(s)", "subscribed" or "subscribes".
_GLUED_BUTTONS = (
    r"^(?:(?:Subscribe|Sign [Uu]p|Log [Ii]n|Follow|Upvote)(\p{Lu})"
    r"|Subscribe([a-ce-qt-z]|[ds]\p{L}))"
)
_COUNT = r"(\d[\d,]*(?:\.\d+)?\s*[kK]?)"
_NAME = r"\p{Lu}[\p{L}.'’\-]+(?: \p{Lu}[\p{L}.'’\-]+){1,3}"
# Card lines that carry no fact worth keeping.
_CARD_ONLY = (
    r"(?i)^(?:submitted by\b.*|·|•|[·•]?\s*\d+\s+authors?|organi[sz]ation:?.*|arxiv page|"
    r"view (?:arxiv|pdf|paper)(?: page)?|code|github|upvotes?|\d+\s*comments?|💬\s*\d+|#\d+|"
    r"(?:paper|project) page|collections?|(?:·\s*)?\d+\s+(?:models?|datasets?|spaces?)|"
    r"(?:published|submitted) (?:on|at)\b.*|\d+|[▲△⬆]|\+\d+ more|and \d+ others?)$"
)


def _chrome_pattern() -> str:
    text = files("pipeline.formats").joinpath("listing_chrome.txt").read_text(encoding="utf-8")
    patterns = [line.strip() for line in text.splitlines()]
    alternation = "|".join(f"(?:{p})" for p in patterns if p and not p.startswith("#"))
    return rf"(?i)^(?:{alternation})$"


_CHROME = _chrome_pattern()


def detect(text: str) -> bool:
    """Any decoded text reads as a listing, except JSON (which no listing page is)."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head not in ("{", "["):
        return True
    first_line = text.lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    for candidate in (text, first_line):
        try:
            json.loads(candidate)
        except ValueError:
            continue
        return False
    return True


def parse(text: str) -> pa.Table:
    lines = _split_lines(text)
    papers = _assemble(_classify(lines))
    if papers["abstract"].null_count() == papers.height:
        raise ParseError(
            "not a paper listing: no title line followed by an abstract line "
            f"({lines.height} non-blank lines read)"
        )
    return papers.to_arrow().cast(PARSED_PAPERS)


def _split_lines(text: str) -> pl.DataFrame:
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    frame = pl.DataFrame({"line": raw}, schema={"line": pl.String}).with_row_index("line_no", 1)
    lengths = frame["line"].str.len_chars()
    if lengths.max() > MAX_LINE_CHARS:
        where = frame["line_no"][int(lengths.arg_max())]
        raise ParseError(
            f"line {where} is {lengths.max():,} characters long (limit {MAX_LINE_CHARS:,}); "
            "a listing has one title or abstract per line"
        )
    return (
        frame.with_columns(
            pl.col("line")
            .str.replace_all(_CONTROL, "")
            .str.replace_all(_INLINE_BREAKS, " ")
            .str.strip_chars()
            .str.replace(_GLUED_BUTTONS, "$1$2")
        )
        .filter(pl.col("line") != "")
        .with_row_index("pos")
    )


def _classify(lines: pl.DataFrame) -> pl.DataFrame:
    """Add ``kind`` (chrome/card/title/abstract) and the card facts to every line.

    Lines longer than ``SURELY_ABSTRACT_CHARS`` characters are abstracts; the regular expressions run
    on the shorter lines only, which keeps parsing fast on large dumps.
    """
    sized = lines.with_columns(
        n_chars=pl.col("line").str.len_chars(), is_last=pl.col("pos") == pl.col("pos").max()
    )
    long = sized.filter(pl.col("n_chars") > SURELY_ABSTRACT_CHARS).with_columns(
        kind=pl.lit("abstract")
    )
    short = _classify_short(sized.filter(pl.col("n_chars") <= SURELY_ABSTRACT_CHARS))
    merged = pl.concat([short, long], how="diagonal_relaxed").sort("pos")
    return _resolve_content(merged)


def _classify_short(lines: pl.DataFrame) -> pl.DataFrame:
    line = pl.col("line")
    adjacent = pl.col("pos").shift(1) == pl.col("pos") - 1
    previous = pl.when(adjacent).then(line.shift(1).str.to_lowercase())
    facts = lines.with_columns(
        **_card_facts(line, previous),
        after_submitted=previous == "submitted by",
        n_words=line.str.count_matches(r"\S+"),
        terminal=line.str.contains(_TERMINAL),
        sentences=line.str.count_matches(_SENTENCE_BREAK),
        chrome=line.str.contains(_CHROME),
        card_only=line.str.contains(_CARD_ONLY),
    )
    n_words, terminal = pl.col("n_words"), pl.col("terminal")
    clearly_abstract = (n_words >= 30) | ((pl.col("sentences") >= 1) & terminal)
    # A short single sentence reads as an abstract only right after a title: when it ends like a
    # sentence, runs longer than titles do, or is the page's last line (cut off mid-sentence).
    ambiguous = (n_words >= 8) & (terminal | (n_words >= 20) | pl.col("is_last"))
    is_card = (
        pl.any_horizontal(pl.col(name).is_not_null() for name in _FACTS)
        | pl.col("card_only")
        # the submitter's user name on the line after "Submitted by"
        | (pl.col("after_submitted").fill_null(False) & (n_words == 1))
    )
    return facts.with_columns(
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


def _resolve_content(lines: pl.DataFrame) -> pl.DataFrame:
    """Decide ambiguous lines from their neighbours, and demote orphan short titles to cards."""
    content = lines.filter(pl.col("kind").is_in(["title", "abstract", "ambiguous"]))
    previous = pl.col("kind").shift(1)
    resolved = content.with_columns(
        kind=pl.when(pl.col("kind") != "ambiguous")
        .then(pl.col("kind"))
        .when(previous == "title")
        .then(pl.lit("abstract"))
        .otherwise(pl.lit("title"))
    )
    # A one-to-three-word line that no abstract follows is a card label (an organisation, a
    # user name, a button), not a paper.
    following = pl.col("kind").shift(-1)
    resolved = resolved.with_columns(
        kind=pl.when(
            (pl.col("kind") == "title")
            & (pl.col("n_words") <= 3)
            & (following.fill_null("") != "abstract")
        )
        .then(pl.lit("card"))
        .otherwise(pl.col("kind"))
    ).select("line_no", resolved_kind="kind")
    return (
        lines.join(resolved, on="line_no", how="left", maintain_order="left")
        .with_columns(
            kind=pl.coalesce("resolved_kind", pl.col("kind").replace("ambiguous", "card"))
        )
        .drop("resolved_kind")
    )


def _card_facts(line: pl.Expr, after: pl.Expr) -> dict[str, pl.Expr]:
    """Facts that card lines carry; null on lines that carry none."""
    labelled_count = line.str.extract(r"^(\d[\d,]*(?:\.\d+)?[kK]?)$")
    return {
        "fact_upvotes": _parse_count(
            pl.coalesce(
                line.str.extract(rf"(?i)^(?:[▲⬆]\s*){_COUNT}$"),
                line.str.extract(rf"(?i)^{_COUNT}\s*upvotes?$"),
                line.str.extract(rf"(?i)^upvotes?\s*:?\s*{_COUNT}$"),
                pl.when(after.str.contains(r"^(?:upvotes?|[▲⬆])$")).then(labelled_count),
            )
        ),
        "fact_stars": _parse_count(
            pl.coalesce(
                line.str.extract(
                    rf"(?i)^(?:github|code)\s*[·:]?\s*[★⭐]?\s*{_COUNT}\s*(?:stars?)?$"
                ),
                line.str.extract(rf"^[★⭐]\s*{_COUNT}$"),
                line.str.extract(rf"(?i)^{_COUNT}\s*(?:github\s+)?stars?$"),
                pl.when(after.str.contains(r"^(?:github|stars?|[★⭐])$")).then(labelled_count),
            )
        ),
        "fact_published": line.str.extract(r"(?i)^published on\s+(.+?)\.?$"),
        "fact_authors": pl.coalesce(
            line.str.extract(r"(?i)^authors?\s*:\s*(.+)$"),
            line.str.extract(rf"^((?:{_NAME})(?:, (?:and )?{_NAME}){{2,}})$"),
        ),
        "fact_arxiv": line.str.extract(
            r"(?i)^(?:arxiv(?: page)?\s*[:·]?\s*|https?://arxiv\.org/(?:abs|pdf)/)"
            r"(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?$"
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


def _card_type(line: pl.Expr) -> pl.Expr:
    """Which kind of card line this is, to learn whether a page puts it above or below titles."""
    return (
        pl.when(
            pl.col("fact_upvotes").is_not_null() | line.str.contains(r"(?i)^(?:upvotes?|[▲⬆])$")
        )
        .then(pl.lit("upvotes"))
        .when(pl.col("fact_stars").is_not_null() | line.str.contains(r"(?i)^(?:github|[★⭐])$"))
        .then(pl.lit("stars"))
        .when(pl.col("fact_published").is_not_null())
        .then(pl.lit("published"))
        .when(pl.col("fact_authors").is_not_null() | line.str.contains(r"(?i)\bauthors?$"))
        .then(pl.lit("authors"))
        .when(pl.col("fact_arxiv").is_not_null() | line.str.contains(r"(?i)^arxiv"))
        .then(pl.lit("arxiv"))
        .when(line.str.contains(r"(?i)^submitted by") | pl.col("after_submitted").fill_null(False))
        .then(pl.lit("submitted"))
        .otherwise(pl.lit("other"))
    )


def _assemble(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per paper, in listing order, with its abstract lines and card facts.

    Card lines belong to the paper whose title they follow, except kinds of card line that the
    page shows above titles (those seen before the first title): once a paper's abstract has been
    read, such lines belong to the next paper.
    """
    titles_so_far = (pl.col("kind") == "title").cast(pl.Int32).cum_sum()
    typed = lines.with_columns(
        card_type=pl.when(pl.col("kind") == "card").then(_card_type(pl.col("line"))),
        titles_so_far=titles_so_far,
    )
    first_title = typed.filter(pl.col("kind") == "title")["line_no"].min()
    leading_types = (
        typed.filter((pl.col("titles_so_far") == 0) & pl.col("card_type").is_not_null())[
            "card_type"
        ]
        .unique()
        .to_list()
        if first_title is not None
        else []
    )
    abstract_read = (pl.col("kind") == "abstract").cast(pl.Int32).cum_sum().over(
        "titles_so_far"
    ) > 0
    before_first_title = pl.col("titles_so_far") == 0
    belongs_to_next = (
        pl.col("card_type").is_in(leading_types) & (abstract_read | before_first_title)
    ).fill_null(False)
    numbered = typed.with_columns(
        paper=pl.col("titles_so_far") + belongs_to_next.cast(pl.Int32)
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
        .filter(pl.col("title").is_not_null())
        .with_columns(
            abstract=pl.when(pl.col("n_abstract_lines") > 0).then(pl.col("abstract")),
            authors=pl.col("authors_text")
            .str.replace(r",? et al\.?$", "")
            .str.split(", ")
            .list.eval(
                pl.element().str.replace(r"^and ", "").str.strip_chars().filter(pl.element() != "")
            ),
            published_on=_parse_date(pl.col("published")),
        )
    )
    is_last = pl.int_range(pl.len()) == pl.len() - 1
    abstract = pl.col("abstract")
    elided = abstract.str.ends_with("…") | abstract.str.ends_with("...")
    cut_off = is_last & (abstract.is_null() | ~abstract.str.contains(_TERMINAL))
    with_ids = papers.with_columns(
        paper_id=paper_id_expr(pl.col("arxiv_id"), pl.col("title")),
        truncated=(elided | cut_off).fill_null(False),
    )
    # A paper listed twice is one paper at its first position, with whatever either copy knew.
    return (
        with_ids.group_by("paper_id", maintain_order=True)
        .agg(
            pl.col("title").first(),
            pl.col("abstract").drop_nulls().first(),
            pl.col("truncated").sort_by(pl.col("abstract").is_null()).first(),
            *(
                pl.col(c).drop_nulls().first()
                for c in (
                    "arxiv_id",
                    "authors",
                    "published_on",
                    "upvotes",
                    "github_repo",
                    "github_stars",
                )
            ),
        )
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int32))
        .select(PARSED_PAPERS.names)
    )


def _parse_date(text: pl.Expr) -> pl.Expr:
    """Card dates such as ``Oct 26, 2023`` or ``2023-10-26``; null when unreadable."""
    return pl.coalesce(
        text.str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%b %d, %Y", strict=False),
        text.str.to_date("%B %d, %Y", strict=False),
        text.str.to_date("%d %b %Y", strict=False),
    )
