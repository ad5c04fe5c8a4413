"""The classifiers on top of embeddings (options ``classifier: logistic | zero-shot``).

* **logistic** (the default): scikit-learn's ``LogisticRegression`` (lbfgs, L2 penalty, ``max_iter`` 1,000) on
  the training split's vectors; class probabilities from ``predict_proba``. The penalty's strength ``C`` is
  chosen by stratified ``cv_folds``-fold cross-validation (5; shuffled with ``seed``) on the training split,
  by the mean log loss of the held-out folds, over ``C ∈ {0.01, 0.1, 1, 10, 100, 1000}`` (ties: the smaller ``C``);
  when the training split has more than ``cv_sample`` examples (10,000), on a stratified sample of that many.
  The model is then refit on the whole training split with that ``C``. The option ``C`` fixes it instead; with a
  class of fewer than two training examples no fold can hold it out, and ``C`` is 1 (scikit-learn's default).
* **zero-shot**: the cosine similarity between a text's vector and each label's (its ``description`` in the
  suite, else its display name), turned into probabilities by a softmax at temperature ``T``:
  ``p = softmax(cos / T)``. ``T`` is fitted on the training split when there is one (the log loss, by
  :func:`harness.stats.temperature.fit_temperature`; it changes no predicted label); without one it is 0.01 (CLIP's
  logit scale of 100), or the option ``temperature``.

Vectors stay float32 throughout (scikit-learn's lbfgs fits float32 as is); similarities are computed in blocks.
"""

from __future__ import annotations

import contextlib
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.errors import ProviderError

CS: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
MAX_ITER = 1000
DEFAULT_C = 1.0
DEFAULT_TEMPERATURE = 0.01
BLOCK = 8192  # rows per block when normalising and multiplying
#: Below this many values a fit runs BLAS on one thread: on small matrices threads gain nothing, and on a busy
#: machine (two models fitting at once, other processes) their spinning made a 0.9 s fit take a minute.
SMALL = 1 << 22
#: The cross-validation's 30 fits (at most ``cv_sample`` rows each) always run BLAS on one thread: measured with
#: benchmarks/bench_embeddings.py at 10,000 × 1,536 on a shared 2-core machine, 60 s on one thread against
#: 153-214 s with BLAS's default threads (a plain fit: 1.7 s against 6-9 s).


def blas_threads(values: int) -> contextlib.AbstractContextManager[Any]:
    """One BLAS thread for a problem of fewer than :data:`SMALL` values (process-wide, for its duration)."""
    if values >= SMALL:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


