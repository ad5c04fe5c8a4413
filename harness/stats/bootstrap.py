"""Percentile bootstrap intervals and paired bootstrap tests.

References:
    B. Efron, R. J. Tibshirani (1993). An Introduction to the Bootstrap, ch. 13
    (percentile interval) and ch. 16 (bootstrap hypothesis tests).

    A. C. Davison, D. V. Hinkley (1997). Bootstrap Methods and their
    Application, sections 4.2-4.4 (Monte Carlo p-values, ``(1+r)/(1+B)``).

A *statistic* here is a function ``stat(W) -> (b,)`` that evaluates a metric on
every row of a chunk ``W`` of bootstrap counts (see :mod:`harness.stats.weighted`
for vectorised ones and :func:`generic_resampled` for a slow generic adaptor).
Paired comparisons hand the *same* chunk to both models' statistics, so every
resample contains the same examples for A and B.

Two resampling schemes produce the chunks:

* example level (default): :func:`~harness.stats.resample.resample_counts`,
  ``W`` of shape ``(b, n)``;
* cells (``cell_counts=...``): for label-only metrics, the data are first
  compressed into cells of identical (label, prediction A, prediction B)
  (:func:`~harness.stats.cells.make_cells`) and the cell totals are drawn as
  ``Multinomial(n, counts/n)`` (:func:`~harness.stats.resample.resample_cells`),
  ``W`` of shape ``(b, n_cells)``.  Same bootstrap distribution, O(cells)
  instead of O(n) per resample — a large win for accuracy / precision / recall /
  F1 (a few dozen cells instead of e.g. 10^5 examples).

Resamples on which a metric is undefined (NaN, e.g. AUROC of a one-class
resample) are dropped; the number used is reported in ``n_resamples``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import check_alpha
from .resample import PER_ROW_MIN_N, resample_cells, resample_counts
from .results import Interval, PairedTest

FloatArray = NDArray[np.float64]
StatFn = Callable[[FloatArray], FloatArray]

__all__ = [
    "PairedBootstrap",
    "StatFn",
    "bootstrap_draws",
    "bootstrap_interval",
    "generic_resampled",
    "interval_from_draws",
    "order_rank",
    "paired_bootstrap",
    "paired_bootstrap_many",
    "paired_test_from_draws",
    "percentile_p_value",
]

class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def prefetch(chunks: Iterator[FloatArray], depth: int = 2) -> Iterator[FloatArray]:
    """Produce the next chunks in a background thread while the caller works.

    Drawing resamples (numpy's generators and ``bincount`` release the GIL) then
    overlaps with evaluating the metrics of the previous chunk, which are partly
    single-threaded (gathers, cumulative sums).  At most ``depth`` chunks wait in
    the queue.  Results are unchanged: the chunks and their order are the same.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer
            put(_Failure(exc))

    thread = threading.Thread(target=work, name="harness-stats-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


_PREFETCH_MIN_N = PER_ROW_MIN_N
_PREFETCH_DEPTH = 1


def _chunks(
    n: int,
    n_resamples: int,
    seed: int,
    cell_counts: ArrayLike | None,
    max_cells: int,
) -> Iterator[FloatArray]:
    if cell_counts is None:
        if n >= _PREFETCH_MIN_N and n_resamples > 1:
            ring = resample_counts(
                n, n_resamples, seed, max_cells, reuse_buffers=_PREFETCH_DEPTH + 2
            )
            return prefetch(ring, depth=_PREFETCH_DEPTH)
        return resample_counts(n, n_resamples, seed, max_cells)
    c = np.asarray(cell_counts)
    if int(c.sum()) != n:
        raise ValueError(f"cell_counts sum to {int(c.sum())}, expected n={n}")
    return resample_cells(c, n_resamples, seed, max_cells)


def bootstrap_draws(
    stats: Mapping[str, StatFn],
    n: int,
    n_resamples: int = 1000,
    seed: int = 0,
    *,
    cell_counts: ArrayLike | None = None,
    max_cells: int = 8_000_000,
) -> dict[str, FloatArray]:
    """Evaluate several statistics on the *same* bootstrap resamples.

    The counts are drawn once (chunk by chunk) and every statistic is applied
    to every chunk, so all returned arrays (length ``n_resamples``) are paired
    resample by resample.  With the same ``seed`` the resamples are the same as
    those of :func:`paired_bootstrap` / :func:`bootstrap_interval`.

    For large ``n`` the next chunk is drawn in a background thread while the
    statistics run (:func:`prefetch`) and chunk buffers are recycled, so a
    statistic must not keep a reference to its argument after returning.
    """
    out = {name: np.empty(n_resamples) for name in stats}
    pos = 0
    for w in _chunks(n, n_resamples, seed, cell_counts, max_cells):
        b = w.shape[0]
        for name, stat in stats.items():
            values = np.asarray(stat(w), dtype=np.float64)
            if values.shape != (b,):
                raise ValueError(
                    f"statistic {name!r} returned shape {values.shape}, expected ({b},)"
                )
            out[name][pos : pos + b] = values
        pos += b
    return out


def order_rank(n_draws: int, alpha: float) -> int:
    """``k`` of the interval ``[d_(k), d_(B+1-k)]`` (order statistics of ``B`` draws, 1-based).

    ``k = ceil((alpha·(B+1) - 1) / 2)`` is the smallest count for which the p-value below reaches alpha:
    ``(1 + 2k)/(1 + B) >= alpha``. 0 when ``B`` is too small for any (1 - alpha) interval (``alpha·(B+1)
    <= 1``: no p-value can go below alpha)."""
    return max(0, int(np.ceil((alpha * (n_draws + 1) - 1.0) / 2.0 - 1e-12)))


def _bounds(d: FloatArray, alpha: float) -> tuple[float, float]:
    k = order_rank(d.size, alpha)
    if k < 1:
        return -np.inf, np.inf
    s = np.sort(d)
    return float(s[k - 1]), float(s[d.size - k])


#: The largest share of resamples on which a metric may be undefined for its bootstrap to be used. A metric
#: undefined on many resamples (AUPRC when the data hold one positive example: no positive in about 37% of
#: them) depends on a class too rare to resample: the resamples that remain all hold the same few examples of
#: it, so the draws leave out the uncertainty that matters most and the interval is far too narrow (a
#: "significant" difference on one positive example). Above this share the interval and test are not available.
MAX_UNDEFINED_SHARE = 0.01


def too_often_undefined(used: int, drawn: int) -> bool:
    """Whether more than :data:`MAX_UNDEFINED_SHARE` of ``drawn`` resamples were dropped as undefined."""
    return drawn > 0 and (drawn - used) > MAX_UNDEFINED_SHARE * drawn


def interval_from_draws(draws: ArrayLike, value: float, alpha: float = 0.05) -> Interval:
    """Percentile interval ``[d_(k), d_(B+1-k)]`` of the resampled values (:func:`order_rank`).

    NaN draws are dropped; with none left, a NaN ``value``, or more than :data:`MAX_UNDEFINED_SHARE` of them
    dropped, the limits are NaN. With too few draws for a (1 - alpha) interval the limits are infinite.
    """
    check_alpha(alpha)
    d = np.asarray(draws, dtype=np.float64)
    drawn = int(d.size)
    d = d[~np.isnan(d)]
    method = "bootstrap-percentile"
    undefined = drawn - int(d.size)
    if d.size == 0 or np.isnan(value) or too_often_undefined(int(d.size), drawn):
        return Interval(float(value), np.nan, np.nan, method, n_resamples=int(d.size), n_undefined=undefined)
    low, high = _bounds(d, alpha)
    return Interval(float(value), low, high, method, n_resamples=int(d.size))


def percentile_p_value(d: FloatArray) -> float:
    """Two-sided p-value of "the difference is 0" that inverts the percentile interval of the draws::

        p = (1 + 2·min(#{d* <= 0}, #{d* >= 0})) / (1 + B),  capped at 1

    ``p < alpha`` exactly when 0 lies outside ``[d_(k), d_(B+1-k)]`` (:func:`order_rank`): the test and the
    interval are one construction. Draws equal to 0 count on both sides (conservative for discrete
    metrics). The smallest possible value is ``1/(B+1)``."""
    if d.size == 0:
        return float("nan")
    below = int(np.count_nonzero(d <= 0.0))
    above = int(np.count_nonzero(d >= 0.0))
    return float(min(1.0, (1.0 + 2.0 * min(below, above)) / (1.0 + d.size)))


def paired_test_from_draws(
    draws_a: ArrayLike,
    draws_b: ArrayLike,
    value_a: float,
    value_b: float,
    alpha: float = 0.05,
) -> PairedTest:
    """Paired bootstrap test of ``metric(A) == metric(B)`` from paired draws.

    * ``delta = value_a - value_b`` (the metrics on the data);
    * CI: the percentile interval ``[d_(k), d_(B+1-k)]`` of the resampled ``d* = a* - b*``
      (:func:`order_rank`);
    * p-value: :func:`percentile_p_value` of the same draws, so ``p < alpha`` exactly when the interval
      excludes 0 (Efron & Tibshirani 1993, §16.4: a test from a confidence interval), and
      ``p >= 1/(B+1)`` (Davison & Hinkley 1997, §4.2).

    Resamples where either draw is NaN are dropped (``n_resamples`` = number used); when more than
    :data:`MAX_UNDEFINED_SHARE` of them are, there is no test (NaN interval and p-value).
    """
    check_alpha(alpha)
    a = np.asarray(draws_a, dtype=np.float64)
    b = np.asarray(draws_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("draws_a and draws_b must be 1-D of equal length")
    keep = ~(np.isnan(a) | np.isnan(b))
    d = a[keep] - b[keep]
    delta = float(value_a) - float(value_b)
    method = "paired-bootstrap"
    used = int(d.size)
    undefined = int(a.size) - used
    if used == 0 or np.isnan(delta) or too_often_undefined(used, int(a.size)):
        return PairedTest(delta, np.nan, np.nan, np.nan, method, n_resamples=used, n_undefined=undefined)
    low, high = _bounds(d, alpha)
    return PairedTest(delta, low, high, percentile_p_value(d), method, n_resamples=used, n_undefined=undefined)


def paired_bootstrap(
    stat_a: StatFn,
    stat_b: StatFn,
    n: int,
    value_a: float,
    value_b: float,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    *,
    cell_counts: ArrayLike | None = None,
    max_cells: int = 8_000_000,
) -> PairedTest:
    """Paired bootstrap comparison of two models' metric on the same examples.

    ``stat_a`` / ``stat_b`` map a ``(b, n)`` chunk of counts (``(b, n_cells)``
    with ``cell_counts``) to the ``(b,)`` resampled metric values; both get the
    same chunk.  ``value_a`` / ``value_b`` are the metrics on the full data.
    See :func:`paired_test_from_draws` for the interval and p-value.
    """
    stats = {"a": stat_a, "b": stat_b}
    d = bootstrap_draws(stats, n, n_resamples, seed, cell_counts=cell_counts, max_cells=max_cells)
    return paired_test_from_draws(d["a"], d["b"], value_a, value_b, alpha)


def bootstrap_interval(
    stat: StatFn,
    n: int,
    value: float,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    *,
    cell_counts: ArrayLike | None = None,
    max_cells: int = 8_000_000,
) -> Interval:
    """Percentile bootstrap interval of one model's metric (``value`` = full data)."""
    d = bootstrap_draws(
        {"x": stat}, n, n_resamples, seed, cell_counts=cell_counts, max_cells=max_cells
    )
    return interval_from_draws(d["x"], value, alpha)


@dataclass(frozen=True)
class PairedBootstrap:
    """Per-model percentile intervals and the paired test, from one set of resamples."""

    a: Interval
    b: Interval
    test: PairedTest


def paired_bootstrap_many(
    metrics: Mapping[str, tuple[StatFn, StatFn, float, float]],
    n: int,
    n_resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    *,
    cell_counts: ArrayLike | None = None,
    max_cells: int = 8_000_000,
) -> dict[str, PairedBootstrap]:
    """Bootstrap several metrics of two models in one pass over the resamples.

    ``metrics`` maps a name to ``(stat_a, stat_b, value_a, value_b)``.  The counts
    are generated once and shared by all metrics (and both models), which is
    much cheaper than one :func:`paired_bootstrap` call per metric; the results
    equal those calls with the same ``seed``.
    """
    stats: dict[str, StatFn] = {}
    for name, (sa, sb, _, _) in metrics.items():
        stats[f"{name}\x00a"] = sa
        stats[f"{name}\x00b"] = sb
    d = bootstrap_draws(stats, n, n_resamples, seed, cell_counts=cell_counts, max_cells=max_cells)
    out: dict[str, PairedBootstrap] = {}
    for name, (_, _, va, vb) in metrics.items():
        da, db = d[f"{name}\x00a"], d[f"{name}\x00b"]
        out[name] = PairedBootstrap(
            a=interval_from_draws(da, va, alpha),
            b=interval_from_draws(db, vb, alpha),
            test=paired_test_from_draws(da, db, va, vb, alpha),
        )
    return out


def generic_resampled(fn: Callable[[NDArray[np.intp]], float]) -> StatFn:
    """Adapt a plain metric to a chunk statistic (slow fallback).

    ``fn(idx)`` computes the metric on the examples ``idx`` (an index array with
    repetitions).  For each row of counts the adaptor builds
    ``idx = np.repeat(np.arange(n), counts)`` and calls ``fn`` — one Python call
    per resample, so use it only for metrics without a vectorised form.
    """

    def stat(W: FloatArray) -> FloatArray:
        w = np.asarray(W)
        base = np.arange(w.shape[1])
        return np.array([fn(np.repeat(base, row.astype(np.int64))) for row in w], dtype=np.float64)

    return stat
