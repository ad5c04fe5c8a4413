"""OpenAI, Azure OpenAI and OpenAI-compatible models, scored by label probabilities from logprobs.

Providers: ``openai:MODEL`` (Chat Completions), ``openai-completions:MODEL`` (legacy Completions),
``azure:DEPLOYMENT`` (Azure OpenAI) and ``openai-job:ftjob-…`` (a fine-tuning job's base model, checkpoints
and final model). User documentation: docs/openai.md. The ``openai`` SDK is imported only when a model is
resolved or called, so loading this plugin stays cheap.
"""

from __future__ import annotations

from harness import hookimpl

from .providers import AzureProvider, OpenAIChatProvider, OpenAICompletionsProvider, OpenAIJobProvider

__all__ = ["AzureProvider", "OpenAIChatProvider", "OpenAICompletionsProvider", "OpenAIJobProvider"]


@hookimpl
def register_providers(register):
    register(OpenAIChatProvider())
    register(OpenAICompletionsProvider())
    register(AzureProvider())
    register(OpenAIJobProvider())
