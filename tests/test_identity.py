"""One identity per paper across snapshots."""

import json
from datetime import date

import pytest

from pipeline import warehouse
from tests.conftest import load_dump

GROKKING = (
    "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets",
    "In this paper we propose to study generalization of neural networks on small algorithmically "
    "generated datasets. In this setting, questions about data efficiency, memorization, "
    "generalization, and speed of learning can be studied in great detail.",
)
SCALING_LM = (
    "Scaling Laws for Neural Language Models",
    "We study empirical scaling laws for language model performance on the cross-entropy loss. "
    "The loss scales as a power-law with model size, dataset size, and the amount of compute.",
)
SCALING_MT = (
    "Scaling Laws for Neural Machine Translation",
    "We present an empirical study of scaling properties of encoder-decoder Transformer models "
    "used in neural machine translation. We show that cross-entropy loss follows a scaling law.",
)


def _listing(*papers: tuple[str, str]) -> bytes:
    return "\n".join(f"{t}\n{a}" for t, a in papers).encode()


def _load(con, snapshot_id: str, data: bytes, day: date) -> dict:
    return load_dump(con, snapshot_id, data, day, link_related=False)


def _papers(con) -> list[tuple]:
    return con.execute("SELECT title, n_snapshots, arxiv_id FROM papers ORDER BY title").fetchall()


@pytest.mark.parametrize(
    "edited",
    [
        GROKKING[0].replace("Generalization", "Generalisation"),  # a spelling fix
        GROKKING[0].upper(),  # case
        GROKKING[0].replace(":", " -"),  # punctuation
        GROKKING[0].replace("Algorithmic", "Algorithmc"),  # a typo
    ],
)
def test_small_title_edits_keep_one_paper(home, edited):
    with warehouse.session(home) as con:
        _load(con, "day1", _listing(GROKKING, SCALING_LM), date(2026, 11, 25))
        _load(con, "day2", _listing((edited, GROKKING[1]), SCALING_LM), date(2026, 11, 26))
        rows = _papers(con)
        assert len(rows) == 2
        assert [n for _, n, _ in rows] == [2, 2]
        assert edited in [title for title, _, _ in rows], "the latest title is kept"


def test_titles_edited_at_one_end_and_then_the_other_keep_one_paper(home):
    """Each day's title is matched by the block of the stored title that survived the edit, so
    the stored block keys must follow the stored title (and the lengths differ each day)."""
    ending = GROKKING[0].replace("Datasets", "Data Sets")
    beginning = ending.replace("Grokking:", "Grokkin:")
    with warehouse.session(home) as con:
        _load(con, "day1", _listing(GROKKING, SCALING_LM), date(2026, 11, 24))
        _load(con, "day2", _listing((ending, GROKKING[1]), SCALING_LM), date(2026, 11, 25))
        _load(con, "day3", _listing((beginning, GROKKING[1]), SCALING_LM), date(2026, 11, 26))
        assert _papers(con) == [(beginning, 3, None), (SCALING_LM[0], 3, None)]
        stale = con.execute(
            "SELECT count(*) FROM papers WHERE title_head <> md5_number_lower(left(title_key, 12)) "
            "OR title_tail <> md5_number_lower(right(title_key, 12))"
        ).fetchone()
        assert stale == (0,)


def test_a_title_fix_with_an_edited_abstract_keeps_one_paper(home):
    """The stored abstract differs from the incoming one, so it is read and compared."""
    edited = (
        GROKKING[0].replace("Algorithmic", "Algorithmc"),
        GROKKING[1] + " Code is available on request.",
    )
    with warehouse.session(home) as con:
        _load(con, "day1", _listing(GROKKING, SCALING_LM), date(2026, 11, 25))
        _load(con, "day2", _listing(edited, SCALING_LM), date(2026, 11, 26))
        assert _papers(con) == [(edited[0], 2, None), (SCALING_LM[0], 2, None)]
        assert con.execute(
            "SELECT abstract_md5 = md5_number_lower(?) FROM papers WHERE title = ?",
            [edited[1], edited[0]],
        ).fetchone() == (True,)


def test_similar_titles_of_different_papers_stay_apart(home):
    with warehouse.session(home) as con:
        _load(con, "day1", _listing(SCALING_LM), date(2026, 11, 25))
        _load(con, "day2", _listing(SCALING_MT), date(2026, 11, 26))
        assert len(_papers(con)) == 2


def test_same_title_with_a_different_abstract_is_another_paper(home):
    other = (
        GROKKING[0],
        "A completely different study of protein folding with diffusion models and "
        "cryo-electron microscopy data from many laboratories around the world.",
    )
    with warehouse.session(home) as con:
        _load(con, "day1", _listing(GROKKING), date(2026, 11, 25))
        _load(con, "day2", _listing(other), date(2026, 11, 26))
        ids = [row[0] for row in con.execute("SELECT paper_id FROM papers ORDER BY 1").fetchall()]
        assert len(ids) == 2 and len(set(ids)) == 2


def test_a_paper_seen_without_and_then_with_its_arxiv_id_is_one_paper(home):
    api = json.dumps(
        [{"paper": {"id": "2201.02177", "title": GROKKING[0], "summary": GROKKING[1]}}]
    )
    with warehouse.session(home) as con:
        _load(con, "day1", _listing(GROKKING), date(2026, 11, 25))
        mapping = _load(con, "day2", api.encode(), date(2026, 11, 26))
        assert mapping == {
            "arxiv:2201.02177": con.execute("SELECT paper_id FROM papers").fetchone()[0]
        }
        assert _papers(con) == [(GROKKING[0], 2, "2201.02177")]


def test_resolution_is_stable_when_a_snapshot_is_reloaded(home):
    edited = (GROKKING[0].replace("Algorithmic", "Algorithmc"), GROKKING[1])
    with warehouse.session(home) as con:
        _load(con, "day1", _listing(GROKKING), date(2026, 11, 25))
        first = _load(con, "day2", _listing(edited), date(2026, 11, 26))
        again = _load(con, "day2", _listing(edited), date(2026, 11, 26))
        assert first == again and len(first) == 1
        assert con.execute("SELECT count(*), max(n_snapshots) FROM papers").fetchone() == (1, 2)


def test_a_paper_known_by_its_arxiv_id_keeps_its_identity_through_a_retitling(home):
    """Stored under a title id, the paper later gained its arXiv id; a new version renamed at
    both ends shares no title block with it, and only the arXiv id tells it is the same."""

    def api(title: str) -> bytes:
        return json.dumps(
            [{"paper": {"id": "2201.02177", "title": title, "summary": GROKKING[1]}}]
        ).encode()

    retitled = "Grokking Explained: Generalization Past Overfitting on Small Algorithmic Data"
    with warehouse.session(home) as con:
        _load(con, "day1", _listing(GROKKING), date(2026, 11, 24))
        _load(con, "day2", api(GROKKING[0]), date(2026, 11, 25))
        (stored,) = con.execute("SELECT paper_id FROM papers").fetchone()
        assert stored.startswith("title:")
        assert _load(con, "day3", api(retitled), date(2026, 11, 26)) == {"arxiv:2201.02177": stored}
        assert _papers(con) == [(retitled, 3, "2201.02177")]
