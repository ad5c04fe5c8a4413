"""Bootstrap resamples as count (multiplicity) matrices.

An ordinary nonparametric bootstrap resample of ``n`` examples (Efron 1979) is
fully described by how often each example was drawn: a row of counts
``w ~ Multinomial(n; 1/n, ..., 1/n)``.  Metrics then become weighted sums
(see :mod:`harness.stats.weighted`), evaluated for many resamples at once as
matrix products instead of a Python loop over resamples.

Reproducibility: the resamples depend only on ``(n, seed)`` and the row index,
never on ``max_cells`` (chunking) or on the number of threads, and the first
``k`` rows of ``n_resamples = B`` equal the rows of ``n_resamples = k``.

* ``n < PER_ROW_MIN_N``: one ``numpy.random.Generator(PCG64(seed))`` draws the
  indices row after row (vectorised per chunk; numpy consumes the bit stream
  in row-major order, so chunking does not change the draws).
* ``n >= PER_ROW_MIN_N``: row ``r`` is drawn by its own generator seeded with
  ``SeedSequence(seed).spawn(...)[r]``, which lets a small thread pool draw
  rows in parallel (numpy releases the GIL while generating and counting).

Either way a row is ``bincount(rng.integers(0, n, size=n), minlength=n)``,
i.e. exactly n draws with replacement.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

__all__ = ["PER_ROW_MIN_N", "chunk_rows", "resample_cells", "resample_counts"]

PER_ROW_MIN_N = 32_768
"""Sample size from which rows get their own random stream (and threads)."""

PREFERRED_CELLS = 2**21
"""Chunks are kept at or below ~2M cells (16 MB of float64) even when ``max_cells``
allows more: larger buffers are mmap-ed and page-faulted afresh for every chunk by
glibc's allocator, which measured 2-3x slower; smaller ones are recycled."""

SMALL_N_CELLS = 2**18
"""Below ``PER_ROW_MIN_N`` a chunk holds three arrays of its size at once (draws, counts, float copy), so
chunks stay at ~256K cells (2 MB per array): recycled by the allocator from the first chunk on. At 2M cells
the first resampling of a process paid ~0.1 s of page faults at n = 5,000 (3x the whole bootstrap)."""


