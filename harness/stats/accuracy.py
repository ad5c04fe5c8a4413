"""Accuracy of one model (Wilson) and paired accuracy of two models.

References:
    E. B. Wilson (1927). Probable inference, the law of succession, and
    statistical inference. JASA 22, 209-212.

    M. W. Fagerland, S. Lydersen, P. Laake (2013). The McNemar test for binary
    matched-pairs data: mid-p and asymptotic are better than exact conditional.
    BMC Medical Research Methodology 13:91.

    A. Agresti, Y. Min (2005). Simple improved confidence intervals for comparing
    matched proportions. Statistics in Medicine 24, 729-740.

Paired 2x2 table used throughout (A = first model, B = second)::

                 B right   B wrong
      A right      n11      b (n12)
      A wrong    c (n21)      n22

so ``acc(A) - acc(B) = (b - c) / n``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_bool_1d, check_alpha, same_length
from .distributions import binom_cdf, binom_pmf
from .results import Interval, PairedTest
from .special import ndtri

__all__ = [
    "agresti_min_interval",
    "discordant_counts",
    "mcnemar_midp",
    "paired_accuracy_test",
    "wilson_interval",
]


def discordant_counts(correct_a: ArrayLike, correct_b: ArrayLike) -> tuple[int, int, int, int]:
    """Return the paired table ``(n11, b, c, n22)`` (see module docstring)."""
    a = as_bool_1d(correct_a, "correct_a")
    bb = as_bool_1d(correct_b, "correct_b")
    same_length(correct_a=a, correct_b=bb)
    if a.size == 0:
        raise ValueError("need at least one paired example")
    n11 = int(np.count_nonzero(a & bb))
    b = int(np.count_nonzero(a & ~bb))
    c = int(np.count_nonzero(~a & bb))
    return n11, b, c, a.size - n11 - b - c


def _midp(b: int, c: int) -> float:
    n_disc = b + c
    if n_disc == 0:
        return 1.0
    k = min(b, c)
    p = 2.0 * (binom_cdf(k, n_disc, 0.5) - 0.5 * binom_pmf(k, n_disc, 0.5))
    return float(min(1.0, p))


def mcnemar_midp(correct_a: ArrayLike, correct_b: ArrayLike) -> float:
    """Two-sided mid-p McNemar test of equal accuracy (Fagerland et al. 2013).

    Conditional on the ``b + c`` discordant pairs, ``b ~ Binomial(b + c, 1/2)``
    under H0.  The exact two-sided p-value is ``2·P(X <= min(b, c))``; the mid-p
    version counts the observed outcome with weight 1/2::

        p = 2·[P(X <= k) - P(X = k)/2],  k = min(b, c),  capped at 1.

    Returns 1 when there are no discordant pairs (``b + c == 0``).
    """
    _, b, c, _ = discordant_counts(correct_a, correct_b)
    return _midp(b, c)


def _agresti_min(n11: int, b: int, c: int, n22: int, alpha: float) -> tuple[float, float]:
    n_adj = n11 + b + c + n22 + 2.0  # 0.5 added to each of the four cells
    p12 = (b + 0.5) / n_adj
    p21 = (c + 0.5) / n_adj
    diff = p12 - p21
    se = np.sqrt(max((p12 + p21 - diff * diff) / n_adj, 0.0))
    half = float(ndtri(1.0 - alpha / 2.0)) * se
    return float(max(-1.0, diff - half)), float(min(1.0, diff + half))


def agresti_min_interval(
    correct_a: ArrayLike, correct_b: ArrayLike, alpha: float = 0.05
) -> tuple[float, float]:
    """Agresti & Min (2005) interval for ``p_A - p_B`` with paired data.

    Add 1/2 to each of the four cells of the paired table (``n* = n + 2``) and
    use the Wald interval on the adjusted proportions::

        d  = (b + 1/2)/n* - (c + 1/2)/n*
        se = sqrt( [ (b+1/2)/n* + (c+1/2)/n* - d^2 ] / n* )
        CI = d ± z_{1-alpha/2} · se,   clipped to [-1, 1].
    """
    check_alpha(alpha)
    return _agresti_min(*discordant_counts(correct_a, correct_b), alpha)


def paired_accuracy_test(
    correct_a: ArrayLike, correct_b: ArrayLike, alpha: float = 0.05
) -> PairedTest:
    """Paired accuracy comparison: mid-p McNemar p-value + Agresti-Min interval.

    ``delta`` is the observed ``acc(A) - acc(B) = (b - c)/n``; ``statistic`` is
    ``None`` (the mid-p test has no Z).
    """
    check_alpha(alpha)
    n11, b, c, n22 = discordant_counts(correct_a, correct_b)
    n = n11 + b + c + n22
    low, high = _agresti_min(n11, b, c, n22, alpha)
    return PairedTest(
        delta=(b - c) / n,
        low=low,
        high=high,
        p_value=_midp(b, c),
        method="mcnemar-midp / agresti-min",
    )


def wilson_interval(successes: int, n: int, alpha: float = 0.05) -> Interval:
    """Wilson score interval for a single proportion (Wilson 1927).

    ``value = successes / n``; the limits are::

        (p + z^2/(2n) ± z·sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)
    """
    check_alpha(alpha)
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got {successes} of {n}")
    z = float(ndtri(1.0 - alpha / 2.0))
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    # at p = 0 (p = 1) the lower (upper) limit is exactly 0 (1); avoid rounding
    low = 0.0 if successes == 0 else float(max(0.0, centre - half))
    high = 1.0 if successes == n else float(min(1.0, centre + half))
    return Interval(value=p, low=low, high=high, method="wilson")
