"""Large dumps in bounded batches: memory is set by the batch size, not by the dump.

A dump larger than ``BATCH_BYTES`` is cut at paper boundaries into batches that are parsed on a
pool of worker processes; derived tables (keyphrases, links) are computed from the papers'
Parquet one row group at a time on the same kind of pool. Batches are written in input order, so
the output does not depend on how many workers ran.
"""

from __future__ import annotations

import codecs
import mmap
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.formats import ParsedDump, ParseError, detect_format, formats, parse_dump
from pipeline.formats.listing_text import SURELY_ABSTRACT_CHARS
from pipeline.formats.text import decode, reject_markup
from pipeline.schemas import PARSED_PAPERS, conform

# Dumps up to this size are parsed in one piece; larger ones in batches of about this size.
BATCH_BYTES = 16 * 1024**2
# Encodings a batch can be decoded in on its own (UTF-16 dumps are parsed in one piece).
_BATCH_CODECS = {"utf-8": "utf-8", "windows-1252": "cp1252"}

Buffer = bytes | mmap.mmap


def worker_count() -> int:
    """Worker processes for batch work: ``PAPERLAKE_WORKERS``, else the cores this process may
    use."""
    configured = os.environ.get("PAPERLAKE_WORKERS", "")
    if configured.strip():
        return max(1, int(configured))
    return cpu_cores()


