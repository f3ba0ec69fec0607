"""Keyphrase extraction behaviour on hand-written examples."""

from pipeline.keyphrases import extract_keyphrases


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


def test_singular_and_plural_are_one_keyphrase():
    text = "Neural networks\nWe study a neural network. Neural networks are everywhere."
    phrases = [p.lower() for p in extract_keyphrases([text], top_k=10)[0]]
    assert phrases == ["neural networks"]


def test_boilerplate_is_never_a_keyphrase():
    text = "A study\nIn this paper we propose a novel approach and our results show improvements."
    phrases = {p.lower() for p in extract_keyphrases([text], top_k=10)[0]}
    assert not phrases & {"paper", "we propose", "results show", "approach", "novel approach"}
