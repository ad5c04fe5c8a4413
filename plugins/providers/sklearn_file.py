"""``sklearn:PATH`` — a scikit-learn classifier or pipeline saved to disk that yields class probabilities.

``.skops`` files are loaded with skops (no code runs; only types skops trusts, plus any you list in the
``trust`` option). Pickle/joblib files can run arbitrary code when loaded, so they need the explicit
``trust_pickle: true`` option.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from harness import hookimpl
from harness.errors import InputError
from harness.examples import Example, Prediction
from harness.providers import LocalModel, ModelSpec, Options, Provider, Resolved

from ._common import input_texts, model_file, predictions_from_proba, shown_path


class SklearnOptions(Options):
    trust_pickle: bool = False
    trust: list[str] = []
    input: Literal["text", "prompt"] = "text"


def load_estimator(path: Path, opts: SklearnOptions, field: str) -> Any:
    if path.suffix == ".skops":
        import skops.io as sio

        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as exc:
            raise InputError(f"not a readable skops file: {exc}", file=path, field=field) from None
        missing = [t for t in untrusted if t not in opts.trust]
        if missing:
            raise InputError(f"the file contains types skops does not trust: {', '.join(missing)}; "
                             "list the ones you trust in the model's `trust` option", file=path, field=field)
        return sio.load(path, trusted=untrusted or None)
    if not opts.trust_pickle:
        raise InputError("loading a pickle can run arbitrary code: save the model with skops, or set the "
                         "model's option trust_pickle: true (--option NAME.trust_pickle=true) if you trust "
                         "this file", file=path, field=field)
    try:
        if path.suffix == ".joblib":
            import joblib

            return joblib.load(path)
        with path.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - explicitly trusted by the user
    except Exception as exc:
        raise InputError(f"cannot unpickle: {exc}", file=path, field=field) from None


class SklearnModel(LocalModel):
    def __init__(self, name: str, spec: ModelSpec, estimator: Any, labels: Sequence[str], path: Path,
                 opts: SklearnOptions) -> None:
        super().__init__(name, spec)
        self.estimator = estimator
        self.labels = tuple(labels)
        self.path = path
        self.shown = path.name  # the file as results and reports name it (set from the suite by the provider)
        self.opts = opts

    def describe(self) -> dict[str, Any]:
        return {"path": self.shown, "estimator": type(self.estimator).__name__, "input": self.opts.input}

    def predict_all(self, examples: Sequence[Example]) -> list[Prediction]:
        proba = self.estimator.predict_proba(input_texts(examples, self.opts.input))
        return predictions_from_proba(examples, [str(c) for c in self.estimator.classes_], proba, self.labels)


class SklearnProvider(Provider):
    name = "sklearn"
    description = "A scikit-learn classifier/pipeline saved with skops (or a trusted pickle)."
    argument_help = "PATH to a .skops (or .pkl/.joblib with trust_pickle) file"
    options_model = SklearnOptions

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        opts = self.parse_options(spec)
        path = model_file(spec, suite, "model file")
        field = f"models.{spec.name}"
        est = load_estimator(path, opts, field)
        if not hasattr(est, "predict_proba") or not hasattr(est, "classes_"):
            raise InputError("the estimator has no predict_proba/classes_ (is it fitted, and a classifier?)",
                             file=path, field=field)
        classes = [str(c) for c in est.classes_]
        unknown = [c for c in classes if c not in suite.labels]
        if unknown:
            raise InputError(f"the classifier's classes {unknown} are not in the suite's label set "
                             f"({', '.join(suite.labels)})", file=path, field=field)
        model = SklearnModel(spec.name, spec, est, suite.labels, path, opts)
        model.shown = shown_path(path, suite)
        return Resolved([model])


@hookimpl
def register_providers(register):
    register(SklearnProvider())
