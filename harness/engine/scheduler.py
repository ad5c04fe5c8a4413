"""The fair scheduler: a bounded number of requests in flight, shared round-robin between the models of a run.

Each model has a :class:`~harness.engine.lanes.Lane` (its queue); each target (server, endpoint and model id)
has a :class:`~harness.engine.ratelimit.Limiter`. :meth:`Scheduler.fill` starts queued jobs while slots are free
and their targets allow, and when a target makes them wait, sets a timer for when it will allow. Starting a
job is the request loop's business (:mod:`harness.engine.requests`): the scheduler calls ``start``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .lanes import Job, Lane, estimate_tokens
from .options import EngineOptions
from .ratelimit import Limiter, RateLimit

if TYPE_CHECKING:  # pragma: no cover
    from ..providers import RequestModel


class Scheduler:
    def __init__(self, options: EngineOptions) -> None:
        self.options = options  # ``concurrency``: the slots shared by every model
        self.lanes: list[Lane] = []
        self.inflight = 0
        self._rr = 0
        self._timer: asyncio.TimerHandle | None = None
        self._limiters: dict[str, Limiter] = {}
        #: starts one job (set by the request loop): ``start(lane, job, now)``
        self.start: Callable[[Lane, Job, float], None] = lambda lane, job, now: None

    def limiter(self, model: RequestModel, identity_json: str, jobs: dict[str, Job], limit: RateLimit) -> Limiter:
        """The limiter of the model's target: its cache identity (server, endpoint) and the model id it
        asks for (the request's ``model`` field, else the harness model name)."""
        first = next(iter(jobs.values()), None)
        model_id = first.request.get("model") if first is not None else None
        target = f"{identity_json}|{model_id if isinstance(model_id, str) else model.name}"
        limiter = self._limiters.get(target)
        if limiter is None:
            limiter = self._limiters[target] = Limiter(limit, self.options.concurrency)
        return limiter

    def add(self, lane: Lane) -> None:
        self.lanes.append(lane)

    def remove(self, lane: Lane) -> None:
        if lane in self.lanes:
            self.lanes.remove(lane)

    def fill(self) -> None:
        """Start queued jobs while slots are free and their targets allow; if a target makes them wait, come
        back when it will allow. Called whenever that may change: jobs queued, a request done, a timer."""
        self._timer = None
        try:
            now = time.monotonic()
            while self.inflight < self.options.concurrency:
                lane, job, wait = self.pick(now)
                if job is None:
                    if wait != math.inf:
                        self._timer = asyncio.get_running_loop().call_later(wait, self.fill)
                    return
                self.start(lane, job, now)
        except Exception as exc:  # a bug here must not leave run_requests waiting forever
            for lane in list(self.lanes):
                lane.kill(exc)

    def wake(self) -> None:
        """Something changed (a slot freed, a job queued): fill now unless a fill is already due sooner."""
        if self._timer is not None:
            self._timer.cancel()
        self.fill()

    def pick(self, now: float) -> tuple[Lane | None, Job | None, float]:
        """The next job, round-robin over the models whose target may send now; else how long to wait."""
        lanes = self.lanes
        n = len(lanes)
        best = math.inf
        for step in range(n):
            idx = (self._rr + step) % n
            lane = lanes[idx]
            if not lane.queue:
                continue
            limiter = lane.limiter
            tokens = sum(estimate_tokens(lane.model, lane.queue[0])) if limiter.tokens is not None else 0
            wait = limiter.wait(now, tokens)
            if wait <= 0:
                self._rr = (idx + 1) % n
                return lane, lane.queue.popleft(), 0.0
            best = min(best, wait)
        return None, None, best

    def drain(self, reason: str) -> None:
        """Finish every queued job of every model with ``reason`` (the budget is exhausted)."""
        for lane in self.lanes:
            while lane.queue:
                lane.finish(lane.queue.popleft(), reason=reason)

    def stop(self) -> None:
        """Cancel a pending fill (the engine is closing)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
