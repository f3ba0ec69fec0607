"""Raw dump formats: detection, decoding and parsing into ``schemas.PARSED_PAPERS``.

Each format is one module in this package exposing ``NAME``, ``detect(text) -> bool`` and
``parse(text) -> pyarrow.Table``. Adding a format means adding a module and listing it in
``FORMATS``; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import pyarrow as pa

from pipeline.formats import listing_text
from pipeline.formats.errors import ParseError
from pipeline.formats.text import decode
from pipeline.schemas import PARSED_PAPERS, conform

# Order matters: the first format whose ``detect`` accepts the text wins; listing text accepts
# anything that decodes, so it comes last.
FORMATS: tuple[ModuleType, ...] = (listing_text,)

__all__ = ["CODE_VERSION", "FORMATS", "ParseError", "ParsedDump", "parse_dump"]

# Bump when parsing changes what any format produces.
CODE_VERSION = "1"


@dataclass(frozen=True)
class ParsedDump:
    """A parsed dump: its papers and how the bytes were read."""

    papers: pa.Table
    format: str
    encoding: str


def detect_format(text: str) -> ModuleType:
    for fmt in FORMATS:
        if fmt.detect(text):
            return fmt
    raise ParseError("format not recognised (expected " + ", ".join(f.NAME for f in FORMATS) + ")")


def parse_dump(data: bytes, name: str) -> ParsedDump:
    """Decode, detect and parse one raw dump.

    Raises ``ParseError`` naming ``name`` and the problem for anything that is not a usable dump.
    """
    try:
        text, encoding = decode(data)
        fmt = detect_format(text)
        papers = fmt.parse(text)
    except ParseError as error:
        raise error.for_file(name) from None
    if papers.num_rows == 0:
        raise ParseError(f"no papers found (read as {fmt.NAME})").for_file(name)
    return ParsedDump(conform(papers, PARSED_PAPERS), fmt.NAME, encoding)
