"""Keyphrase extraction behaviour on hand-written examples and the bundled sample."""

import polars as pl

from pipeline.keyphrases import extract_keyphrases, rank_keyphrases
from pipeline.keyphrases.extract import candidate_features
from tests.conftest import sample_papers


def _sample_texts() -> list[str]:
    return [f"{title}\n{abstract}" for title, abstract in sample_papers()]


def test_returns_one_ranked_list_per_text():
    texts = [
        "Graph Neural Networks for Molecules\nWe propose graph neural networks for molecular property prediction.",
        "",
        None,
    ]
    result = extract_keyphrases(texts, top_k=3)
    assert len(result) == 3
    assert result[1] == [] and result[2] == []
    assert len(result[0]) <= 3
    assert "Graph Neural Networks" in result[0]


def test_ranked_columns_and_order():
    ranked = rank_keyphrases(_sample_texts()[:50], top_k=10)
    assert ranked.columns == ["doc", "rank", "keyphrase", "display", "score"]
    per_doc = ranked.group_by("doc").agg(pl.col("rank").sort(), pl.col("score").sort_by("rank"))
    assert all(ranks == list(range(1, len(ranks) + 1)) for ranks in per_doc["rank"].to_list())
    assert all(scores == sorted(scores, reverse=True) for scores in per_doc["score"].to_list())
    assert per_doc.height == 50


def test_batching_does_not_change_results():
    texts = _sample_texts()
    assert rank_keyphrases(texts, batch_size=10_000).equals(rank_keyphrases(texts, batch_size=7))


def test_display_is_as_written_and_the_key_is_normalised():
    text = (
        "Neural networks for image segmentation\nWe train deep neural networks on images. "
        "The neural networks use image segmentation masks."
    )
    ranked = rank_keyphrases([text], top_k=5)
    rows = dict(zip(ranked["display"].to_list(), ranked["keyphrase"].to_list(), strict=True))
    assert rows["Neural networks"] == "neural network"
    assert all(display in text for display in rows)


def test_singular_and_plural_are_one_keyphrase():
    text = "Neural networks\nWe study a neural network. Neural networks are everywhere."
    keys = rank_keyphrases([text], top_k=10)["keyphrase"].to_list()
    assert keys.count("neural network") == 1


def test_verbs_and_boilerplate_stay_out():
    texts = [
        "Results show that the proposed method outperforms existing keyphrase extraction systems "
        "using graph ranking.",
        "A study\nIn this paper we propose a novel approach and our results show improvements.",
    ]
    phrases = [p.lower() for doc in extract_keyphrases(texts) for p in doc]
    words = {w for p in phrases for w in p.split()}
    assert not words & {"show", "outperforms", "using", "propose", "we"}
    assert not set(phrases) & {"paper", "we propose", "results show"}


def test_the_title_line_ends_a_phrase():
    phrases = extract_keyphrases(["Sparse Autoencoders\nFeatures emerge in language models."])[0]
    assert "Sparse Autoencoders Features" not in phrases


def test_word_features_describe_the_candidates_own_words():
    # A boilerplate word inside a candidate ("accuracy paper benchmark") must not shift which
    # words the candidate's features are read from.
    features = ["single", "three", "z_max", "z_min", "z_first", "first_adverb", "last_modifier"]
    in_context = candidate_features(_sample_texts()[:60]).filter(pl.col("m") >= 2)
    alone = candidate_features(in_context["display"].unique().to_list())
    alone = alone.filter(pl.col("m") == pl.col("display").str.count_matches(" ") + 1)
    compared = in_context.join(alone, on="display", suffix="_alone")
    assert compared.height > 100
    boilerplate_inside = compared.filter(
        pl.col("display").str.contains(r"(?i)\s(?:paper|method|approach|framework|results?)\b")
    )
    assert boilerplate_inside.height > 0
    for name in features:
        assert compared[name].equals(compared[f"{name}_alone"], check_names=False), name
