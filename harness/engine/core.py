"""The request engine: runs many :class:`~harness.providers.RequestModel` requests concurrently.

Providers describe single requests; the engine owns everything else, for any provider:

* a bounded number of requests in flight (``concurrency``), shared round-robin between the models of a
  run (one queue per model, so no model waits for another to finish): :mod:`harness.engine.scheduler`,
  :mod:`harness.engine.lanes`;
* per-target rate limits (:mod:`harness.engine.ratelimit`): requests and tokens per minute, Retry-After pauses
  and an adaptive in-flight cap that halves on a 429;
* retries of transient failures (429, 5xx, timeouts, connection errors) after the server's Retry-After or
  a jittered exponential backoff (:mod:`harness.engine.retry`); past ``max_attempts`` the example is recorded
  as failed with its reason and the run goes on — unless the model has had no response at all yet and its
  first ``FAIL_FAST_AFTER`` requests all failed: then the model is stopped with the reason (exit 3); the
  loop that sends, retries and books each request is :mod:`harness.engine.requests`;
* the durable response cache (:mod:`harness.engine.cache`, written through :mod:`harness.engine.cachewriter`):
  cached requests are never sent again, every new response is committed as it arrives; ``offline`` answers
  from the cache alone;
* token usage, cost and the ``max_cost`` budget (:mod:`harness.engine.pricing`, :mod:`harness.engine.ledger`);
* the Batch API (:mod:`harness.engine.batch`) when ``batch`` is set and the model has a batch client;
* several examples per request for an endpoint that takes a list of inputs (:mod:`harness.engine.grouping`),
  cached one per example all the same;
* progress display (:mod:`harness.engine.progress`).

This module is the engine's face: :class:`Engine` prepares a model's requests, answers what it can from the
cache, and hands the rest to the scheduler (or the Batch API).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ExampleFailure, ProviderError
from ..examples import Example, Prediction
from .batch import run_batch
from .cache import Cache, SecretScanner, canonical_json, request_key
from .cachewriter import CacheWriter
from .grouping import pack
from .lanes import Job, Lane, Part, estimate_tokens
from .ledger import Ledger
from .options import NOT_IN_CACHE, EngineOptions
from .pricing import ModelUsage, Price, PriceTable
from .progress import Progress, make_progress
from .ratelimit import RateLimit
from .requests import RequestLoop
from .retry import RetryPolicy
from .runtime import GcTuning, paused_gc
from .scheduler import Scheduler

if TYPE_CHECKING:  # pragma: no cover
    from ..providers import RequestModel

T = TypeVar("T")
#: seconds a stopped model's requests in flight may take to finish before they are abandoned
STOP_GRACE = 5.0


class Engine:
    """Shared by every model of a run, so the concurrency limit is shared fairly across models."""

    def __init__(self, options: EngineOptions | None = None, prices: PriceTable | None = None,
                 console: Any = None) -> None:
        self.options = options or EngineOptions()
        self.prices = prices or PriceTable.load()
        self.console = console
        self.ledger = Ledger(self.options.max_cost)
        self.budget = self.ledger.budget
        self.usage: dict[str, ModelUsage] = {}
        self.notices: list[str] = []
        self.secrets = SecretScanner()
        self.policy = RetryPolicy(self.options)
        self.responses = CacheWriter(self.options, self.notice)
        self.scheduler = Scheduler(self.options)
        self.loop = RequestLoop(self.options, self.scheduler, self.policy, self.ledger, self.responses)
        self._gc = GcTuning()
        self._progress: Progress | None = None

    # --- public -------------------------------------------------------------------------------------

    @property
    def cache_path(self) -> Path | None:
        return self.responses.path

    @property
    def budget_exhausted(self) -> bool:
        return self.ledger.exhausted

    def price_for(self, model: RequestModel) -> Price | None:
        return self.prices.lookup(model.name, model.pricing_key())

    def limit_for(self, model: RequestModel) -> RateLimit:
        """CLI --rpm/--tpm, else the suite's entry for the model name, provider or "default", else the model's."""
        rpm, tpm = model.rate_limits()
        for key in ("default", model.provider, model.name):
            entry = self.options.rate_limits.get(key)
            if entry is not None:
                rpm = entry.rpm if entry.rpm is not None else rpm
                tpm = entry.tpm if entry.tpm is not None else tpm
        cli = self.options.rate_limit
        return RateLimit(cli.rpm if cli.rpm is not None else rpm, cli.tpm if cli.tpm is not None else tpm)

    def notice(self, text: str) -> None:
        """Tell the user once (the console, else stderr — whatever the progress mode) and keep it for
        results.json ``engine.notices``."""
        self.notices.append(text)
        if self.console is not None:
            from rich.markup import escape

            self.console.print(f"[yellow]notice:[/] {escape(text)}", soft_wrap=True)  # one line each in a log
        else:
            print(f"notice: {text}", file=sys.stderr)

    def scrub(self, text: str) -> str:
        """``text`` without any API key (failure reasons and errors that end up in results)."""
        return self.secrets.scrub(text)

    def progress_note(self, lane: Lane, text: str) -> None:
        """Show a status next to the model's progress (e.g. a batch's state)."""
        lane.advance(note=text)

    def backoff(self, attempt: int) -> float:
        """Jittered exponential backoff before attempt ``attempt + 1`` (see :class:`RetryPolicy`)."""
        return self.policy.backoff(attempt)

    def retry_delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (requests and batch-API calls alike): the server's
        Retry-After, capped, else a jittered exponential backoff (see :class:`RetryPolicy`)."""
        return self.policy.delay(attempt, retry_after)

    def estimate(self, model: RequestModel, job: Job) -> tuple[int, int]:
        """(prompt, max completion) tokens of a request: the provider's tokenizer, else a high guess."""
        return estimate_tokens(model, job)

    def reserve(self, lane: Lane, job: Job, batch: bool = False) -> float | None:
        """Reserve a request's estimated cost against ``max_cost`` (see :class:`Ledger`)."""
        return self.ledger.reserve(lane, job, batch=batch)

    def account(self, lane: Lane, reserved: float, response: dict[str, Any] | None = None,
                batch: bool = False) -> dict[str, int] | None:
        """Book a request's outcome against usage and budget (see :class:`Ledger`)."""
        return self.ledger.account(lane, reserved, response, batch=batch)

    def cache(self) -> Cache | None:
        """The cache, opened on first use (None with ``cache=False`` or after a write error)."""
        return self.responses.open()

    def cache_op(self, op: Callable[[Cache], T]) -> T | None:
        """``op(cache)`` guarded like every cache write: None without a cache; a cache error is a notice and
        the run goes on without caching."""
        return self.responses.op(op)

    def store_now(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Cache responses at once (with any queued ones) through the engine's guarded write path."""
        self.responses.store_now(rows)

    def resolve_job(self, lane: Lane, job: Job, response: dict[str, Any] | None = None,
                    reason: str | None = None, show: bool = True, parts: Sequence[Part] | None = None) -> int:
        """Turn a job's response (or failure reason, or a merged job's split response) into the predictions
        of its examples; returns how many failed."""
        return lane.resolve(job, response=response, reason=reason, show=show, parts=parts)

    def prepare(self, model: RequestModel, examples: Sequence[Example]
                ) -> tuple[str, dict[str, Job], dict[int, Prediction]]:
        """Build every request: (identity JSON, unique jobs by cache key, examples that failed to build)."""
        identity_json = canonical_json(model.cache_identity())
        self.secrets.check(identity_json, f"the cache identity of model {model.name}")
        endpoint = model.endpoint
        jobs: dict[str, Job] = {}
        failed: dict[int, Prediction] = {}
        for i, ex in enumerate(examples):
            try:
                request = model.build_request(ex)
                body_json = canonical_json(request)
            except ExampleFailure as exc:
                failed[i] = Prediction.failed(ex.id, self.scrub(exc.reason))
                continue
            except (ValueError, TypeError) as exc:  # e.g. NaN or a non-JSON value in the body: this example only
                failed[i] = Prediction.failed(
                    ex.id, self.scrub(f"could not build the request ({type(exc).__name__}: {exc})"))
                continue
            key = request_key(identity_json, endpoint, body_json)
            job = jobs.get(key)
            if job is None:
                job = jobs[key] = Job(key, request, body_json)
            job.slots.append((i, ex))
        return identity_json, jobs, failed

    def pack(self, model: RequestModel, identity_json: str, jobs: dict[str, Job]) -> dict[str, Job]:
        """The jobs to send: merged within the model's :meth:`~harness.providers.RequestModel.grouping` when it
        has one (:mod:`harness.engine.grouping`), else as they are."""
        return pack(model, identity_json, jobs)

    def screen(self, lane: Lane, jobs: dict[str, Job]) -> None:
        """Before anything is sent (and so could be cached): no request body may hold an API key. The key of
        a variable of this process stops the model (raises); key-shaped text fails just its examples."""
        what = f"a request of model {lane.model.name}"
        flagged = [(key, reason) for key, job in jobs.items()
                   if (reason := self.secrets.check_body(job.body_json, what)) is not None]
        for key, reason in flagged:
            lane.resolve(jobs.pop(key), reason=reason)

    async def run_requests(self, model: RequestModel, examples: Sequence[Example]) -> list[Prediction]:
        """Predictions for every example, in order (cached, sent, batched or failed with a reason); raises
        :class:`ProviderError` when the model is stopped (its progress line then says so)."""
        opts = self.options
        usage = self.usage.setdefault(model.name, ModelUsage(price=self.price_for(model)))
        with paused_gc():
            identity_json, jobs, failed = self.prepare(model, examples)
        if self._progress is None:
            self._progress = make_progress(opts.progress, self.console)
        loop = asyncio.get_running_loop()
        limiter = self.scheduler.limiter(model, identity_json, jobs, self.limit_for(model))
        lane = Lane(model, identity_json, len(examples), usage, limiter,
                    self._progress.add(model.name, len(examples)), loop.create_future(),
                    progress=self._progress, scrub=self.scrub)
        try:
            for i, pred in failed.items():
                lane.preds[i] = pred
            if failed:
                lane.advance(done=len(failed), failed=len(failed))

            cache = self.cache()
            if cache is not None and not opts.refresh and jobs:
                done = failed_n = 0
                with paused_gc():
                    for key, hit in cache.iter_many(list(jobs)):  # streamed: a big model's hits need not fit at once
                        job = jobs.pop(key)
                        usage.cached += 1
                        lane.responses += 1
                        usage.add(model.usage(hit.response), batch=hit.via == "batch", fetched=False)
                        failed_n += lane.resolve(job, response=hit.response, show=False)
                        done += len(job.slots)
                if done:
                    lane.advance(done=done, failed=failed_n)

            if jobs and not opts.offline:
                self.screen(lane, jobs)
                with paused_gc():
                    jobs = self.pack(model, identity_json, jobs)
            client = self._batch_client(model) if jobs and opts.batch and not opts.offline else None
            if jobs and opts.offline:
                for job in jobs.values():
                    lane.resolve(job, reason=NOT_IN_CACHE)
            elif client is not None:
                await run_batch(self, lane, list(jobs.values()), client)
            elif jobs:
                lane.queue.extend(jobs.values())
                lane.pending = lane.n_requests = len(jobs)
                self.scheduler.add(lane)
                self._gc.tune()
                self.scheduler.wake()
                try:
                    await lane.done
                except ProviderError:  # stopped: let its requests in flight finish (their answers are kept)
                    await self.loop.settle(lane, STOP_GRACE if opts.timeout is None else min(STOP_GRACE,
                                                                                             opts.timeout))
                    raise
                finally:
                    self.scheduler.remove(lane)
            return [p if p is not None else Prediction.failed(ex.id, "no response")  # defensive: never None
                    for p, ex in zip(lane.preds, examples)]
        except ProviderError:
            self._progress.stop(lane.tid)
            raise

    async def aclose(self) -> None:
        """Stop the scheduler, close the progress display and the cache."""
        self.scheduler.stop()
        await self.loop.cancel()
        if self._progress is not None:
            self._progress.close()
        self.responses.flush()
        self._gc.restore()
        self.responses.close()

    def _batch_client(self, model: RequestModel) -> Any:
        client = model.batch_client()
        if client is None:
            self.notice(f"model {model.name} has no batch API: sending its requests one by one")
        return client
