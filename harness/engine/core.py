"""The request engine: runs many :class:`~harness.providers.RequestModel` requests concurrently.

Providers describe single requests; the engine owns everything else, for any provider:

* a bounded number of requests in flight (``concurrency``), shared round-robin between the models of a
  run (one queue per model, so no model waits for another to finish);
* per-target rate limits (:mod:`harness.ratelimit`): requests and tokens per minute, Retry-After pauses
  and an adaptive in-flight cap that halves on a 429;
* retries of transient failures (429, 5xx, timeouts, connection errors) after the server's Retry-After or
  a jittered exponential backoff (:meth:`Engine.retry_delay`); past ``max_attempts`` the example is recorded
  as failed with its reason and the run goes on — unless the model has had no response at all yet and its
  first ``FAIL_FAST_AFTER`` requests all failed: then the model is stopped with the reason (exit 3);
* the durable response cache (:mod:`harness.cache`): cached requests are never sent again, every new
  response is committed as it arrives; ``offline`` answers from the cache alone;
* token usage, cost and the ``max_cost`` budget (:mod:`harness.pricing`);
* the Batch API (:mod:`harness.batch`) when ``batch`` is set and the model has a batch client;
* progress display (:mod:`harness.progress`).
"""

from __future__ import annotations

import asyncio
import gc
import math
import random
import sqlite3
import sys
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence, TypeVar

from .cache import Cache, SecretScanner, canonical_json, request_key, resolve_cache_path
from ..errors import ExampleFailure, ProviderError, Retryable
from ..examples import Example, Prediction
from ..jsonio import json_safe  # noqa: F401  (re-exported: harness.engine.json_safe)
from .pricing import Budget, ModelUsage, Price, PriceTable, fallback_estimate
from .progress import Progress, make_progress
from .ratelimit import Limiter, RateLimit

if TYPE_CHECKING:  # pragma: no cover
    from ..providers import RequestModel

BUDGET_EXHAUSTED = "budget exhausted"
NOT_IN_CACHE = "not in cache"
RETRY_AFTER_MAX = 120.0  # seconds: the longest server Retry-After honoured (or backoff_max, if larger)
#: A model whose first requests all fail (this many, or all of its requests if fewer) is stopped as a provider
#: failure: a server that is down or rejects every request is one error (exit 3), not thousands of failed
#: examples and a run that "succeeds". Once any response arrived, failures stay per example.
FAIL_FAST_AFTER = 10

T = TypeVar("T")


@dataclass
class EngineOptions:
    concurrency: int = 32
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    timeout: float | None = 120.0  # seconds per attempt; None = the provider's own
    rate_limit: RateLimit = field(default_factory=RateLimit)  # --rpm/--tpm: override for every target
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)  # suite: model name, provider or "default"
    cache: bool = True
    cache_path: Path | None = None  # None = default_cache_path()
    refresh: bool = False  # ignore cached responses (still store new ones)
    offline: bool = False  # answer from the cache only; uncached examples fail with "not in cache"
    batch: bool = False
    poll_interval: float = 30.0
    max_cost: float | None = None
    progress: str = "off"  # auto | bar | plain | off (see harness.progress)


class _Job:
    """One unique request of a model (examples with identical requests share it)."""

    __slots__ = ("key", "request", "body_json", "slots", "attempt", "tokens", "guessed", "seq")

    def __init__(self, key: str, request: dict[str, Any], body_json: str) -> None:
        self.key = key
        self.request = request
        self.body_json = body_json
        self.slots: list[tuple[int, Example]] = []
        self.attempt = 0
        self.tokens: tuple[int, int] | None = None
        self.guessed = False  # tokens are fallback_estimate()'s guess (no tokenizer)
        self.seq = -1  # the order in which the model's requests were first sent


class _Lane:
    """One model's queue in the fair scheduler."""

    def __init__(self, model: "RequestModel", identity_json: str, n: int, usage: ModelUsage, limiter: Limiter,
                 tid: int, done: asyncio.Future[None]) -> None:
        self.model = model
        self.identity_json = identity_json
        self.preds: list[Prediction | None] = [None] * n
        self.usage = usage
        self.limiter = limiter
        self.tid = tid
        self.queue: deque[_Job] = deque()
        self.pending = 0
        self.done = done
        self.dead = False
        self.responses = 0  # responses received (or cached) for this model
        self.sent = 0  # requests sent at least once
        self.early_failed = 0  # of the first FAIL_FAST_AFTER requests sent, how many ended failed
        self.n_requests = 0  # unique requests to send (after the cache)


