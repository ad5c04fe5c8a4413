"""Options of the embeddings baselines (suite ``options:`` or ``--option NAME.KEY=VALUE``; unknown keys are errors).

API keys are never options: ``api_key_env`` names the environment variable that holds the key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from harness.providers import Options

from .._openai_api.options import AzureFields

#: LSA dimensions when ``embeddings-lsa`` names none
DEFAULT_DIMS = 128

#: The options of one classifier only: setting one for the other classifier is an error naming it.
ONLY_FOR = {"C": "logistic", "cv_folds": "logistic", "cv_sample": "logistic", "temperature": "zero-shot"}


class BaselineOptions(Options):
    """The classifier on top of the vectors (docs/embeddings.md). Numbers are finite (``.inf`` and ``.nan`` are
    refused: they would be written into results.json as invalid JSON)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    classifier: Literal["logistic", "zero-shot"] = Field(
        "logistic", description="logistic (regression on the training split's vectors) | zero-shot (cosine "
        "similarity to each label's description or name)")
    input: Literal["text", "prompt"] = Field("text", description="what is embedded: the raw text, or the prompt "
                                             "with its template and separator")
    C: float | None = Field(None, gt=0, description="logistic: the inverse regularisation strength (default: "
                            "chosen by cross-validation on the training split)")
    cv_folds: int = Field(5, ge=2, le=20, description="logistic: folds of the cross-validation that chooses C")
    cv_sample: int = Field(10_000, ge=100, description="logistic: C is chosen on a stratified sample of at most "
                           "this many training examples (then refit on all)")
    temperature: float | None = Field(None, gt=0, description="zero-shot: the softmax temperature (default: fitted "
                                      "on the training split; 0.01 without one)")
    seed: int = Field(0, description="shuffles the cross-validation folds and draws its sample")

    @field_validator("C", "cv_folds", "cv_sample", "temperature")
    @classmethod
    def _for_its_classifier(cls, value: object, info: ValidationInfo) -> object:
        want, chosen = ONLY_FOR[str(info.field_name)], info.data.get("classifier")
        if value is not None and chosen is not None and chosen != want:
            raise ValueError(f"{info.field_name} applies to classifier: {want} only, and this model's classifier "
                             f"is {chosen}: remove it")
        return value


class LsaOptions(BaselineOptions):
    """``embeddings-lsa``: TF-IDF + truncated SVD fitted on the training split."""

    max_features: int = Field(20_000, ge=10, description="TF-IDF vocabulary size (words and bigrams)")


class ServerOptions(BaselineOptions):
    """Where the vectors come from and how requests are sized."""

    api_key_env: str | None = Field(None, description="environment variable holding the API key (default "
                                    "OPENAI_API_KEY / AZURE_OPENAI_API_KEY); 'none' = send no key")
    timeout: float | None = Field(None, gt=0, description="seconds per HTTP request (default: the run's --timeout)")
    dimensions: int | None = Field(None, ge=1, description="sent as `dimensions` (text-embedding-3 models can "
                                   "shorten their vectors)")
    max_inputs: int | None = Field(None, ge=1, le=2048, description="texts per request (default 2048, OpenAI's "
                                   "limit, on OpenAI and Azure; 256 on other servers)")
    max_request_tokens: int | None = Field(None, ge=1, description="tokens summed over one request's texts "
                                           "(default 300000 on OpenAI and Azure; no limit elsewhere)")
    max_input_tokens: int | None = Field(None, ge=1, description="tokens one text may have; a longer text fails "
                                         "before it is sent (default 8192 for OpenAI's models, when the tokenizer "
                                         "is known)")
    tokenizer: Literal["auto", "none", "cl100k_base", "o200k_base"] = Field(
        "auto", description="counts tokens offline (auto: cl100k_base for OpenAI's text-embedding models)")
    encoding_format: Literal["base64", "float"] = Field("base64", description="how vectors travel (base64: 4 bytes "
                                                        "a value); float for a server that refuses base64")
    rpm: float | None = Field(None, gt=0, description="requests per minute to stay under")
    tpm: float | None = Field(None, gt=0, description="tokens per minute to stay under")
    pricing_model: str | None = Field(None, description="model id to look up in the price table")


class EmbeddingsOptions(ServerOptions):
    base_url: str | None = Field(None, description="OpenAI-compatible server, e.g. http://localhost:8000/v1 (vLLM), "
                                 "http://localhost:11434/v1 (Ollama) (default: $OPENAI_BASE_URL, else api.openai.com)")


class AzureEmbeddingsOptions(AzureFields, ServerOptions):
    """azure-embeddings: the embeddings options, and the deployment's endpoint, API version and authentication."""
