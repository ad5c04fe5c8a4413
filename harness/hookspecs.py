"""The plugin contract. Every built-in metric and provider is registered through these hooks,
exactly as a third-party plugin's would be."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from .metrics import Metric
    from .providers import Provider

hookspec = pluggy.HookspecMarker("harness")


@hookspec
def register_metrics(register: Callable[[Metric], None]) -> None:
    """Call ``register(metric)`` for each :class:`harness.metrics.Metric` instance the plugin provides."""


@hookspec
def register_providers(register: Callable[[Provider], None]) -> None:
    """Call ``register(provider)`` for each :class:`harness.providers.Provider` instance the plugin provides."""
