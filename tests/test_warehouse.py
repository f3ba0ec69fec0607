"""Loading snapshots into the DuckLake warehouse."""

import shutil
from datetime import date
from functools import partial

import pytest

from pipeline import warehouse
from pipeline.home import Home
from pipeline.reports import digest
from tests.conftest import listing, load_dump, sample_papers
from tests.state import related_index_problems, table_fingerprints


def _load(con, snapshot_id: str, data: bytes, day: date) -> None:
    load_dump(con, snapshot_id, data, day, link_related=False)


def _counts(con) -> dict[str, int]:
    tables = ["snapshots", "papers", "listings", "paper_keywords", "paper_links", "keyword_trends"]
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    counts["doc_freq"] = con.execute("SELECT coalesce(sum(doc_freq), 0) FROM keywords").fetchone()[
        0
    ]
    return counts


def test_loading_a_snapshot_twice_changes_nothing(home, sample_bytes):
    with warehouse.session(home) as con:
        _load(con, "day1", sample_bytes, date(2026, 11, 26))
        once = _counts(con)
        _load(con, "day1", sample_bytes, date(2026, 11, 26))
        assert _counts(con) == once
    assert once["papers"] == once["listings"] == 248
    assert once["doc_freq"] == once["paper_keywords"]


def test_a_new_version_replaces_the_snapshot_rows(home, sample_bytes):
    smaller = b"\n".join(sample_bytes.split(b"\n")[:12])  # chrome + 5 papers
    with warehouse.session(home) as con:
        _load(con, "day1", sample_bytes, date(2026, 11, 26))
        _load(con, "day1", smaller, date(2026, 11, 26))
        counts = _counts(con)
        assert counts["listings"] == counts["papers"] == 5
        assert (
            counts["doc_freq"]
            == con.execute(
                "SELECT count(*) FROM (SELECT DISTINCT paper_id, keyphrase FROM paper_keywords)"
            ).fetchone()[0]
        )


def test_paper_seen_on_two_days_is_one_paper(home, sample_bytes):
    with warehouse.session(home) as con:
        _load(con, "day1", sample_bytes, date(2026, 11, 25))
        _load(con, "day2", sample_bytes, date(2026, 11, 26))
        assert con.execute("SELECT count(*) FROM papers").fetchone()[0] == 248
        row = con.execute(
            "SELECT min(first_seen), max(last_seen), min(n_snapshots) FROM papers"
        ).fetchone()
        assert row == (date(2026, 11, 25), date(2026, 11, 26), 2)
        statuses = con.execute(
            "SELECT status, count(*) FROM listing_changes WHERE snapshot_id = 'day2' GROUP BY 1"
        ).fetchall()
        assert statuses == [("continuing", 248)]
        # document frequency counts distinct papers, not listings
        assert _counts(con)["doc_freq"] == 2480


