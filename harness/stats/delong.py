"""DeLong's nonparametric variance of the AUC and test of two correlated AUCs.

References:
    E. R. DeLong, D. M. DeLong, D. L. Clarke-Pearson (1988). Comparing the areas
    under two or more correlated receiver operating characteristic curves: a
    nonparametric approach. Biometrics 44(3), 837-845.

    X. Sun, W. Xu (2014). Fast implementation of DeLong's algorithm for comparing
    the areas under correlated receiver operating characteristic curves. IEEE
    Signal Processing Letters 21(11), 1389-1393.

The placement values ("structural components") are obtained from midranks
(ties count 1/2), following Sun & Xu: with ``m`` positives and ``n``
negatives, let ``Tx`` be the midranks of the positive scores among the
positives, ``Ty`` those of the negative scores among the negatives and ``Tz``
the midranks in the pooled sample.  Then::

    V10_i = (Tz_i - Tx_i) / n          (i over positives)
    V01_j = 1 - (Tz_{m+j} - Ty_j) / m   (j over negatives)
    AUC   = mean(V10) = mean(V01)
    Var(AUC) = s^2(V10) / m + s^2(V01) / n      (s^2 with denominator m-1, n-1)

which is O((m+n) log(m+n)).  The results agree with R's pROC
(``var(roc, method="delong")`` and ``roc.test(method="delong")``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_bool_1d, as_float_1d, check_alpha, same_length
from .distributions import norm_sf, rankdata
from .results import Interval, PairedTest
from .special import ndtri

__all__ = ["auc_variance", "delong_auc", "delong_compare", "delong_test", "placements"]


@dataclass(frozen=True)
class Placements:
    """DeLong placement values of one score vector.

    Attributes:
        auc: the empirical AUC (Mann-Whitney, ties count 1/2).
        v10: placement of each positive (share of negatives scored below it).
        v01: placement of each negative (share of positives scored above it).
    """

    auc: float
    v10: NDArray[np.float64]
    v01: NDArray[np.float64]

    @property
    def variance(self) -> float:
        """DeLong variance of the AUC."""
        return _var_from(self.v10, self.v01)


def _check_labels(y_true: ArrayLike) -> NDArray[np.bool_]:
    y = as_bool_1d(y_true, "y_true")
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        only = "positive" if n_neg == 0 else "negative"
        raise ValueError(
            f"AUC is undefined: y_true contains only {only} cases "
            f"(need at least one positive and one negative)"
        )
    if n_pos < 2 or n_neg < 2:
        raise ValueError(
            "DeLong variance needs at least 2 positive and 2 negative cases "
            f"(got {n_pos} positive, {n_neg} negative)"
        )
    return y


def _placements(y: NDArray[np.bool_], scores: NDArray[np.float64]) -> Placements:
    x = scores[y]
    z = scores[~y]
    m, n = x.size, z.size
    tx = rankdata(x)
    tz_neg = rankdata(z)
    tz = rankdata(np.concatenate([x, z]))
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - tz_neg) / m
    auc = (tz[:m].sum() - m * (m + 1) / 2.0) / (m * n)
    return Placements(auc=float(auc), v10=v10, v01=v01)


def _var_from(v10: NDArray[np.float64], v01: NDArray[np.float64]) -> float:
    return float(np.var(v10, ddof=1) / v10.size + np.var(v01, ddof=1) / v01.size)


def placements(y_true: ArrayLike, scores: ArrayLike) -> Placements:
    """Return the DeLong placement values of ``scores`` (higher = more positive)."""
    y = _check_labels(y_true)
    s = as_float_1d(scores, "scores")
    same_length(y_true=y, scores=s)
    return _placements(y, s)


def auc_variance(y_true: ArrayLike, scores: ArrayLike) -> tuple[float, float]:
    """Return ``(auc, var)``: the empirical AUC and its DeLong variance.

    Args:
        y_true: 1-D labels, bool or 0/1 (1 = positive).
        scores: 1-D finite scores, higher meaning more likely positive.

    Raises:
        ValueError: if only one class is present or a class has a single case
            (the variance is then undefined).
    """
    p = placements(y_true, scores)
    return p.auc, p.variance


def delong_auc(y_true: ArrayLike, scores: ArrayLike, alpha: float = 0.05) -> Interval:
    """AUC with the DeLong-variance Wald interval ``auc ± z_{1-alpha/2}·sqrt(var)``.

    The limits are clipped to [0, 1] (as pROC's ``ci.auc`` does).
    """
    check_alpha(alpha)
    return _interval(placements(y_true, scores), alpha)


def _interval(p: Placements, alpha: float) -> Interval:
    half = float(ndtri(1.0 - alpha / 2.0)) * np.sqrt(p.variance)
    return Interval(
        value=p.auc,
        low=float(np.clip(p.auc - half, 0.0, 1.0)),
        high=float(np.clip(p.auc + half, 0.0, 1.0)),
        method="delong",
    )


def _test(pa: Placements, pb: Placements, alpha: float) -> PairedTest:
    delta = pa.auc - pb.auc
    var = _var_from(pa.v10 - pb.v10, pa.v01 - pb.v01)
    se = float(np.sqrt(max(var, 0.0)))
    method = "delong"
    if se == 0.0:
        if delta == 0.0:
            return PairedTest(0.0, 0.0, 0.0, 1.0, method, statistic=0.0)
        z = float(np.copysign(np.inf, delta))
        return PairedTest(float(delta), float(delta), float(delta), 0.0, method, statistic=z)
    z = delta / se
    half = float(ndtri(1.0 - alpha / 2.0)) * se
    p = float(min(1.0, 2.0 * norm_sf(abs(z))))
    return PairedTest(
        delta=float(delta),
        low=float(max(-1.0, delta - half)),
        high=float(min(1.0, delta + half)),
        p_value=p,
        method=method,
        statistic=float(z),
    )


def _paired_placements(
    y_true: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike
) -> tuple[Placements, Placements]:
    y = _check_labels(y_true)
    sa = as_float_1d(scores_a, "scores_a")
    sb = as_float_1d(scores_b, "scores_b")
    same_length(y_true=y, scores_a=sa, scores_b=sb)
    return _placements(y, sa), _placements(y, sb)


def delong_compare(
    y_true: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike, alpha: float = 0.05
) -> tuple[Interval, Interval, PairedTest]:
    """``(delong_auc(A), delong_auc(B), delong_test(A, B))`` with one ranking per model."""
    check_alpha(alpha)
    pa, pb = _paired_placements(y_true, scores_a, scores_b)
    return _interval(pa, alpha), _interval(pb, alpha), _test(pa, pb, alpha)


def delong_test(
    y_true: ArrayLike, scores_a: ArrayLike, scores_b: ArrayLike, alpha: float = 0.05
) -> PairedTest:
    """DeLong's test of two correlated AUCs measured on the same examples.

    ``delta = AUC(A) - AUC(B)``; ``Z = delta / se`` with
    ``se^2 = s^2(V10_A - V10_B)/m + s^2(V01_A - V01_B)/n`` (identical to
    ``var_A + var_B - 2 cov_AB`` but computed from the differences of the placement
    values, so that models with rank-equivalent scores give exactly 0).
    Two-sided ``p = 2·(1 - Phi(|Z|))``; the CI is ``delta ± z_{1-alpha/2}·se``
    (clipped to [-1, 1]).

    Degenerate case: if ``se == 0`` (the two score vectors order all examples
    identically, e.g. identical or monotonically transformed scores) then
    ``delta == 0`` and the result is ``delta = 0, Z = 0, p = 1``, CI ``(0, 0)``.
    If ``se == 0`` but ``delta != 0`` (only possible in contrived tiny samples) the
    difference is deterministic and ``p = 0``.
    """
    check_alpha(alpha)
    pa, pb = _paired_placements(y_true, scores_a, scores_b)
    return _test(pa, pb, alpha)
