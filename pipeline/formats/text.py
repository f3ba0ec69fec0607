"""Turning raw bytes into text, or a clear reason why they are not text."""

from __future__ import annotations

import codecs

from pipeline.formats.errors import ParseError

MAX_DUMP_BYTES = 2 * 1024**3

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"PAR1", "a Parquet file"),
    (b"RIFF", "a RIFF media file"),
    (b"\x7fELF", "an executable"),
)
# Bytes that Windows-1252 leaves undefined: a file containing them is not cp1252 text either.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


def decode(data: bytes, max_bytes: int = MAX_DUMP_BYTES) -> tuple[str, str]:
    """Decode a dump to text; returns ``(text, encoding)``.

    UTF-8 (with or without a BOM) and UTF-16 with a BOM are read as such. A file that is not
    valid UTF-8 but is valid Windows-1252 is read as Windows-1252; anything else is rejected
    rather than turned into mojibake.
    """
    if len(data) > max_bytes:
        raise ParseError(f"file is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    if not data.strip():
        raise ParseError("file is empty" if not data else "file contains only whitespace")
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise ParseError(f"binary file ({kind}), not a text dump")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_strict(data, "utf-16"), "utf-16"
    if b"\x00" in data[:65536]:
        utf16 = _utf16_without_bom(data)
        if utf16:
            return _decode_strict(data, utf16), utf16
        raise ParseError("binary file (contains NUL bytes), not a text dump")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        if _CP1252_UNDEFINED.isdisjoint(data):
            return data.decode("cp1252"), "windows-1252"
        raise ParseError(
            f"not UTF-8 text (invalid byte 0x{data[utf8_error.start]:02x} at offset "
            f"{utf8_error.start:,}) and not Windows-1252 either; re-save the dump as UTF-8"
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when every other byte of the head is NUL, as in ASCII-range UTF-16."""
    head = data[:4096]
    if len(head) < 4 or len(head) % 2:
        return None
    if head[1::2].count(0) >= 0.9 * len(head) / 2:
        return "utf-16-le"
    if head[0::2].count(0) >= 0.9 * len(head) / 2:
        return "utf-16-be"
    return None


def reject_markup(text: str) -> None:
    """Refuse an HTML page saved instead of its text."""
    head = text[:2048].lstrip().lower()
    if head.startswith(("<!doctype html", "<html", "<?xml")) or "<body" in head or "<head" in head:
        raise ParseError(
            "HTML page, not the page's text; save the listing as text (select all, copy, paste)"
        )


def _decode_strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise ParseError(
            f"invalid {encoding} at offset {error.start:,}; re-save the dump as UTF-8"
        ) from None