def test_listing_changes_on_a_day_with_several_snapshots(home):
    """Snapshots of the same day follow one another by ingestion time (then id): a paper an
    earlier snapshot of that day listed has returned, not arrived, when a later one lists it
    again after one without it."""
    papers = sample_papers()
    listed = {
        "a-morning": papers[0:10],
        "b-noon": papers[5:15],
        "c-evening": papers[0:20],
    }
    with warehouse.session(home) as con:
        _load(con, "day0", listing(papers[15:18]), date(2026, 11, 25))
        for snapshot_id, snapshot_papers in listed.items():
            _load(con, snapshot_id, listing(snapshot_papers), date(2026, 11, 26))
        statuses = con.execute(
            "SELECT status, count(*) FROM listing_changes WHERE snapshot_id = 'c-evening' "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
    # 5-14 were at noon; 0-4 in the morning only; 15-17 the day before; 18-19 never
    assert statuses == [("continuing", 10), ("new", 2), ("returned", 8)]


def test_listing_changes_tell_new_returned_and_continuing_papers(home):
    """Statuses follow the snapshots' date order, not their load order, and a query on one
    snapshot sees exactly that snapshot's rows of the whole view."""
    papers = sample_papers()
    days = {  # loaded out of order: day2 arrives last
        "day1": (date(2026, 11, 24), papers[0:40]),
        "day3": (date(2026, 11, 26), papers[0:10] + papers[30:60]),
        "day2": (date(2026, 11, 25), papers[20:50]),
    }
    with warehouse.session(home) as con:
        for snapshot_id, (day, listed) in days.items():
            _load(con, snapshot_id, listing(listed), day)
        everything = con.execute("SELECT * FROM listing_changes ORDER BY ALL").fetchall()
        day3 = con.execute(
            "SELECT * FROM listing_changes WHERE snapshot_id = 'day3' ORDER BY ALL"
        ).fetchall()
    assert day3 == [row for row in everything if row[0] == "day3"]
    statuses = {
        (snapshot_id, status): sum(
            1 for row in everything if row[0] == snapshot_id and row[4] == status
        )
        for snapshot_id in days
        for status in ("new", "returned", "continuing")
    }
    assert statuses == {
        ("day1", "new"): 40, ("day1", "returned"): 0, ("day1", "continuing"): 0,
        ("day2", "new"): 10, ("day2", "returned"): 0, ("day2", "continuing"): 20,
        ("day3", "new"): 10, ("day3", "returned"): 10, ("day3", "continuing"): 20,
    }  # fmt: skip
    # a continuing paper's previous rank is its rank the day before: papers[30] was 11th on day2
    assert {row[2]: row[3] for row in day3 if row[4] == "continuing"}[11] == 11


def test_readers_need_an_existing_warehouse(home):
    with pytest.raises(warehouse.WarehouseMissingError, match="ingest a dump first"):
        warehouse.connect(home, read_only=True)


def test_a_catalog_file_ducklake_never_set_up_reads_as_no_warehouse(home):
    """A first run killed after creating the catalog file but before DuckLake attached it."""
    from pipeline.lake import lake_location

    lake_location(home).prepare()
    with pytest.raises(warehouse.WarehouseMissingError, match="ingest a dump first"):
        warehouse.connect(home, read_only=True)
    with warehouse.session(home) as writer:  # the next run sets it up
        assert writer.execute("SELECT count(*) FROM snapshots").fetchone() == (0,)


def test_a_catalog_without_tables_reads_as_no_warehouse(home):
    """A first run killed after creating the catalog but before its schema committed."""
    import duckdb

    from pipeline.lake import lake_location

    location = lake_location(home)
    location.prepare()
    con = duckdb.connect()
    for package, name in [*location.extensions(), warehouse.DUCKLAKE]:
        con.execute(f"LOAD '{warehouse.extension_path(package, name)}'")
    con.execute(f"ATTACH 'ducklake:{location.metadata}' AS lake (DATA_PATH '{location.data_path}')")
    con.close()
    with pytest.raises(warehouse.WarehouseMissingError, match="no tables yet"):
        warehouse.connect(home, read_only=True)
    with warehouse.session(home) as writer:  # the next run creates the schema
        assert writer.execute("SELECT count(*) FROM snapshots").fetchone() == (0,)


def test_a_reader_sees_committed_loads(home, sample_bytes):
    with warehouse.session(home) as writer:
        _load(writer, "day1", sample_bytes, date(2026, 11, 26))
        with warehouse.session(home, read_only=True) as reader:
            assert reader.execute("SELECT count(*) FROM papers").fetchone()[0] == 248
            with pytest.raises(Exception, match=r"read-only|read only"):
                reader.execute("DELETE FROM papers")


def _listing(*papers: tuple[str, str]) -> bytes:
    return "\n".join(f"{title}\n{abstract}" for title, abstract in papers).encode()


ABSTRACT = (
    "We study {phrase} in depth. Our analysis of {phrase} covers theory and practice, and the "
    "experiments show that {phrase} behaves as predicted on every benchmark we tried."
)


@pytest.mark.parametrize(
    "second_day", [date(2026, 3, 2), date(2026, 3, 1)], ids=["next day", "same day"]
)
def test_corpus_statistics_do_not_depend_on_load_order(tmp_path, monkeypatch, second_day):
    """A backfill may load snapshots in any order: keywords (display form, counts, seen dates)
    and trends come out the same as when days load one after another. Of two snapshots of the
    same day, the alphabetically first form is kept."""
    from pipeline.home import Home
    from tests.state import table_rows

    days = {
        "day-1": (
            date(2026, 3, 1),
            _listing(("Sparse Mixture Routing", ABSTRACT.format(phrase="Sparse Mixture Routing"))),
        ),
        "day-2": (
            second_day,
            _listing(
                (
                    "sparse mixture routing revisited",
                    ABSTRACT.format(phrase="sparse mixture routing"),
                ),
                ("Quantum Error Mitigation", ABSTRACT.format(phrase="quantum error mitigation")),
            ),
        ),
    }
    tables = {}
    for order in (["day-1", "day-2"], ["day-2", "day-1"]):
        home = Home(tmp_path / "-".join(order)).ensure()
        monkeypatch.setenv("PAPERLAKE_HOME", str(home.root))
        with warehouse.session(home) as con:
            for key in order:
                load_dump(con, key, days[key][1], days[key][0], link_related=False)
            tables[tuple(order)] = {
                t: table_rows(con, t) for t in ("keywords", "keyword_trends", "papers")
            }
            display = con.execute(
                "SELECT display FROM keywords WHERE keyphrase = 'sparse mixture routing'"
            ).fetchone()
    first, second = tables.values()
    assert first == second
    assert display == ("Sparse Mixture Routing",), "the earliest snapshot's form is shown"


def _routing_days(con) -> None:
    """Three days: two papers write 'Sparse Mixture Routing', the next day two others write it in
    lower case, the third day nobody does."""
    papers = {
        "day-1": ["Sparse Mixture Routing", "Sparse Mixture Routing"],
        "day-2": ["sparse mixture routing", "sparse mixture routing"],
        "day-3": [],
    }
    for i, (key, phrases) in enumerate(papers.items()):
        written = [
            (f"{p} study {key} {j}", ABSTRACT.format(phrase=p)) for j, p in enumerate(phrases)
        ]
        other = (
            f"Quantum Error Mitigation {key}",
            ABSTRACT.format(phrase="quantum error mitigation"),
        )
        load_dump(con, key, _listing(*written, other), date(2026, 3, 1 + i), link_related=False)


def test_keyword_trends_show_each_snapshots_own_display_form(home):
    """A snapshot's keyphrases are shown as its papers wrote them (a keyphrase gone from it, as
    its window last wrote it); the corpus statistics keep the earliest form."""
    from pipeline.reports import digest

    with warehouse.session(home) as con:
        _routing_days(con)
        shown = con.execute(
            "SELECT snapshot_id, display, doc_freq FROM keyword_trends "
            "WHERE keyphrase = 'sparse mixture routing' ORDER BY snapshot_id"
        ).fetchall()
        assert shown == [
            ("day-1", "Sparse Mixture Routing", 2),
            ("day-2", "sparse mixture routing", 2),
            ("day-3", "sparse mixture routing", 0),
        ]
        corpus = "SELECT display FROM keywords WHERE keyphrase = 'sparse mixture routing'"
        assert con.execute(corpus).fetchone() == ("Sparse Mixture Routing",)
        assert ("sparse mixture routing", 2) in digest.load_digest(con, "day-2").top_keywords
        assert ("Sparse Mixture Routing", 2) in digest.load_digest(con, "day-1").top_keywords


def test_keyword_trends_stored_without_display_forms_get_them(home, monkeypatch):
    """Warehouses written before keyword trends kept display forms are given the corpus's form
    when opened."""
    with warehouse.session(home) as con:
        _routing_days(con)
        con.execute("ALTER TABLE keyword_trends DROP COLUMN display")
        con.execute("UPDATE schema_info SET fingerprint = 'an earlier schema'")
    monkeypatch.setattr(warehouse, "_DATABASES", {})  # the next process to open it
    with warehouse.session(home) as con:
        missing = con.execute(
            "SELECT count(*) FROM keyword_trends t LEFT JOIN keywords k USING (keyphrase) "
            "WHERE t.display IS DISTINCT FROM coalesce(k.display, t.keyphrase)"
        ).fetchone()
        assert missing == (0,)
        routing = con.execute(
            "SELECT DISTINCT display FROM keyword_trends WHERE keyphrase = 'sparse mixture routing'"
        ).fetchall()
        assert routing == [("Sparse Mixture Routing",)]


def test_spill_files_go_to_the_home_not_the_working_directory(home):
    with warehouse.session(home) as con:
        folder = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert folder == str(home.root / "cache" / "duckdb")


KEYWORDS_FROM_SCRATCH = """
WITH seen AS (
    SELECT k.keyphrase, k.paper_id, k.display, s.observed_on
    FROM paper_keywords k JOIN snapshots s USING (snapshot_id)
)
SELECT keyphrase,
       arg_min(display, (observed_on, display)) AS display,
       count(DISTINCT paper_id)::INTEGER AS doc_freq,
       min(observed_on) AS first_seen,
       max(observed_on) AS last_seen
FROM seen GROUP BY keyphrase ORDER BY ALL
"""


def _term_counts(con):
    """Each term's document frequency over the indexed papers, from their stored text, as an Arrow
    table ``term, doc_freq``."""
    import polars as pl

    from pipeline import related

    papers = con.execute(
        "SELECT paper_id, title, abstract FROM papers "
        "WHERE paper_id IN (SELECT paper_id FROM indexed_papers)"
    ).to_arrow_table()
    terms = pl.from_arrow(related.term_counts(papers))
    return terms.group_by("term").agg(pl.len().cast(pl.Int32).alias("doc_freq")).to_arrow()


def _term_stats_from_scratch(con) -> list[tuple[int, int]]:
    """``term_stats`` as counting the indexed papers' terms afresh gives it."""
    with warehouse.registered(con, {"counts": _term_counts(con)}):
        return con.execute(
            "SELECT md5_number_lower(term), doc_freq FROM counts ORDER BY ALL"
        ).fetchall()


def _term_stats_with_texts(con, keys: bool = True) -> None:
    """Give ``term_stats`` the layout of earlier versions: each term's text beside its count
    (and, unless ``keys`` is false, its key)."""
    key = ", md5_number_lower(term) AS term_key" if keys else ""
    with warehouse.registered(con, {"counts": _term_counts(con)}):
        con.execute("DROP TABLE term_stats")
        con.execute(f"CREATE TABLE term_stats AS SELECT term, doc_freq{key} FROM counts")


@pytest.mark.parametrize("id_list_max", [warehouse.ID_LIST_MAX, 10], ids=["id list", "joins"])
def test_replacing_snapshots_keeps_corpus_statistics_exact(
    home, sample_bytes, monkeypatch, id_list_max
):
    """Replacing a snapshot with a version that drops papers leaves keywords (counts, seen
    dates, display form) and the related-paper term statistics as if it had never listed them,
    whether a load finds its touched rows by a constant id list or (more ids) by joins."""
    monkeypatch.setattr(warehouse, "ID_LIST_MAX", id_list_max)
    lines = sample_bytes.split(b"\n")
    head = b"\n".join(lines[:40])  # chrome and the first papers
    with warehouse.session(home) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 25))
        load_dump(con, "day2", sample_bytes, date(2026, 11, 26))
        load_dump(con, "day3", head, date(2026, 11, 27))
        # day1 and day3 are replaced: the rest of the sample is seen on day2 only, and
        # day2 is replaced by its first papers, so most papers go
        load_dump(con, "day1", head, date(2026, 11, 25))
        load_dump(con, "day3", b"\n".join(lines[:12]), date(2026, 11, 27))
        load_dump(con, "day2", head, date(2026, 11, 26))
        keywords = con.execute("SELECT * FROM keywords ORDER BY ALL").fetchall()
        assert keywords == con.execute(KEYWORDS_FROM_SCRATCH).fetchall()
        narrowed = con.execute(
            "SELECT count(*) FROM keywords WHERE last_seen < DATE '2026-11-27'"
        ).fetchone()[0]
        assert narrowed > 0
        term_stats = con.execute(
            "SELECT term_key, doc_freq FROM term_stats ORDER BY ALL"
        ).fetchall()
        assert term_stats == _term_stats_from_scratch(con)


