"""Related papers on the bundled sample: topics find each other, incrementally, deterministically."""

from datetime import date

import pytest

from pipeline import related, warehouse
from pipeline.home import Home
from tests.conftest import load_dump
from tests.state import related_index_problems

TOPICS = {
    "grokking": "grokking",
    "neural collapse": "neural collapse",
    "backdoor attacks": "backdoor",
    "physics-informed networks": "physics.informed",
    "continual learning": "continual learning",
}


def _load_and_link(con, snapshot_id: str, data: bytes, day: date) -> int:
    """Load and link a snapshot; returns how many papers it indexed for the first time."""
    before = con.execute("SELECT count(*) FROM indexed_papers").fetchone()[0]
    load_dump(con, snapshot_id, data, day)
    return con.execute("SELECT count(*) FROM indexed_papers").fetchone()[0] - before


@pytest.fixture(scope="module")
def linked_home(tmp_path_factory, sample_bytes) -> Home:
    """One warehouse with the sample loaded and linked, shared by the read-only tests."""
    home = Home(tmp_path_factory.mktemp("related"))
    with warehouse.session(home) as con:
        assert _load_and_link(con, "day1", sample_bytes, date(2026, 11, 26)) == 248
    return home


@pytest.fixture
def linked(linked_home):
    with warehouse.session(linked_home, read_only=True) as con:
        yield con


@pytest.mark.parametrize("topic", TOPICS)
def test_papers_on_a_distinctive_topic_find_each_other(linked, topic):
    pattern = TOPICS[topic]
    members = {
        row[0]
        for row in linked.execute(
            "SELECT paper_id FROM papers WHERE regexp_matches(lower(title), ?)", [pattern]
        ).fetchall()
    }
    assert len(members) >= 2, topic
    for paper_id in members:
        top3 = {
            row[0]
            for row in linked.execute(
                "SELECT related_id FROM related_papers WHERE paper_id = ? AND rank <= 3", [paper_id]
            ).fetchall()
        }
        assert top3 & (members - {paper_id}), f"{topic}: {paper_id} has no topic peer in its top 3"


def test_evidence_names_the_shared_topic(linked):
    evidence = linked.execute(
        """
        SELECT r.shared_terms FROM related_papers r JOIN papers p USING (paper_id)
        JOIN papers q ON q.paper_id = r.related_id
        WHERE p.title ILIKE '%backdoor%' AND q.title ILIKE '%backdoor%'
        """
    ).fetchall()
    assert evidence and all("backdoor" in terms for (terms,) in evidence)


def test_lists_are_ranked_bounded_and_never_self(linked):
    problems = linked.execute(
        """
        SELECT paper_id FROM related_papers GROUP BY paper_id
        HAVING count(*) > ? OR max(rank) <> count(*) OR bool_or(paper_id = related_id)
        """,
        [related.NEIGHBOURS],
    ).fetchall()
    assert problems == []


def test_a_new_snapshot_indexes_only_its_new_papers_and_updates_neighbours(home, sample_bytes):
    newcomer = (
        "Grokking Modular Arithmetic with Transformers",
        "We study grokking in transformers trained on modular arithmetic: the network first "
        "memorizes, then suddenly generalizes long after overfitting. Grokking depends on weight "
        "decay, and we trace the circuits that make the delayed generalization happen.",
    )
    day2 = sample_bytes + f"\n{newcomer[0]}\n{newcomer[1]}".encode()
    with warehouse.session(home) as linked:
        _load_and_link(linked, "day1", sample_bytes, date(2026, 11, 26))
        before = dict(
            linked.execute("SELECT paper_id, count(*) FROM related_papers GROUP BY 1").fetchall()
        )
        assert _load_and_link(linked, "day2", day2, date(2026, 11, 27)) == 1
        new_id = linked.execute(
            "SELECT paper_id FROM papers WHERE title = ?", [newcomer[0]]
        ).fetchone()[0]
        entered = linked.execute(
            "SELECT DISTINCT paper_id FROM related_papers WHERE related_id = ? AND snapshot_id = 'day2'",
            [new_id],
        ).fetchall()
        grokking = {
            row[0]
            for row in linked.execute(
                "SELECT paper_id FROM papers WHERE title ILIKE '%grokking%'"
            ).fetchall()
        }
        assert {row[0] for row in entered} & grokking, "the newcomer enters grokking papers' lists"
        after = dict(
            linked.execute("SELECT paper_id, count(*) FROM related_papers GROUP BY 1").fetchall()
        )
        assert all(after[p] >= n for p, n in before.items())
        assert max(after.values()) <= related.NEIGHBOURS


def test_a_list_that_loses_a_neighbour_gets_its_next_best_back(home, sample_bytes):
    """A newcomer that entered known papers' lists and then goes (the snapshot that listed it
    is replaced without it) leaves those lists as they were before it came."""
    newcomer = (
        "Grokking Modular Arithmetic with Transformers",
        "We study grokking in transformers trained on modular arithmetic: the network first "
        "memorizes, then suddenly generalizes long after overfitting.",
    )
    with_newcomer = sample_bytes + f"\n{newcomer[0]}\n{newcomer[1]}".encode()
    lists = (
        "SELECT paper_id, related_id, score, rank, shared_terms FROM related_papers ORDER BY ALL"
    )
    with warehouse.session(home) as linked:
        _load_and_link(linked, "day1", sample_bytes, date(2026, 11, 26))
        before = linked.execute(lists).fetchall()
        _load_and_link(linked, "day2", with_newcomer, date(2026, 11, 27))
        assert linked.execute(lists).fetchall() != before
        _load_and_link(linked, "day2", sample_bytes, date(2026, 11, 27))
        assert linked.execute(lists).fetchall() == before
        assert related_index_problems(linked) == []


