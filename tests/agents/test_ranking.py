"""top_k: the K best allowed items, ties at random (seeded) or by lowest index."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cartgym.agents.ranking import first_occurrence, top_k


def test_best_first_and_masked_items_skipped():
    scores = np.array([[0.1, 0.9, 0.5, 0.7, 0.3]])
    allowed = np.array([[True, False, True, True, True]])
    assert top_k(scores, allowed, 1).tolist() == [[3]]
    assert top_k(scores, allowed, 3).tolist() == [[3, 2, 4]]


def test_ties_lowest_index_when_deterministic():
    scores = np.zeros((2, 6))
    allowed = np.ones((2, 6), dtype=bool)
    allowed[1, 0] = False
    assert top_k(scores, allowed, 1).tolist() == [[0], [1]]
    assert top_k(scores, allowed, 2).tolist() == [[0, 1], [1, 2]]


def test_ties_uniform_with_a_generator():
    rng = np.random.default_rng(0)
    scores = np.array([[1.0, 2.0, 2.0, 2.0, 0.0]])
    allowed = np.ones((1, 5), dtype=bool)
    picks = np.array([top_k(scores, allowed, 1, rng)[0, 0] for _ in range(3000)])
    counts = np.bincount(picks, minlength=5)
    assert counts[[0, 4]].sum() == 0
    assert np.all(np.abs(counts[1:4] / 3000 - 1 / 3) < 0.04)
    # the cut of a slate of 2 among three tied items: each is left out a third of the time
    slates = np.array([top_k(scores, allowed, 2, rng)[0] for _ in range(3000)])
    assert set(np.unique(slates)) == {1, 2, 3}
    assert np.all(np.abs(np.bincount(slates.ravel(), minlength=5)[1:4] / 3000 - 2 / 3) < 0.04)


def test_too_few_allowed_items_repeat_the_best():
    scores = np.array([[5.0, 1.0, 3.0, 4.0]])
    allowed = np.array([[False, True, True, False]])
    assert top_k(scores, allowed, 3).tolist() == [[2, 1, 2]]


def test_nan_and_infinite_scores_stay_inside_the_mask():
    scores = np.array([[np.nan, -np.inf, np.inf, 1.0]])
    allowed = np.array([[True, True, False, True]])
    assert top_k(scores, allowed, 1).tolist() == [[3]]
    assert top_k(scores, allowed, 3).tolist() == [[3, 0, 1]]


@settings(max_examples=60, deadline=None)
@given(
    scores=arrays(np.float64, (3, 12), elements=st.sampled_from([0.0, 1.0, 2.0, -1.5, 7.0])),
    allowed=arrays(bool, (3, 12)),
    k=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_top_k_matches_a_sort(scores, allowed, k, seed):
    slate = top_k(scores, allowed, k, np.random.default_rng(seed))
    for row in range(3):
        free = np.flatnonzero(allowed[row])
        if len(free) == 0:
            continue
        assert allowed[row, slate[row]].all()
        kept = sorted(scores[row, free], reverse=True)[: min(k, len(free))]
        got = scores[row, slate[row][first_occurrence(slate[row : row + 1])[0]]]
        assert sorted(got, reverse=True) == kept
