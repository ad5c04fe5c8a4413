"""What a run tells its models while it prepares and runs them (context variables set by the runner): whether it
only estimates (``--dry-run``), the folder its results go to, and how free set-up calls may go. Part of the plugin
contract: import these from :mod:`harness.providers`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

_ESTIMATING: ContextVar[bool] = ContextVar("harness_estimating", default=False)
_OUTPUT_DIR: ContextVar[Path | None] = ContextVar("harness_output_dir", default=None)
_SETUP: ContextVar[SetupCalls | None] = ContextVar("harness_setup_calls", default=None)


@dataclass(frozen=True)
class SetupCalls:
    """How a model's free set-up calls (:meth:`Model.prepare`, e.g. a tokenize endpoint) may go in this run:
    ``offline`` (``--offline``: not even these are sent), ``memo`` (a JSON file beside the response cache that keeps
    their answers, so a cached or ``--offline`` rerun asks nothing; None with ``--no-cache``), ``refresh``."""

    offline: bool = False
    memo: Path | None = None
    refresh: bool = False


def setup_calls() -> SetupCalls:
    """The current run's :class:`SetupCalls` (outside a run: send, keep nothing)."""
    return _SETUP.get() or SetupCalls()


@contextmanager
def setup_calls_scope(calls: SetupCalls) -> Iterator[None]:
    token = _SETUP.set(calls)
    try:
        yield
    finally:
        _SETUP.reset(token)


def estimating() -> bool:
    """True while models are resolved for ``harness run --dry-run``: nothing will be sent, so a provider should
    not insist on what it needs only to send (an API key: the real run checks it); a provider that must call
    its API to resolve at all (a fine-tuning job's checkpoints) still needs its credentials."""
    return _ESTIMATING.get()


@contextmanager
def estimating_scope() -> Iterator[None]:
    """The runner's side of :func:`estimating` (``harness.runner.estimate``)."""
    token = _ESTIMATING.set(True)
    try:
        yield
    finally:
        _ESTIMATING.reset(token)


def output_dir() -> Path | None:
    """The folder the current run writes its results.json to (``harness run --out``; also set for ``--dry-run``,
    which writes nothing), None outside a run. A model may keep what it made for the run there, below a
    folder of its own (a fitted classifier, so that a rerun needs no refit); it must not write anywhere else.
    The folder may not exist yet: create it when writing."""
    return _OUTPUT_DIR.get()


@contextmanager
def output_dir_scope(path: Path | None) -> Iterator[None]:
    """The runner's side of :func:`output_dir`."""
    token = _OUTPUT_DIR.set(path)
    try:
        yield
    finally:
        _OUTPUT_DIR.reset(token)
