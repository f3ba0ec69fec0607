"""Full-text search: BM25 over titles and abstracts in incrementally built fts segments."""

import os
import subprocess
import sys
import time
from datetime import date

import pytest

from pipeline import search, warehouse
from pipeline.home import REPO_ROOT
from tests.conftest import listing, load_dump, sample_papers


def _index(home, snapshot_id: str, papers, day: date) -> tuple[int, int]:
    with warehouse.session(home) as con:
        load_dump(con, snapshot_id, listing(papers), day, link_related=False)
        return warehouse.index_search(con, home, snapshot_id)


def _search(home, query: str, limit: int = 5) -> list[tuple]:
    with warehouse.session(home, read_only=True) as con:
        return [tuple(row.values()) for row in warehouse.find_papers(con, query, limit).to_pylist()]


def test_search_ranks_the_papers_about_the_query_first(home):
    assert _index(home, "day1", sample_papers(), date(2026, 11, 26)) == (248, 0)
    titles = [row[1] for row in _search(home, "grokking")]
    assert len(titles) == 5 and all("grokking" in t.lower() for t in titles[:4])
    scores = [row[0] for row in _search(home, "grokking")]
    assert scores == sorted(scores, reverse=True)
    assert _search(home, "zzzunknownzzz") == []


def test_only_new_papers_are_indexed_and_segments_merge(home):
    papers = sample_papers()
    counts = [
        _index(home, f"day{i}", papers[i * 20 : i * 20 + 30], date(2026, 11, 1 + i))
        for i in range(5)
    ]
    assert [added for added, _ in counts] == [30, 20, 20, 20, 20]
    assert [merged for _, merged in counts] == [0, 0, 0, 4, 0]
    live = search.segment_files(home).live()
    assert [s.papers for s in live] == [90, 20]
    assert sorted(p.name for p in home.search.glob("segment-*.duckdb")) == [
        f"segment-{s.number}.duckdb" for s in sorted(live, key=lambda s: str(s.number))
    ]
    again = _index(home, "day0", papers[0:30], date(2026, 11, 1))
    assert again == (0, 0), "re-loading a snapshot indexes nothing twice"
    found = [row[2] for row in _search(home, "neural networks", limit=500)]
    assert len(found) == len(set(found)) > 50, "each paper once, whichever segment holds it"


def test_a_paper_dropped_from_the_warehouse_takes_no_place_in_the_results(home):
    """Segments are immutable: a paper a replaced snapshot no longer lists stays in its segment
    but is not found."""
    grokking = [p for p in sample_papers() if "grokking" in p[0].lower()]
    _index(home, "day1", grokking, date(2026, 11, 26))
    best = _search(home, "grokking", limit=1)[0]
    with warehouse.session(home) as con:
        kept = [p for p in grokking if p[0] != best[1]]
        load_dump(con, "day1", listing(kept), date(2026, 11, 26), link_related=False)
    found = _search(home, "grokking", limit=1)
    assert found and found[0][1] != best[1] and found[0][1] in [title for title, _ in kept]


def test_the_sql_macro_is_available_in_every_session(home):
    _index(home, "day1", sample_papers(), date(2026, 11, 26))
    with warehouse.session(home, read_only=True) as con:
        rows = con.execute(
            "SELECT p.title FROM search_papers('neural collapse') s JOIN papers p USING (paper_id) "
            "ORDER BY s.score DESC LIMIT 3"
        ).fetchall()
    assert all("collapse" in title.lower() for (title,) in rows)


def test_a_reader_prunes_only_old_copies_of_dead_segments(tmp_path):
    from pipeline.storage import open_storage

    files = search.SegmentFiles(open_storage(str(tmp_path / "shared")), tmp_path / "cache")
    files.local.mkdir()
    live, dead_old, dead_new = (search.Segment(n, 10) for n in (3, 1, 2))
    for segment in (live, dead_old, dead_new):
        (files.local / segment.file_name).write_bytes(b"segment")
    old = time.time() - search.PRUNE_AFTER_SECONDS - 1
    os.utime(files.local / dead_old.file_name, (old, old))
    os.utime(files.local / live.file_name, (old, old))
    files.prune_local([live], min_age=search.PRUNE_AFTER_SECONDS)
    left = sorted(p.name for p in files.local.iterdir())
    assert left == [dead_new.file_name, live.file_name]


