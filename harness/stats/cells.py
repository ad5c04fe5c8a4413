"""Compress paired label data into cells of identical examples.

Label-only metrics (accuracy, precision / recall / F, macro / weighted F1)
depend on the data only through how many examples share each combination of
(label, prediction A, prediction B).  With ``K`` classes there are at most
``K·(K+1)^2`` such cells (predictions may be invalid), usually far fewer than
examples.  The cell totals of an ordinary bootstrap resample are exactly
``Multinomial(n; c_1/n, ..., c_K/n)`` (:func:`~harness.stats.resample.resample_cells`),
and the :mod:`~harness.stats.weighted` metrics evaluated on the cell-level
columns with those totals as weights equal the metrics of the resample.  So the
bootstrap of these metrics costs O(cells) instead of O(n) per resample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Cells", "make_cells"]


@dataclass(frozen=True)
class Cells:
    """Distinct rows of some integer/bool columns and how often each occurs.

    Attributes:
        columns: one array per input column with the value of that column in
            each cell (input dtypes preserved).
        counts: number of examples in each cell (int64, sums to ``n``).
        index: cell of each example (``columns[j][index] == input_j``).
    """

    columns: tuple[NDArray[Any], ...]
    counts: NDArray[np.int64]
    index: NDArray[np.intp]

    @property
    def n(self) -> int:
        """Number of examples."""
        return int(self.counts.sum())

    @property
    def n_cells(self) -> int:
        """Number of distinct cells."""
        return int(self.counts.size)

    def aggregate(self, W: ArrayLike) -> NDArray[np.float64]:
        """Sum example-level count rows ``(b, n)`` into cell-level rows ``(b, cells)``."""
        w = np.asarray(W, dtype=np.float64)
        out = np.zeros((w.shape[0], self.n_cells))
        for j in range(w.shape[0]):
            out[j] = np.bincount(self.index, weights=w[j], minlength=self.n_cells)
        return out


def make_cells(*columns: ArrayLike) -> Cells:
    """Group examples by the joint value of integer (or bool) ``columns``."""
    if not columns:
        raise ValueError("need at least one column")
    cols = [np.asarray(c) for c in columns]
    n = cols[0].shape[0] if cols[0].ndim == 1 else -1
    for c in cols:
        if c.ndim != 1 or c.shape[0] != n:
            raise ValueError("columns must be 1-D and of equal length")
        if c.dtype.kind not in "biu":
            raise ValueError("columns must be integer or boolean")
    if n == 0:
        raise ValueError("need at least one example")
    spans = [int(c.max()) - int(c.min()) + 1 for c in cols]
    if float(np.prod(np.array(spans, dtype=np.float64))) < 2.0**62:
        key = np.zeros(n, dtype=np.int64)
        for c, span in zip(cols, spans, strict=True):  # mixed-radix code of the joint value
            ci = c.astype(np.int64)
            key = key * span + (ci - int(ci.min()))
    else:  # too many combinations for one int64 code: unique rows instead
        key = np.column_stack([c.astype(np.int64) for c in cols])
    _, first, index, counts = np.unique(
        key,
        axis=0 if key.ndim == 2 else None,
        return_index=True,
        return_inverse=True,
        return_counts=True,
    )
    return Cells(
        columns=tuple(c[first] for c in cols),
        counts=counts.astype(np.int64),
        index=index.astype(np.intp).reshape(-1),
    )
