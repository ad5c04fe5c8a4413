"""The request loop: a scheduled job is started (budget reserved, admitted by its target's limiter), sent with
a timeout, and its outcome booked — a response is cached, accounted and parsed; a transient failure is
retried after the retry policy's delay (a 429 pauses its whole target); a failure past ``max_attempts`` fails
the job's examples, or stops the model when none of its first requests was answered
(:func:`~harness.engine.retry.fail_fast_reason`); a :class:`~harness.errors.ProviderError` stops the model.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..errors import ExampleFailure, ProviderError
from .cachewriter import CacheWriter
from .grouping import expand, halve
from .lanes import Job, Lane, estimate_tokens
from .ledger import Ledger
from .options import BUDGET_EXHAUSTED, EngineOptions
from .retry import RetryPolicy, counts_for_fail_fast, fail_fast_reason
from .scheduler import Scheduler


class RequestLoop:
    def __init__(self, options: EngineOptions, scheduler: Scheduler, policy: RetryPolicy, ledger: Ledger,
                 cache: CacheWriter) -> None:
        self.options = options
        self.scheduler = scheduler
        self.policy = policy
        self.ledger = ledger
        self.cache = cache
        self.tasks: set[asyncio.Task[None]] = set()
        scheduler.start = self.start

    def start(self, lane: Lane, job: Job, now: float) -> None:
        if job.seq < 0:
            job.seq = lane.sent
            lane.sent += 1
        reserved = self.ledger.reserve(lane, job)
        if reserved is None:
            self.scheduler.drain(BUDGET_EXHAUSTED)
            lane.finish(job, reason=BUDGET_EXHAUSTED)
            return
        tokens = sum(estimate_tokens(lane.model, job)) if lane.limiter.tokens is not None else 0
        lane.limiter.admit(now, tokens)
        self.scheduler.inflight += 1
        task = asyncio.get_running_loop().create_task(self._attempt(lane, job, reserved, tokens))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        lane.tasks.add(task)
        task.add_done_callback(lane.tasks.discard)

    async def settle(self, lane: Lane, grace: float) -> None:
        """A stopped model's requests still in flight: let them finish for up to ``grace`` seconds, so their
        answers are cached and counted (and the counts agree with the server's log); the rest are cancelled
        when the engine closes, counted as ``abandoned``."""
        if lane.tasks and grace > 0:
            await asyncio.wait(list(lane.tasks), timeout=grace)

    async def cancel(self) -> None:
        """Cancel the requests in flight (the engine is closing)."""
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def _requeue(self, lane: Lane, job: Job) -> None:
        if lane.dead:
            return
        if self.ledger.exhausted:
            lane.finish(job, reason=BUDGET_EXHAUSTED)
            return
        lane.queue.appendleft(job)  # retries go first: they have waited already
        self.scheduler.wake()

    async def _attempt(self, lane: Lane, job: Job, reserved: float, tokens: int) -> None:
        await self._attempt_once(lane, job, reserved, tokens)
        # only now, with a 429's pause or a dead model recorded, may the freed slot be filled (not when
        # cancelled: aclose() is stopping the scheduler)
        self.scheduler.wake()

    async def _attempt_once(self, lane: Lane, job: Job, reserved: float, tokens: int) -> None:
        model, usage, limiter = lane.model, lane.usage, lane.limiter
        job.attempt += 1
        usage.attempts += 1
        if job.attempt > 1:  # counted when sent: a retry scheduled for a model stopped meanwhile is never sent
            usage.retries += 1
            lane.advance(retries=1)
        timeout = self.options.timeout
        response: Any = None
        try:
            if timeout:
                async with asyncio.timeout(timeout):
                    response = await model.send(job.request)
            else:
                response = await model.send(job.request)
            error = None
        except asyncio.CancelledError:  # the run is closing: the server may or may not have seen it
            usage.abandoned += 1
            raise
        except Exception as exc:
            usage.sent += 1
            usage.errors += 1
            error = self.policy.transient(exc, timeout)
            if error is None:
                self._release(lane, reserved, tokens, ok=False)
                if isinstance(exc, ExampleFailure) and job.members is not None and len(job.members) > 1:
                    self._halve(lane, job)  # a merged request refused for its content: find the culprit
                elif isinstance(exc, ExampleFailure):
                    self._request_failed(lane, job, exc.reason)
                elif isinstance(exc, ProviderError):
                    lane.kill(exc)
                else:  # a provider bug or an unmapped client error: fail the example, keep going
                    self._request_failed(lane, job, f"request failed ({type(exc).__name__}: {exc})")
                return

        if error is None:
            usage.sent += 1
        if error is None and isinstance(response, dict):
            self._success(lane, job, response, reserved, tokens)
            return
        self._release(lane, reserved, tokens, ok=False)
        if error is None:  # send() returned something that is not a JSON object: a provider bug
            usage.errors += 1
            self._request_failed(lane, job, f"the provider returned no response ({type(response).__name__})")
            return
        if self.policy.gives_up(job.attempt):
            self._request_failed(lane, job, f"{error.reason} (gave up after {job.attempt} attempts)")
            return
        delay = self.policy.delay(job.attempt, error.retry_after)
        if error.rate_limited:
            usage.rate_limited += 1
            limiter.throttle(time.monotonic(), delay)
            self._requeue(lane, job)  # the target's pause gates it
        else:
            asyncio.get_running_loop().call_later(delay, self._requeue, lane, job)

    def _halve(self, lane: Lane, job: Job) -> None:
        """Send a refused merged request again as two halves (retries go first), so that one input the server
        refuses (too long, flagged) fails only its own example."""
        if lane.dead:
            return
        if self.ledger.exhausted:
            lane.finish(job, reason=BUDGET_EXHAUSTED)
            return
        halves = halve(lane.model, lane.identity_json, job)
        lane.pending += len(halves) - 1
        lane.n_requests += len(halves) - 1
        for part in reversed(halves):
            lane.queue.appendleft(part)

    def _request_failed(self, lane: Lane, job: Job, reason: str) -> None:
        """A sent request ended failed: record it for its examples, or stop the model (fail fast)."""
        if counts_for_fail_fast(job.seq):
            lane.early_failed += 1
        if not lane.dead:
            stop = fail_fast_reason(lane.model.name, lane.early_failed, lane.n_requests, lane.responses)
            if stop is not None:
                lane.kill(ProviderError(f"{stop}; last reason: {lane.scrub(reason)}"))
                return
        lane.finish(job, reason=reason)

    def _release(self, lane: Lane, reserved: float, tokens: int, ok: bool, actual_tokens: int | None = None) -> None:
        """A request finished: free its slot (filled by :meth:`_attempt` once the outcome is recorded)."""
        self.scheduler.inflight -= 1
        correction = (tokens - actual_tokens) if (tokens and actual_tokens is not None) else 0
        lane.limiter.done(ok, correction)
        if not ok:
            self.ledger.account(lane, reserved)

    def _success(self, lane: Lane, job: Job, response: dict[str, Any], reserved: float, tokens: int) -> None:
        model = lane.model
        lane.responses += 1
        stop: ProviderError | None = None
        failure: str | None = None
        parts = None
        try:
            parts = expand(model, job, response)  # a merged request: one response per member
        except ExampleFailure as exc:
            failure = exc.reason
        except ProviderError as exc:
            stop = exc
        if self.cache.cache is not None and parts is not None:
            for member, part, _ in parts:
                if part is not None:
                    self.cache.store(member.key, lane.identity_json, model.endpoint, member.body_json, part,
                                     "request")
        counted = self.ledger.account(lane, reserved, response)
        actual = sum(counted.values()) if counted else None
        self._release(lane, reserved, tokens, ok=True, actual_tokens=actual)
        if stop is not None:
            lane.kill(stop)
        elif failure is not None:
            lane.finish(job, reason=failure)
        elif job.members is not None:
            lane.finish(job, parts=parts)
        else:
            lane.finish(job, response=response)
