"""What every model that calls an OpenAI-protocol endpoint answers the same way: its pricing key, its rate
limits and its Batch API client (the chat/completions models and the embeddings models alike)."""

from __future__ import annotations

from typing import Any

from harness.providers import BatchClient

from .connection import Connection


class OpenAIEndpoint:
    """Mixin for a ``RequestModel`` with ``model_id``, ``connection`` and ``options`` (``pricing_model``, ``rpm``,
    ``tpm``)."""

    model_id: str
    connection: Connection
    options: Any

    def pricing_key(self) -> str | None:
        if self.options.pricing_model:
            return str(self.options.pricing_model)
        return self.model_id if self.connection.is_openai_platform() else None

    def rate_limits(self) -> tuple[float | None, float | None]:
        return (self.options.rpm, self.options.tpm)

    def batch_client(self) -> BatchClient | None:
        if self.connection.kind != "openai":
            return None  # Azure batch needs a separate global-batch deployment: not supported here
        from .batch import OpenAIBatchClient

        return OpenAIBatchClient(self)