class Engine:
    """Shared by every model of a run, so the concurrency limit is shared fairly across models."""

    def __init__(self, options: EngineOptions | None = None, prices: PriceTable | None = None,
                 console: Any = None) -> None:
        self.options = options or EngineOptions()
        self.prices = prices or PriceTable.load()
        self.console = console
        self.budget = Budget(self.options.max_cost) if self.options.max_cost is not None else None
        self.usage: dict[str, ModelUsage] = {}
        self.notices: list[str] = []
        self.secrets = SecretScanner()
        self._cache: Cache | None = None
        self._cache_tried = False
        self._limiters: dict[str, Limiter] = {}
        self._lanes: list[_Lane] = []
        self._rr = 0
        self._inflight = 0
        self._timer: asyncio.TimerHandle | None = None
        self._unsaved: list[tuple[Any, ...]] = []
        self._gc_saved: tuple[int, int, int] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._progress: Progress | None = None

    # --- public -------------------------------------------------------------------------------------

    @property
    def cache_path(self) -> Path | None:
        if not self.options.cache:
            return None
        return resolve_cache_path(self.options.cache_path)

    @property
    def budget_exhausted(self) -> bool:
        return self.budget is not None and self.budget.exhausted

    def price_for(self, model: "RequestModel") -> Price | None:
        return self.prices.lookup(model.name, model.pricing_key())

    def limit_for(self, model: "RequestModel") -> RateLimit:
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

            self.console.print(f"[yellow]notice:[/] {escape(text)}")
        else:
            print(f"notice: {text}", file=sys.stderr)

    def scrub(self, text: str) -> str:
        """``text`` without any API key (failure reasons and errors that end up in results)."""
        return self.secrets.scrub(text)

    def progress_note(self, lane: _Lane, text: str) -> None:
        """Show a status next to the model's progress (e.g. a batch's state)."""
        if self._progress is not None:
            self._progress.advance(lane.tid, note=text)

    def prepare(self, model: "RequestModel", examples: Sequence[Example]
                ) -> tuple[str, dict[str, _Job], dict[int, Prediction]]:
        """Build every request: (identity JSON, unique jobs by cache key, examples that failed to build)."""
        identity_json = canonical_json(model.cache_identity())
        self.secrets.check(identity_json, f"the cache identity of model {model.name}")
        endpoint = model.endpoint
        jobs: dict[str, _Job] = {}
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
                job = jobs[key] = _Job(key, request, body_json)
            job.slots.append((i, ex))
        return identity_json, jobs, failed

    def screen(self, lane: _Lane, jobs: dict[str, _Job]) -> None:
        """Before anything is sent (and so could be cached): no request body may hold an API key. The key of
        a variable of this process stops the model (raises); key-shaped text fails just its examples."""
        what = f"a request of model {lane.model.name}"
        flagged = [(key, reason) for key, job in jobs.items()
                   if (reason := self.secrets.check_body(job.body_json, what)) is not None]
        for key, reason in flagged:
            self.resolve_job(lane, jobs.pop(key), reason=reason)

    def estimate(self, model: "RequestModel", job: _Job) -> tuple[int, int]:
        """(prompt, max completion) tokens of a request: the provider's tokenizer, else a high guess."""
        if job.tokens is None:
            est = model.estimate_tokens(job.request)
            job.guessed = not est
            job.tokens = tuple(est) if est else fallback_estimate(job.request, len(job.body_json))  # type: ignore[assignment]
        return job.tokens  # type: ignore[return-value]

    def cache(self) -> Cache | None:
        """The cache, opened on first use (None with ``cache=False`` or after a write error)."""
        if not self._cache_tried:
            self._cache_tried = True
            path = self.cache_path
            if path is not None:
                self._cache = Cache.open_for_run(path)
                if self._cache.readonly:
                    self.notice(f"the response cache {path} is read-only: cached responses are used, new ones "
                                "are not stored (a re-run will request them again)")
        return self._cache

    def cache_op(self, op: Callable[[Cache], T]) -> T | None:
        """``op(cache)`` guarded like every cache write: None without a cache; a :class:`sqlite3.Error` (a full
        disk, a read-only file) is a notice and the run goes on without caching."""
        cache = self.cache()
        if cache is None:
            return None
        try:
            return op(cache)
        except sqlite3.Error as exc:
            self._cache_failed(exc)
            return None

    def store_now(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Cache responses at once (with any queued ones) through the engine's guarded write path."""
        self._unsaved.extend(rows)
        self._flush_cache()

    async def run_requests(self, model: "RequestModel", examples: Sequence[Example]) -> list[Prediction]:
        """Predictions for every example, in order (cached, sent, batched or failed with a reason); raises
        :class:`ProviderError` when the model is stopped (its progress line then says so)."""
        opts = self.options
        usage = self.usage.setdefault(model.name, ModelUsage(price=self.price_for(model)))
        with paused_gc():
            identity_json, jobs, failed = self.prepare(model, examples)
        if self._progress is None:
            self._progress = make_progress(opts.progress, self.console)
        loop = asyncio.get_running_loop()
        lane = _Lane(model, identity_json, len(examples), usage, self._limiter(model, identity_json, jobs),
                     self._progress.add(model.name, len(examples)), loop.create_future())
        try:
            for i, pred in failed.items():
                lane.preds[i] = pred
            if failed:
                self._progress.advance(lane.tid, done=len(failed), failed=len(failed))

            cache = self.cache()
            if cache is not None and not opts.refresh and jobs:
                done = failed_n = 0
                with paused_gc():
                    for key, hit in cache.get_many(list(jobs)).items():
                        job = jobs.pop(key)
                        usage.cached += 1
                        lane.responses += 1
                        usage.add(model.usage(hit.response), batch=hit.via == "batch", fetched=False)
                        failed_n += self.resolve_job(lane, job, response=hit.response, show=False)
                        done += len(job.slots)
                if done:
                    self._progress.advance(lane.tid, done=done, failed=failed_n)

            if jobs and not opts.offline:
                self.screen(lane, jobs)
            client = self._batch_client(model) if jobs and opts.batch and not opts.offline else None
            if jobs and opts.offline:
                for job in jobs.values():
                    self.resolve_job(lane, job, reason=NOT_IN_CACHE)
            elif client is not None:
                from .batch import run_batch

                await run_batch(self, lane, list(jobs.values()), client)
            elif jobs:
                lane.queue.extend(jobs.values())
                lane.pending = lane.n_requests = len(jobs)
                self._lanes.append(lane)
                self._tune_gc()
                self._wake()
                try:
                    await lane.done
                finally:
                    if lane in self._lanes:
                        self._lanes.remove(lane)
            return [p if p is not None else Prediction.failed(ex.id, "no response")  # defensive: never None
                    for p, ex in zip(lane.preds, examples)]
        except ProviderError:
            self._progress.stop(lane.tid)
            raise

    async def aclose(self) -> None:
        """Stop the scheduler, close the progress display and the cache."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._progress is not None:
            self._progress.close()
        self._flush_cache()
        if self._gc_saved is not None:
            gc.set_threshold(*self._gc_saved)
            gc.unfreeze()
            self._gc_saved = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None
            self._cache_tried = False

    def _tune_gc(self) -> None:
        """While requests run, collect garbage less often: every response allocates thousands of short-lived
        objects (HTTP client, SDK models), and the default gen-0 threshold (700) makes the collector rescan
        the run's growing state several times per request. Objects alive now (examples, the queued requests)
        are frozen out of the scans. Restored by :meth:`aclose`."""
        if self._gc_saved is None:
            self._gc_saved = gc.get_threshold()
            gc.freeze()
            g0, g1, g2 = self._gc_saved
            gc.set_threshold(max(g0, 20_000), g1, g2)

    # --- results ------------------------------------------------------------------------------------

    def resolve_job(self, lane: _Lane, job: _Job, response: dict[str, Any] | None = None,
                    reason: str | None = None, show: bool = True) -> int:
        """Turn a job's response (or failure reason) into the predictions of its examples; returns how
        many failed. ``show=False``: the caller reports progress itself (many at once)."""
        if lane.dead:
            return 0
        n_failed = 0
        if reason is not None:
            reason = self.scrub(reason)
        for i, ex in job.slots:
            if reason is not None:
                pred = Prediction.failed(ex.id, reason, request=job.request)
            else:
                pred = self._parse(lane.model, ex, job.request, response or {})
            n_failed += pred.error is not None
            lane.preds[i] = pred
        if show and self._progress is not None:
            self._progress.advance(lane.tid, done=len(job.slots), failed=n_failed)
        return n_failed

    def _parse(self, model: "RequestModel", ex: Example, request: dict[str, Any], response: dict[str, Any]
               ) -> Prediction:
        try:
            prediction = model.parse(ex, request, response)
        except ExampleFailure as exc:
            return Prediction.failed(ex.id, self.scrub(exc.reason), request=request)
        except ProviderError:
            raise
        except Exception as exc:  # a response the parser did not expect: keep the run (and the cache) going
            return Prediction.failed(ex.id, self.scrub(f"could not parse the response ({type(exc).__name__}: {exc})"),
                                     request=request)
        prediction.extra.setdefault("request", request)
        return prediction

    def _finish_job(self, lane: _Lane, job: _Job, **outcome: Any) -> None:
        try:
            self.resolve_job(lane, job, **outcome)
        except ProviderError as exc:
            self._kill_lane(lane, exc)
            return
        lane.pending -= 1
        if lane.pending <= 0 and not lane.done.done():
            lane.done.set_result(None)

    def _kill_lane(self, lane: _Lane, exc: BaseException) -> None:
        """A provider error stops this model: drop its queue and let run_requests raise."""
        if not lane.dead and self._progress is not None:
            self._progress.stop(lane.tid)
        lane.dead = True
        lane.queue.clear()
        if not lane.done.done():
            lane.done.set_exception(exc)

    # --- scheduling ---------------------------------------------------------------------------------

    def _limiter(self, model: "RequestModel", identity_json: str, jobs: dict[str, _Job]) -> Limiter:
        """The limiter of the model's target: its cache identity (server, endpoint) and the model id it
        asks for (the request's ``model`` field, else the harness model name)."""
        first = next(iter(jobs.values()), None)
        model_id = first.request.get("model") if first is not None else None
        target = f"{identity_json}|{model_id if isinstance(model_id, str) else model.name}"
        limiter = self._limiters.get(target)
        if limiter is None:
            limiter = self._limiters[target] = Limiter(self.limit_for(model), self.options.concurrency)
        return limiter

    def _fill(self) -> None:
        """Start queued jobs while slots are free and their targets allow; if a target makes them wait, come
        back when it will allow. Called whenever that may change: jobs queued, a request done, a timer."""
        self._timer = None
        try:
            now = time.monotonic()
            while self._inflight < self.options.concurrency:
                lane, job, wait = self._pick(now)
                if job is None:
                    if wait != math.inf:
                        self._timer = asyncio.get_running_loop().call_later(wait, self._fill)
                    return
                self._start(lane, job, now)
        except Exception as exc:  # a bug here must not leave run_requests waiting forever
            for lane in list(self._lanes):
                self._kill_lane(lane, exc)

    def _wake(self) -> None:
        """Something changed (a slot freed, a job queued): fill now unless a fill is already due sooner."""
        if self._timer is not None:
            self._timer.cancel()
        self._fill()

    def _pick(self, now: float) -> tuple[Any, _Job | None, float]:
        """The next job, round-robin over the models whose target may send now; else how long to wait."""
        lanes = self._lanes
        n = len(lanes)
        best = math.inf
        for step in range(n):
            idx = (self._rr + step) % n
            lane = lanes[idx]
            if not lane.queue:
                continue
            limiter = lane.limiter
            tokens = sum(self.estimate(lane.model, lane.queue[0])) if limiter.tokens is not None else 0
            wait = limiter.wait(now, tokens)
            if wait <= 0:
                self._rr = (idx + 1) % n
                return lane, lane.queue.popleft(), 0.0
            best = min(best, wait)
        return None, None, best

    def _start(self, lane: _Lane, job: _Job, now: float) -> None:
        if job.seq < 0:
            job.seq = lane.sent
            lane.sent += 1
        reserved = self.reserve(lane, job)
        if reserved is None:
            self._exhaust_budget()
            self._finish_job(lane, job, reason=BUDGET_EXHAUSTED)
            return
        tokens = sum(self.estimate(lane.model, job)) if lane.limiter.tokens is not None else 0
        lane.limiter.admit(now, tokens)
        self._inflight += 1
        task = asyncio.get_running_loop().create_task(self._attempt(lane, job, reserved, tokens))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- budget and usage (shared with harness.batch) ---------------------------------------------------

    def reserve(self, lane: _Lane, job: _Job, batch: bool = False) -> float | None:
        """Reserve a request's estimated cost against ``max_cost``: the amount reserved (0.0 without a
        budget), or None when it does not fit (the budget is then exhausted)."""
        if self.budget is None:
            return 0.0
        price = lane.usage.price
        cost = price.cost(*self.estimate(lane.model, job), batch=batch) if price else 0.0
        return cost if self.budget.reserve(cost) else None

    def account(self, lane: _Lane, reserved: float, response: dict[str, Any] | None = None,
                batch: bool = False) -> dict[str, int] | None:
        """Book a request's outcome: with a response, count it, its tokens and cost and settle the
        reservation at the actual cost (returns the response's token usage); without one, give the
        reservation back."""
        if response is None:
            if self.budget is not None:
                self.budget.release(reserved)
            return None
        usage = lane.usage
        try:
            counted = lane.model.usage(response)
        except Exception:  # a provider bug must not leave the request's slot taken (and the run waiting forever)
            counted = None  # counted as a response without usage: the model's cost is marked incomplete
        usage.requests += 1
        if batch:
            usage.batched += 1
        cost = usage.add(counted, batch=batch, fetched=True)
        if self.budget is not None:
            self.budget.settle(reserved, cost if counted else reserved)
        return counted

    def _exhaust_budget(self) -> None:
        for lane in self._lanes:
            while lane.queue:
                self._finish_job(lane, lane.queue.popleft(), reason=BUDGET_EXHAUSTED)

    # --- attempts -------------------------------------------------------------------------------------

    def _requeue(self, lane: _Lane, job: _Job) -> None:
        if lane.dead:
            return
        if self.budget_exhausted:
            self._finish_job(lane, job, reason=BUDGET_EXHAUSTED)
            return
        lane.queue.appendleft(job)  # retries go first: they have waited already
        self._wake()

    def backoff(self, attempt: int) -> float:
        """Jittered exponential backoff before attempt ``attempt + 1``."""
        base = min(self.options.backoff_base * 2 ** (attempt - 1), self.options.backoff_max)
        return base * random.uniform(0.5, 1.0)

    def retry_delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (requests and batch-API calls alike): the server's
        Retry-After, at most ``RETRY_AFTER_MAX`` (120 s, or ``backoff_max`` if larger); without one, the
        jittered exponential :meth:`backoff` (at most ``backoff_max``)."""
        if retry_after is None:
            return self.backoff(attempt)
        return min(max(0.0, retry_after), max(self.options.backoff_max, RETRY_AFTER_MAX))

    async def _attempt(self, lane: _Lane, job: _Job, reserved: float, tokens: int) -> None:
        await self._attempt_once(lane, job, reserved, tokens)
        # only now, with a 429's pause or a dead model recorded, may the freed slot be filled (not when
        # cancelled: aclose() is stopping the scheduler)
        self._wake()

    async def _attempt_once(self, lane: _Lane, job: _Job, reserved: float, tokens: int) -> None:
        model, usage, limiter = lane.model, lane.usage, lane.limiter
        job.attempt += 1
        usage.attempts += 1
        timeout = self.options.timeout
        error: Retryable | None = None
        response: Any = None
        try:
            try:
                if timeout:
                    async with asyncio.timeout(timeout):
                        response = await model.send(job.request)
                else:
                    response = await model.send(job.request)
            except Retryable as exc:
                error = exc
            except TimeoutError:
                error = Retryable(f"timeout after {timeout:g}s" if timeout else "request timed out")
            except (ConnectionError, OSError) as exc:
                error = Retryable(f"connection error ({type(exc).__name__})")
        except ExampleFailure as exc:
            self._release(lane, reserved, tokens, ok=False)
            self._request_failed(lane, job, exc.reason)
            return
        except ProviderError as exc:
            self._release(lane, reserved, tokens, ok=False)
            self._kill_lane(lane, exc)
            return
        except Exception as exc:  # a provider bug or an unmapped client error: fail the example, keep going
            self._release(lane, reserved, tokens, ok=False)
            self._request_failed(lane, job, f"request failed ({type(exc).__name__}: {exc})")
            return

        if error is None and isinstance(response, dict):
            self._success(lane, job, response, reserved, tokens)
            return
        self._release(lane, reserved, tokens, ok=False)
        if error is None:  # send() returned something that is not a JSON object: a provider bug
            self._request_failed(lane, job, f"the provider returned no response ({type(response).__name__})")
            return
        if job.attempt >= self.options.max_attempts:
            self._request_failed(lane, job, f"{error.reason} (gave up after {job.attempt} attempts)")
            return
        usage.retries += 1
        if self._progress is not None:
            self._progress.advance(lane.tid, retries=1)
        delay = self.retry_delay(job.attempt, error.retry_after)
        if error.rate_limited:
            usage.rate_limited += 1
            limiter.throttle(time.monotonic(), delay)
            self._requeue(lane, job)  # the target's pause gates it
        else:
            asyncio.get_running_loop().call_later(delay, self._requeue, lane, job)

    def _request_failed(self, lane: _Lane, job: _Job, reason: str) -> None:
        """A sent request ended failed: record it for its examples. Fail fast: if the first
        ``FAIL_FAST_AFTER`` requests *sent* (or all of them, if fewer) have all failed and nothing has been
        answered, stop the model. Counting in send order, not finish order, keeps quick per-example
        rejections from stopping a model whose slower requests succeed."""
        if job.seq < FAIL_FAST_AFTER:
            lane.early_failed += 1
        first_n = min(FAIL_FAST_AFTER, lane.n_requests)
        if lane.responses == 0 and not lane.dead and lane.early_failed >= first_n:
            first = "the only request" if lane.n_requests == 1 else \
                f"all {first_n} requests" if first_n == lane.n_requests else f"the first {first_n} requests"
            self._kill_lane(lane, ProviderError(f"{first} of model {lane.model.name} failed and none was "
                                                f"answered, so the model is stopped; last reason: {self.scrub(reason)}"))
            return
        self._finish_job(lane, job, reason=reason)

    def _release(self, lane: _Lane, reserved: float, tokens: int, ok: bool, actual_tokens: int | None = None) -> None:
        """A request finished: free its slot (filled by :meth:`_attempt` once the outcome is recorded)."""
        self._inflight -= 1
        correction = (tokens - actual_tokens) if (tokens and actual_tokens is not None) else 0
        lane.limiter.done(ok, correction)
        if not ok:
            self.account(lane, reserved)

    def _success(self, lane: _Lane, job: _Job, response: dict[str, Any], reserved: float, tokens: int) -> None:
        model = lane.model
        lane.responses += 1
        if self._cache is not None:
            self._store(job.key, lane.identity_json, model.endpoint, job.body_json, response, "request")
        counted = self.account(lane, reserved, response)
        actual = sum(counted.values()) if counted else None
        self._release(lane, reserved, tokens, ok=True, actual_tokens=actual)
        self._finish_job(lane, job, response=response)

    def _store(self, *row: Any) -> None:
        """Queue a response for the cache; the responses that arrive in one event-loop turn are committed
        together at the start of the next one (before anything else can wait on the network)."""
        self._unsaved.append(row)
        if len(self._unsaved) == 1:
            asyncio.get_running_loop().call_soon(self._flush_cache)

    def _flush_cache(self) -> None:
        rows, self._unsaved = self._unsaved, []
        if not rows or self._cache is None:
            return
        try:
            self._cache.put_many(rows)
        except sqlite3.Error as exc:  # a full disk must not end the run: go on without caching
            self._cache_failed(exc)

    def _cache_failed(self, exc: sqlite3.Error) -> None:
        """A cache operation failed: say so once and go on without caching (the responses are kept)."""
        cache, self._cache = self._cache, None
        self._unsaved = []
        if cache is None:
            return
        self.notice(f"could not write to the response cache {cache.path} ({exc}); going on without caching")
        try:
            cache.close()
        except sqlite3.Error:
            pass

    # --- batch --------------------------------------------------------------------------------------

    def _batch_client(self, model: "RequestModel") -> Any:
        client = model.batch_client()
        if client is None:
            self.notice(f"model {model.name} has no batch API: sending its requests one by one")
        return client


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects that all stay alive (thousands
    of requests, cached responses, predictions): it would otherwise re-scan them again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def declare_asyncio() -> None:
    """Tell libraries that ask which async library runs (sniffio: httpx2, httpcore2 and anyio ask on every
    request, several times) that it is asyncio, the way ``anyio.run`` does for its own loops: through
    sniffio's context variable, instead of an ``asyncio.current_task()`` lookup per question. Call it at the
    top of the coroutine given to ``asyncio.run``; tasks started from it inherit the answer."""
    try:
        import sniffio
    except ImportError:  # nothing asks then
        return
    sniffio.current_async_library_cvar.set("asyncio")
