"""Minimum detectable difference of paired accuracies (McNemar-type test).

References:
    R. J. Connor (1987). Sample size for testing differences in proportions for
    the paired-sample design. Biometrics 43, 207-211.

    O. S. Miettinen (1968). The matched pairs design in the case of all-or-none
    responses. Biometrics 24, 339-352.
"""

from __future__ import annotations

import math

__all__ = ["mde_paired_accuracy"]


def mde_paired_accuracy(
    n: int, discordance: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest ``|p_A - p_B|`` a two-sided McNemar-type test detects with ``power``.

    Connor's (1987) normal approximation for ``n`` pairs, discordance
    ``psi = p10 + p01`` (share of pairs where exactly one model is right) and
    difference ``delta = p10 - p01 = p_A - p_B`` is::

        sqrt(n)·delta = z_{1-alpha/2}·sqrt(psi) + z_{power}·sqrt(psi - delta^2)

    Solving this for ``delta`` with ``psi`` held at the observed discordance
    gives the closed form (positive root of a quadratic)::

        delta = sqrt(psi)·[z_a·sqrt(n) + z_b·sqrt(n + z_b^2 - z_a^2)] / (n + z_b^2)

    with ``z_a = z_{1-alpha/2}`` and ``z_b = z_{power}``.  For large n this is
    ``(z_a + z_b)·sqrt(psi / n)``.  If ``n < z_a^2`` (n <= 3 at alpha = 0.05) the
    equation has no root with ``delta^2 <= psi``: no difference is detectable
    and 1.0 is returned.

    Floor: a discordance of 0 (or below ``1/n``) would give an MDE of 0, which
    is meaningless — the next data set will almost surely have some discordant
    pairs.  ``psi`` is therefore floored at ``1/n`` (one discordant pair).

    The result is clipped to [0, 1].  Note that ``|delta| <= psi`` always holds,
    so a returned value larger than ``discordance`` means that no difference
    compatible with this discordance is detectable at the requested power.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0.0 <= discordance <= 1.0:
        raise ValueError(f"discordance must be in [0, 1], got {discordance}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must be in (0, 1), got {power}")
    psi = max(float(discordance), 1.0 / n)
    from .special import ndtri

    z_a = float(ndtri(1.0 - alpha / 2.0))
    z_b = float(ndtri(power))
    if n < z_a * z_a:
        return 1.0
    root = math.sqrt(n + z_b * z_b - z_a * z_a)
    delta = math.sqrt(psi) * (z_a * math.sqrt(n) + z_b * root) / (n + z_b * z_b)
    return float(min(1.0, max(0.0, delta)))