def test_scores_are_the_fts_extensions_bm25(home):
    """search_papers sums the score shares stored with each posting; its scores are what
    match_bm25 gives, and the segment's postings are stored sorted by term."""
    _index(home, "day1", sample_papers(), date(2026, 11, 26))
    (segment,) = search.segment_files(home).live()
    fts = f"s{segment.number}.fts_main_{segment.table}"
    with warehouse.session(home, read_only=True) as con:
        for query in ("grokking", "neural networks for graphs", "diffusion language model"):
            ours = con.execute(
                "SELECT paper_id, round(score, 9) FROM search_papers(?) ORDER BY ALL", [query]
            ).fetchall()
            theirs = con.execute(
                f"SELECT paper_id, round(score, 9) FROM (SELECT paper_id, "
                f"{fts}.match_bm25(paper_id, ?) AS score FROM s{segment.number}.{segment.table}) "
                "WHERE score IS NOT NULL ORDER BY ALL",
                [query],
            ).fetchall()
            assert ours == theirs and len(ours) > 3, query
        termids = [t for (t,) in con.execute(f"SELECT termid FROM {fts}.postings").fetchall()]
    assert termids == sorted(termids)


def _every_hit(home, query: str) -> list[tuple]:
    with warehouse.session(home, read_only=True) as con:
        return con.execute("SELECT paper_id, score FROM search_papers(?)", [query]).fetchall()


def test_the_best_hits_are_the_first_of_all_hits_across_segments(home):
    papers = sample_papers()
    for i in range(3):
        _index(home, f"day{i}", papers[i * 80 : i * 80 + 80], date(2026, 11, 1 + i))
    assert len(search.segment_files(home).live()) == 3
    for query in ("neural networks", "language model", "grokking"):
        every = _every_hit(home, query)
        with warehouse.session(home, read_only=True) as con:
            found = warehouse.find_papers(con, query, 7)["paper_id"].to_pylist()
            best = con.execute("SELECT paper_id FROM search_best(?, 7)", [query]).fetchall()
        assert found == [paper_id for paper_id, _ in every[:7]] == [b for (b,) in best], query


@pytest.mark.parametrize(
    ("maxscore_from", "leaders"), [(0, 100), (0, 3), (search.MAXSCORE_FROM_PAPERS, 100)]
)
def test_the_best_hits_skip_no_paper_that_the_sum_of_every_posting_ranks(
    home, monkeypatch, maxscore_from, leaders
):
    """search_best prunes postings that cannot reach a segment's k best (MaxScore; here in every
    segment, or only in large ones); for queries of common and rare words alike, one word or
    several, for more hits than each term stores leaders or fewer, it returns exactly the first
    k of all hits."""
    import random

    monkeypatch.setattr(search, "MAXSCORE_FROM_PAPERS", maxscore_from)
    monkeypatch.setattr(search, "TERM_LEADERS", leaders)

    papers = sample_papers()
    _index(home, "day1", papers[:200], date(2026, 11, 1))
    _index(home, "day2", papers[200:], date(2026, 11, 2))
    words = " ".join(abstract for _, abstract in papers).lower().split()
    common = ["model", "models", "language", "learning", "data", "neural", "we", "method"]
    rng = random.Random(7)
    queries = [" ".join(rng.sample(words, n)) for n in (1, 2, 3, 4) for _ in range(12)]
    queries += [" ".join(rng.sample(common, n)) for n in (1, 2, 3) for _ in range(6)]
    queries += [f"{rng.choice(words)} {rng.choice(common)}" for _ in range(12)]
    pruned = 0
    with warehouse.session(home, read_only=True) as con:
        for query in queries:
            every = con.execute(
                "SELECT paper_id, round(score, 9) FROM search_papers(?)", [query]
            ).fetchall()
            for k in (1, 5, 20):
                best = con.execute(
                    "SELECT paper_id, round(score, 9) FROM search_best(?, ?)", [query, k]
                ).fetchall()
                assert best == every[:k], (query, k)
                pruned += len(every) > k
    assert pruned > 100, "most queries have more hits than k"


