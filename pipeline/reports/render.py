"""Jinja2 environments for the reports, with the filters that keep dump text inert.

Every string in a report comes from an untrusted dump. HTML templates autoescape; Markdown
templates pass text through ``md`` (backslash-escapes Markdown syntax and HTML brackets); only
``http``/``https`` URLs ever become links (``safe_url``).
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import urlsplit

import jinja2

from pipeline.reports import charts

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def escape_markdown(text: object) -> str:
    """Text that renders literally in Markdown (no links, emphasis, HTML or headings)."""
    value = "" if text is None else str(text)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    return " ".join(value.split())


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in {"http", "https"} and parts.netloc:
        return url.strip()
    return None


def excerpt(text: object, limit: int = 240) -> str:
    """The first ``limit`` characters of ``text`` on one line, cut at a word boundary."""
    value = " ".join(str(text or "").split())
    if len(value) <= limit:
        return value
    return value[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


@cache
def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.reports", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=escape_markdown, safe_url=safe_url, excerpt=excerpt, sparkline=charts.sparkline
    )
    return env


def render(template: str, **context: object) -> str:
    """Render ``templates/<template>``; HTML templates (``*.html.j2``) autoescape."""
    return environment(template.endswith(".html.j2")).get_template(template).render(**context)
