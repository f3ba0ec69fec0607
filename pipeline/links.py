"""URLs in titles and abstracts: found, canonicalised and classified.

Detection is one vectorised regular expression over all texts (URLs with a scheme, ``www.``
hosts, and scheme-less domains on a list of top-level domains that file names do not use, so
``train.py`` and ``README.md`` are not links). Canonicalisation and classification run once per
distinct URL with the standard library's URL parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import pyarrow as pa

from pipeline.schemas import PAPER_LINKS

# Bump when detection, canonicalisation or classification changes.
CODE_VERSION = "1"

# Top-level domains accepted without a scheme. Country codes that are also common file
# extensions (.py .md .sh .pl .rs .ts .js .cc is kept: it is a frequent research host) are left out.
_BARE_TLDS = (
    "com|org|net|edu|gov|io|ai|dev|app|info|xyz|tech|site|page|online|science|cc|me|co|us|"
    "uk|de|fr|cn|jp|kr|ch|nl|eu|ca|au|it|es|se|fi|no|dk|at|be|il|in|sg|hk|tw|ru|br|one|ly|gl"
)
_URL = (
    r"(?i)(?:[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+)"  # e-mail addresses: matched so they can be dropped
    r"|(?:\b(?:https?|ftp)://[^\s<>\"'`]+)"
    r"|(?:\bwww\.[^\s<>\"'`]+)"
    # scheme-less: the first label starts with a letter and the top-level domain is lower case,
    # so "0.5.It" and "ASP.NET" are not hosts
    rf"|(?-i:\b[a-zA-Z](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?\.)*"
    rf"(?:{_BARE_TLDS})\b(?:/[^\s<>\"'`]*)?)"
)
_TRAILING = ".,;:!?'\"*`’”"
_CONTEXT_CHARS = 80
# Words before a link on an otherwise unclassified host, and the kind they announce; the last
# matching pattern wins.
_CONTEXT_KINDS = (
    (r"\bdata ?sets?\b|\bbenchmark\b|\bcorpus\b", "dataset"),
    (r"project (?:page|site|website)|\bwebsite\b|\bhome ?page\b|\bweb ?page\b", "project_page"),
    (r"\bdemo(?:nstration)?s?\b|\bplayground\b|\btry it\b", "demo"),
)
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}
_SHORTENERS = frozenset(
    [
        "bit.ly",
        "goo.gl",
        "tinyurl.com",
        "t.co",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "rebrand.ly",
        "cutt.ly",
        "shorturl.at",
        "s.id",
        "t.ly",
        "tiny.cc",
        "lnkd.in",
        "youtu.be",
    ]
)
_CODE_HOSTS = frozenset(
    {"github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "huggingface.co"}
)
_PAPER_HOSTS = frozenset(
    [
        "arxiv.org",
        "doi.org",
        "dx.doi.org",
        "openreview.net",
        "aclanthology.org",
        "proceedings.neurips.cc",
        "proceedings.mlr.press",
        "papers.nips.cc",
        "ieeexplore.ieee.org",
        "dl.acm.org",
        "link.springer.com",
        "www.nature.com",
        "nature.com",
        "science.org",
        "www.science.org",
        "biorxiv.org",
        "www.biorxiv.org",
        "medrxiv.org",
        "www.medrxiv.org",
        "ssrn.com",
        "papers.ssrn.com",
        "semanticscholar.org",
        "www.semanticscholar.org",
        "paperswithcode.com",
    ]
)
_DATASET_HOSTS = frozenset(
    [
        "zenodo.org",
        "figshare.com",
        "kaggle.com",
        "www.kaggle.com",
        "data.mendeley.com",
        "dataverse.harvard.edu",
        "physionet.org",
        "archive.ics.uci.edu",
    ]
)
_DEMO_HOSTS = frozenset(["gradio.live", "colab.research.google.com", "replicate.com"])
# First path segments of code hosts that are pages, not owners.
_NOT_OWNERS = frozenset(
    [
        "about",
        "orgs",
        "topics",
        "features",
        "marketplace",
        "sponsors",
        "settings",
        "explore",
        "search",
        "login",
        "signup",
        "collections",
        "trending",
        "pricing",
        "enterprise",
        "site",
        "blog",
        "docs",
        "users",
        "groups",
        "dashboard",
        "help",
        "models",
        "papers",
    ]
)


@dataclass(frozen=True)
class CanonicalLink:
    url: str
    host: str
    kind: str
    repo: str | None
    repo_path: str | None


def trim_url(raw: str) -> str:
    """Strip sentence punctuation, LaTeX residue and unbalanced closing brackets from the end."""
    url = raw
    while url:
        last = url[-1]
        if (
            last in _TRAILING
            or last == "\\"
            or (last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last]))
        ):
            url = url[:-1]
        else:
            break
    return url


def canonicalize(raw: str) -> CanonicalLink | None:
    """The canonical form of a URL as written, or None when it is not a web link."""
    text = trim_url(raw)
    if "@" in text and "://" not in text:
        return None
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host or "." not in host:
        return None
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    path = parts.path.rstrip("/")
    url = urlunsplit((parts.scheme.lower(), netloc, path, parts.query, parts.fragment))
    kind, repo, repo_path = _classify(host, path)
    return CanonicalLink(url, host, kind, repo, repo_path)


def _classify(host: str, path: str) -> tuple[str, str | None, str | None]:
    segments = [s for s in path.split("/") if s]
    bare = host.removeprefix("www.")
    if bare in _SHORTENERS:
        return "shortener", None, None
    if bare in _CODE_HOSTS:
        return _classify_code_host(bare, segments)
    if bare.endswith((".github.io", ".gitlab.io", ".pages.dev", ".netlify.app")):
        return "project_page", None, None
    if host in _PAPER_HOSTS or bare in _PAPER_HOSTS:
        return "paper", None, None
    if bare in _DATASET_HOSTS:
        return "dataset", None, None
    if bare in _DEMO_HOSTS or bare.endswith((".hf.space", ".gradio.app", ".streamlit.app")):
        return "demo", None, None
    if bare == "sites.google.com" or any(
        s.lower() in {"project", "projects"} for s in segments[:2]
    ):
        return "project_page", None, None
    return "other", None, None


def _classify_code_host(host: str, segments: list[str]) -> tuple[str, str | None, str | None]:
    if host == "huggingface.co":
        kinds = {"datasets": "dataset", "spaces": "demo"}
        kind = kinds.get(segments[0].lower(), "code") if segments else "other"
        owned = segments[1:] if segments and segments[0].lower() in kinds else segments
        if len(owned) < 2 or owned[0].lower() in _NOT_OWNERS:
            return ("other" if kind == "code" else kind), None, None
        return kind, "/".join(owned[:2]), "/".join(owned[2:]) or None
    if len(segments) < 2 or segments[0].lower() in _NOT_OWNERS:
        return "other", None, None
    owner, name, rest = segments[0], segments[1], segments[2:]
    if host == "gitlab.com" and "-" in rest:
        # GitLab groups nest: everything before "/-/" names the project.
        cut = rest.index("-")
        name, rest = "/".join([name, *rest[:cut]]), rest[cut + 1 :]
    if name.lower().endswith(".git"):
        name = name[:-4]
    return "code", f"{owner}/{name}", "/".join(rest) or None


def find_urls(texts: pl.Series) -> pl.DataFrame:
    """Every URL-looking span in each text, in text order: ``doc``, ``url_raw`` and ``context``
    (the words before it in its sentence, lower-cased, e.g. "a simple demo is")."""
    found = (
        pl.DataFrame({"text": texts})
        .with_row_index("doc")
        .with_columns(url_raw=pl.col("text").str.extract_all(_URL))
        .explode("url_raw")
        .drop_nulls("url_raw")
    )
    start = pl.col("text").str.find(pl.col("url_raw"), literal=True)
    before = pl.col("text").str.slice(
        (start - _CONTEXT_CHARS).clip(lower_bound=0), pl.min_horizontal(start, _CONTEXT_CHARS)
    )
    return found.select(
        "doc",
        "url_raw",
        context=before.str.replace(r"^.*[.!?]\s", "").str.to_lowercase(),
    )


def context_kind(kind: pl.Expr, context: pl.Expr) -> pl.Expr:
    """Refine ``other`` links by what the sentence says they are ("demo at", "website:")."""
    refined = kind
    for pattern, named in _CONTEXT_KINDS:
        refined = (
            pl.when((kind == "other") & context.str.contains(pattern))
            .then(pl.lit(named))
            .otherwise(refined)
        )
    return refined


def link_table(papers: pa.Table) -> pa.Table:
    """``paper_links`` rows for a snapshot's papers: every link in each title and abstract."""
    frame = pl.from_arrow(papers).select("snapshot_id", "paper_id", "title", "abstract")
    texts = frame.select(
        pl.concat_str(pl.col("title"), pl.col("abstract").fill_null(""), separator="\n")
    ).to_series()
    found = find_urls(texts)
    canonical = {raw: canonicalize(raw) for raw in found["url_raw"].unique().to_list()}
    resolved = pl.DataFrame(
        [{"url_raw": raw, **link.__dict__} for raw, link in canonical.items() if link is not None],
        schema={
            "url_raw": pl.String,
            "url": pl.String,
            "host": pl.String,
            "kind": pl.String,
            "repo": pl.String,
            "repo_path": pl.String,
        },
    )
    ids = frame.select("snapshot_id", "paper_id").with_row_index("doc")
    links = (
        found.join(resolved, on="url_raw", how="inner", maintain_order="left")
        .join(ids, on="doc", how="inner", maintain_order="left")
        .unique(["doc", "url"], keep="first", maintain_order=True)
        .with_columns(
            position=pl.int_range(1, pl.len() + 1, dtype=pl.Int16).over("doc"),
            kind=context_kind(pl.col("kind"), pl.col("context")),
        )
    )
    return links.select(PAPER_LINKS.names).to_arrow().cast(PAPER_LINKS)
