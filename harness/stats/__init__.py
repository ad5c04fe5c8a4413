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
* :mod:`.weighted`  — vectorised metrics of many resamples at once (one import for :mod:`.linear`,
  :mod:`.counts`, :mod:`.ranked` and :mod:`.calibration_boot`).
* :mod:`.calibration_inference` — the debiased calibration error's closed-form interval and paired test.
* :mod:`.bootstrap` — percentile intervals and paired bootstrap tests (one construction).
* :mod:`.plan`      — many bootstrap jobs, each paired, in as few passes as their pairing allows.
* :mod:`.calibration` — calibration bins, plug-in and debiased calibration error (numpy only).
* :mod:`.mcb`       — the models that cannot be told apart from the best (multiple comparisons with the best).
* :mod:`.temperature` — temperature scaling: fit, cross-validated, on held-out probabilities.

Submodules are imported on first use (PEP 562), so a numpy-only part such as :mod:`.calibration` does not
pull in scipy.
"""

import importlib
from typing import Any

_EXPORTS = {
    "BestSet": "mcb",
    "Cells": "cells",
    "Interval": "results",
    "PairedBootstrap": "bootstrap",
    "PairedTest": "results",
    "agresti_min_interval": "accuracy",
    "auc_variance": "delong",
    "best_set": "mcb",
    "bootstrap_draws": "bootstrap",
    "bootstrap_interval": "bootstrap",
    "cochran_q": "multiple",
    "delong_auc": "delong",
    "delong_compare": "delong",
    "delong_test": "delong",
    "generic_resampled": "bootstrap",
    "holm": "multiple",
    "interval_from_draws": "bootstrap",
    "make_cells": "cells",
    "mcnemar_midp": "accuracy",
    "mde_paired_accuracy": "power",
    "paired_accuracy_test": "accuracy",
    "paired_bootstrap": "bootstrap",
    "paired_bootstrap_many": "bootstrap",
    "paired_test_from_draws": "bootstrap",
    "percentile_p_value": "bootstrap",
    "resample_cells": "resample",
    "resample_counts": "resample",
    "wilson_interval": "accuracy",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

