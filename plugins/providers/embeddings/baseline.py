"""What every embeddings baseline does, whatever makes its vectors (a server, or LSA on this machine): which
texts to embed, the classifier fitted on them (or loaded from an earlier run), and the predictions.

The texts of one model's run are laid out in one :class:`~.vectors.Matrix`: the labels' texts (zero-shot), then
the training split (when a classifier is to be fitted), then the examples scored — contiguous segments, so the
training vectors are a view of the matrix, not a copy. Identical texts are one request all the same (the engine
merges identical requests), so a text is embedded once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import ProviderError
from harness.examples import Example, Prediction
from harness.providers import SuiteView, output_dir

from .._common import predictions_from_proba
from . import store
from .classify import BLOCK, Fitted, check_fitted, fit_logistic, fit_zero_shot
from .options import BaselineOptions
from .vectors import Matrix

#: The options that change the fit (the fingerprint's), besides the embedding's own.
FIT_OPTIONS = ("classifier", "input", "C", "cv_folds", "cv_sample", "temperature", "seed", "max_features")


@dataclass
class TextPlan:
    """Rows of the model's matrix: ``labels`` (zero-shot), ``train``, then ``heldout`` (the examples scored)."""

    texts: list[str]
    labels: slice | None
    train: slice | None
    train_labels: list[str]
    heldout: slice

    def examples(self) -> list[Example]:
        """One example per row (its id: the row), which is what a request model is asked to embed."""
        return [Example(id=str(i), label="", text=t, prompt=t, messages=()) for i, t in enumerate(self.texts)]


def label_texts(suite: SuiteView) -> list[str]:
    """What zero-shot compares a text with: each label's description, else its display name, else its name."""
    descriptions = getattr(suite, "descriptions", None) or {}
    display = getattr(suite, "display", None) or {}
    return [descriptions.get(lab) or display.get(lab) or lab for lab in suite.labels]


def _indices(part: slice, failed: dict[int, str]) -> np.ndarray | slice:
    """The rows of ``part`` that have a vector (the slice itself when all do: a view, not a copy)."""
    if not any(part.start <= r < part.stop for r in failed):
        return part
    return np.array([r for r in range(part.start, part.stop) if r not in failed], dtype=np.int64)