def chunk_rows(n_cols: int, n_resamples: int, max_cells: int) -> int:
    """Rows per chunk so that ``rows * n_cols <= max_cells`` (at least one row)."""
    if max_cells < 1:
        raise ValueError(f"max_cells must be >= 1, got {max_cells}")
    return max(1, min(n_resamples, max_cells // max(n_cols, 1)))


def _default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _fill_rows(out: NDArray[np.float64], seeds: list[np.random.SeedSequence], n: int) -> None:
    for r, ss in enumerate(seeds):
        rng = np.random.Generator(np.random.PCG64(ss))
        out[r] = np.bincount(rng.integers(0, n, size=n), minlength=n)


def resample_counts(
    n: int,
    n_resamples: int,
    seed: int,
    max_cells: int = 8_000_000,
    *,
    n_threads: int | None = None,
    reuse_buffers: int = 0,
) -> Iterator[NDArray[np.float64]]:
    """Yield bootstrap count matrices in chunks of shape ``(b, n)``.

    Each row holds the multiplicities of one ordinary nonparametric bootstrap
    resample (``n`` draws with replacement), so it sums to ``n``.  Chunks have
    ``b = max(1, min(max_cells, cap) // n)`` rows (the last one fewer; ``cap`` is
    ``SMALL_N_CELLS`` below ``PER_ROW_MIN_N``, else ``PREFERRED_CELLS``), ``n_resamples`` rows in total; the
    chunking never changes the resamples themselves.  The counts are integer-valued ``float64`` so that BLAS
    matrix products apply directly; use ``.astype(np.int64)`` for ``np.repeat``.

    Args:
        n: number of examples (>= 1).
        n_resamples: number of resamples (rows) to produce (>= 0).
        seed: seed of the random stream; same seed, same resamples.
        max_cells: upper bound on ``b * n`` (memory of one chunk is 8 bytes per
            cell); a single row is produced per chunk if ``n > max_cells``.
        n_threads: threads for large ``n`` (default ``min(4, cpu_count)``);
            does not change the result.
        reuse_buffers: if > 0 (and ``n >= PER_ROW_MIN_N``), cycle through this
            many preallocated chunk buffers instead of allocating each chunk, and
            use chunks of the full ``max_cells``.  A yielded chunk is then
            overwritten ``reuse_buffers`` chunks later, so this is only for
            consumers that are done with a chunk before they ask for the
            ``reuse_buffers``-th next one (:func:`harness.stats.bootstrap_draws`).
            Saves the page faults of fresh large allocations; same resamples.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if n_resamples < 0:
        raise ValueError(f"n_resamples must be >= 0, got {n_resamples}")
    if n < PER_ROW_MIN_N:
        rows = chunk_rows(n, n_resamples, min(max_cells, SMALL_N_CELLS))
        yield from _small_n(n, n_resamples, seed, rows)
    else:
        cap = max_cells if reuse_buffers > 0 else min(max_cells, PREFERRED_CELLS)
        rows = chunk_rows(n, n_resamples, cap)
        threads = n_threads or _default_threads()
        yield from _large_n(n, n_resamples, seed, rows, threads, max(reuse_buffers, 0))


def _small_n(n: int, n_resamples: int, seed: int, rows: int) -> Iterator[NDArray[np.float64]]:
    rng = np.random.Generator(np.random.PCG64(seed))
    done = 0
    while done < n_resamples:
        b = min(rows, n_resamples - done)
        idx = rng.integers(0, n, size=(b, n))
        idx += (np.arange(b, dtype=np.int64) * n)[:, None]
        counts = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n)
        yield counts.astype(np.float64)
        done += b


def _large_n(
    n: int, n_resamples: int, seed: int, rows: int, n_threads: int, ring: int
) -> Iterator[NDArray[np.float64]]:
    root = np.random.SeedSequence(seed)
    done = 0
    k = 0
    buffers: list[NDArray[np.float64]] = []
    pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
    try:
        while done < n_resamples:
            b = min(rows, n_resamples - done)
            seeds = root.spawn(b)  # stateful: successive calls continue the sequence
            if ring == 0:
                out = np.empty((b, n), dtype=np.float64)
            else:
                if len(buffers) < ring:
                    buffers.append(np.empty((rows, n), dtype=np.float64))
                out = buffers[k % ring][:b]
                k += 1
            if pool is None or b == 1:
                _fill_rows(out, seeds, n)
            else:
                parts = np.array_split(np.arange(b), min(n_threads, b))
                futures = [
                    pool.submit(_fill_rows, out[p[0] : p[-1] + 1], seeds[p[0] : p[-1] + 1], n)
                    for p in parts
                ]
                for f in futures:
                    f.result()
            yield out
            done += b
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def resample_cells(
    cell_counts: NDArray[np.integer],
    n_resamples: int,
    seed: int,
    max_cells: int = 8_000_000,
) -> Iterator[NDArray[np.float64]]:
    """Bootstrap counts over *cells* of identical examples, in chunks ``(b, K)``.

    If the ``n`` examples fall into ``K`` cells with observed counts ``c_k``
    (e.g. the distinct ``(label, prediction A, prediction B)`` triples), the
    cell totals of an ordinary bootstrap resample are exactly
    ``Multinomial(n; c_1/n, ..., c_K/n)``.  Drawing these directly costs O(K)
    per resample instead of O(n) and gives the same bootstrap distribution for
    any statistic that depends on the data only through the cell totals.
    Rows sum to ``n = sum(c_k)``; deterministic for a seed.
    """
    c = np.asarray(cell_counts)
    if c.ndim != 1 or c.size == 0:
        raise ValueError("cell_counts must be a non-empty 1-D array")
    if (c < 0).any():
        raise ValueError("cell_counts must be non-negative")
    n = int(c.sum())
    if n < 1:
        raise ValueError("cell_counts must sum to at least 1")
    if n_resamples < 0:
        raise ValueError(f"n_resamples must be >= 0, got {n_resamples}")
    rng = np.random.Generator(np.random.PCG64(seed))
    pvals = c.astype(np.float64) / n
    rows = chunk_rows(c.size, n_resamples, max_cells)
    done = 0
    while done < n_resamples:
        b = min(rows, n_resamples - done)
        yield rng.multinomial(n, pvals, size=b).astype(np.float64)
        done += b
