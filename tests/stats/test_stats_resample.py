"""Bootstrap count matrices: shape, sums, determinism, distribution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from harness.stats.resample import PER_ROW_MIN_N, resample_cells, resample_counts


def collect(*args, **kwargs) -> list[np.ndarray]:
    return list(resample_counts(*args, **kwargs))


@pytest.mark.parametrize("n", [1, 7, 500, PER_ROW_MIN_N])
def test_chunks_shape_and_sums(n):
    max_cells = max(n * 3, 1)
    chunks = collect(n, 10, 0, max_cells)
    assert sum(c.shape[0] for c in chunks) == 10
    for c in chunks:
        assert c.shape[1] == n
        assert c.shape[0] * n <= max_cells
        assert c.dtype == np.float64
        assert (c >= 0).all() and np.array_equal(c, np.round(c))
        assert np.all(c.sum(axis=1) == n)


def test_max_cells_smaller_than_n_gives_single_rows():
    chunks = collect(50, 4, 0, max_cells=10)
    assert [c.shape for c in chunks] == [(1, 50)] * 4


@pytest.mark.parametrize("n", [300, PER_ROW_MIN_N + 5])
def test_deterministic_and_independent_of_chunking_and_threads(n):
    ref = np.concatenate(collect(n, 9, 42, max_cells=n * 9, n_threads=1))
    assert np.array_equal(ref, np.concatenate(collect(n, 9, 42, max_cells=n * 2, n_threads=2)))
    assert np.array_equal(ref, np.concatenate(collect(n, 9, 42, max_cells=n * 4, n_threads=3)))
    # a shorter run is a prefix of a longer one
    assert np.array_equal(ref[:4], np.concatenate(collect(n, 4, 42)))
    other = np.concatenate(collect(n, 9, 43))
    assert not np.array_equal(ref, other)


def test_zero_resamples_and_validation():
    assert collect(10, 0, 0) == []
    with pytest.raises(ValueError):
        collect(0, 3, 0)
    with pytest.raises(ValueError):
        collect(3, -1, 0)


def test_counts_are_multinomial():
    n, b = 400, 500
    w = np.concatenate(collect(n, b, 7))
    # marginal of one cell: Binomial(n, 1/n); compare the histogram of all cells
    observed = np.bincount(w.astype(np.int64).ravel(), minlength=6)[:6] / w.size
    expected = binom.pmf(np.arange(6), n, 1 / n)
    np.testing.assert_allclose(observed, expected, atol=0.004)
    # covariance between cells is -1/n; the variance of a cell is (n-1)/n
    assert w.var() == pytest.approx((n - 1) / n, abs=0.01)
    # rows are distinct resamples, and every example is used
    assert len({row.tobytes() for row in w}) == b
    assert (w.sum(axis=0) > 0).all()


def test_resample_cells():
    counts = np.array([5, 0, 20, 75])
    chunks = list(resample_cells(counts, 2000, 3, max_cells=4 * 300))
    w = np.concatenate(chunks)
    assert w.shape == (2000, 4)
    assert all(c.shape[0] * 4 <= 4 * 300 for c in chunks)
    assert np.all(w.sum(axis=1) == 100)
    assert (w[:, 1] == 0).all()
    np.testing.assert_allclose(w.mean(axis=0), counts, rtol=0.03, atol=0.01)
    np.testing.assert_allclose(w.var(axis=0), counts * (1 - counts / 100), rtol=0.1)
    again = np.concatenate(list(resample_cells(counts, 2000, 3, max_cells=4 * 300)))
    assert np.array_equal(w, again)
    with pytest.raises(ValueError):
        next(resample_cells(np.array([0, 0]), 1, 0))


def test_reused_buffers_hold_the_same_resamples():
    n = PER_ROW_MIN_N
    fresh = np.concatenate(collect(n, 11, 5, max_cells=n * 3))
    seen = []
    objects = []
    for chunk in resample_counts(n, 11, 5, max_cells=n * 3, reuse_buffers=2):
        seen.append(chunk.copy())
        objects.append(chunk.base if chunk.base is not None else chunk)
    assert np.array_equal(np.concatenate(seen), fresh)
    assert len({id(o) for o in objects}) == 2  # two buffers, cycled