def test_a_warehouse_with_the_old_related_papers_table_is_migrated(home, sample_bytes, monkeypatch):
    """Warehouses written before related_edges kept ranked neighbours in a related_papers
    table; opening one converts it and keeps every edge."""
    with warehouse.session(home) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 26))
        lists = con.execute("SELECT * FROM related_papers ORDER BY ALL").fetchall()
        assert lists
        con.execute("DROP VIEW related_papers")
        con.execute("ALTER TABLE related_edges RENAME TO related_papers")
        con.execute("ALTER TABLE related_papers ADD COLUMN rank SMALLINT DEFAULT 1")
        con.execute("ALTER TABLE related_papers DROP COLUMN paper_key")
        con.execute("UPDATE schema_info SET fingerprint = 'an earlier schema'")
    monkeypatch.setattr(warehouse, "_DATABASES", {})  # the next process to open it
    with warehouse.session(home) as con:
        assert con.execute("SELECT * FROM related_papers ORDER BY ALL").fetchall() == lists
        columns = [c[0] for c in con.execute("DESCRIBE related_edges").fetchall()]
        assert "rank" not in columns and "paper_key" in columns
        assert related_index_problems(con) == []
        load_dump(con, "day2", sample_bytes, date(2026, 11, 27))


def test_a_snapshots_papers_are_read_as_its_load_stored_them(home):
    """Indexing reads a snapshot's papers from its load's own commit (not from the whole papers
    table), and falls back to the papers table once that commit is no longer kept."""
    papers = sample_papers()[:5]
    edited = [(papers[0][0], papers[0][1] + " We also release the code."), *papers[1:]]
    with warehouse.session(home) as con:
        load_dump(con, "day1", listing(papers), date(2026, 11, 26), link_related=False)
        load_dump(con, "day2", listing(edited), date(2026, 11, 27), link_related=False)
        day1 = warehouse.snapshot_papers(con, "day1").to_pylist()
        assert [(p["title"], p["abstract"]) for p in day1] == papers
        assert warehouse.snapshot_papers(con, "day2").to_pylist()[0]["abstract"] == edited[0][1]
        con.execute("CALL ducklake_expire_snapshots('lake', older_than => now())")
        current = warehouse.snapshot_papers(con, "day1").to_pylist()
        assert [(p["title"], p["abstract"]) for p in current] == edited


