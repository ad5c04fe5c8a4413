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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..errors import BatchNotFound, ExampleFailure, ProviderError, Retryable
from .cache import Cache, batch_key
from .grouping import expand, halve, items
from .lanes import Job, Lane, Part
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
                    reason: str | None = None, show: bool = True, parts: Sequence[Part] | None = None) -> int: ...
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


@dataclass
class _Handle:
    key: str  # the batch record's key in the cache
    id: str
    jobs: list[Job]
    resumed: bool  # found in the cache (submitted by an earlier run), not submitted by this one


async def _submit(engine: BatchHost, lane: Lane, client: BatchClient, bkey: str, chunk: list[Job]) -> _Handle:
    lines = [{"custom_id": j.key, "body": j.request} for j in chunk]
    bid = await _call(engine, "submit", client.submit, lines)
    keys = [j.key for j in chunk]
    engine.cache_op(lambda c: c.record_batch(bkey, lane.identity_json, bid, keys, "submitted"))
    return _Handle(bkey, bid, chunk, resumed=False)


async def _open(engine: BatchHost, lane: Lane, client: BatchClient, chunk: list[Job]) -> _Handle:
    """Resume the batch an earlier run recorded for these requests (not with ``--refresh``), else submit one."""
    keys = [j.key for j in chunk]
    bkey = batch_key(lane.identity_json, keys)
    found = engine.cache_op(lambda c: c.find_batch(bkey, lane.identity_json, set(keys)))
    if found is not None and engine.options.refresh:
        engine.notice(f"{lane.model.name}: --refresh: batch {found[1]} recorded by an earlier run is not resumed; "
                      "submitting the requests again")
        engine.cache_op(lambda c: c.forget_batch(found[0]))
    elif found is not None:
        engine.notice(f"{lane.model.name}: resuming batch {found[1]} ({len(chunk)} requests) instead of "
                      "resubmitting")
        return _Handle(found[0], found[1], chunk, resumed=True)
    return await _submit(engine, lane, client, bkey, chunk)


def chunks(jobs: Sequence[Job], max_lines: int, max_items: int | None) -> list[list[Job]]:
    """Jobs in batches of at most ``max_lines`` lines and ``max_items`` requests (a merged line counts its
    members: OpenAI takes 50,000 embedding inputs per batch, across its lines)."""
    out: list[list[Job]] = []
    current: list[Job] = []
    n = 0
    for job in jobs:
        size = items(job)
        if current and (len(current) >= max_lines or (max_items is not None and n + size > max_items)):
            out.append(current)
            current, n = [], 0
        current.append(job)
        n += size
    if current:
        out.append(current)
    return out


