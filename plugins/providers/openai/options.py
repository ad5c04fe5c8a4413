"""Options of the OpenAI providers (suite ``options:`` or ``--option NAME.KEY=VALUE``). Unknown keys are errors.

API keys are never options: ``api_key_env`` names the environment variable that holds the key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from harness.providers import Options

from .._openai_api.options import AzureFields

Scoring = Literal["first-token", "full"]


class CommonOptions(Options):
    api_key_env: str | None = Field(None, description="environment variable holding the API key "
                                    "(default OPENAI_API_KEY / AZURE_OPENAI_API_KEY); 'none' = send no key")
    timeout: float | None = Field(None, gt=0, description="seconds per HTTP request; default: the run's "
                                  "--timeout per attempt governs (job and batch calls: the SDK's 600 s)")
    context_window: int | None = Field(None, gt=0, description="prompt + output tokens the model accepts, for "
                                       "`harness validate` (default: from the model name, if known)")
    seed: int | None = Field(None, description="sent as `seed` (best-effort determinism)")
    logit_bias: bool = Field(False, description="add +100 to the labels' first tokens (needs a tokenizer)")
    case_insensitive: bool = Field(False, description="match labels regardless of case")
    tokenizer: str = Field("auto", description="auto (the server's tokenize endpoint, else from the model name) | "
                           "server | none (text matching) | o200k_base | cl100k_base | PATH to the model's "
                           "tokenizer.json or folder")
    rpm: float | None = Field(None, gt=0, description="requests per minute to stay under")
    tpm: float | None = Field(None, gt=0, description="tokens per minute to stay under")
    pricing_model: str | None = Field(None, description="model id to look up in the price table")

    @field_validator("tokenizer")
    @classmethod
    def _tokenizer(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("tokenizer is empty: use auto, server, none, o200k_base, cl100k_base or a path")
        return value


class ChatFields(CommonOptions):
    """Options of every Chat Completions model (OpenAI, compatible servers, Azure)."""

    top_logprobs: int = Field(20, ge=1, le=20, description="top-k tokens returned (OpenAI allows up to 20)")
    max_tokens_field: Literal["max_completion_tokens", "max_tokens"] = Field(
        "max_completion_tokens", description="use max_tokens for older compatible servers")


class ChatOptions(ChatFields):
    base_url: str | None = Field(None, description="OpenAI-compatible server, e.g. http://localhost:8000/v1 "
                                 "(default: $OPENAI_BASE_URL, else api.openai.com)")
    scoring: Scoring = Field("first-token", description="first-token (top-k logprobs) | full (each label's whole "
                             "token sequence, exact: vLLM's prompt_logprobs)")


class CompletionsOptions(CommonOptions):
    base_url: str | None = Field(None, description="OpenAI-compatible server (default: $OPENAI_BASE_URL)")
    top_logprobs: int = Field(5, ge=1, le=20, description="sent as `logprobs` (OpenAI allows up to 5)")
    scoring: Scoring = Field("first-token", description="first-token (top-k logprobs) | full (each label's whole "
                             "token sequence, exact: echo + logprobs)")


class AzureOptions(AzureFields, ChatFields):
    """azure: the chat options, and the deployment's endpoint, API version and authentication."""


class JobOptions(ChatOptions):
    """openai-job: connection and scoring options, applied to the base model, every checkpoint and the final."""