def test_papers_stored_without_title_block_keys_get_them(home, sample_bytes, monkeypatch):
    """Warehouses written before papers stored their title block keys are given them when
    opened, and the next load still recognises every paper."""
    blocks = (
        "SELECT md5_number_lower(left(title_key, 12)), md5_number_lower(right(title_key, 12)) "
        "FROM papers ORDER BY ALL"
    )
    with warehouse.session(home) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 26))
        expected = con.execute(blocks).fetchall()
        con.execute("ALTER TABLE papers DROP COLUMN title_head")
        con.execute("ALTER TABLE papers DROP COLUMN title_tail")
        con.execute("UPDATE schema_info SET fingerprint = 'an earlier schema'")
    monkeypatch.setattr(warehouse, "_DATABASES", {})  # the next process to open it
    with warehouse.session(home) as con:
        stored = "SELECT title_head, title_tail FROM papers ORDER BY ALL"
        assert con.execute(stored).fetchall() == expected
        n_papers = con.execute("SELECT count(*) FROM papers").fetchone()[0]
        load_dump(con, "day2", sample_bytes, date(2026, 11, 27))
        assert con.execute("SELECT count(*) FROM papers").fetchone()[0] == n_papers


def test_papers_stored_without_an_abstract_md5_get_one(home, sample_bytes, monkeypatch):
    """Warehouses written before papers had abstract_md5 are given it when opened, and the
    next load still recognises every paper (none gets a second id)."""
    with warehouse.session(home) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 26))
        expected = con.execute(
            "SELECT md5_number_lower(abstract) FROM papers ORDER BY ALL"
        ).fetchall()
        con.execute("ALTER TABLE papers DROP COLUMN abstract_md5")
        con.execute("UPDATE schema_info SET fingerprint = 'an earlier schema'")
    monkeypatch.setattr(warehouse, "_DATABASES", {})  # the next process to open it
    with warehouse.session(home) as con:
        assert con.execute("SELECT abstract_md5 FROM papers ORDER BY ALL").fetchall() == expected
        n_papers = con.execute("SELECT count(*) FROM papers").fetchone()[0]
        load_dump(con, "day2", sample_bytes, date(2026, 11, 27))
        assert con.execute("SELECT count(*) FROM papers").fetchone()[0] == n_papers


