"""Several related models: Cochran's Q and Holm's step-down adjustment.

References:
    W. G. Cochran (1950). The comparison of percentages in matched samples.
    Biometrika 37, 256-266.

    S. Holm (1979). A simple sequentially rejective multiple test procedure.
    Scandinavian Journal of Statistics 6, 65-70.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["cochran_q", "holm"]


def cochran_q(correct: ArrayLike) -> tuple[float, int, float]:
    """Cochran's Q test that k related models have the same accuracy.

    ``correct`` is an ``(n, k)`` 0/1 (or bool) matrix, one column per model.
    With column totals ``C_j``, row totals ``R_i`` and grand total ``N``::

        Q = (k - 1)·(k·sum_j C_j^2 - N^2) / (k·N - sum_i R_i^2)

    which is asymptotically chi-square with ``k - 1`` degrees of freedom.
    Returns ``(Q, df, p)``.  Rows on which all models agree do not affect Q; if
    every row is such a row, ``Q = 0`` and ``p = 1``.  Intended for k >= 3;
    with k = 2 it equals McNemar's (uncorrected) chi-square ``(b-c)^2/(b+c)``.
    """
    x = np.asarray(correct)
    if x.ndim != 2:
        raise ValueError(f"correct must be 2-D (n, k), got shape {x.shape}")
    n, k = x.shape
    if k < 2:
        raise ValueError(f"Cochran's Q needs at least 2 models, got {k}")
    if n == 0:
        raise ValueError("Cochran's Q needs at least one example")
    if x.dtype != np.bool_ and not np.isin(x, (0, 1)).all():
        raise ValueError("correct must contain only 0/1 or booleans")
    x = x.astype(np.int64)
    col = x.sum(axis=0)
    row = x.sum(axis=1)
    total = int(col.sum())
    num = (k - 1) * (k * int((col * col).sum()) - total * total)
    den = k * total - int((row * row).sum())
    df = k - 1
    if den == 0:
        return 0.0, df, 1.0
    q = num / den
    from .distributions import chi2_sf  # scipy.special, on first use

    return float(q), df, float(chi2_sf(q, df))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order of the input.

    With ascending p-values ``p_(1) <= ... <= p_(m)`` the adjusted values are
    ``max_{j <= i} min(1, (m - j + 1)·p_(j))`` — monotone in the sorted order and
    capped at 1.  Rejecting when the adjusted p <= alpha controls the
    family-wise error rate at alpha under arbitrary dependence.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("p_values must be a 1-D sequence")
    if p.size == 0:
        return []
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p-values must be in [0, 1] (no NaN)")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.maximum.accumulate(scaled)
    out = np.empty(m)
    out[order] = adjusted
    return [float(v) for v in out]