async def _reasons(client: BatchClient, bid: str) -> list[str]:
    try:
        return [" ".join(str(r).split()) for r in await client.errors(bid) if str(r).strip()]
    except Exception:  # the reasons are a courtesy: their absence must not hide the batch's end
        return []


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

    grouping = model.grouping()
    sent = 0
    last_reason = ""
    ended_badly = False
    stop: ProviderError | None = None  # a response that says the model must stop (split by the model)
    while to_send and stop is None:  # a round: its batches; lines refused for their content, halved, go next
        pending = [await _open(engine, lane, client, chunk)
                   for chunk in chunks(to_send, MAX_LINES, grouping.batch_max_items if grouping else None)]
        to_send = []
        sent += sum(len(h.jobs) for h in pending)
        finished: list[tuple[_Handle, str, dict[str, dict[str, Any]]]] = []
        polls = 0
        while pending:
            polls += 1
            for handle in list(pending):
                try:
                    status = await _call(engine, "status", client.status, handle.id)
                    results: dict[str, dict[str, Any]] = {}
                    if status in TERMINAL and status != "failed":
                        results = await _call(engine, "download", client.results, handle.id)
                except BatchNotFound as exc:
                    if not handle.resumed:
                        raise ProviderError(f"batch {handle.id}, submitted by this run, is unknown to the server "
                                            f"({exc.one_line()}); run again to submit it anew, or without --batch "
                                            "to send the requests one by one") from None
                    # another key or project on the same base URL, a server restart: the stored id leads nowhere
                    engine.notice(f"{model.name}: batch {handle.id}, recorded by an earlier run, is unknown to the "
                                  f"server ({exc.one_line()}): forgotten; submitting its requests again")
                    engine.cache_op(lambda c, k=handle.key: c.forget_batch(k))
                    pending[pending.index(handle)] = await _submit(engine, lane, client, handle.key, handle.jobs)
                    continue
                except ProviderError as exc:
                    raise ProviderError(f"{exc.one_line()}; batch {handle.id} stays recorded in the response cache, so "
                                        "the same command resumes it; --refresh submits the requests in a new batch, "
                                        "and without --batch they are sent one by one") from None
                engine.cache_op(lambda c, k=handle.key, s=status: c.update_batch(k, s))
                engine.progress_note(lane, f"batch {handle.id}: {status} (poll {polls})")
                if status in TERMINAL:
                    pending.remove(handle)
                    finished.append((handle, status, results))
            if pending:
                await asyncio.sleep(engine.options.poll_interval)

        for handle, status, results in finished:
            chunk = handle.jobs
            why = ""
            if status != "completed":
                ended_badly = True
                reasons = await _reasons(client, handle.id)
                why = f": {'; '.join(reasons)}" if reasons else " (the server gave no reason)"
            split: dict[str, list[Part] | str] = {}  # a line's response as its members' (merged requests)
            for job in chunk:
                if "response" in results.get(job.key, {}):
                    try:
                        split[job.key] = expand(model, job, results[job.key]["response"])
                    except ExampleFailure as exc:
                        split[job.key] = exc.reason
                    except ProviderError as exc:
                        stop = stop or exc
                        split[job.key] = exc.one_line()
            if engine.cache() is not None:
                engine.store_now([(m.key, lane.identity_json, model.endpoint, m.body_json, r, "batch")
                                  for parts in split.values() if not isinstance(parts, str)
                                  for m, r, _ in parts if r is not None])
            engine.cache_op(lambda c, k=handle.key: c.forget_batch(k))  # ended: a re-run must not resume it
            if stop is not None:  # the model stops, once every batch's usable answers are cached
                continue
            for job in chunk:
                result = results.get(job.key)
                cost_reserved = reserved.get(job.key, 0.0)
                lane.usage.sent += 1  # a batch line counts once, in the run that collects it
                if result is not None and "response" in result:
                    response = result["response"]
                    lane.responses += 1
                    engine.account(lane, cost_reserved, response, batch=True)
                    parts = split[job.key]
                    if isinstance(parts, str):
                        engine.resolve_job(lane, job, reason=f"batch: {parts}")
                    elif job.members is not None:
                        engine.resolve_job(lane, job, parts=parts)
                    else:
                        engine.resolve_job(lane, job, response=response)
                elif result is not None and result.get("refused") and job.members is not None \
                        and len(job.members) > 1:  # refused for one input's content: halve, as requests do
                    lane.usage.errors += 1
                    engine.account(lane, cost_reserved)
                    for half in halve(model, lane.identity_json, job):
                        cost = engine.reserve(lane, half, batch=True)
                        if cost is None:
                            engine.resolve_job(lane, half, reason=BUDGET_EXHAUSTED)
                        else:
                            reserved[half.key] = cost
                            to_send.append(half)
                else:
                    lane.usage.errors += 1
                    engine.account(lane, cost_reserved)
                    if result is not None:
                        reason = f"batch: {result.get('error') or 'no response'}"
                    elif status == "completed":
                        reason = "batch: missing from the batch output"
                    else:
                        reason = f"batch {handle.id} {status}{why}"
                    engine.resolve_job(lane, job, reason=reason)
                    last_reason = reason
            engine.progress_note(lane, f"batch {handle.id}: {status}")
    if stop is not None:
        raise stop
    if sent and lane.responses == 0:  # like the request path's fail-fast: every request failed, none answered
        hint = ("; the batch was forgotten, so the same command submits a new one (or run without --batch to "
                "send the requests one by one)") if ended_badly else ""
        raise ProviderError(f"all {sent} batch requests of model {model.name} failed and none was answered; "
                            f"last reason: {engine.scrub(last_reason)}{hint}")
