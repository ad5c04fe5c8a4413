"""The OpenAI Batch API behind :class:`harness.providers.BatchClient` (provider side only).

``submit`` uploads one JSONL file (``purpose="batch"``; each line ``{"custom_id", "method": "POST", "url",
"body"}``) and creates a batch with ``completion_window="24h"``; ``status`` polls it; ``results`` reads the
output and error files and joins them on ``custom_id`` (their order is arbitrary). Each call opens and closes
its own client, so an interrupted run can resume polling from another event loop or process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from harness import jsonio
from harness.errors import BatchNotFound, ExampleFailure, ProviderError
from harness.providers import BatchClient

from .connection import Connection, map_api_error, server_message


class BatchTarget(Protocol):
    """What the batch client needs of the model it submits for (an :class:`.models.OpenAIModel`)."""

    connection: Connection
    endpoint: str

    @property
    def what(self) -> str: ...
    def new_client(self) -> Any: ...

COMPLETION_WINDOW = "24h"


def batch_lines(lines: Sequence[dict[str, Any]], url: str) -> bytes:
    """The JSONL upload: one request per line."""
    out = []
    for line in lines:
        out.append(json.dumps({"custom_id": str(line["custom_id"]), "method": "POST", "url": url,
                               "body": line["body"]}, ensure_ascii=False, sort_keys=False))
    return ("\n".join(out) + "\n").encode("utf-8")


def _error_reason(obj: dict[str, Any]) -> str:
    error = obj.get("error")
    if isinstance(error, dict):
        return f"{error.get('code') or 'error'}: {error.get('message') or ''}".strip()
    response = obj.get("response") or {}
    body = response.get("body") if isinstance(response, dict) else None
    status = response.get("status_code") if isinstance(response, dict) else None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return f"HTTP {status}: {err.get('code') or err.get('type') or 'error'}: {err.get('message') or ''}"
    return f"HTTP {status}" if status else "no response"


def parse_result_lines(text: str) -> dict[str, dict[str, Any]]:
    """Output/error file lines → ``{custom_id: {"response": body} | {"error": reason}}``."""
    out: dict[str, dict[str, Any]] = {}
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            obj = jsonio.loads(raw)
        except json.JSONDecodeError:
            continue  # a damaged line: its request stays without a result, and the engine says so
        cid = obj.get("custom_id")
        if cid is None:
            continue
        response = obj.get("response")
        if isinstance(response, dict) and response.get("status_code") == 200 and \
                isinstance(response.get("body"), dict) and not obj.get("error"):
            out[str(cid)] = {"response": response["body"]}
        else:
            out[str(cid)] = {"error": _error_reason(obj)}
            if isinstance(response, dict) and response.get("status_code") == 400:
                out[str(cid)]["refused"] = True  # for its content: a merged line is halved (the engine)
    return out


def batch_error_lines(batch: Any) -> list[str]:
    """The reasons a batch object gives for failing (``errors.data``: ``code: message (line N, param P)``)."""
    errors = getattr(batch, "errors", None)
    out = []
    for item in (getattr(errors, "data", None) or []):
        where = ", ".join(p for p in (f"line {item.line}" if item.line is not None else "",
                                      f"param {item.param}" if item.param else "") if p)
        text = f"{item.code or 'error'}: {item.message or 'no message'}" + (f" ({where})" if where else "")
        out.append(" ".join(text.split()))
    return out


class OpenAIBatchClient(BatchClient):
    def __init__(self, model: BatchTarget) -> None:
        self.model = model
        self._last: dict[str, Any] = {}  # batch id → the batch object last retrieved (for errors())

    def _error(self, exc: BaseException, batch_id: str | None = None) -> Exception:
        import openai

        if batch_id is not None and isinstance(exc, openai.NotFoundError):
            msg = self.model.connection.scrub(server_message(exc))
            return BatchNotFound(f"Batch API for {self.model.what}: batch {batch_id} not found (404): {msg}")
        err = map_api_error(exc, self.model.connection, f"Batch API for {self.model.what}",
                            not_found="check that this server offers the Batch API and that the batch id is right")
        if isinstance(err, ExampleFailure):
            return ProviderError(err.reason)
        return err

    async def errors(self, batch_id: str) -> list[str]:
        """The server's reasons for a failed, expired or cancelled batch: its ``errors.data`` (token limits,
        input lines that did not validate), from the last status check."""
        batch = self._last.get(batch_id)
        if batch is None:
            import openai

            try:
                async with self.model.new_client() as client:
                    batch = await client.batches.retrieve(batch_id, **self.model.connection.request_options())
            except (openai.OpenAIError, ValueError):
                return []
        return [self.model.connection.scrub(line) for line in batch_error_lines(batch)]

    async def submit(self, lines: Sequence[dict[str, Any]]) -> str:
        import openai

        data = batch_lines(lines, self.model.endpoint)
        opts = self.model.connection.request_options()
        try:
            async with self.model.new_client() as client:
                file = await client.files.create(file=("harness-batch.jsonl", data, "application/jsonl"),
                                                 purpose="batch", **opts)
                batch = await client.batches.create(input_file_id=file.id, endpoint=self.model.endpoint,
                                                    completion_window=COMPLETION_WINDOW, **opts)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._error(exc) from None
        return batch.id

    async def status(self, batch_id: str) -> str:
        import openai

        opts = self.model.connection.request_options()
        try:
            async with self.model.new_client() as client:
                batch = await client.batches.retrieve(batch_id, **opts)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._error(exc, batch_id) from None
        self._last[batch_id] = batch
        return batch.status

    async def results(self, batch_id: str) -> dict[str, dict[str, Any]]:
        import openai

        out: dict[str, dict[str, Any]] = {}
        opts = self.model.connection.request_options()
        try:
            async with self.model.new_client() as client:
                batch = await client.batches.retrieve(batch_id, **opts)
                for file_id in (batch.error_file_id, batch.output_file_id):  # output wins on a clash
                    if file_id:
                        content = await client.files.content(file_id, **opts)
                        out.update(parse_result_lines(content.text))
        except (openai.OpenAIError, ValueError) as exc:
            raise self._error(exc, batch_id) from None
        return out
