"""Large dumps in batches give exactly what parsing and deriving them in one piece gives."""

from __future__ import annotations

import json
import mmap
import os
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from benchmarks.corpus import Generator, listing_text, write_arxiv_jsonl
from pipeline import keyphrases, links
from pipeline.artifacts import ArtifactStore
from pipeline.batches import (
    map_parquet,
    ordered_map,
    parse_dump_batches,
    split_points,
    worker_environment,
)
from pipeline.formats import ParseError, parse_dump
from pipeline.schemas import PAPER_KEYWORDS, PAPERS
from pipeline.snapshots import with_snapshot_id

BATCH = 20_000  # bytes: a few dozen papers per batch, so a small dump has many batches


@pytest.fixture(scope="module")
def dump() -> bytes:
    papers = list(Generator(seed=7).papers(300))
    # the 10th paper is listed again near the end: it keeps its first position only
    return listing_text([*papers[:280], papers[9], *papers[280:]]).encode("utf-8")


def _all(batches) -> pa.Table:
    return pa.concat_tables(list(batches))


@pytest.mark.parametrize("workers", [1, 2])
def test_batched_listing_equals_whole(dump: bytes, workers: int) -> None:
    whole = parse_dump(dump, "big.txt")
    assert len(split_points(dump, "listing_text", BATCH)) > 5
    parsed, batches = parse_dump_batches(dump, "big.txt", batch_bytes=BATCH, workers=workers)
    batched = _all(batches)
    assert (parsed.format, parsed.encoding) == (whole.format, whole.encoding)
    assert batched.num_rows == whole.papers.num_rows == 300
    assert batched.equals(whole.papers)


def test_memory_mapped_file_and_bom(tmp_path: Path, dump: bytes) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"\xef\xbb\xbf" + dump)
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        _, batches = parse_dump_batches(data, path.name, batch_bytes=BATCH, workers=1)
        assert _all(batches).equals(parse_dump(dump, "big.txt").papers)


def test_batched_arxiv_jsonl_equals_whole(tmp_path: Path) -> None:
    data = write_arxiv_jsonl(tmp_path / "arxiv.jsonl", 200, seed=3).read_bytes()
    parsed, batches = parse_dump_batches(data, "arxiv.jsonl", batch_bytes=BATCH, workers=1)
    assert parsed.format == "arxiv_jsonl"
    assert _all(batches).equals(parse_dump(data, "arxiv.jsonl").papers)


def test_broken_later_batch_names_file_and_bytes(dump: bytes) -> None:
    broken = dump[:-2000] + b"\xff\xfe broken \x81" + dump[-2000:]
    _, batches = parse_dump_batches(broken, "big.txt", batch_bytes=BATCH, workers=1)
    with pytest.raises(ParseError) as caught:
        _all(batches)
    message = str(caught.value)
    assert "big.txt" in message and "bytes" in message and "UTF-8" in message


def test_unusable_head_is_rejected_before_any_batch() -> None:
    with pytest.raises(ParseError, match=r"big\.bin"):
        parse_dump_batches(b"%PDF-1.7\n" + b"x" * 50_000, "big.bin", batch_bytes=BATCH)


def test_derived_tables_by_row_group_equal_whole(tmp_path: Path, dump: bytes) -> None:
    """Keyphrases and links computed a row group at a time, on two worker processes, are the
    tables computed in one piece; the stored file streams in with one row group per batch."""
    papers = with_snapshot_id(parse_dump(dump, "big.txt").papers, "s1")
    store = ArtifactStore(tmp_path / "store")
    small_groups = [papers.slice(i, 64) for i in range(0, papers.num_rows, 64)]
    stored = store.put_batches("papers", "s1", small_groups, PAPERS, code_version="t")
    assert stored.rows == 300
    source = Path(stored.path)
    keywords = _all(map_parquet(keyphrases.keyphrase_table, source, workers=2))
    assert keywords.cast(PAPER_KEYWORDS).equals(keyphrases.keyphrase_table(papers))
    found = _all(map_parquet(links.link_table, source, workers=2))
    assert found.equals(links.link_table(papers))
    assert pl.from_arrow(found)["paper_id"].n_unique() > 10


def test_put_batches_is_content_addressed(tmp_path: Path, dump: bytes) -> None:
    papers = with_snapshot_id(parse_dump(dump, "big.txt").papers, "s1")
    store = ArtifactStore(tmp_path / "store")
    first = store.put_batches("papers", "s1", [papers], PAPERS, code_version="t")
    again = store.put_batches("papers", "s1", iter([papers]), PAPERS, code_version="t")
    assert again.version == first.version and again.created_at == first.created_at
    assert store.put_table("papers", "s1", papers, code_version="t").version == first.version
    folder = tmp_path / "store/papers/s1"
    assert not list(folder.glob(".*.tmp")), "no scratch file is left behind"
    assert json.loads((folder / "current.json").read_text())["version"] == first.version


def _worker_settings(_: object) -> tuple[str | None, int, str | None]:
    return os.environ.get("_RJEM_MALLOC_CONF"), pl.thread_pool_size(), os.environ.get("MARKER")


def test_workers_start_with_their_share_of_the_cores_and_a_keeping_allocator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    monkeypatch.setenv("MARKER", "inherited")
    before = os.environ["_RJEM_MALLOC_CONF"]  # polars' own defaults, written when imported
    threads = max(1, len(os.sched_getaffinity(0)) // 2)

    seen = set(ordered_map(_worker_settings, range(4), workers=2))

    [(allocator, worker_threads, marker)] = seen
    assert allocator.endswith(",dirty_decay_ms:-1,muzzy_decay_ms:-1")
    assert (worker_threads, marker) == (threads, "inherited")
    assert os.environ["_RJEM_MALLOC_CONF"] == before  # this process is left as it was
    assert "POLARS_MAX_THREADS" not in os.environ


def test_a_thread_count_set_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLARS_MAX_THREADS", "3")
    assert "POLARS_MAX_THREADS" not in worker_environment(2)
