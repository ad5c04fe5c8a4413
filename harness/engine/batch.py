"""``--batch``: send a model's uncached requests as one Batch API job instead of one request each.

Cached examples are reused; the rest go into one batch per model (split at 50,000 lines) through the
model's :class:`~harness.providers.BatchClient`. The batch id is recorded in the cache database, keyed by
the model's identity and the set of request keys, before polling starts: an interrupted run resumes
polling the same batch instead of submitting a new one. When the batch ends, its output and error files
are joined on ``custom_id`` (the request's cache key), every response is cached, then parsed. Every cache
access goes through the engine (:meth:`~harness.engine.Engine.cache_op`, :meth:`~harness.engine.Engine.store_now`),
so a cache error is a notice and the paid-for results are kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..errors import ProviderError, Retryable
from .cache import Cache, batch_key
from .lanes import Job, Lane
from .options import BUDGET_EXHAUSTED, EngineOptions

if TYPE_CHECKING:  # pragma: no cover
    from ..providers import BatchClient

T = TypeVar("T")

MAX_LINES = 50_000
TERMINAL = ("completed", "failed", "expired", "cancelled")


class BatchHost(Protocol):
    """What a batch needs of the engine (:class:`harness.engine.core.Engine`): its options, retry delays,
    guarded cache access, budget and usage booking, and notices."""

    options: EngineOptions

    def cache(self) -> Cache | None: ...
    def cache_op(self, op: Callable[[Cache], T]) -> T | None: ...
    def store_now(self, rows: Sequence[tuple[Any, ...]]) -> None: ...
    def retry_delay(self, attempt: int, retry_after: float | None) -> float: ...
    def reserve(self, lane: Lane, job: Job, batch: bool = False) -> float | None: ...
    def account(self, lane: Lane, reserved: float, response: dict[str, Any] | None = None,
                batch: bool = False) -> dict[str, int] | None: ...
    def resolve_job(self, lane: Lane, job: Job, response: dict[str, Any] | None = None,
                    reason: str | None = None, show: bool = True) -> int: ...
    def progress_note(self, lane: Lane, text: str) -> None: ...
    def notice(self, text: str) -> None: ...
    def scrub(self, text: str) -> str: ...


async def _call(engine: BatchHost, what: str, fn: Any, *args: Any) -> Any:
    """A batch-client call, retried like a request when it raises :class:`Retryable`."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await fn(*args)
        except Retryable as exc:
            if attempt >= engine.options.max_attempts:
                raise ProviderError(f"batch API: {what} failed: {exc.reason} "
                                    f"(gave up after {attempt} attempts)") from None
            await asyncio.sleep(engine.retry_delay(attempt, exc.retry_after))


async def run_batch(engine: BatchHost, lane: Lane, jobs: Sequence[Job], client: BatchClient) -> None:
    model = lane.model
    if engine.cache() is None:
        engine.notice(f"--batch without a cache: if this run of {model.name} is interrupted, its batch "
                      "cannot be resumed")

    reserved: dict[str, float] = {}
    to_send: list[Job] = []
    for job in jobs:
        cost = engine.reserve(lane, job, batch=True)
        if cost is None:
            engine.resolve_job(lane, job, reason=BUDGET_EXHAUSTED)
            continue
        reserved[job.key] = cost
        to_send.append(job)

    handles: list[tuple[str, str, list[Job]]] = []  # (batch key, batch id, jobs)
    for start in range(0, len(to_send), MAX_LINES):
        chunk = to_send[start:start + MAX_LINES]
        keys = [j.key for j in chunk]
        bkey = batch_key(lane.identity_json, keys)
        found = engine.cache_op(lambda c, bkey=bkey, keys=keys: c.find_batch(bkey, lane.identity_json, set(keys)))
        if found is not None:
            bkey, bid, _ = found
            engine.notice(f"{model.name}: resuming batch {bid} ({len(chunk)} requests) instead of resubmitting")
        else:
            lines = [{"custom_id": j.key, "body": j.request} for j in chunk]
            bid = await _call(engine, "submit", client.submit, lines)
            engine.cache_op(lambda c, bkey=bkey, bid=bid, keys=keys: c.record_batch(bkey, lane.identity_json, bid, keys,
                                                                                   "submitted"))
        handles.append((bkey, bid, chunk))

    pending = list(handles)
    sent = sum(len(chunk) for _, _, chunk in handles)
    last_reason = ""
    finished: list[tuple[tuple[str, str, list[Job]], str]] = []
    polls = 0
    while pending:
        polls += 1
        for handle in list(pending):
            bkey, bid, _ = handle
            status = await _call(engine, "status", client.status, bid)
            engine.cache_op(lambda c, bkey=bkey, status=status: c.update_batch(bkey, status))
            engine.progress_note(lane, f"batch {bid}: {status} (poll {polls})")
            if status in TERMINAL:
                pending.remove(handle)
                finished.append((handle, status))
        if pending:
            await asyncio.sleep(engine.options.poll_interval)

    for (bkey, bid, chunk), status in finished:
        results: dict[str, dict[str, Any]] = {}
        if status != "failed":
            results = await _call(engine, "download", client.results, bid)
        if engine.cache() is not None:
            engine.store_now([(j.key, lane.identity_json, model.endpoint, j.body_json, results[j.key]["response"],
                               "batch") for j in chunk if "response" in results.get(j.key, {})])
            engine.cache_op(lambda c, bkey=bkey: c.forget_batch(bkey))
        for job in chunk:
            result = results.get(job.key)
            cost_reserved = reserved.get(job.key, 0.0)
            lane.usage.sent += 1  # a batch line counts once, in the run that collects it
            if result is not None and "response" in result:
                response = result["response"]
                lane.responses += 1
                engine.account(lane, cost_reserved, response, batch=True)
                engine.resolve_job(lane, job, response=response)
            else:
                lane.usage.errors += 1
                engine.account(lane, cost_reserved)
                if result is not None:
                    reason = f"batch: {result.get('error') or 'no response'}"
                elif status == "completed":
                    reason = "batch: missing from the batch output"
                else:
                    reason = f"batch {status}"
                engine.resolve_job(lane, job, reason=reason)
                last_reason = reason
        engine.progress_note(lane, f"batch {bid}: {status}")
    if sent and lane.responses == 0:  # like the request path's fail-fast: every request failed, none answered
        raise ProviderError(f"all {sent} batch requests of model {model.name} failed and none was answered; "
                            f"last reason: {engine.scrub(last_reason)}")