@dataclass
class Fitted:
    """A fitted classifier: ``predict_proba`` columns are ``classes``."""

    kind: str  # "logistic" | "zero-shot"
    classes: list[str]
    estimator: Any = None  # LogisticRegression (logistic)
    label_vectors: np.ndarray | None = None  # unit rows, one per class (zero-shot)
    temperature: float | None = None  # zero-shot
    info: dict[str, Any] = field(default_factory=dict)  # the settings, recorded in the model's info

    @property
    def dims(self) -> int | None:
        """The vectors' dimension this classifier was fitted on."""
        if self.kind == "logistic":
            n = getattr(self.estimator, "n_features_in_", None)
            return int(n) if isinstance(n, (int, np.integer)) else None
        return None if self.label_vectors is None else int(np.shape(self.label_vectors)[-1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.kind == "logistic":  # float32 vectors give float32 probabilities: renormalised in float64
            p = np.asarray(self.estimator.predict_proba(X), dtype=np.float64)
            return p / p.sum(axis=1, keepdims=True)
        assert self.label_vectors is not None and self.temperature is not None
        return zero_shot_proba(X, self.label_vectors, self.temperature)


def unit_rows(X: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero: its similarities are 0)."""
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0).astype(X.dtype)


def cosine(X: np.ndarray, unit_labels: np.ndarray) -> np.ndarray:
    """Cosine similarities (n × labels, float64), ``X`` normalised block by block (no full copy of ``X``)."""
    out = np.empty((X.shape[0], unit_labels.shape[0]), dtype=np.float64)
    for start in range(0, X.shape[0], BLOCK):
        block = unit_rows(np.asarray(X[start:start + BLOCK], dtype=np.float32))
        out[start:start + BLOCK] = block @ unit_labels.T.astype(np.float32)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def zero_shot_proba(X: np.ndarray, unit_labels: np.ndarray, temperature: float) -> np.ndarray:
    return softmax(cosine(X, unit_labels) / temperature)


def _sample(y: np.ndarray, size: int, seed: int) -> np.ndarray | None:
    """Indices of a stratified random sample of ``size`` rows (None: use every row)."""
    if len(y) <= size:
        return None
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    try:
        picked, _ = train_test_split(idx, train_size=size, stratify=y, random_state=seed)
    except ValueError:  # a class too small to stratify: a plain random sample
        picked, _ = train_test_split(idx, train_size=size, random_state=seed)
    return np.sort(picked)


def choose_c(X: np.ndarray, y: np.ndarray, folds: int, sample: int, seed: int) -> tuple[float, dict[str, Any]]:
    """``C`` with the least cross-validated log loss (see the module's doc), and how it was chosen."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    idx = _sample(y, sample, seed)
    Xs, ys = (X, y) if idx is None else (X[idx], y[idx])
    k = min(folds, min(Counter(ys.tolist()).values()))
    if k < 2:
        return DEFAULT_C, {"C_source": "scikit-learn's default: a class has fewer than 2 training examples, too "
                                       "few to cross-validate"}
    losses = np.zeros(len(CS))
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings(), blas_threads(0):  # at most cv_sample rows: one BLAS thread (see SMALL)
        warnings.simplefilter("ignore")  # a large C may not converge on a fold: its loss says how it did
        for train, held in skf.split(np.zeros(len(ys)), ys):
            Xtr, ytr, Xva, yva = Xs[train], ys[train], Xs[held], ys[held]
            for j, c in enumerate(CS):  # each fit from scratch: what the docs say is what anyone can repeat
                est = LogisticRegression(C=c, max_iter=MAX_ITER).fit(Xtr, ytr)
                losses[j] += log_loss(yva, est.predict_proba(Xva), labels=est.classes_) * len(held)
    losses /= len(ys)
    best = int(np.argmin(losses))  # the first minimum: the smaller C on a tie
    return CS[best], {"C_source": f"stratified {k}-fold cross-validation on the training split (log loss)",
                      "cv_folds": k, "cv_examples": int(len(ys)),
                      "cv_log_loss": {f"{c:g}": round(float(v), 6) for c, v in zip(CS, losses)}}


def fit_logistic(X: np.ndarray, y: Sequence[str], labels: Sequence[str], *, C: float | None, folds: int,
                 sample: int, seed: int) -> Fitted:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    yy = np.asarray(list(y), dtype=object)
    present = sorted(set(yy.tolist()))
    if len(present) < 2:
        raise ProviderError(f"the training split has examples of {len(present)} label(s) only "
                            f"({', '.join(present) or 'none'}): logistic regression needs two or more")
    with blas_threads(int(np.prod(X.shape))):
        if C is None:
            C, how = choose_c(X, yy, folds, sample, seed)
        else:
            how = {"C_source": "the option C"}
        est = LogisticRegression(C=C, max_iter=MAX_ITER)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            est.fit(X, yy)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    info: dict[str, Any] = {
        "classifier": "logistic", "estimator": "scikit-learn LogisticRegression (lbfgs, L2)", "C": float(C), **how,
        "Cs": list(CS), "max_iter": MAX_ITER, "n_iter": int(np.max(est.n_iter_)), "converged": converged,
        "n_train": int(len(yy)), "dtype": str(X.dtype)}
    missing = [lab for lab in labels if lab not in present]
    if missing:
        info["labels_not_in_training"] = missing  # never predicted: probability 0
    return Fitted("logistic", [str(c) for c in est.classes_], estimator=est, info=info)


def fit_zero_shot(label_vectors: np.ndarray, labels: Sequence[str], label_texts: Sequence[str], *,
                  temperature: float | None, X_train: np.ndarray | None = None,
                  y_train: Sequence[str] | None = None) -> Fitted:
    from harness.stats.temperature import BETA_RANGE, fit_temperature

    unit = unit_rows(np.asarray(label_vectors, dtype=np.float32))
    info: dict[str, Any] = {"classifier": "zero-shot", "similarity": "cosine", "label_texts": dict(zip(labels,
                                                                                                      label_texts))}
    if temperature is not None:
        T, source = float(temperature), "the option temperature"
    elif X_train is not None and y_train is not None and len(y_train) > 0:
        index = {lab: i for i, lab in enumerate(labels)}
        gold = np.array([index[lab] for lab in y_train], dtype=np.int64)
        T = fit_temperature(softmax(cosine(X_train, unit)), gold)
        source = f"fitted on the training split ({len(gold)} examples, log loss)"
        lo, hi = 1.0 / BETA_RANGE[1], 1.0 / BETA_RANGE[0]
        if np.isclose(T, lo) or np.isclose(T, hi):
            source += f"; at the bound of its range [{lo:g}, {hi:g}]"
        info["n_train"] = int(len(gold))
    else:
        T, source = DEFAULT_TEMPERATURE, f"default {DEFAULT_TEMPERATURE:g} (no training split to fit it on)"
    info.update(temperature=float(T), temperature_source=source)
    return Fitted("zero-shot", list(labels), label_vectors=unit, temperature=float(T), info=info)


def check_fitted(fitted: Fitted, labels: Sequence[str], kind: str, dims: int | None = None) -> str | None:
    """Why a classifier loaded from a file cannot be used (None: it can): the file is untrusted input, and a
    damaged one must mean a refit, never a wrong number or a crash."""
    if fitted.kind != kind:
        return f"it holds a {fitted.kind!r} classifier, not {kind!r}"
    classes = fitted.classes
    if not isinstance(fitted.info, dict):
        return "its settings are damaged"
    if (len(set(classes)) != len(classes) or not all(isinstance(c, str) and c in labels for c in classes)
            or len(classes) < 2):
        return "its classes are not the suite's labels"
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression

        est = fitted.estimator
        if not isinstance(est, LogisticRegression):
            return "it holds no fitted logistic regression"
        coef, icpt = getattr(est, "coef_", None), getattr(est, "intercept_", None)
        cls = getattr(est, "classes_", None)
        if not isinstance(coef, np.ndarray) or not isinstance(icpt, np.ndarray) or cls is None:
            return "its logistic regression is not fitted"
        rows = 1 if len(classes) == 2 else len(classes)
        if [str(c) for c in cls] != classes or coef.ndim != 2 or coef.shape[0] != rows or icpt.shape != (rows,):
            return "its logistic regression does not match its classes"
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(icpt))):
            return "its coefficients are not finite numbers"
        if fitted.dims != coef.shape[1]:
            return "its logistic regression is damaged"
    else:
        vecs, t = fitted.label_vectors, fitted.temperature
        if list(classes) != list(labels):
            return "its classes are not the suite's labels"
        if not isinstance(vecs, np.ndarray) or vecs.ndim != 2 or vecs.shape[0] != len(labels) \
                or not np.issubdtype(vecs.dtype, np.floating) or not np.all(np.isfinite(vecs)):
            return "its label vectors are damaged"
        if not np.allclose(np.linalg.norm(vecs.astype(np.float64), axis=1), 1.0, atol=1e-3):
            return "its label vectors are damaged (not of length 1)"
        if not isinstance(t, (float, int)) or isinstance(t, bool) or not np.isfinite(t) or t <= 0:
            return "its temperature is not a finite positive number"
    if dims is not None and fitted.dims != dims:
        return f"it was fitted on {fitted.dims}-dimensional vectors, these have {dims}"
    try:  # what else a file can damage (an estimator's settings): it must predict, finite probabilities
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = fitted.predict_proba(np.ones((1, int(fitted.dims or 1)), dtype=np.float32))
        if p.shape != (1, len(classes)) or not np.all(np.isfinite(p)):
            return "it predicts no probabilities"
    except Exception as exc:  # noqa: BLE001 - a damaged file (untrusted input) is refitted, whatever it holds
        return f"it cannot predict ({type(exc).__name__})"
    return None
