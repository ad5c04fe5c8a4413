"""Demo models: real scikit-learn text classifiers trained on the suite's training split, in seconds.

``demo:base`` is a weak model trained on a small slice of the training data (it stands in for a base model
that was never fine-tuned on the task). ``demo-job:EPOCHS`` imitates a fine-tuning job: a TF-IDF + logistic
SGD classifier trained in mini-batches for EPOCHS epochs (default 4), with a checkpoint at the end of each
epoch named like OpenAI's (``ckpt-step-N``) and a per-step training curve like a job's result CSV. It expands
into ``NAME/base``, ``NAME/ckpt-step-N`` for every epoch but the last, and ``NAME/final``.
``demo:finetuned`` and ``demo:ckpt-step-N`` name a single model of the default job.
Everything is deterministic: the same data gives the same models on every machine.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from harness import hookimpl
from harness.errors import InputError, UsageError
from harness.examples import Example, Prediction
from harness.providers import LocalModel, ModelFacts, ModelSpec, Options, Provider, Resolved

from ._common import predictions_from_proba

if TYPE_CHECKING:  # scikit-learn is imported when a demo model is trained (it takes ~1 s to import)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

DEFAULT_EPOCHS = 4


class DemoOptions(Options):
    base_per_class: int = 15
    batch_size: int = 64
    learning_rate: float = 3.0
    seed: int = 0


@dataclass
class DemoJob:
    base: Pipeline
    checkpoints: list[tuple[int, int, Pipeline]]  # (epoch, step, model)
    curves: dict[str, list[float]] = field(default_factory=dict)
    n_train: int = 0
    base_n: int = 0


def _vectorizer() -> TfidfVectorizer:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, max_features=20000, lowercase=True)


def _base_slice(train: Sequence[Example], labels: Sequence[str], per_class: int) -> list[Example]:
    taken: dict[str, int] = {lab: 0 for lab in labels}
    out = []
    for ex in train:  # the first few of each class, in file order: deterministic
        if taken[ex.label] < per_class:
            taken[ex.label] += 1
            out.append(ex)
    return out


def _sgd(opts: DemoOptions) -> SGDClassifier:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", alpha=1e-4, learning_rate="constant", eta0=opts.learning_rate,
                         random_state=opts.seed)


def train_job(train: Sequence[Example], labels: Sequence[str], epochs: int, opts: DemoOptions) -> DemoJob:
    from sklearn.pipeline import Pipeline

    classes = np.array(list(labels))
    slice_ = _base_slice(train, labels, opts.base_per_class)
    base_vec = _vectorizer().fit([ex.text for ex in slice_])
    base_clf = _sgd(opts)
    xb, yb = base_vec.transform([ex.text for ex in slice_]), np.array([ex.label for ex in slice_])
    for _ in range(3):
        base_clf.partial_fit(xb, yb, classes=classes)
    base = Pipeline([("tfidf", base_vec), ("clf", base_clf)])

    vec = _vectorizer().fit([ex.text for ex in train])
    x = vec.transform([ex.text for ex in train])
    y = np.array([ex.label for ex in train])
    clf = _sgd(opts)
    rng = np.random.default_rng(opts.seed)
    steps_per_epoch = math.ceil(len(train) / opts.batch_size)
    curves: dict[str, list[float]] = {"step": [], "epoch": [], "train_loss": [], "train_accuracy": []}
    checkpoints = []
    step = 0
    fitted = False
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(train))
        for b in range(steps_per_epoch):
            idx = order[b * opts.batch_size:(b + 1) * opts.batch_size]
            xs, ys = x[idx], y[idx]
            step += 1
            if fitted:  # the batch's loss before the update, as a fine-tuning job reports it
                p = clf.predict_proba(xs)
                col = {c: i for i, c in enumerate(clf.classes_)}
                pt = np.clip(p[np.arange(len(ys)), [col[v] for v in ys]], 1e-15, 1)
                curves["step"].append(step)
                curves["epoch"].append(epoch)
                curves["train_loss"].append(round(float(-np.log(pt).mean()), 6))
                curves["train_accuracy"].append(round(float((clf.classes_[p.argmax(1)] == ys).mean()), 6))
            clf.partial_fit(xs, ys, classes=classes)
            fitted = True
        checkpoints.append((epoch, step, Pipeline([("tfidf", vec), ("clf", copy.deepcopy(clf))])))
    return DemoJob(base=base, checkpoints=checkpoints, curves=curves, n_train=len(train), base_n=len(slice_))


_JOBS: dict[tuple[Any, ...], DemoJob] = {}


def training_split(suite: Any) -> Any:
    """The suite's training split, read as the run reads it (an error when there is none or it cannot be read:
    ``harness validate`` says so through :meth:`DemoProvider.model_facts`, before a run)."""
    train = suite.train
    if train is None:
        raise InputError("the demo provider trains on the suite's training split, but the suite names no "
                         "training file", file=suite.path, field="data.train")
    return train


def get_job(suite: Any, epochs: int, opts: DemoOptions) -> DemoJob:
    train = training_split(suite)
    key = (train.sha256, tuple(suite.labels), epochs, opts.model_dump_json())
    if key not in _JOBS:
        _JOBS[key] = train_job(train.examples, suite.labels, epochs, opts)
    return _JOBS[key]


class DemoModel(LocalModel):
    def __init__(self, name: str, spec: ModelSpec, pipeline: Pipeline, labels: Sequence[str],
                 info: dict[str, Any]) -> None:
        super().__init__(name, spec)
        self.pipeline = pipeline
        self.labels = tuple(labels)
        self.info = info

    def describe(self) -> dict[str, Any]:
        return dict(self.info)

    def predict_all(self, examples: Sequence[Example]) -> list[Prediction]:
        proba = self.pipeline.predict_proba([ex.text for ex in examples])
        return predictions_from_proba(examples, list(self.pipeline.classes_), proba, self.labels)


def _epochs(text: str, spec: ModelSpec) -> int:
    if not text:
        return DEFAULT_EPOCHS
    if not text.isdigit() or not 1 <= int(text) <= 50:
        raise UsageError(f"{spec.origin}: model {spec.name!r}: demo-job takes a number of epochs (1-50), "
                         f"got {text!r}")
    return int(text)


class _TrainsOnSuite(Provider):
    """The demo providers: models trained on the suite's training split."""

    options_model = DemoOptions

    def model_facts(self, spec: ModelSpec, suite: Any) -> ModelFacts | None:
        self.parse_options(spec)
        training_split(suite)  # the models train on it: a file the run cannot read is an error for validate too
        return None  # no tokenizer and no context window


