"""test.greedy.confident_fraction / confident_wrong_fraction (p̂ > 0.5) from a hand-built evaluation table."""
import math

import pytest

from src.evaluation.summary import summarize

# p̂ of each greedy answer, and whether it is right: 3 of 6 are confident (p̂ > 0.5), 2 of those wrong.
TABLE = [(0.90, True), (0.60, False), (0.51, False), (0.50, True), (0.20, False), (0.01, True)]


def rows(table):
    return [{"ref_logp": -1.0, "greedy_logp": math.log(p), "greedy_correct": ok} for p, ok in table]


def test_confident_fractions_count_greedy_answers_above_one_half():
    greedy = summarize(rows(TABLE), coverage_ns=[1], pass_ks=[])["greedy"]
    assert greedy["confident_fraction"] == pytest.approx(3 / 6)
    assert greedy["confident_wrong_fraction"] == pytest.approx(2 / 6)


def test_exactly_one_half_is_not_confident_and_all_right_means_no_confident_wrong():
    greedy = summarize(rows([(0.5, False), (0.99, True)]), coverage_ns=[1], pass_ks=[])["greedy"]
    assert greedy == {"confident_fraction": 0.5, "confident_wrong_fraction": 0.0}
