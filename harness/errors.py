"""Domain errors. Core code raises these; the CLI maps them to exit codes and one-line messages."""

from __future__ import annotations

from pathlib import Path


class HarnessError(Exception):
    """Base class: an error the user can act on. ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def one_line(self) -> str:
        return " ".join(str(self).split())


class InputError(HarnessError):
    """Bad input: a file, a line in it, a field. Exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = _shown(message)
        self.file = _shown(str(file)) if file is not None else None
        self.line = line
        self.field = _shown(field) if field is not None else None
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "")
        parts = [p for p in (where, self.field) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


def _shown(text: str) -> str:
    """Bytes that were not UTF-8 (kept by ``surrogateescape`` as U+DC80-U+DCFF) shown as ``\\xff`` escapes: a
    message must print, and must not echo raw undecodable bytes."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class UsageError(InputError):
    """A bad command-line argument (unknown provider, malformed --model spec...). Exit code 2."""


class ProviderError(HarnessError):
    """A model provider could not do its job (bad key, unknown model, server without logprobs). Exit code 3."""

    exit_code = 3


class BatchNotFound(ProviderError):
    """The server does not know a batch id (HTTP 404): a :class:`~harness.providers.BatchClient` raises it from
    ``status`` or ``results``. The engine then forgets a batch id it had stored for resuming (another key or
    project on the same base URL, a server restart) and submits the requests again."""


class ExampleFailure(Exception):
    """One example could not be scored; the run continues and the example is recorded as failed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class BudgetExhausted(HarnessError):
    """``--max-cost`` was reached: results were written for what was done, the rest failed. Exit code 5."""

    exit_code = 5


class Retryable(Exception):
    """A transient failure (429, 5xx, timeout, connection). ``retry_after`` is the server's hint in seconds.

    ``rate_limited=True`` marks a 429 (it pauses and slows down the whole target); providers pass it
    explicitly (it is never guessed from the reason, which may hold a model id such as ``ckpt-step-429``).
    """

    def __init__(self, reason: str, retry_after: float | None = None, *, rate_limited: bool = False) -> None:
        self.reason = reason
        self.retry_after = retry_after
        self.rate_limited = rate_limited
        super().__init__(reason)
