"""Small input checks shared by the statistics modules (private)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_bool_1d(x: ArrayLike, name: str) -> NDArray[np.bool_]:
    """Return ``x`` as a 1-D boolean array; accepts bool or integer 0/1 input."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if a.dtype == np.bool_:
        return a
    if a.size and not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0/1 or booleans")
    return a.astype(np.bool_)


def as_float_1d(x: ArrayLike, name: str, *, finite: bool = True) -> NDArray[np.float64]:
    """Return ``x`` as a 1-D float64 array, optionally rejecting NaN/inf."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if finite and not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return a


def same_length(**arrays: NDArray[Any]) -> int:
    """Check that all arrays have the same length and return it."""
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise ValueError(f"arrays must have the same length ({detail})")
    return next(iter(lengths.values()))


def as_weights(W: ArrayLike, n: int) -> NDArray[np.float64]:
    """A chunk of resample counts as a float ``(b, n)`` array."""
    w = np.asarray(W, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != n:
        raise ValueError(f"W must have shape (b, {n}), got {w.shape}")
    return w


def nan_div(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    """``num / den`` with NaN where ``den == 0`` (the ratio is undefined: never a made-up 0)."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def check_alpha(alpha: float) -> float:
    """Validate a significance level in (0, 1)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return float(alpha)
