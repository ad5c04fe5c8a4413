"""Run many bootstrap jobs with as few passes over resamples as their pairing allows.

A *job* is a set of statistics that must see the same resamples (one model's metric for its interval, or
both models' metric for a paired test), over one set of rows (the examples the metric is computed on for
that model or pair). Its statistics map a chunk of counts over those ``m`` rows to ``(b,)`` values.

What a job's draws depend on — only its own statistics, its row count, the seed and the number of
resamples, never on the other jobs of the run:

* a job whose statistics are all :class:`~harness.stats.linear.Linear` with small 0/1/integer designs
  (label counts: accuracy, precision, F1...) draws multinomial counts over the *cells* of identical rows of
  its own joint design (:func:`~harness.stats.resample.resample_cells`): the same bootstrap distribution as
  drawing examples, at a cost independent of ``m``; since a cell fixes every statistic's outcome, the
  resample stays paired. Jobs with byte-identical joint designs share one pass (same cells, same draws).
* every other job draws example counts over its ``m`` rows (:func:`~harness.stats.resample.resample_counts`,
  which depend only on ``(m, seed)``); the jobs on the same rows share one pass, with their linear
  statistics fused into one product per chunk.

So a paired job is paired whatever its statistics are (a one-hot model's Brier score with an integer design
and a soft model's with a real one go through the same example resamples), and adding a model to a run
never changes another pair's numbers beyond floating-point rounding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .bootstrap import bootstrap_draws
from .linear import Linear, fuse_linear

__all__ = ["MAX_CELLS", "Job", "run_jobs"]

StatFn = Callable[[NDArray[np.float64]], NDArray[np.float64]]

MAX_CELLS = 4096
"""A job goes through cells only when its joint design has at most this many distinct rows."""


@dataclass
class Job:
    """Statistics sharing resamples over ``m`` rows; ``rows_key`` names the row set (jobs with equal keys
    and ``m`` share example resamples)."""

    stats: dict[str, StatFn]
    m: int
    rows_key: Hashable = "all"
    n_resamples: int | None = None  # None: the run's default
    draws: dict[str, NDArray[np.float64]] = field(default_factory=dict)


def _small_integer(fn: StatFn) -> bool:
    return (isinstance(fn, Linear) and fn.design.shape[1] <= 64
            and bool(np.array_equal(fn.design, np.round(fn.design))))


def unique_rows(design: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]] | None:
    """(distinct rows, count of each) when there are at most MAX_CELLS, else None. Rows are keyed by a
    random projection (1-D unique, fast) and the grouping is then verified exactly."""
    if design.shape[0] == 0:
        return None
    key = design @ np.random.default_rng(12345).uniform(1.0, 2.0, design.shape[1])
    _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    if len(first) > MAX_CELLS:
        return None
    rows = design[first]
    if not np.array_equal(rows[inverse.reshape(-1)], design):  # a projection collision: do not compress
        return None
    return rows, counts.astype(np.int64)


def _cells(job: Job) -> tuple[str, dict[str, Linear], NDArray[np.int64]] | None:
    """The job over cells of its joint design: (design digest, statistics over cells, cell counts)."""
    if not job.stats or not all(_small_integer(f) for f in job.stats.values()):
        return None
    stats: dict[str, Linear] = job.stats  # type: ignore[assignment]
    joint = np.hstack([f.design for f in stats.values()])
    found = unique_rows(joint)
    if found is None:
        return None
    rows, counts = found
    digest = hashlib.sha256(np.ascontiguousarray(joint).tobytes()).hexdigest()
    out, start = {}, 0
    for name, f in stats.items():
        width = f.design.shape[1]
        out[name] = Linear(rows[:, start:start + width], f.finish)
        start += width
    return f"{digest}:{joint.shape}", out, counts


def run_jobs(jobs: Mapping[Hashable, Job], n_resamples: int, seed: int) -> None:
    """Fill ``job.draws`` ({statistic name: n_resamples values}) for every job."""
    cell_groups: dict[tuple[str, int], list[tuple[Job, dict[str, Linear], NDArray[np.int64]]]] = {}
    example_groups: dict[tuple[Hashable, int, int], list[Job]] = {}
    for job in jobs.values():
        b = job.n_resamples or n_resamples
        if job.m == 0 or not job.stats:
            job.draws = {name: np.full(b, np.nan) for name in job.stats}
            continue
        cells = _cells(job)
        if cells is not None:
            digest, stats, counts = cells
            cell_groups.setdefault((digest, b), []).append((job, stats, counts))
        else:
            example_groups.setdefault((job.rows_key, job.m, b), []).append(job)
    for (_, b), members in cell_groups.items():  # identical joint designs: the same cells, in the same order
        counts = members[0][2]
        keyed = {f"{i}\x00{name}": f for i, (_, stats, _) in enumerate(members) for name, f in stats.items()}
        draws = bootstrap_draws(fuse_linear(keyed), int(counts.sum()), b, seed, cell_counts=counts)
        for i, (job, _, _) in enumerate(members):
            job.draws = {name: draws[f"{i}\x00{name}"] for name in job.stats}
    for (_, m, b), members in example_groups.items():
        _example_pass(members, m, b, seed)


def _example_pass(members: list[Job], m: int, b: int, seed: int) -> None:
    """One pass over the example resamples of these rows; a statistic object shared by several jobs (one
    model's metric, for its interval and each of its pairs) is evaluated once per chunk."""
    keyed: dict[str, StatFn] = {}
    for job in members:
        for fn in job.stats.values():
            keyed.setdefault(str(id(fn)), fn)
    linear = {k: f for k, f in keyed.items() if isinstance(f, Linear)}
    keyed.update(fuse_linear(linear))  # type: ignore[arg-type]
    draws = bootstrap_draws(keyed, m, b, seed)
    for job in members:
        job.draws = {name: draws[str(id(fn))] for name, fn in job.stats.items()}
