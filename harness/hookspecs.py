"""The plugin contract. Every built-in metric and provider is registered through these hooks,
exactly as a third-party plugin's would be."""

from __future__ import annotations

from collections.abc import Callable

import pluggy

hookspec = pluggy.HookspecMarker("harness")


@hookspec
def register_metrics(register: Callable) -> None:
    """Call ``register(metric)`` for each :class:`harness.metrics.Metric` instance the plugin provides."""


@hookspec
def register_providers(register: Callable) -> None:
    """Call ``register(provider)`` for each :class:`harness.providers.Provider` instance the plugin provides."""
