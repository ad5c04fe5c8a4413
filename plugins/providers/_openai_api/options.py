"""Options every Azure OpenAI model takes, whatever it asks the deployment for (chat, completions, embeddings)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from harness.providers import Options


class AzureFields(Options):
    endpoint: str | None = Field(None, description="https://RESOURCE.openai.azure.com "
                                 "(default: $AZURE_OPENAI_ENDPOINT)")
    api_version: str | None = Field(None, description="default: $OPENAI_API_VERSION, else 2024-10-21")
    auth: Literal["auto", "key", "entra"] = Field("auto", description="key, Entra ID (azure-identity), or "
                                                  "auto: the key when its variable is set, else Entra ID")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None