class DemoProvider(_TrainsOnSuite):
    name = "demo"
    description = "Demo scikit-learn models trained on the suite's training split (no network, no key)."
    argument_help = "base | finetuned | ckpt-step-N"

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        opts = self.parse_options(spec)
        job = get_job(suite, DEFAULT_EPOCHS, opts)
        arg = spec.argument or "finetuned"
        if arg == "base":
            return Resolved([DemoModel(spec.name, spec, job.base, suite.labels,
                                       {"role": "base", "trained_on": job.base_n})])
        if arg in ("finetuned", "final"):
            epoch, step, pipe = job.checkpoints[-1]
            return Resolved([DemoModel(spec.name, spec, pipe, suite.labels,
                                       {"role": "finetuned", "epoch": epoch, "step": step,
                                        "trained_on": job.n_train})])
        m = re.fullmatch(r"ckpt-step-(\d+)", arg)
        if m:
            for epoch, step, pipe in job.checkpoints:
                if step == int(m.group(1)):
                    return Resolved([DemoModel(spec.name, spec, pipe, suite.labels,
                                               {"role": "checkpoint", "epoch": epoch, "step": step,
                                                "trained_on": job.n_train})])
            steps = ", ".join(str(s) for _, s, _ in job.checkpoints)
            raise UsageError(f"{spec.origin}: model {spec.name!r}: no checkpoint at step {m.group(1)} "
                             f"(checkpoints: {steps})")
        raise UsageError(f"{spec.origin}: model {spec.name!r}: demo takes {self.argument_help}, got {arg!r}")


class DemoJobProvider(_TrainsOnSuite):
    name = "demo-job"
    description = "A demo fine-tuning job: expands into its base model, per-epoch checkpoints and final model."
    argument_help = "EPOCHS (default 4)"

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        opts = self.parse_options(spec)
        job = get_job(suite, _epochs(spec.argument, spec), opts)
        models = [DemoModel(f"{spec.name}/base", spec, job.base, suite.labels,
                            {"role": "base", "trained_on": job.base_n})]
        ckpts = []
        for i, (epoch, step, pipe) in enumerate(job.checkpoints):
            last = i == len(job.checkpoints) - 1
            name = f"{spec.name}/final" if last else f"{spec.name}/ckpt-step-{step}"
            models.append(DemoModel(name, spec, pipe, suite.labels,
                                    {"role": "finetuned" if last else "checkpoint", "epoch": epoch,
                                     "step": step, "trained_on": job.n_train}))
            ckpts.append({"model": name, "step": step, "epoch": epoch})
        training = {"source": spec.spec, "kind": "demo-job", "base_model": f"{spec.name}/base",
                    "checkpoints": ckpts, "curves": job.curves}
        return Resolved(models, training)


@hookimpl
def register_providers(register):
    register(DemoProvider())
    register(DemoJobProvider())
