"""Simulated null: two models from the same process -> false-positive rate ~ alpha.

Each replicate draws a fresh paired data set in which model A and model B are
exchangeable (same distribution, correlated through a shared component, as two
fine-tunes of one base model would be).  With a fixed seed per replicate the
tests are deterministic; the number of replicates keeps the binomial standard
error of the rate at ~0.005-0.008 so that [0.03, 0.07] is a meaningful check.
"""

from __future__ import annotations

import numpy as np

from harness.stats import weighted as wt
from harness.stats.accuracy import mcnemar_midp
from harness.stats.bootstrap import paired_bootstrap
from harness.stats.cells import make_cells
from harness.stats.delong import delong_test

ALPHA = 0.05
LOW, HIGH = 0.03, 0.07
N = 200


def rejection_rate(p_values: list[float]) -> float:
    return float(np.mean(np.asarray(p_values) <= ALPHA))


def scores(rng: np.random.Generator, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    shared = rng.normal(size=y.size)
    return (y + shared + rng.normal(size=y.size), y + shared + rng.normal(size=y.size))


def test_mcnemar_midp_null():
    ps = []
    for r in range(2400):
        rng = np.random.default_rng([1, r])
        latent = rng.random(N)
        a = latent + 0.3 * rng.random(N) < 0.9
        b = latent + 0.3 * rng.random(N) < 0.9
        ps.append(mcnemar_midp(a, b))
    assert LOW <= rejection_rate(ps) <= HIGH


def test_delong_null():
    ps = []
    for r in range(2000):
        rng = np.random.default_rng([2, r])
        y = rng.random(N) < 0.4
        sa, sb = scores(rng, y)
        ps.append(delong_test(y, sa, sb).p_value)
    assert LOW <= rejection_rate(ps) <= HIGH


def test_paired_bootstrap_f1_null():
    ps = []
    one = np.ones((1, N))
    for r in range(1500):
        rng = np.random.default_rng([3, r])
        y = rng.random(N) < 0.3
        pa = np.where(y, rng.random(N) < 0.7, rng.random(N) < 0.15)
        pb = np.where(y, rng.random(N) < 0.7, rng.random(N) < 0.15)
        cells = make_cells(y, pa, pb)
        cy, ca, cb = cells.columns
        ps.append(
            paired_bootstrap(
                lambda w, cy=cy, ca=ca: wt.fbeta(cy, ca, w),
                lambda w, cy=cy, cb=cb: wt.fbeta(cy, cb, w),
                N,
                wt.fbeta(y, pa, one)[0],
                wt.fbeta(y, pb, one)[0],
                n_resamples=200,
                seed=r,
                cell_counts=cells.counts,
            ).p_value
        )
    assert LOW <= rejection_rate(ps) <= HIGH


def test_paired_bootstrap_auprc_null():
    ps = []
    one = np.ones((1, N))
    for r in range(1000):
        rng = np.random.default_rng([4, r])
        y = rng.random(N) < 0.3
        sa, sb = scores(rng, y)
        ra, rb = wt.Ranked(y, sa), wt.Ranked(y, sb)
        ps.append(
            paired_bootstrap(
                ra.average_precision,
                rb.average_precision,
                N,
                ra.average_precision(one)[0],
                rb.average_precision(one)[0],
                n_resamples=200,
                seed=r,
            ).p_value
        )
    assert LOW <= rejection_rate(ps) <= HIGH