def test_papers_stored_without_a_paper_key_get_one(home, sample_bytes, monkeypatch, caplog):
    """Warehouses written before papers had a paper key are given it when opened (saying so in
    the log); lookups by id (search, the digest) find the papers by it, and the next load
    recognises every paper."""
    with warehouse.session(home) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 26))
        warehouse.index_search(con, home, "day1")
    with warehouse.session(home) as con:
        expected = con.execute(
            "SELECT paper_id, md5_number_lower(paper_id) FROM papers ORDER BY ALL"
        ).fetchall()
        with warehouse.session(home, read_only=True) as reader:
            found = warehouse.find_papers(reader, "grokking", 3)
        papers = digest.load_digest(con, "day1").papers
        con.execute("ALTER TABLE papers DROP COLUMN paper_key")
        con.execute("UPDATE schema_info SET fingerprint = 'an earlier schema'")
    monkeypatch.setattr(warehouse, "_DATABASES", {})  # the next process to open it
    caplog.set_level("INFO", logger="paperlake")
    with warehouse.session(home) as con:
        assert "bringing the warehouse's tables and views up to date" in caplog.text
        assert "rewrote papers for the new layout" in caplog.text
        stored = con.execute("SELECT paper_id, paper_key FROM papers ORDER BY ALL").fetchall()
        assert stored == expected
        with warehouse.session(home, read_only=True) as reader:
            assert found.num_rows == 3 and warehouse.find_papers(reader, "grokking", 3) == found
        assert digest.load_digest(con, "day1").papers == papers and len(papers) > 20
        load_dump(con, "day2", sample_bytes, date(2026, 11, 27))
        assert con.execute("SELECT count(*) FROM papers").fetchone()[0] == len(expected)
        assert con.execute("SELECT count(*) FROM papers WHERE paper_key IS NULL").fetchone() == (0,)