@pytest.mark.parametrize("dropped", [["term_tops", "postings"], ["term_tops"]])
def test_segments_written_by_earlier_versions_are_searched_then_rebuilt(
    home, monkeypatch, caplog, dropped
):
    """A segment without score shares, or without its terms' leaders, answers the same; the
    next indexing of the search segments rebuilds it with every score table."""
    import logging

    import duckdb

    monkeypatch.setattr(search, "MAXSCORE_FROM_PAPERS", 0)
    _index(home, "day1", sample_papers(), date(2026, 11, 26))
    queries = ("grokking", "neural networks for graphs", "language model")
    before = {q: _every_hit(home, q) for q in queries}
    best_before = {q: _best_hits(home, q, 5) for q in queries}
    (segment,) = search.segment_files(home).live()
    for database in warehouse._DATABASES.values():  # as in the next process to open it
        database.close()
    monkeypatch.setattr(warehouse, "_DATABASES", {})
    with duckdb.connect(str(home.search / segment.file_name)) as con:
        for table in dropped:
            con.execute(f"DROP TABLE fts_main_{segment.table}.{table}")

    def same_as_before() -> None:
        for query in queries:
            after = _every_hit(home, query)
            assert [p for p, _ in after] == [p for p, _ in before[query]] and len(after) > 3
            assert all(abs(a[1] - b[1]) < 1e-9 for a, b in zip(after, before[query], strict=True))
            assert _best_hits(home, query, 5) == best_before[query]

    same_as_before()
    # the next indexing rebuilds the segment with its score tables
    with caplog.at_level(logging.INFO, logger="paperlake"):
        assert _index(home, "day1", sample_papers(), date(2026, 11, 26)) == (0, 0)
    assert f"rebuilding search segment {segment.number} (248 papers)" in caplog.text
    assert f"rebuilt search segment {segment.number} in" in caplog.text
    (rebuilt,) = search.segment_files(home).live()
    assert rebuilt.number > segment.number and rebuilt.papers == segment.papers
    assert sorted(p.name for p in home.search.glob("segment-*")) == [rebuilt.file_name]
    with warehouse.session(home, read_only=True) as con:
        for table in search.SCORE_TABLES:
            stored = con.execute(
                f"SELECT count(*) FROM s{rebuilt.number}.fts_main_{rebuilt.table}.{table}"
            ).fetchone()[0]
            assert stored > 0, table
    same_as_before()


def _best_hits(home, query: str, k: int) -> list[tuple]:
    with warehouse.session(home, read_only=True) as con:
        return con.execute(
            "SELECT paper_id, round(score, 9) FROM search_best(?, ?)", [query, k]
        ).fetchall()


WAITING_WRITER = """
import sys, time
from pathlib import Path
from pipeline import warehouse
from pipeline.home import Home
home = Home(Path(sys.argv[1]))
with warehouse.session(home) as con:
    Path(sys.argv[2]).touch()
    time.sleep(1.0)
    warehouse.index_search(con, home, "day1")
"""


def test_a_writer_that_waited_sees_the_segments_written_meanwhile(home, tmp_path):
    """A writer session opens before it takes the writer lock; the segments another writer
    added while it waited must be the ones it works with."""
    papers = sample_papers()
    _index(home, "day0", papers[:30], date(2026, 11, 1))
    with warehouse.session(home) as con:
        load_dump(con, "day1", listing(papers[30:60]), date(2026, 11, 2), link_related=False)
    ready = tmp_path / "holding"
    other = subprocess.Popen(
        [sys.executable, "-c", WAITING_WRITER, str(home.root), str(ready)], cwd=REPO_ROOT
    )
    while not ready.exists():
        assert other.poll() is None, "the other writer failed"
        time.sleep(0.01)
    assert _index(home, "day2", papers[60:90], date(2026, 11, 3)) == (30, 0)
    assert other.wait(timeout=60) == 0
    assert [s.papers for s in search.segment_files(home).live()] == [30, 30, 30]
    found = {row[2] for row in _search(home, "learning", limit=500)}
    assert found & _ids(home, "day1"), "the other writer's papers are searchable"


def _ids(home, snapshot_id: str) -> set[str]:
    with warehouse.session(home, read_only=True) as con:
        rows = con.execute(
            "SELECT paper_id FROM listings WHERE snapshot_id = ?", [snapshot_id]
        ).fetchall()
    return {paper_id for (paper_id,) in rows}
