"""How many paired examples a comparison of two accuracies needs: the exact power of the two-sided mid-p
McNemar test harness runs (:func:`harness.stats.accuracy.mcnemar_midp`), and the sample size and minimum
detectable difference it implies.

Model: each of ``n`` examples is, independently, right for A only with probability ``p10`` and right for B only
with probability ``p01`` (``discordance = p10 + p01``, ``delta = p01 - p10`` = acc(B) - acc(A)). The number of
discordant examples is ``D ~ Binomial(n, discordance)``; given ``D = d``, the examples B alone got right are
``C ~ Binomial(d, p01 / discordance)``, and the test rejects when its mid-p value is below ``alpha``. The power
is summed exactly over ``d`` (no simulation, no normal approximation); ``tests/stats`` checks it against a
simulation of the test itself. Connor's (1987) normal approximation (:mod:`harness.stats.power`) starts the
searches.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ._validate import check_alpha
from .distributions import binom_cdf, binom_cdf_plus_sf, binom_pmf
from .power import mde_paired_accuracy

__all__ = ["detectable_difference", "independent_discordance", "paired_mde", "paired_power",
           "paired_sample_size", "unpaired_sample_size"]

MAX_N = 100_000_000

#: Above this many examples (by Connor's approximation) a sample size is Connor's closed form, not the exact
#: search: they agree to within about 0.03% there (tests/stats/test_plan_speed.py), in microseconds instead of
#: seconds to minutes.
EXACT_SIZE_MAX_N = 50_000


def _check(discordance: float, delta: float, power: float | None = None) -> None:
    if not 0.0 < discordance <= 1.0:
        raise ValueError(f"discordance must be in (0, 1], got {discordance}")
    if not 0.0 < delta <= discordance:
        raise ValueError(f"the difference ({delta:g}) must be positive and at most the discordance "
                         f"({discordance:g}): two models can differ only on the examples they disagree on")
    if power is not None and not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power}")


def _critical(d: np.ndarray, alpha: float) -> np.ndarray:
    """Per number of discordant pairs ``d``: the largest ``k`` with mid-p(min(b, c) = k) < alpha (-1: none)."""
    lo = np.full(d.shape, -1, dtype=np.int64)  # mid-p(lo) < alpha holds (or lo = -1)
    hi = (d + 1) // 2  # mid-p at k >= d/2 is >= 1 > alpha... at least not below it
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        p = 2.0 * (binom_cdf(mid, d, 0.5) - 0.5 * binom_pmf(mid, d, 0.5))
        ok = (p < alpha) & (mid >= 0)
        lo = np.where(ok & (hi - lo > 1), mid, lo)
        hi = np.where(~ok & (hi - lo > 1), mid, hi)
    return lo


#: Critical values per (``alpha``, block of :data:`_BLOCK` values of ``d``), computed when first asked for.
_CRITICAL: dict[tuple[float, int], np.ndarray] = {}
_BLOCK = 256
_CRITICAL_LOCK = threading.Lock()


def _critical_range(first: int, last: int, alpha: float) -> np.ndarray:
    """:func:`_critical` for ``d = first..last``, kept: a search for a sample size or an MDE asks for overlapping
    ranges at every step, and the critical values depend on ``d`` and ``alpha`` only (each is computed on its own,
    so a value does not depend on the block it was computed in)."""
    blocks = range(first // _BLOCK, last // _BLOCK + 1)
    with _CRITICAL_LOCK:  # harness asks from one thread; a library caller may ask from several
        missing = [b for b in blocks if (alpha, b) not in _CRITICAL]
        if missing:
            if len(_CRITICAL) + len(missing) > 4096:
                _CRITICAL.clear()
                missing = list(blocks)
            k = _critical(np.concatenate([np.arange(b * _BLOCK, (b + 1) * _BLOCK, dtype=np.int64)
                                          for b in missing]), alpha)
            for i, b in enumerate(missing):
                _CRITICAL[(alpha, b)] = k[i * _BLOCK:(i + 1) * _BLOCK]
        table = np.concatenate([_CRITICAL[(alpha, b)] for b in blocks])
    start = first - blocks[0] * _BLOCK
    return table[start:start + last - first + 1]


def paired_power(n: int, discordance: float, delta: float, alpha: float = 0.05) -> float:
    """Exact power of the two-sided mid-p McNemar test at level ``alpha`` for ``n`` pairs."""
    _check(discordance, delta)
    check_alpha(alpha)
    if n < 1:
        return 0.0
    mean = n * discordance
    sd = math.sqrt(max(n * discordance * (1.0 - discordance), 1e-12))
    d = np.arange(max(0, int(mean - 12 * sd) - 1), min(n, int(mean + 12 * sd) + 2) + 1, dtype=np.int64)
    weight = binom_pmf(d, n, discordance)
    q = (discordance + delta) / (2.0 * discordance)  # P(B alone right | discordant)
    k = _critical_range(int(d[0]), int(d[-1]), alpha)
    reject = binom_cdf_plus_sf(k, d - k - 1, d, q)
    reject = np.where(k >= 0, reject, 0.0)
    return float(min(1.0, np.sum(weight * reject)))


def paired_sample_size(delta: float, discordance: float, power: float = 0.8, alpha: float = 0.05) -> int:
    """The smallest ``n`` at which the test reaches ``power`` for a difference ``delta`` (bisection on the exact
    power, which rises with ``n`` up to the small saw-teeth of a discrete test). Beyond
    :data:`EXACT_SIZE_MAX_N` examples it is Connor's normal approximation, in closed form: the two agree there
    to within a few hundredths of a percent, and the exact search would take minutes (a tiny ``delta`` needs
    hundreds of millions of examples)."""
    _check(discordance, delta, power)
    check_alpha(alpha)
    from .special import ndtri

    z = float(ndtri(1 - alpha / 2)) * math.sqrt(discordance) + float(ndtri(power)) * math.sqrt(
        max(discordance - delta * delta, 0.0))
    guess = max(2, int((z / delta) ** 2))
    if guess > EXACT_SIZE_MAX_N:
        return math.ceil((z / delta) ** 2)  # Connor (1987)
    lo, hi = max(1, guess // 2), guess
    while paired_power(hi, discordance, delta, alpha) < power:
        lo, hi = hi, hi * 2
        if hi > MAX_N:
            raise ValueError(f"more than {MAX_N:,} examples would be needed")
    while lo > 1 and paired_power(lo, discordance, delta, alpha) >= power:
        lo = max(1, lo // 2)
    while hi - lo > 1:  # power(lo) < target <= power(hi)
        mid = (lo + hi) // 2
        if paired_power(mid, discordance, delta, alpha) >= power:
            hi = mid
        else:
            lo = mid
    return hi


def paired_mde(n: int, discordance: float, power: float = 0.8, alpha: float = 0.05) -> float | None:
    """The smallest accuracy difference ``n`` pairs detect with ``power`` when the models disagree on a share
    ``discordance`` of examples; None when not even ``delta = discordance`` (one model right on every
    disagreement) reaches it."""
    if not 0.0 < discordance <= 1.0:
        raise ValueError(f"discordance must be in (0, 1], got {discordance}")
    if n < 1 or paired_power(n, discordance, discordance, alpha) < power:
        return None
    lo, hi = 0.0, discordance
    approx = mde_paired_accuracy(n, discordance, alpha, power)
    if 0.0 < approx < discordance:  # bracket around Connor's approximation
        if paired_power(n, discordance, approx, alpha) >= power:
            hi = approx
        else:
            lo = approx
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if mid <= 0.0:
            break
        if paired_power(n, discordance, mid, alpha) >= power:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-6:
            break
    return hi


#: Above this many examples the MDE of a run is Connor's normal approximation, which agrees with the exact power
#: there to within 0.01 points of accuracy, at a fraction of the cost.
EXACT_MDE_MAX_N = 50_000


def detectable_difference(n: int, discordance: float, power: float = 0.8, alpha: float = 0.05) -> float | None:
    """What ``n`` paired examples detect, with the observed ``discordance`` (floored at one disagreement in
    ``n``: the next set will have some): :func:`paired_mde` — the exact power of the test harness runs — up to
    :data:`EXACT_MDE_MAX_N` examples, Connor's approximation beyond. None when no difference is detectable: the
    models disagree on too few examples for even the largest difference they allow. The one computation behind a
    run's ``mde_accuracy`` and ``harness plan RESULTS``."""
    if n < 1:
        return None
    psi = min(1.0, max(float(discordance), 1.0 / n))
    if n <= EXACT_MDE_MAX_N:
        return paired_mde(n, psi, power, alpha)
    approx = mde_paired_accuracy(n, psi, alpha, power)
    return approx if approx < psi else None


def independent_discordance(accuracy_a: float, accuracy_b: float) -> float:
    """The discordance of two models whose errors are independent: an upper guide, since models trained on the
    same data tend to err on the same examples."""
    return accuracy_a * (1.0 - accuracy_b) + accuracy_b * (1.0 - accuracy_a)


def unpaired_sample_size(accuracy_a: float, accuracy_b: float, power: float = 0.8, alpha: float = 0.05) -> int:
    """Examples *per set* for two independent sets (two-proportion z-test, Fleiss' formula): what pairing saves."""
    from .special import ndtri

    check_alpha(alpha)
    delta = abs(accuracy_b - accuracy_a)
    if delta == 0:
        raise ValueError("the accuracies must differ")
    pbar = (accuracy_a + accuracy_b) / 2
    za, zb = float(ndtri(1 - alpha / 2)), float(ndtri(power))
    num = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(
        accuracy_a * (1 - accuracy_a) + accuracy_b * (1 - accuracy_b))
    return math.ceil((num / delta) ** 2)