def test_a_moved_home_keeps_its_warehouse(tmp_path, sample_bytes, monkeypatch):
    """The embedded catalog stores the data path it was created with; a home copied to another
    place reads and writes its own data files there."""
    first = Home(tmp_path / "first").ensure()
    with warehouse.session(first) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 26))
        papers = con.execute("SELECT * FROM papers ORDER BY paper_id").fetchall()
    monkeypatch.setattr(warehouse, "_DATABASES", {})  # the next process to open it
    shutil.copytree(first.root, tmp_path / "moved")
    shutil.rmtree(first.root)
    moved = Home(tmp_path / "moved").ensure()
    with warehouse.session(moved, read_only=True) as con:
        assert con.execute("SELECT * FROM papers ORDER BY paper_id").fetchall() == papers
    with warehouse.session(moved) as con:
        load_dump(con, "day2", sample_bytes, date(2026, 11, 27))
        assert con.execute("SELECT count(*) FROM listings").fetchone()[0] == 2 * len(papers)
    assert not first.root.exists()


def test_stored_abstracts_are_read_alike_for_short_and_long_id_lists(home, sample_bytes):
    with warehouse.session(home) as con:
        load_dump(con, "day1", sample_bytes, date(2026, 11, 26), link_related=False)
        stored = dict(con.execute("SELECT paper_id, abstract FROM papers").fetchall())
        ids = [*sorted(stored)[:3], "title:not-stored"]
        padding = [f"title:absent-{i}" for i in range(warehouse.ID_LIST_MAX)]
        expected = {paper_id: stored[paper_id] for paper_id in ids[:3]}
        assert warehouse._abstracts(con, ids) == expected
        assert warehouse._abstracts(con, [*ids, *padding]) == expected


def test_the_latest_digest_lists_the_latest_snapshot_however_the_days_arrived(home):
    """latest_papers finds the latest snapshot's papers by their last_seen date; it must list
    exactly what ranked_papers lists for that snapshot, papers seen on earlier days included."""
    papers = sample_papers()
    days = {  # loaded out of order: day 3 is the latest even though day 2 arrives after it
        "day1": (date(2026, 11, 24), papers[0:60]),
        "day3": (date(2026, 11, 26), papers[40:100]),
        "day2": (date(2026, 11, 25), papers[20:90]),
    }
    reference = """
        SELECT r.*, k.keyphrases, c.code_links
        FROM ranked_papers r
        LEFT JOIN (SELECT paper_id, list(display ORDER BY rank) AS keyphrases
                   FROM paper_keywords WHERE snapshot_id = $s GROUP BY paper_id) k
               USING (paper_id)
        LEFT JOIN (SELECT paper_id, list(url ORDER BY position) AS code_links FROM paper_links
                   WHERE snapshot_id = $s AND kind = 'code' GROUP BY paper_id) c
               USING (paper_id)
        WHERE r.snapshot_id = $s ORDER BY r.rank
    """
    with warehouse.session(home) as con:
        for snapshot_id, (day, listed) in days.items():
            _load(con, snapshot_id, listing(listed), day)
        digest = con.execute("SELECT * FROM latest_papers").fetchall()
        expected = con.execute(reference, {"s": "day3"}).fetchall()
    assert len(digest) == 60 and digest == expected
    assert sum(1 for row in digest if row[11]) == 10  # is_new: only papers 90-99 are new on day 3