class Baseline:
    """One model's classifier: its settings, the texts it needs, its fingerprint and saved file, its fit."""

    def __init__(self, model_name: str, options: BaselineOptions, suite: SuiteView,
                 embedding: dict[str, Any]) -> None:
        self.name = model_name
        self.options = options
        self.suite = suite
        self.labels = tuple(suite.labels)
        self.label_texts = label_texts(suite)
        self.embedding = embedding  # what makes the vectors (model, server, dimensions): part of the fingerprint
        self.fitted: Fitted | None = None
        self.state = ""  # "fitted in this run" | "loaded: ..." (recorded in the model's info)
        self.file: Path | None = None  # where the classifier is saved (in the run's output folder)
        self.shown = ""  # that file as results name it
        self.notes: list[str] = []
        self._print: str | None = None
        self.vectors = ""  # a digest of the label and training vectors (a server's: they may change)

    # --- what is needed -------------------------------------------------------------------------------

    def text(self, ex: Example) -> str:
        return ex.prompt if self.options.input == "prompt" else ex.text

    @property
    def train(self) -> Sequence[Example] | None:
        split = self.suite.train
        return None if split is None else split.examples

    def uses_train(self) -> bool:
        """Logistic regression is fitted on the training split; zero-shot fits its temperature on it, if any."""
        if self.options.classifier == "logistic":
            return True
        return self.options.temperature is None and self.train is not None

    def fingerprint(self) -> str:
        """The sha256 of the settings and texts the fit depends on, and of the vectors it was fitted on when
        they come from a server (:meth:`saved_for`)."""
        if self._print is None:
            settings = self.options.model_dump()
            train = self.train if self.uses_train() else None
            self._print = store.fingerprint({
                "embedding": self.embedding, "options": {k: settings.get(k) for k in FIT_OPTIONS},
                "labels": list(self.labels),
                "label_texts": self.label_texts if self.options.classifier == "zero-shot" else None,
                "train": store.texts_digest((self.text(ex), ex.label) for ex in train) if train else None})
        return store.fingerprint({"fit": self._print, "vectors": self.vectors}) if self.vectors else self._print

    def saved(self, dims: int | None = None) -> tuple[Fitted, Any] | None:
        """The classifier an earlier run saved in this run's output folder, when it was fitted on the same data
        and settings (a notice says why one found is not used)."""
        out = output_dir()
        if out is None:
            return None
        self.file = store.classifier_path(out, self.name)
        self.shown = self.file.relative_to(out).as_posix()  # how results name it (relative to the results)
        found = store.load(self.file, self.fingerprint())
        if not isinstance(found, str) and found is not None:
            found = check_fitted(found[0], self.labels, self.options.classifier, dims) or found
        if isinstance(found, str):
            self.notes.append(f"the classifier saved in {self.shown_file()} is not reused ({found}): refitted")
            return None
        return found

    def saved_for(self, matrix: Matrix, plan: TextPlan, failed: dict[int, str]) -> tuple[Fitted, Any] | None:
        """:meth:`saved` for vectors from a server: the label and training vectors just fetched (from the cache,
        or the server) are part of the fingerprint, so a classifier fitted on other vectors (the server's model
        changed, ``--refresh``, another dimension) is refitted, never used on vectors it was not fitted on."""
        parts = [p for p in (plan.labels, plan.train) if p is not None]
        if matrix.data is None or any(p.start <= r < p.stop for p in parts for r in failed):
            return None  # a fit on part of the texts is never saved: nothing to load
        self.vectors = store.vectors_digest(matrix.data[p] for p in parts)
        return self.saved(matrix.dims)

    def zero_vectors(self, matrix: Matrix, plan: TextPlan, failed: dict[int, str], local: bool = False) -> None:
        """All-zero vectors: no cosine similarity (zero-shot), and never a real embedding from a server. Such a
        text fails (added to ``failed``: a label's stops a zero-shot model, naming it; a training text is left
        out of the fit, with a notice; an example scored fails with the reason). LSA's zero vector (a text with
        no word of the training split's vocabulary) is kept for logistic regression, which predicts it from
        the intercept alone: a notice says how many."""
        if matrix.data is None:
            return
        zero = np.flatnonzero(matrix.filled & ~np.any(matrix.data != 0, axis=1)).tolist()
        zero = [r for r in zero if r not in failed]
        if not zero:
            return
        why = ("no word of the text is in the training split's vocabulary (LSA): its vector is all zeros" if local
               else "the server returned an all-zero vector")
        if local and self.options.classifier == "logistic":
            self.notes.append(f"{len(zero)} text(s) have all-zero vectors ({why.split(':')[0]}): logistic regression "
                              "predicts them from its intercept alone")
            return
        if self.options.classifier == "zero-shot":
            why += ", so its cosine similarity is undefined"
        for r in zero:
            failed[r] = why

    def plan(self, examples: Sequence[Example], fit: bool) -> TextPlan:
        texts: list[str] = []
        labels = train = None
        train_labels: list[str] = []
        if fit and self.options.classifier == "zero-shot":
            labels = slice(0, len(self.label_texts))
            texts.extend(self.label_texts)
        if fit and self.uses_train():
            rows = self.train or ()
            train = slice(len(texts), len(texts) + len(rows))
            texts.extend(self.text(ex) for ex in rows)
            train_labels = [ex.label for ex in rows]
        heldout = slice(len(texts), len(texts) + len(examples))
        texts.extend(self.text(ex) for ex in examples)
        return TextPlan(texts, labels, train, train_labels, heldout)

    # --- fitting and predicting ---------------------------------------------------------------------------

    def fit(self, matrix: Matrix, plan: TextPlan, failed: dict[int, str], embedder: Any = None) -> Fitted:
        """Fit the classifier on the plan's vectors (``failed``: rows without one, and why), and save it."""
        X = y = None
        dropped = 0
        if plan.labels is not None:
            bad = [(self.labels[r - plan.labels.start], why) for r, why in failed.items()
                   if plan.labels.start <= r < plan.labels.stop]
            if bad:
                raise ProviderError(f"the text of label {bad[0][0]!r} could not be embedded: {bad[0][1]}")
        if plan.train is not None:
            rows = _indices(plan.train, failed)
            n = plan.train.stop - plan.train.start
            kept = n if isinstance(rows, slice) else len(rows)
            if kept == 0 and n > 0:
                why = Counter(failed[r] for r in range(plan.train.start, plan.train.stop)).most_common(1)[0][0]
                raise ProviderError(f"none of the {n} training texts could be embedded ({why})")
            dropped = n - kept
            if dropped:
                top = Counter(failed[r] for r in range(plan.train.start, plan.train.stop) if r in failed)
                self.notes.append(f"{dropped} of {n} training texts could not be embedded ({top.most_common(1)[0][0]}"
                                  f"); the classifier is fitted on the other {kept}")
            assert matrix.data is not None or kept == 0
            X = matrix.data[rows] if matrix.data is not None else None
            y = [plan.train_labels[r - plan.train.start] for r in
                 (range(plan.train.start, plan.train.stop) if isinstance(rows, slice) else rows)]
        opts = self.options
        if opts.classifier == "logistic":
            if X is None or y is None:
                raise ProviderError("classifier: logistic needs the training split's vectors")
            fitted = fit_logistic(X, y, self.labels, C=opts.C, folds=opts.cv_folds, sample=opts.cv_sample,
                                  seed=opts.seed)
        else:
            assert plan.labels is not None and matrix.data is not None
            fitted = fit_zero_shot(matrix.data[plan.labels], self.labels, self.label_texts,
                                   temperature=opts.temperature, X_train=X, y_train=y)
        if dropped:
            fitted.info["n_train_failed"] = dropped
        self.fitted, self.state = fitted, "fitted in this run"
        self._missing_labels()
        if self.file is not None and not dropped:  # a fit on part of the split is not kept for a rerun
            try:
                store.save(self.file, fitted, self.fingerprint(), embedder)
            except OSError as exc:
                self.notes.append(f"could not save the classifier to {self.shown_file()} ({exc.strerror or exc})")
                self.file = None
        elif dropped:
            self.file = None
        return fitted

    def use(self, fitted: Fitted) -> None:
        """A classifier loaded from an earlier run."""
        self.fitted, self.state = fitted, "loaded: fitted by an earlier run on the same data and settings"
        self._missing_labels()

    def _missing_labels(self) -> None:
        """A notice for the labels without a training example: logistic regression never predicts them."""
        assert self.fitted is not None
        missing = [lab for lab in self.labels if lab not in self.fitted.classes]
        if missing:
            self.notes.append(f"label(s) {', '.join(map(repr, missing))} have no example in the training split: "
                              "the classifier gives them probability 0 on every example (their log loss and "
                              "recall suffer); add training examples of them")

    def predict(self, examples: Sequence[Example], matrix: Matrix, plan: TextPlan,
                failed: dict[int, str]) -> list[Prediction]:
        """Predictions for ``examples`` (the plan's held-out rows); a text without a vector fails with why."""
        assert self.fitted is not None
        want = self.fitted.dims
        if matrix.data is not None and want is not None and matrix.dims != want:
            raise ProviderError(f"the classifier expects {want}-dimensional vectors and the vectors have "
                                f"{matrix.dims} dimensions: rerun with --refresh to refit it on the new vectors")
        out: list[Prediction | None] = [None] * len(examples)
        start = plan.heldout.start
        ok = [i for i in range(len(examples)) if start + i not in failed]
        for i in range(len(examples)):
            if start + i in failed:
                out[i] = Prediction.failed(examples[i].id, failed[start + i])
        for b in range(0, len(ok), BLOCK):
            part = ok[b:b + BLOCK]
            rows = np.asarray(part, dtype=np.int64) + start
            assert matrix.data is not None
            proba = self.fitted.predict_proba(matrix.data[rows])
            for i, pred in zip(part, predictions_from_proba([examples[i] for i in part], self.fitted.classes,
                                                            proba, self.labels)):
                out[i] = pred
        return [p if p is not None else Prediction.failed(examples[i].id, "no vector") for i, p in enumerate(out)]

    # --- what is recorded -------------------------------------------------------------------------------

    def shown_file(self) -> str:
        return self.shown if self.file is not None else ""

    def describe(self) -> dict[str, Any]:
        opts = self.options
        info: dict[str, Any] = {"classifier": opts.classifier, "input": opts.input}
        if self.fitted is not None:
            info.update(self.fitted.info)
            info["classifier_state"] = self.state
        if self.file is not None and self.fitted is not None:
            info["classifier_file"] = self.shown_file()
        if self.notes:
            info["notes"] = list(self.notes)
        return info
