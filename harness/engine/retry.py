"""The retry policy: which failures are transient, how long to wait before the next attempt, when to give up on
an example, and when to stop a model whose requests all fail.

Requests and batch-API calls share it (:mod:`harness.engine.requests`, :mod:`harness.engine.batch`).
"""

from __future__ import annotations

import random

from ..errors import Retryable
from .options import EngineOptions

RETRY_AFTER_MAX = 120.0  # seconds: the longest server Retry-After honoured (or backoff_max, if larger)
#: A model whose first requests all fail (this many, or all of its requests if fewer) is stopped as a provider
#: failure: a server that is down or rejects every request is one error (exit 3), not thousands of failed
#: examples and a run that "succeeds". Once any response arrived, failures stay per example.
FAIL_FAST_AFTER = 10


class RetryPolicy:
    """Reads the engine's options when asked, so a change to them applies to the next retry."""

    def __init__(self, options: EngineOptions) -> None:
        self.options = options

    def transient(self, exc: BaseException, timeout: float | None) -> Retryable | None:
        """``exc`` as a :class:`Retryable` when it is worth another attempt (the provider's own, a timeout,
        a connection error), else None."""
        if isinstance(exc, Retryable):
            return exc
        if isinstance(exc, TimeoutError):
            return Retryable(f"timeout after {timeout:g}s" if timeout else "request timed out")
        if isinstance(exc, (ConnectionError, OSError)):
            return Retryable(f"connection error ({type(exc).__name__})")
        return None

    def gives_up(self, attempt: int) -> bool:
        """No attempt after this one (``max_attempts`` reached)."""
        return attempt >= self.options.max_attempts

    def backoff(self, attempt: int) -> float:
        """Jittered exponential backoff before attempt ``attempt + 1``."""
        base = min(self.options.backoff_base * 2 ** (attempt - 1), self.options.backoff_max)
        return base * random.uniform(0.5, 1.0)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (requests and batch-API calls alike): the server's
        Retry-After, at most ``RETRY_AFTER_MAX`` (120 s, or ``backoff_max`` if larger); without one, the
        jittered exponential :meth:`backoff` (at most ``backoff_max``)."""
        if retry_after is None:
            return self.backoff(attempt)
        return min(max(0.0, retry_after), max(self.options.backoff_max, RETRY_AFTER_MAX))


def counts_for_fail_fast(seq: int) -> bool:
    """Whether the request sent ``seq``-th (from 0) is one of the first that decide :func:`fail_fast_reason`."""
    return seq < FAIL_FAST_AFTER


def fail_fast_reason(model: str, early_failed: int, n_requests: int, responses: int) -> str | None:
    """Why a model must be stopped now that one of its sent requests ended failed, or None.

    Fail fast: if the first ``FAIL_FAST_AFTER`` requests *sent* (or all of them, if fewer) have all failed
    (``early_failed`` counts them, this one included) and nothing has been answered, stop the model. Counting
    in send order, not finish order, keeps quick per-example rejections from stopping a model whose slower
    requests succeed."""
    first_n = min(FAIL_FAST_AFTER, n_requests)
    if responses or early_failed < first_n:
        return None
    first = "the only request" if n_requests == 1 else \
        f"all {first_n} requests" if first_n == n_requests else f"the first {first_n} requests"
    return f"{first} of model {model} failed and none was answered, so the model is stopped"
