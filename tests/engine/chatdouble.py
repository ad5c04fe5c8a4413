"""A minimal chat RequestModel that talks HTTP to an OpenAI-protocol server with the OpenAI SDK.

A test double for the engine (the real OpenAI providers live in ``harness_plugins.providers.openai*``).
It is a plugin file: tests load it in-process with ``load_registry([PATH])`` and subprocesses with
``harness run --plugin PATH``. Spec ``chatdouble:MODEL_ID`` with options ``base_url`` (required),
``rpm``/``tpm``, ``batch`` (offer a BatchClient) and ``client_timeout``. The API key is read from
``CHATDOUBLE_API_KEY`` and never leaves the client.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import openai
from openai import AsyncOpenAI

from harness import hookimpl
from harness.engine import Retryable
from harness.errors import ExampleFailure, ProviderError
from harness.examples import Example, Prediction
from harness.providers import BatchClient, ModelSpec, Options, Provider, RequestModel, Resolved

KEY_ENV = "CHATDOUBLE_API_KEY"


class DoubleOptions(Options):
    base_url: str
    rpm: float | None = None
    tpm: float | None = None
    batch: bool = True
    client_timeout: float = 30.0
    top_logprobs: int = 5


def _retry_after(headers: Any) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms is not None:
        return float(ms) / 1000
    s = headers.get("retry-after")
    return float(s) if s is not None else None


def _map_error(exc: Exception) -> Exception:
    if isinstance(exc, openai.RateLimitError):
        return Retryable("HTTP 429 rate limited", retry_after=_retry_after(exc.response.headers), rate_limited=True)
    if isinstance(exc, openai.AuthenticationError):
        return ProviderError(f"authentication failed ({exc.status_code}): check {KEY_ENV}")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return Retryable(f"HTTP {exc.status_code} server error")
        return ExampleFailure(f"HTTP {exc.status_code}: {exc.message}")
    if isinstance(exc, openai.APITimeoutError):
        return Retryable("client timeout")
    if isinstance(exc, openai.APIConnectionError):
        return Retryable("connection error")
    return exc


class DoubleBatch(BatchClient):
    def __init__(self, model: DoubleModel) -> None:
        self.model = model

    async def submit(self, lines: Sequence[dict[str, Any]]) -> str:
        client = self.model.client()
        jsonl = "".join(json.dumps({"custom_id": ln["custom_id"], "method": "POST", "url": "/v1/chat/completions",
                                    "body": ln["body"]}) + "\n" for ln in lines)
        try:
            f = await client.files.create(file=("batch.jsonl", jsonl.encode(), "application/jsonl"), purpose="batch")
            b = await client.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions",
                                            completion_window="24h")
        except openai.OpenAIError as exc:
            raise _map_error(exc) from None
        return b.id

    async def status(self, batch_id: str) -> str:
        try:
            return (await self.model.client().batches.retrieve(batch_id)).status
        except openai.OpenAIError as exc:
            raise _map_error(exc) from None

    async def results(self, batch_id: str) -> dict[str, dict[str, Any]]:
        client = self.model.client()
        b = await client.batches.retrieve(batch_id)
        out: dict[str, dict[str, Any]] = {}
        for fid in (b.output_file_id, b.error_file_id):
            if not fid:
                continue
            content = await client.files.content(fid)
            for line in content.text.splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                resp = item.get("response") or {}
                if item.get("error"):
                    out[item["custom_id"]] = {"error": str(item["error"].get("message", item["error"]))}
                elif resp.get("status_code") == 200:
                    out[item["custom_id"]] = {"response": resp["body"]}
                else:
                    msg = ((resp.get("body") or {}).get("error") or {}).get("message", "")
                    out[item["custom_id"]] = {"error": f"HTTP {resp.get('status_code')}: {msg}"}
        return out


class DoubleModel(RequestModel):
    endpoint = "/v1/chat/completions"

    def __init__(self, name: str, spec: ModelSpec, labels: Sequence[str], opts: DoubleOptions) -> None:
        super().__init__(name, spec)
        self.model_id = spec.argument
        self.labels = tuple(labels)
        self.opts = opts
        self._client: AsyncOpenAI | None = None

    def client(self) -> AsyncOpenAI:
        if self._client is None:
            self._client = AsyncOpenAI(base_url=self.opts.base_url, api_key=os.environ.get(KEY_ENV, "sk-none"),
                                       max_retries=0, timeout=self.opts.client_timeout)
        return self._client

    def describe(self) -> dict[str, Any]:
        return {"model": self.model_id, "base_url": self.opts.base_url}

    def cache_identity(self) -> dict[str, Any]:
        return {"provider": self.provider, "base_url": self.opts.base_url, "endpoint": self.endpoint}

    def build_request(self, example: Example) -> dict[str, Any]:
        if "UNBUILDABLE" in example.text:
            raise ExampleFailure("prompt cannot be built")
        return {"model": self.model_id, "messages": [dict(m) for m in example.messages], "max_completion_tokens": 1,
                "logprobs": True, "top_logprobs": self.opts.top_logprobs, "temperature": 0}

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            raw = await self.client().chat.completions.with_raw_response.create(**request)
        except openai.OpenAIError as exc:
            raise _map_error(exc) from None
        try:
            return json.loads(raw.http_response.text)
        except json.JSONDecodeError:
            raise Retryable("malformed JSON in the response body") from None

    def parse(self, example: Example, request: dict[str, Any], response: dict[str, Any]) -> Prediction:
        choice = response["choices"][0]
        content = (choice["message"].get("content") or "").strip()
        tops = ((choice.get("logprobs") or {}).get("content") or [{}])[0].get("top_logprobs") or []
        mass = {t["token"].strip(): math.exp(t["logprob"]) for t in tops}
        probs = None
        if mass:
            raw = {lab: mass.get(lab, 0.0) for lab in self.labels}
            total = sum(raw.values())
            probs = {lab: v / total for lab, v in raw.items()} if total > 0 else None
        label = content if content in self.labels else None
        return Prediction(example.id, label=label, probs=probs, output=content)

    def usage(self, response: dict[str, Any]) -> dict[str, int] | None:
        u = response.get("usage")
        return {"prompt_tokens": u["prompt_tokens"], "completion_tokens": u["completion_tokens"]} if u else None

    def estimate_tokens(self, request: dict[str, Any]) -> tuple[int, int] | None:
        return max(1, len(json.dumps(request["messages"])) // 4), int(request["max_completion_tokens"])

    def pricing_key(self) -> str | None:
        return self.model_id

    def rate_limits(self) -> tuple[float | None, float | None]:
        return (self.opts.rpm, self.opts.tpm)

    def batch_client(self) -> BatchClient | None:
        return DoubleBatch(self) if self.opts.batch else None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


class DoubleProvider(Provider):
    name = "chatdouble"
    description = "Engine test double: a chat model behind an OpenAI-protocol server."
    argument_help = "MODEL_ID"
    options_model = DoubleOptions

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        opts = self.parse_options(spec)
        return Resolved(models=[DoubleModel(spec.name, spec, suite.labels, opts)])  # type: ignore[arg-type]


@hookimpl
def register_providers(register: Any) -> None:
    register(DoubleProvider())
