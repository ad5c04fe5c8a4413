"""Embeddings baselines every fine-tune must beat: a classifier on text embeddings, and zero-shot by label similarity.

Providers: ``embeddings:MODEL`` (an OpenAI-protocol ``/v1/embeddings`` endpoint: OpenAI, vLLM, llama.cpp,
Ollama), ``azure-embeddings:DEPLOYMENT`` (Azure OpenAI) and ``embeddings-lsa[:DIMS]`` (a local stand-in: TF-IDF +
truncated SVD fitted on the training split). On top of the vectors, ``classifier: logistic`` (the default) or
``classifier: zero-shot`` (:mod:`.classify`); the fitted classifier is saved beside the results (:mod:`.store`).
User documentation: docs/embeddings.md. The ``openai`` SDK and scikit-learn are imported when used.
"""

from __future__ import annotations

from harness import hookimpl

from .provider import AzureEmbeddingsProvider, EmbeddingsProvider, LsaProvider

__all__ = ["AzureEmbeddingsProvider", "EmbeddingsProvider", "LsaProvider"]


@hookimpl
def register_providers(register):
    register(EmbeddingsProvider())
    register(AzureEmbeddingsProvider())
    register(LsaProvider())
