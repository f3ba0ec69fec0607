"""The keyphrase evaluation protocol, on cases computed by hand."""

import pytest

from benchmarks.evaluation import f1_at_k, macro_f1, normalize

GOLD = ["neural network", "support vector machine"]
# after stemming: "neural network" (twice: counted once), "deep learn", "svm"
PREDICTED = ["neural networks", "Neural network", "deep learning", "SVM"]


def test_normalisation_stems_lowercases_and_splits_punctuation():
    assert normalize("Neural Networks") == "neural network"
    assert normalize("web-based systems") == "web - base system"
    assert normalize("ＮＡＳＡ") == "nasa"  # NFKC folds full-width letters


def test_f1_at_2_counts_one_hit_in_two_slots():
    # P@2 = 1/2, R@2 = 1/2 -> F1 = 0.5
    assert f1_at_k(PREDICTED, GOLD, 2) == pytest.approx(0.5)


def test_short_lists_count_missing_predictions_as_misses():
    # three distinct predictions for five slots: P@5 = 1/5, R@5 = 1/2 -> F1 = 2/7
    assert f1_at_k(PREDICTED, GOLD, 5) == pytest.approx(2 / 7)


def test_no_hit_scores_zero_and_empty_gold_is_refused():
    assert f1_at_k(["graph ranking"], GOLD, 10) == 0.0
    with pytest.raises(ValueError):
        f1_at_k(PREDICTED, [], 10)


def test_macro_average_skips_documents_without_gold():
    # document 1: F1@2 = 0.5; document 2: both gold phrases in the first two -> 1.0; document 3 skipped
    predictions = [PREDICTED, ["support vector machines", "neural network"], ["anything"]]
    golds = [GOLD, GOLD, []]
    assert macro_f1(predictions, golds, 2) == pytest.approx(75.0)
