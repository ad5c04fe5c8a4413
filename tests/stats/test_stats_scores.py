"""harness.stats.scores gives scikit-learn's metric values to the last bit, without importing scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from harness.stats import scores


def _datasets(k: int, seed: int):
    rng = np.random.default_rng(seed)
    for n in (k + 3, 17 + k, 200, 1000, 4097):
        y = rng.integers(0, k, n)
        y[:k] = np.arange(k)  # every class present
        logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        yield y, p
        yield y, np.round(p, 2) / np.round(p, 2).sum(axis=1, keepdims=True)  # many ties
        q = p.copy()
        q[: n // 3] = np.eye(k)[rng.integers(0, k, n // 3)]  # one-hot rows: probabilities 0 and 1
        yield y, q


@pytest.mark.parametrize("seed", range(4))
def test_binary_scores_are_scikit_learns_bit_for_bit(seed: int) -> None:
    for y, p in _datasets(2, seed):
        yp, s = y == 1, p[:, 1]
        pred = s > 0.5
        pred[:2] = True  # at least one predicted positive
        assert scores.roc_auc(yp, s) == skm.roc_auc_score(yp, s)
        assert scores.average_precision(yp, s) == skm.average_precision_score(yp, s)
        assert scores.brier_binary(yp, s) == skm.brier_score_loss(yp, s)
        assert scores.log_loss(y, p) == skm.log_loss(y, p, labels=[0, 1])
        tp, pp, ap = scores.binary_counts(yp, pred)
        assert tp / pp == skm.precision_score(yp, pred, zero_division=np.nan)
        assert tp / ap == skm.recall_score(yp, pred, zero_division=np.nan)
        for beta in (0.0, 0.5, 1.0, 2.0, 3.7):
            assert scores.fbeta(tp, pp, ap, beta) == skm.fbeta_score(yp, pred, beta=beta, zero_division=np.nan)


@pytest.mark.parametrize("k", [3, 5, 9, 12])
def test_multiclass_scores_are_scikit_learns_bit_for_bit(k: int) -> None:
    for y, p in _datasets(k, k):
        labels = list(range(k))
        pred = p.argmax(axis=1)
        pred[::7] = -1  # invalid outputs
        assert scores.accuracy(y, pred) == skm.accuracy_score(y, pred)
        for average in ("macro", "weighted"):
            want = skm.f1_score(y, pred, labels=labels, average=average, zero_division=np.nan)
            assert scores.f1_average(y, pred, k, average) == want
        assert scores.roc_auc_ovr_macro(y, p, k) == skm.roc_auc_score(y, p, multi_class="ovr", average="macro",
                                                                       labels=labels)
        assert scores.average_precision_macro(y, p, k) == skm.average_precision_score(np.eye(k, dtype=int)[y], p,
                                                                                       average="macro")
        assert scores.log_loss(y, p) == skm.log_loss(y, p, labels=labels)
        assert scores.brier_multiclass(y, p, k) == skm.brier_score_loss(y, p, labels=labels)


def test_f1_edge_cases_are_scikit_learns() -> None:
    y = np.array([0, 0, 1, 1, 2])
    for pred in ([-1, -1, -1, -1, -1], [0, 0, 0, 0, 0], [2, 2, 2, 2, 2], [1, 0, 1, 0, -1]):
        for average in ("macro", "weighted"):
            want = skm.f1_score(y, pred, labels=[0, 1, 2, 3], average=average, zero_division=np.nan)
            got = scores.f1_average(y, np.array(pred), 4, average)
            assert got == want or (np.isnan(got) and np.isnan(want))
    assert np.isnan(scores.f1_average(np.array([0, 0]), np.array([-1, -1]), 1, "macro")) == np.isnan(
        skm.f1_score([0, 0], [-1, -1], labels=[0], average="macro", zero_division=np.nan))
