"""Jobs and lanes: a model's unique requests and its queue, and how an outcome becomes predictions.

A :class:`Job` is one unique request of a model (examples with identical requests share it). A :class:`Lane`
is one model's queue in the fair scheduler (:mod:`harness.engine.scheduler`) together with its predictions:
:meth:`Lane.resolve` turns a job's response or failure reason into the predictions of its examples,
:meth:`Lane.finish` does so and counts the job done, :meth:`Lane.kill` stops the model.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ExampleFailure, ProviderError
from ..examples import Example, Prediction
from .pricing import ModelUsage, fallback_estimate
from .progress import Progress
from .ratelimit import Limiter

if TYPE_CHECKING:  # pragma: no cover
    from ..providers import RequestModel


#: One member's outcome of a merged response: (member job, its response or None, why it failed or None).
Part = tuple["Job", "dict[str, Any] | None", "str | None"]


class Job:
    """One unique request of a model (examples with identical requests share it)."""

    __slots__ = ("key", "request", "body_json", "slots", "attempt", "tokens", "guessed", "seq", "members")

    def __init__(self, key: str, request: dict[str, Any], body_json: str) -> None:
        self.key = key
        self.request = request
        self.body_json = body_json
        self.slots: list[tuple[int, Example]] = []
        self.attempt = 0
        self.tokens: tuple[int, int] | None = None
        self.guessed = False  # tokens are fallback_estimate()'s guess (no tokenizer)
        self.seq = -1  # the order in which the model's requests were first sent
        self.members: list[Job] | None = None  # a merged request: the jobs it sends as one (engine.grouping)


def estimate_tokens(model: RequestModel, job: Job) -> tuple[int, int]:
    """(prompt, max completion) tokens of a request: the provider's tokenizer, else a high guess."""
    if job.tokens is None:
        est = model.estimate_tokens(job.request)
        job.guessed = not est
        job.tokens = tuple(est) if est else fallback_estimate(job.request, len(job.body_json))  # type: ignore[assignment]
    return job.tokens  # type: ignore[return-value]


class Lane:
    """One model's queue in the fair scheduler, and its predictions as they are resolved."""

    def __init__(self, model: RequestModel, identity_json: str, n: int, usage: ModelUsage, limiter: Limiter,
                 tid: int, done: asyncio.Future[None], progress: Progress | None = None,
                 scrub: Callable[[str], str] = str) -> None:
        self.model = model
        self.identity_json = identity_json
        self.preds: list[Prediction | None] = [None] * n
        self.usage = usage
        self.limiter = limiter
        self.tid = tid
        self.queue: deque[Job] = deque()
        self.pending = 0
        self.done = done
        self.dead = False
        self.responses = 0  # responses received (or cached) for this model
        self.sent = 0  # requests sent at least once
        self.early_failed = 0  # of the first FAIL_FAST_AFTER requests sent, how many ended failed
        self.n_requests = 0  # unique requests to send (after the cache)
        self.tasks: set[asyncio.Task[None]] = set()  # this model's requests in flight
        self.progress = progress
        self.scrub = scrub  # removes API keys from failure reasons

    def advance(self, done: int = 0, failed: int = 0, retries: int = 0, note: str | None = None) -> None:
        """Move the model's progress display (if any)."""
        if self.progress is not None:
            self.progress.advance(self.tid, done=done, failed=failed, retries=retries, note=note)

    def resolve(self, job: Job, response: dict[str, Any] | None = None, reason: str | None = None,
                show: bool = True, parts: Sequence[Part] | None = None) -> int:
        """Turn a job's response (or failure reason) into the predictions of its examples; returns how
        many failed. ``show=False``: the caller reports progress itself (many at once). A merged job's
        response is split into its members' (``parts``, when the caller split it already)."""
        if self.dead:
            return 0
        if job.members is not None:
            if parts is None and reason is None:  # the callers split a merged response (grouping.expand)
                raise ProviderError(f"model {self.model.name}: a merged response was not split (an engine bug)")
            outcomes = parts if parts is not None else [(m, None, reason) for m in job.members]
            n_failed = sum(self.resolve(m, response=r, reason=why, show=False) for m, r, why in outcomes)
            if show:
                self.advance(done=len(job.slots), failed=n_failed)
            return n_failed
        n_failed = 0
        if reason is not None:
            reason = self.scrub(reason)
        for i, ex in job.slots:
            if reason is not None:
                pred = Prediction.failed(ex.id, reason, request=job.request)
            else:
                pred = self._parse(ex, job.request, response or {})
            n_failed += pred.error is not None
            self.preds[i] = pred
        if show:
            self.advance(done=len(job.slots), failed=n_failed)
        return n_failed

    def _parse(self, ex: Example, request: dict[str, Any], response: dict[str, Any]) -> Prediction:
        try:
            prediction = self.model.parse(ex, request, response)
        except ExampleFailure as exc:
            return Prediction.failed(ex.id, self.scrub(exc.reason), request=request)
        except ProviderError:
            raise
        except Exception as exc:  # a response the parser did not expect: keep the run (and the cache) going
            return Prediction.failed(ex.id, self.scrub(f"could not parse the response ({type(exc).__name__}: {exc})"),
                                     request=request)
        prediction.extra.setdefault("request", request)
        return prediction

    def finish(self, job: Job, **outcome: Any) -> None:
        """Resolve a sent (or given up) job and count it done; the lane is done when none is pending."""
        try:
            self.resolve(job, **outcome)
        except ProviderError as exc:
            self.kill(exc)
            return
        self.pending -= 1
        if self.pending <= 0 and not self.done.done():
            self.done.set_result(None)

    def kill(self, exc: BaseException) -> None:
        """A provider error stops this model: drop its queue and let run_requests raise."""
        if not self.dead and self.progress is not None:
            self.progress.stop(self.tid)
        self.dead = True
        self.queue.clear()
        if not self.done.done():
            self.done.set_exception(exc)
