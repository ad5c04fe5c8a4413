"""Plugin loading: built-in defaults, entry points (group ``harness``), and local ``--plugin`` modules."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .errors import InputError, UsageError

ENTRY_POINT_GROUP = "harness"
#: Comma-separated allow-list of entry-point plugin names to load (unset = all, empty = none).
ALLOW_ENV = "HARNESS_LOAD_PLUGINS"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "harness_plugins.metrics.classification",
    "harness_plugins.metrics.probabilistic",
    "harness_plugins.providers.demo",
    "harness_plugins.providers.sklearn_file",
    "harness_plugins.providers.predictions_file",
    "harness_plugins.providers.openai",
)


@dataclass
class Registered:
    """What one plugin contributed."""

    plugin: str
    version: str | None
    source: str  # "builtin", "entry point", "local"
    metrics: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)


@dataclass
class Registry:
    """Metrics and providers by name, with the plugin each came from."""

    metrics: dict[str, Any] = field(default_factory=dict)
    providers: dict[str, Any] = field(default_factory=dict)
    plugins: list[Registered] = field(default_factory=list)
    metric_plugin: dict[str, str] = field(default_factory=dict)

    def metric(self, name: str) -> Any:
        try:
            return self.metrics[name]
        except KeyError:
            raise UsageError(f"unknown metric {name!r} (known: {', '.join(sorted(self.metrics))})") from None

    def provider(self, name: str) -> Any:
        try:
            return self.providers[name]
        except KeyError:
            raise UsageError(
                f"unknown provider {name!r} (known: {', '.join(sorted(self.providers))})") from None


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("harness")
    pm.add_hookspecs(hookspecs)
    return pm


def _load_entry_points(pm: pluggy.PluginManager, sources: dict[str, tuple[str, str | None]]) -> None:
    allow = os.environ.get(ALLOW_ENV)
    allowed = None if allow is None else {n.strip() for n in allow.split(",") if n.strip()}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party plugin must not take the tool down silently
            raise UsageError(f"plugin {ep.name!r} (entry point {ep.value}) failed to import: {exc}") from exc
        pm.register(plugin, name=ep.name)
        dist = ep.dist
        sources[ep.name] = ("entry point", dist.version if dist else None)


def _import_local(spec: str) -> ModuleType:
    path = Path(spec)
    if spec.endswith(".py") or path.exists():
        if not path.is_file():
            raise UsageError(f"--plugin {spec}: no such file")
        name = f"harness_local_plugin_{path.stem}"
        mod_spec = importlib.util.spec_from_file_location(name, path)
        if mod_spec is None or mod_spec.loader is None:
            raise UsageError(f"--plugin {spec}: cannot import this file")
        module = importlib.util.module_from_spec(mod_spec)
        sys.modules[name] = module
        try:
            mod_spec.loader.exec_module(module)
        except Exception as exc:
            raise InputError(f"plugin failed to import: {exc}", file=path) from exc
        return module
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise UsageError(f"--plugin {spec}: cannot import module ({exc})") from exc


def load_registry(local_plugins: list[str] | tuple[str, ...] = (), *, entry_points: bool = True,
                  pm: pluggy.PluginManager | None = None) -> Registry:
    """Build the registry of metrics and providers from every loaded plugin."""
    pm = pm or new_plugin_manager()
    sources: dict[str, tuple[str, str | None]] = {}
    from ._version import __version__

    for modname in DEFAULT_PLUGINS:
        if pm.get_plugin(modname) is None:
            pm.register(importlib.import_module(modname), name=modname)
        sources[modname] = ("builtin", __version__)
    if entry_points:
        _load_entry_points(pm, sources)
    for spec in local_plugins:
        module = _import_local(spec)
        if pm.get_plugin(module.__name__) is None:
            pm.register(module, name=module.__name__)
        sources[module.__name__] = ("local", getattr(module, "__version__", None))

    registry = Registry()
    for name, plugin in pm.list_name_plugin():
        source, version = sources.get(name, ("registered", getattr(plugin, "__version__", None)))
        entry = Registered(plugin=name, version=version, source=source)

        def add_metric(metric: Any, _entry: Registered = entry) -> None:
            if metric.name in registry.metrics:
                raise UsageError(f"metric {metric.name!r} registered twice "
                                 f"({registry.metric_plugin[metric.name]} and {_entry.plugin})")
            registry.metrics[metric.name] = metric
            registry.metric_plugin[metric.name] = _entry.plugin
            _entry.metrics.append(metric.name)

        def add_provider(provider: Any, _entry: Registered = entry) -> None:
            if provider.name in registry.providers:
                raise UsageError(f"provider {provider.name!r} registered twice")
            registry.providers[provider.name] = provider
            _entry.providers.append(provider.name)

        for impl in pm.hook.register_metrics.get_hookimpls():
            if impl.plugin is plugin:
                impl.function(register=add_metric)
        for impl in pm.hook.register_providers.get_hookimpls():
            if impl.plugin is plugin:
                impl.function(register=add_provider)
        registry.plugins.append(entry)
    return registry
