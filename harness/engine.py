"""The request engine: runs many :class:`~harness.providers.RequestModel` requests concurrently.

Providers describe single requests; the engine decides how many are in flight, retries transient
failures and records every per-example failure with its reason, so one bad example never ends a run.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from .errors import ExampleFailure
from .examples import Example, Prediction

if TYPE_CHECKING:  # pragma: no cover
    from .providers import RequestModel


class Retryable(Exception):
    """A transient failure (429, 5xx, timeout, connection). ``retry_after`` is the server's hint in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(reason)


@dataclass
class EngineOptions:
    concurrency: int = 16
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0


class Engine:
    """Shared by every model of a run, so the concurrency limit is shared fairly across models."""

    def __init__(self, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()
        self._slots = asyncio.Semaphore(self.options.concurrency)

    async def run_requests(self, model: "RequestModel", examples: Sequence[Example]) -> list[Prediction]:
        return list(await asyncio.gather(*(self._one(model, ex) for ex in examples)))

    async def _one(self, model: "RequestModel", example: Example) -> Prediction:
        try:
            request = model.build_request(example)
        except ExampleFailure as exc:
            return Prediction.failed(example.id, exc.reason)
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._slots:
                    response = await model.send(request)
                prediction = model.parse(example, request, response)
                prediction.extra.setdefault("request", request)
                return prediction
            except ExampleFailure as exc:
                return Prediction.failed(example.id, exc.reason, request=request)
            except Retryable as exc:
                if attempt >= self.options.max_attempts:
                    return Prediction.failed(example.id, f"{exc.reason} (gave up after {attempt} attempts)",
                                             request=request)
                await asyncio.sleep(self._delay(attempt, exc.retry_after))

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.options.backoff_max)
        base = min(self.options.backoff_base * 2 ** (attempt - 1), self.options.backoff_max)
        return base * (1 + random.random() * 0.25)

    async def aclose(self) -> None:
        """Flush caches and close resources (nothing to do in the in-memory engine)."""


def json_safe(value: Any) -> Any:
    """Best-effort conversion of provider payloads for results files."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
