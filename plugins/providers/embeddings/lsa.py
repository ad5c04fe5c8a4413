"""``embeddings-lsa[:DIMS]``: the embeddings baselines with a local stand-in for an embedding model.

LSA (latent semantic analysis): TF-IDF of words and bigrams, reduced to ``DIMS`` dimensions (256) by a truncated
SVD, rows scaled to length 1 — fitted on the suite's training split, on this machine, in a second, with nothing to
download and no network. It is a weak embedding beside a trained model's (it knows only the words of the training
split), which is why it serves the demo and tests: the classifiers on top of it (:mod:`.classify`) are the same as
on a server's vectors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import ProviderError
from harness.examples import Example, Prediction
from harness.providers import LocalModel, ModelSpec, SuiteView

from . import store
from .baseline import Baseline
from .classify import BLOCK
from .options import LsaOptions
from .vectors import Matrix

if TYPE_CHECKING:  # pragma: no cover
    from harness.providers import RequestRunner

DEFAULT_DIMS = 256


def fit_embedder(texts: Sequence[str], dims: int, max_features: int, seed: int) -> Any:
    """TF-IDF (sublinear, words and bigrams) → truncated SVD → unit rows, fitted on ``texts``."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), max_features=max_features, lowercase=True)
    try:
        counts = tfidf.fit_transform(texts)
    except ValueError as exc:  # no words at all
        raise ProviderError(f"LSA cannot be fitted on the training split: {exc}") from None
    k = max(1, min(dims, counts.shape[1] - 1, counts.shape[0] - 1))
    svd = TruncatedSVD(n_components=k, algorithm="randomized", random_state=seed)
    svd.fit(counts)
    return make_pipeline(tfidf, svd, Normalizer())


class LsaModel(LocalModel):
    def __init__(self, name: str, spec: ModelSpec, options: LsaOptions, suite: SuiteView, dims: int) -> None:
        super().__init__(name, spec)
        self.options = options
        self.dims = dims
        self.suite = suite
        self.baseline = Baseline(name, options, suite, self._identity())
        self.matrix: Matrix | None = None

    def _identity(self) -> dict[str, Any]:
        train = self.suite.train
        rows = train.examples if train is not None else ()
        text = (lambda ex: ex.prompt) if self.options.input == "prompt" else (lambda ex: ex.text)
        return {"api": "lsa", "dimensions": self.dims, "max_features": self.options.max_features,
                "seed": self.options.seed, "fitted_on": store.texts_digest((text(ex), "") for ex in rows)}

    def predict_all(self, examples: Sequence[Example]) -> list[Prediction]:
        found = self.baseline.saved()
        embedder = found[1] if found is not None else None
        if embedder is None:
            train = self.baseline.train or ()
            embedder = fit_embedder([self.baseline.text(ex) for ex in train], self.dims,
                                    self.options.max_features, self.options.seed)
        plan = self.baseline.plan(examples, fit=found is None)
        self.matrix = matrix = Matrix(len(plan.texts), "LSA")
        for start in range(0, len(plan.texts), BLOCK):
            matrix.put_block(start, np.asarray(embedder.transform(plan.texts[start:start + BLOCK]), dtype=np.float32))
        if found is not None:
            self.baseline.use(found[0])
        else:
            self.baseline.fit(matrix, plan, {}, embedder=embedder)
        return self.baseline.predict(examples, matrix, plan, {})

    async def predict(self, examples: Sequence[Example], engine: RequestRunner) -> list[Prediction]:
        preds = await asyncio.to_thread(self.predict_all, examples)
        for note in self.baseline.notes:
            engine.notice(f"{self.name}: {note}")
        return preds

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "embedding": "LSA: TF-IDF (words and bigrams) + truncated SVD, fitted on the training split (a local "
                         "stand-in for an embedding model)",
            "dimensions": self.matrix.dims if self.matrix is not None else self.dims,
            "max_features": self.options.max_features}
        if self.matrix is not None:
            out["vectors"] = {"rows": self.matrix.n, "dtype": "float32", "bytes": self.matrix.nbytes}
        out.update(self.baseline.describe())
        return out
