"""``embeddings-lsa[:DIMS]``: the embeddings baselines with a local stand-in for an embedding model.

LSA (latent semantic analysis): TF-IDF of words and bigrams, reduced to ``DIMS`` dimensions (128) by a truncated
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
from .classify import BLOCK, blas_threads
from .options import LsaOptions
from .vectors import Matrix

if TYPE_CHECKING:  # pragma: no cover
    from harness.providers import RequestRunner


def _vectorizer(max_features: int | None, vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), max_features=max_features, lowercase=True,
                           vocabulary=vocabulary)


class Lsa:
    """TF-IDF (sublinear, words and bigrams) → projection on the top ``k`` right singular vectors → unit rows.
    Saved as plain arrays (its terms, their idf weights, the projection), which load in milliseconds."""

    def __init__(self, vectorizer: Any, components: np.ndarray) -> None:
        self.vectorizer = vectorizer
        self.components = np.asarray(components, dtype=np.float32)  # k × terms

    @classmethod
    def fit(cls, texts: Sequence[str], dims: int, max_features: int, seed: int) -> Lsa:
        from sklearn.decomposition import TruncatedSVD

        tfidf = _vectorizer(max_features)
        try:
            counts = tfidf.fit_transform(texts)
        except ValueError as exc:  # no words at all
            raise ProviderError(f"LSA cannot be fitted on the training split: {exc}") from None
        k = max(1, min(dims, counts.shape[1] - 1, counts.shape[0] - 1))
        svd = TruncatedSVD(n_components=k, algorithm="randomized", random_state=seed)
        with blas_threads(counts.shape[0] * k):
            svd.fit(counts)
        return cls(tfidf, svd.components_)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        z = np.asarray(self.vectorizer.transform(texts) @ self.components.T, dtype=np.float32)
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        return z / np.where(norms > 0, norms, 1.0).astype(np.float32)

    def state(self) -> dict[str, Any]:
        return {"terms": np.asarray(self.vectorizer.get_feature_names_out(), dtype=str),
                "idf": np.asarray(self.vectorizer.idf_, dtype=np.float64), "components": self.components}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Lsa:
        terms = [str(t) for t in state["terms"]]
        idf, comp = np.asarray(state["idf"], dtype=np.float64), np.asarray(state["components"], dtype=np.float32)
        if (len(set(terms)) != len(terms) or idf.shape != (len(terms),) or comp.ndim != 2
                or comp.shape[1] != len(terms) or not (np.all(np.isfinite(idf)) and np.all(np.isfinite(comp)))):
            raise ValueError("a damaged LSA")
        vectorizer = _vectorizer(None, {t: i for i, t in enumerate(terms)}).fit(terms[:1])  # fixed vocabulary
        vectorizer.idf_ = np.asarray(state["idf"], dtype=np.float64)
        return cls(vectorizer, state["components"])


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
        embedder = None
        if found is not None and isinstance(found[1], dict):
            try:
                embedder = Lsa.from_state(found[1])
            except Exception:  # noqa: BLE001 - a damaged or incomplete file (untrusted input): refit everything
                embedder = None
            if embedder is None or found[0].dims != embedder.components.shape[0]:
                self.baseline.notes.append(f"the LSA saved in {self.baseline.shown_file()} is damaged: refitted")
                found, embedder = None, None
        if embedder is None:
            train = self.baseline.train or ()
            embedder = Lsa.fit([self.baseline.text(ex) for ex in train], self.dims, self.options.max_features,
                               self.options.seed)
        plan = self.baseline.plan(examples, fit=found is None)
        self.matrix = matrix = Matrix(len(plan.texts), "LSA")
        for start in range(0, len(plan.texts), BLOCK):
            matrix.put_block(start, embedder.transform(plan.texts[start:start + BLOCK]))
        failed: dict[int, str] = {}
        self.baseline.zero_vectors(matrix, plan, failed, local=True)
        if found is not None:
            self.baseline.use(found[0])
        else:
            self.baseline.fit(matrix, plan, failed, embedder=embedder.state())
        return self.baseline.predict(examples, matrix, plan, failed)

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