def _keywords_in_one_table(con) -> None:
    """Give the corpus statistics the layout of earlier versions: one ``keywords`` table with
    each keyphrase's text, display form, count and seen dates."""
    con.execute("CREATE TABLE keywords_table AS SELECT * FROM keywords")
    con.execute("DROP VIEW keywords")
    con.execute("ALTER TABLE keywords_table RENAME TO keywords")
    con.execute("DROP TABLE keyword_stats")
    con.execute("DROP TABLE keyword_forms")


@pytest.mark.parametrize(
    "older_layout",
    [
        [
            "ALTER TABLE paper_terms DROP COLUMN term_key",
            partial(_term_stats_with_texts, keys=False),
        ],
        [_term_stats_with_texts],
        [
            "ALTER TABLE indexed_papers DROP COLUMN top_scores",
            "ALTER TABLE indexed_papers DROP COLUMN last_score",
        ],
        ["ALTER TABLE indexed_papers DROP COLUMN last_score"],
        [
            "ALTER TABLE paper_terms DROP COLUMN paper_key",
            "ALTER TABLE indexed_papers DROP COLUMN paper_key",
            "ALTER TABLE related_edges DROP COLUMN paper_key",
        ],
        [_keywords_in_one_table],
    ],
    ids=[
        "without term keys",
        "term statistics with texts",
        "without top scores",
        "without last scores",
        "without paper keys",
        "keywords in one table",
    ],
)
def test_a_related_index_of_an_older_layout_is_brought_up_to_date(
    tmp_path, monkeypatch, older_layout
):
    """Warehouses written before the term index had term or paper keys, before indexed papers
    kept their lists' top and last scores, while term statistics kept each term's text, or while
    keyword statistics and texts were one table, get the current layout when opened, and the next
    snapshot is linked and counted exactly as in a warehouse that always had it."""
    papers = sample_papers()
    days = [
        (listing(papers[:150]), date(2026, 11, 26)),
        (listing(papers[100:]), date(2026, 11, 27)),
    ]
    edges, layouts, keywords = [], [], []
    for migrated in (False, True):
        home = Home(tmp_path / f"home-{migrated}")
        with warehouse.session(home) as con:
            load_dump(con, "day1", *days[0])
            if migrated:
                for step in older_layout:
                    con.execute(step) if isinstance(step, str) else step(con)
                con.execute("UPDATE schema_info SET fingerprint = 'an earlier schema'")
        monkeypatch.setattr(warehouse, "_DATABASES", {})  # the next process to open it
        with warehouse.session(home) as con:
            assert related_index_problems(con) == []
            assert con.execute(
                "SELECT term_key, doc_freq FROM term_stats ORDER BY ALL"
            ).fetchall() == _term_stats_from_scratch(con)
            # the migration's rewrite of every row leaves no delete files behind
            assert all(warehouse.file_counts(con, t)[1] == 0 for t in warehouse.table_names(con))
            layouts.append(_columns(con))
            load_dump(con, "day2", *days[1])
            edges.append(con.execute("SELECT * FROM related_edges ORDER BY ALL").fetchall())
            keywords.append(con.execute("SELECT * FROM keywords ORDER BY ALL").fetchall())
    assert layouts[0] == layouts[1]
    assert edges[0] == edges[1] and len(edges[0]) > 100
    assert keywords[0] == keywords[1] and len(keywords[0]) > 100


def _columns(con) -> set[tuple[str, str, str]]:
    """(table, column, type) of every warehouse table."""
    return set(
        con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = ? AND NOT internal",
            [warehouse.CATALOG_ALIAS],
        ).fetchall()
    )


def _file_counts(con) -> dict[str, tuple[int, int]]:
    return {t: warehouse.file_counts(con, t) for t in warehouse.table_names(con)}