def cpu_cores() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Inline(Executor):
    """Runs work in the calling process (one worker, or a single batch)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


# jemalloc settings for batch workers (see worker_environment)
_KEEP_PAGES = "dirty_decay_ms:-1,muzzy_decay_ms:-1"


def worker_environment(workers: int) -> dict[str, str]:
    """Environment settings batch workers start with.

    Each worker gets its share of the cores as polars threads (more threads than cores only
    take turns) unless ``POLARS_MAX_THREADS`` is set. jemalloc, polars' allocator, is told to
    keep the pages a batch frees for the next batch instead of returning them to the system and
    faulting them in again: with polars' default decay a fifth of a worker's time went to the
    kernel. A worker lives for one dump, so its memory stays at the size of its largest batch.
    (polars writes its own defaults into ``_RJEM_MALLOC_CONF`` when imported, with any setting
    found there after them; the workers' decay comes last so that it applies.)
    """
    settings = {
        "_RJEM_MALLOC_CONF": ",".join(
            filter(None, [os.environ.get("_RJEM_MALLOC_CONF"), _KEEP_PAGES])
        )
    }
    if "POLARS_MAX_THREADS" not in os.environ:
        settings["POLARS_MAX_THREADS"] = str(max(1, cpu_cores() // workers))
    return settings


@contextmanager
def environment(settings: Mapping[str, str]) -> Iterator[None]:
    """``settings`` in ``os.environ`` while the block runs (processes started in it inherit
    them); the previous values afterwards."""
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _executor(workers: int) -> Iterator[Executor]:
    if workers <= 1:
        yield _Inline()
        return
    # Fresh interpreters: forking a process that runs polars' or Dagster's threads is unsafe.
    spawn = multiprocessing.get_context("spawn")
    with (
        environment(worker_environment(workers)),
        ProcessPoolExecutor(workers, mp_context=spawn) as pool,
    ):
        yield pool


def ordered_map(fn: Callable[[Any], Any], items: Iterable[Any], workers: int) -> Iterator[Any]:
    """``map(fn, items)`` on ``workers`` processes, in order, with at most ``workers + 1`` items
    in flight (so a lazy ``items`` is read no faster than it is processed)."""
    with _executor(workers) as pool:
        pending: deque[Future] = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def split_points(data: Buffer, fmt_name: str, batch_bytes: int) -> list[int]:
    """Byte offsets where batches of ``data`` start (the first is 0).

    A listing is cut after an abstract line (a line longer than any title or card line), so every
    batch starts with whatever precedes a title; JSON Lines are cut at any line break.
    """
    starts = [0]
    while starts[-1] + batch_bytes < len(data):
        cut = _next_cut(data, starts[-1] + batch_bytes, fmt_name)
        if cut is None or cut >= len(data):
            break
        starts.append(cut)
    return starts


def _next_cut(data: Buffer, position: int, fmt_name: str) -> int | None:
    while (newline := data.find(b"\n", position)) >= 0:
        if fmt_name != "listing_text":
            return newline + 1
        line_start = data.rfind(b"\n", 0, newline) + 1
        line = data[line_start:newline].decode("utf-8", errors="replace").strip()
        if len(line) > SURELY_ABSTRACT_CHARS:
            return newline + 1
        position = newline + 1
    return None


def _parse_batch(task: tuple[bytes, str, str, str]) -> pa.Table:
    """One batch of a large dump, decoded with the dump's encoding and parsed by its format."""
    data, encoding, fmt_name, where = task
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ParseError(
            f"not {encoding} text like the start of the file (invalid byte 0x"
            f"{data[error.start]:02x} in {where}); re-save the dump as UTF-8"
        ) from None
    fmt = next(f for f in formats() if fmt_name == f.NAME)
    try:
        return conform(fmt.parse(text), PARSED_PAPERS)
    except ParseError as error:
        raise ParseError(f"{error.problem} ({where})") from None


def parse_dump_batches(
    data: Buffer, name: str, *, batch_bytes: int = BATCH_BYTES, workers: int | None = None
) -> tuple[ParsedDump, Iterator[pa.Table]]:
    """Parse a dump of any size: how it reads (with its first batch of papers) and an iterator
    over all its papers in listing order, batch by batch.

    ``data`` may be bytes or a memory map of the file. Ranks run on across batches and a paper
    listed again in a later batch keeps only its first position, exactly as when the dump is
    parsed in one piece. Raises ``ParseError`` naming ``name`` for an unusable dump.
    """
    whole = len(data) <= batch_bytes
    if not whole:
        head_end = data.find(b"\n", batch_bytes)
        try:
            head, encoding = decode(data[: len(data) if head_end < 0 else head_end + 1])
            reject_markup(head)
            fmt = detect_format(head)
        except ParseError as error:
            raise error.for_file(name) from None
        whole = not getattr(fmt, "SPLITTABLE", False) or encoding not in _BATCH_CODECS
    if whole:
        parsed = parse_dump(bytes(data), name)
        return parsed, iter([parsed.papers])
    starts = split_points(data, fmt.NAME, batch_bytes)
    ends = [*starts[1:], len(data)]
    bom = len(codecs.BOM_UTF8) if data[:3] == codecs.BOM_UTF8 else 0
    tasks = (
        (data[max(start, bom) : end], _BATCH_CODECS[encoding], fmt.NAME, f"bytes {start:,}-{end:,}")
        for start, end in zip(starts, ends, strict=True)
    )
    # The first batch is parsed here, so checking a dump costs one batch; the worker pool only
    # starts when the caller reads on.
    try:
        first = _parse_batch(next(tasks))
    except ParseError as error:
        raise error.for_file(name) from None
    rest = ordered_map(_parse_batch, tasks, workers or worker_count())
    return ParsedDump(first, fmt.NAME, encoding), _named(name, _ranked(chain([first], rest)))


def _named(name: str, batches: Iterator[pa.Table]) -> Iterator[pa.Table]:
    try:
        yield from batches
    except ParseError as error:
        raise error.for_file(name) from None


def _ranked(batches: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """Renumber ranks across batches and drop papers already listed in an earlier batch."""
    # A set of the ids seen so far costs one lookup per paper; testing each batch against all
    # earlier ids in a vectorised way would cost time quadratic in the dump's size.
    seen: set[str] = set()
    offset = 0
    for batch in batches:
        ids = batch.column("paper_id").to_pylist()
        first_listing = pl.Series([paper_id not in seen for paper_id in ids], dtype=pl.Boolean)
        seen.update(ids)
        frame = pl.from_arrow(batch).filter(first_listing)
        frame = frame.with_columns(
            rank=pl.int_range(offset + 1, offset + frame.height + 1, dtype=pl.Int32)
        )
        offset += frame.height
        yield frame.to_arrow().cast(batch.schema)


def map_parquet(
    fn: Callable[[pa.Table], pa.Table],
    source: Path,
    *,
    workers: int | None = None,
) -> Iterator[pa.Table]:
    """``fn`` applied to ``source`` one row group at a time, on worker processes, in order."""
    groups = pq.ParquetFile(source).num_row_groups
    tasks = ((fn, str(source), i) for i in range(groups))
    workers = min(workers or worker_count(), groups)
    return ordered_map(_apply_to_row_group, tasks, workers)


def _apply_to_row_group(task: tuple[Callable[[pa.Table], pa.Table], str, int]) -> pa.Table:
    fn, path, group = task
    return fn(pq.ParquetFile(path).read_row_group(group))
