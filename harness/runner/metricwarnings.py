"""Warnings raised while metrics are computed, said once each.

A metric is computed once per model and then again for every bootstrap resample, so a metric that warns (a
plugin calling scikit-learn on predictions that hold -1 for failed outputs: ``y_pred contains classes not in
y_true``) would print the same warning thousands of times — Python's once-per-location rule does not hold,
as scikit-learn resets the warning registry. Here each distinct warning is collected and reported once, with
how many times it occurred, as a notice of the run (printed, and kept in results.json ``engine.notices``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def collapsed_warnings(notice: Callable[[str], None], during: str) -> Iterator[None]:
    """Collect the warnings raised inside the block; afterwards ``notice`` each distinct one once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            counts: dict[tuple[str, str], int] = {}
            for w in caught:
                key = (w.category.__name__, " ".join(str(w.message).split()))
                counts[key] = counts.get(key, 0) + 1
    for (category, message), n in counts.items():
        times = f" ({n} times)" if n > 1 else ""
        notice(f"{category} {during}: {message}{times}")
