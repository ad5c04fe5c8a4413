"""Statistics for paired comparisons of two (or more) classifiers.

Pure functions over numpy arrays (numpy + scipy only); nothing here knows about
the rest of harness.

* :mod:`.results`   — ``Interval`` and ``PairedTest`` records.
* :mod:`.accuracy`  — Wilson interval, mid-p McNemar, Agresti-Min interval.
* :mod:`.delong`    — DeLong AUC variance / test (Sun & Xu fast algorithm).
* :mod:`.multiple`  — Cochran's Q, Holm adjustment.
* :mod:`.power`     — minimum detectable paired accuracy difference.
* :mod:`.resample`  — bootstrap count matrices (example level and cells).
* :mod:`.cells`     — compression of label data into cells.
* :mod:`.weighted`  — vectorised metrics of many resamples at once.
* :mod:`.bootstrap` — percentile intervals and paired bootstrap tests.
"""

from .accuracy import agresti_min_interval, mcnemar_midp, paired_accuracy_test, wilson_interval
from .bootstrap import (
    PairedBootstrap,
    bootstrap_draws,
    bootstrap_interval,
    generic_resampled,
    interval_from_draws,
    paired_bootstrap,
    paired_bootstrap_many,
    paired_test_from_draws,
)
from .cells import Cells, make_cells
from .delong import auc_variance, delong_auc, delong_compare, delong_test
from .multiple import cochran_q, holm
from .power import mde_paired_accuracy
from .resample import resample_cells, resample_counts
from .results import Interval, PairedTest

__all__ = [
    "Cells",
    "Interval",
    "PairedBootstrap",
    "PairedTest",
    "agresti_min_interval",
    "auc_variance",
    "bootstrap_draws",
    "bootstrap_interval",
    "cochran_q",
    "delong_auc",
    "delong_compare",
    "delong_test",
    "generic_resampled",
    "holm",
    "interval_from_draws",
    "make_cells",
    "mcnemar_midp",
    "mde_paired_accuracy",
    "paired_accuracy_test",
    "paired_bootstrap",
    "paired_bootstrap_many",
    "paired_test_from_draws",
    "resample_cells",
    "resample_counts",
    "wilson_interval",
]
