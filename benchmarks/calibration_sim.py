"""Simulated pairs of models with exactly known binned calibration errors (for bench_calibration_size.py).

A finite latent world: ``z1, z2`` uniform on ``0..G-1``, the true class probabilities
``q(z1, z2) = softmax(beta·(u[z1] + v[z2]))`` (``u``, ``v`` fixed Gaussian vectors, k classes). A model that
sees ``z1`` and predicts ``E[q | z1]`` is perfectly calibrated (so is one that sees ``z2``, or both); a
temperature ``s`` (``softmax(s·log p)``) makes it over- (``s > 1``) or under-confident (``s < 1``) without
changing its predicted label. The true binned squared calibration error ``theta = sum_j P(B_j)·mu_j²`` of the
top-label confidence is an exact finite sum, and :meth:`World.temperature` finds the ``s`` that gives a
target ``sqrt(theta)`` (the true ECE), so two models can be made *equally* miscalibrated in different ways.
"""

from __future__ import annotations

from functools import cache

import numpy as np

G = 48


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class World:
    def __init__(self, k: int, beta: float = 1.4, seed: int = 0) -> None:
        r = np.random.default_rng([seed, k])
        u, v = r.normal(size=(G, k)), r.normal(size=(G, k))
        self.k = k
        self.q = _softmax(beta * (u[:, None, :] + v[None, :, :]))  # (G, G, k)
        self.views = {"v1": np.repeat(self.q.mean(axis=1)[:, None, :], G, axis=1),
                      "v2": np.repeat(self.q.mean(axis=0)[None, :, :], G, axis=0), "oracle": self.q}

    def model(self, view: str, s: float = 1.0) -> np.ndarray:
        """Per-cell probabilities (G, G, k) of a model that sees ``view``, at temperature ``s``."""
        return _softmax(s * np.log(np.clip(self.views[view], 1e-12, 1.0)))

    def theta(self, p: np.ndarray, bins: int = 10) -> float:
        """The true binned squared calibration error of the top-label confidence."""
        conf, pred = p.max(axis=-1).ravel(), p.argmax(axis=-1)
        acc = np.take_along_axis(self.q, pred[..., None], axis=-1)[..., 0].ravel()
        b = np.searchsorted(np.arange(1, bins) / bins, conf, side="left")
        w = np.bincount(b, minlength=bins) / conf.size
        s = np.bincount(b, weights=acc - conf, minlength=bins) / conf.size
        mu = np.where(w > 0, s / np.where(w > 0, w, 1.0), 0.0)
        return float(np.sum(w * mu * mu))

    def temperature(self, view: str, ece: float, over: bool) -> float:
        """The temperature giving a true ECE of ``ece`` (bisection; over- or under-confident)."""
        if ece == 0:
            return 1.0
        lo, hi = (1.0, 8.0) if over else (0.02, 1.0)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            above = self.theta(self.model(view, mid)) > ece * ece
            if above == over:
                hi = mid
            else:
                lo = mid
        return 0.5 * (lo + hi)

    def sample(self, rng: np.random.Generator, n: int, pa: np.ndarray, pb: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(labels, A's probabilities, B's probabilities) for n fresh examples."""
        z1, z2 = rng.integers(0, G, n), rng.integers(0, G, n)
        cum = self.q[z1, z2].cumsum(axis=1)
        y = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), self.k - 1)
        return y, pa[z1, z2], pb[z1, z2]


@cache
def world(k: int) -> World:
    return World(k)


def null_settings(k: int, levels: tuple[float, ...] = (0.02, 0.04, 0.08)
                  ) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Pairs of models with equal true ECE: (name, A's cell probabilities, B's)."""
    w = world(k)
    out = [("calibrated, two views", w.model("v1"), w.model("v2")),
           ("calibrated, oracle vs view", w.model("oracle"), w.model("v1"))]
    for e in levels:
        over1, over2 = w.model("v1", w.temperature("v1", e, True)), w.model("v2", w.temperature("v2", e, True))
        under1 = w.model("v1", w.temperature("v1", e, False))
        under2 = w.model("v2", w.temperature("v2", e, False))
        out += [(f"both over {e}", over1, over2), (f"both under {e}", under1, under2),
                (f"over vs under {e}", over1, under2), (f"same model over vs under {e}", over1, under1)]
    return out


def power_settings(k: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Pairs with different true ECEs."""
    w = world(k)
    out = []
    for e in (0.04, 0.08):
        out.append((f"calibrated vs over {e}", w.model("v1"), w.model("v2", w.temperature("v2", e, True))))
        out.append((f"over {e} vs over {2 * e}", w.model("v1", w.temperature("v1", e, True)),
                    w.model("v2", w.temperature("v2", 2 * e, True))))
    return out