def _edges(home: Home) -> list[tuple]:
    with warehouse.session(home, read_only=True) as con:
        return con.execute(
            "SELECT paper_id, related_id, score, rank, shared_terms FROM related_papers ORDER BY 1, 4"
        ).fetchall()


def test_results_are_deterministic(tmp_path, sample_bytes):
    homes = [Home(tmp_path / name) for name in ("a", "b")]
    for home in homes:
        with warehouse.session(home) as con:
            _load_and_link(con, "day1", sample_bytes, date(2026, 11, 26))
    assert _edges(homes[0]) == _edges(homes[1])


def test_a_large_snapshot_is_indexed_in_chunks_with_progress(home, sample_bytes, monkeypatch):
    reported, counted = [], []
    term_counts = related.term_counts

    def counting(papers):
        counted.append(papers.num_rows)
        return term_counts(papers)

    # a whole 300,000-paper snapshot's term table did not fit in 24 GB: terms are counted
    # for one chunk at a time
    monkeypatch.setattr(related, "term_counts", counting)
    with warehouse.session(home) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 26), link_related=False)
        assert (
            warehouse.index_related(
                con, "day1", chunk_papers=100, progress=lambda *step: reported.append(step)
            )
            == 248
        )
        assert reported == [(100, 248), (200, 248), (248, 248)]
        lists = con.execute(
            "SELECT count(DISTINCT paper_id), max(rank), bool_or(paper_id = related_id) "
            "FROM related_papers"
        ).fetchone()
        messages = [
            row[0]
            for row in con.execute(
                "SELECT commit_message FROM lake.snapshots() WHERE commit_message LIKE 'related%' "
                "ORDER BY snapshot_id"
            ).fetchall()
        ]
    assert lists == (248, related.NEIGHBOURS, False)
    assert counted == [100, 100, 48]
    assert messages == [
        f"related papers for day1 ({n} new, part {i} of 3)"
        for i, n in ((1, 100), (2, 100), (3, 48))
    ]


def test_a_large_snapshot_compacts_its_term_index_as_it_goes(tmp_path, sample_bytes, monkeypatch):
    """Compacting the term index every two chunks (and, with the edges, after the last) changes
    no edge, and leaves each of those tables one file without deleted rows."""
    edges, files, compactions = [], [], []
    for every in (2, 1000):
        monkeypatch.setattr(warehouse, "COMPACT_EVERY", every)
        home = Home(tmp_path / f"every-{every}")
        with warehouse.session(home) as con:
            load_dump(con, "day1", sample_bytes, date(2026, 11, 26), link_related=False)
            warehouse.index_related(con, "day1", chunk_papers=30)
            edges.append(con.execute("SELECT * FROM related_edges ORDER BY ALL").fetchall())
            files.append(
                {t: warehouse.file_counts(con, t) for t in (*warehouse.TERM_INDEX, "related_edges")}
            )
            compactions.append(
                con.execute(
                    "SELECT count(*) FROM lake.snapshots() "
                    "WHERE commit_message = 'compacted term_stats: small files merged'"
                ).fetchone()[0]
            )
    assert edges[0] == edges[1] and len(edges[0]) > 1000
    assert files == [{t: (1, 0) for t in (*warehouse.TERM_INDEX, "related_edges")}] * 2
    # nine chunks: after the 2nd, 4th, 6th, 8th and the last; or after the last only
    assert compactions == [5, 1]


def test_an_interrupted_indexing_resumes_where_it_stopped(tmp_path, sample_bytes, monkeypatch):
    """The re-run counts terms only for the papers not indexed yet, reports progress from where
    it stopped, and links exactly as an uninterrupted run does."""
    edges = "SELECT * EXCLUDE (snapshot_id) FROM related_edges ORDER BY ALL"
    with warehouse.session(Home(tmp_path / "uninterrupted")) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 26), link_related=False)
        warehouse.index_related(con, "day1", chunk_papers=50)
        expected = con.execute(edges).fetchall()

    def stop_after_two_chunks(done: int, total: int) -> None:
        if done == 100:
            raise KeyboardInterrupt

    counted, reported = [], []
    term_counts = related.term_counts
    with warehouse.session(Home(tmp_path / "interrupted")) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 26), link_related=False)
        with pytest.raises(KeyboardInterrupt):
            warehouse.index_related(con, "day1", chunk_papers=50, progress=stop_after_two_chunks)
        assert con.execute("SELECT count(*) FROM indexed_papers").fetchone()[0] == 100
        monkeypatch.setattr(
            related, "term_counts", lambda p: counted.append(p.num_rows) or term_counts(p)
        )
        resumed = warehouse.index_related(
            con, "day1", chunk_papers=50, progress=lambda *step: reported.append(step)
        )
        assert resumed == 148
        assert con.execute("SELECT count(*) FROM indexed_papers").fetchone()[0] == 248
        assert con.execute(edges).fetchall() == expected and len(expected) > 1000
    assert counted == [50, 50, 48]
    assert reported == [(150, 248), (200, 248), (248, 248)]


def test_no_papers_have_no_terms():
    import pyarrow as pa

    empty = pa.table(
        {"paper_id": [], "title": [], "abstract": []},
        schema=pa.schema(
            [("paper_id", pa.string()), ("title", pa.string()), ("abstract", pa.string())]
        ),
    )
    terms = related.term_counts(empty)
    assert terms.num_rows == 0 and terms.schema == related.PAPER_TERMS
