"""Raw dump formats: detection, decoding and parsing into ``schemas.PARSED_PAPERS``.

Each format is one module in this package exposing ``NAME``, ``PRIORITY`` (lower is tried first),
``detect(text) -> bool`` and ``parse(text) -> pyarrow.Table``. Modules are discovered, so adding a
format means adding a module; nothing else changes.
"""

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import pyarrow as pa

from pipeline.formats.errors import ParseError
from pipeline.formats.text import decode, reject_markup
from pipeline.schemas import PARSED_PAPERS, conform

__all__ = ["CODE_VERSION", "ParseError", "ParsedDump", "formats", "parse_dump"]

# Bump when parsing changes what any format produces.
CODE_VERSION = "3"


@dataclass(frozen=True)
class ParsedDump:
    """A parsed dump: its papers and how the bytes were read."""

    papers: pa.Table
    format: str
    encoding: str


@cache
def formats() -> tuple[ModuleType, ...]:
    """Every format module of this package, in the order detection tries them."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if all(hasattr(module, attr) for attr in ("NAME", "PRIORITY", "detect", "parse")):
            found.append(module)
    return tuple(sorted(found, key=lambda m: (m.PRIORITY, m.NAME)))


def detect_format(text: str) -> ModuleType:
    for fmt in formats():
        if fmt.detect(text):
            return fmt
    names = ", ".join(f.NAME for f in formats())
    raise ParseError(f"format not recognised, e.g. JSON in an unknown schema (expected: {names})")


def parse_dump(data: bytes, name: str) -> ParsedDump:
    """Decode, detect and parse one raw dump.

    Raises ``ParseError`` naming ``name`` and the problem for anything that is not a usable dump.
    """
    try:
        text, encoding = decode(data)
        reject_markup(text)
        fmt = detect_format(text)
        papers = fmt.parse(text)
    except ParseError as error:
        raise error.for_file(name) from None
    if papers.num_rows == 0:
        raise ParseError(f"no papers found (read as {fmt.NAME})").for_file(name)
    return ParsedDump(conform(papers, PARSED_PAPERS), fmt.NAME, encoding)