def test_compaction_keeps_every_row_and_every_version(tmp_path):
    """Compacting leaves each table one file without deletes, changes no row, keeps earlier
    versions readable, and the next load gives what it gives in a warehouse never compacted."""
    papers = sample_papers()
    days = [
        ("day1", listing(papers[0:120]), date(2026, 11, 24)),
        ("day2", listing(papers[60:180]), date(2026, 11, 25)),
        ("day3", listing(papers[120:240]), date(2026, 11, 26)),
    ]
    final = []
    for compacted in (False, True):
        home = Home(tmp_path / f"compacted-{compacted}")
        with warehouse.session(home) as con:
            for snapshot_id, data, day in days[:2]:
                load_dump(con, snapshot_id, data, day)
            if compacted:
                before = table_fingerprints(con)
                version = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()
                files = _file_counts(con)
                done = {step.table: step for step in warehouse.compact(con)}
                assert table_fingerprints(con) == before
                assert related_index_problems(con) == []
                # what was several files, or had deleted rows, is one file without deletes now
                spread = {t for t, (n, deletes) in files.items() if n > 1 or deletes}
                assert {"papers", "term_stats", "indexed_papers", "related_edges"} <= spread
                assert set(done) == spread
                assert all(n == 1 and not deletes for n, deletes in _file_counts(con).values() if n)
                assert warehouse.compact(con) == []  # nothing left to do
            load_dump(con, *days[2])
            final.append(table_fingerprints(con))
        if compacted:
            with warehouse.session(home, read_only=True, as_of=str(version[0])) as old:
                assert table_fingerprints(old) == before
    assert final[0] == final[1]


def test_expiring_old_versions_keeps_the_recent_ones_and_every_row(home, monkeypatch):
    """Versions committed before the cutoff are given up, with the catalog rows of the files only
    they used (rows every query reads); the data, later versions and the next load are
    untouched, and asking for an expired version says so."""
    import time
    from datetime import UTC, datetime

    papers = sample_papers()
    with warehouse.session(home) as con:
        load_dump(con, "day1", listing(papers[0:60]), date(2026, 11, 24))
        load_dump(con, "day2", listing(papers[30:90]), date(2026, 11, 25))
        warehouse.compact(con)  # the files it replaced are used by the versions before it only
        time.sleep(1.1)  # (DuckLake keeps commit times to the second)
        cutoff = datetime.now(UTC)
        time.sleep(1.1)
        load_dump(con, "day3", listing(papers[60:120]), date(2026, 11, 26))
        kept = con.execute(
            "SELECT min(snapshot_id) FROM lake.snapshots() WHERE snapshot_time >= ?", [cutoff]
        ).fetchone()[0]
        before = table_fingerprints(con)
        latest = con.execute("SELECT max(snapshot_id) FROM lake.snapshots()").fetchone()[0]
        catalog_rows = _catalog_file_rows(con)
        expiry = warehouse.expire_versions(con, cutoff)
        assert expiry is not None and expiry.versions == kept
        assert con.execute("SELECT min(snapshot_id) FROM lake.snapshots()").fetchone()[0] == kept
        assert table_fingerprints(con) == before
        assert _catalog_file_rows(con) < catalog_rows
        assert warehouse.expire_versions(con, cutoff) is None  # nothing that old is left
        load_dump(con, "day4", listing(papers[90:150]), date(2026, 11, 27))
        assert related_index_problems(con) == []
    with warehouse.session(home, read_only=True, as_of=str(latest)) as old:
        assert table_fingerprints(old) == before
    monkeypatch.setattr(warehouse, "_DATABASES", {})
    with pytest.raises(ValueError, match=f"no version '{kept - 1}' .* versions warehouse"):
        warehouse.connect(home, read_only=True, as_of=str(kept - 1))


def _catalog_file_rows(con) -> int:
    """Rows of DuckLake's catalog that list data and delete files, of every version kept."""
    return con.execute(
        "SELECT (SELECT count(*) FROM __ducklake_metadata_lake.ducklake_data_file) "
        "+ (SELECT count(*) FROM __ducklake_metadata_lake.ducklake_delete_file)"
    ).fetchone()[0]


@pytest.mark.parametrize(("setting", "days"), [("", 30), ("7", 7), ("0.5", 0.5), ("0", None)])
def test_version_retention_is_read_from_the_environment(monkeypatch, setting, days):
    from datetime import timedelta

    monkeypatch.setenv(warehouse.RETENTION_ENV, setting)
    expected = None if days is None else timedelta(days=days)
    assert warehouse.version_retention() == expected


@pytest.mark.parametrize("setting", ["a month", "-3", "nan", "inf"])
def test_a_bad_version_retention_says_what_it_wants(monkeypatch, setting):
    monkeypatch.setenv(warehouse.RETENTION_ENV, setting)
    with pytest.raises(ValueError, match="number of days"):
        warehouse.version_retention()
