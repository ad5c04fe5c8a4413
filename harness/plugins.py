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
    "harness_plugins.providers.hf",
    "harness_plugins.providers.embeddings",
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
    """Metrics and providers by name, with the plugin each came from.

    Two plugins registering the same name is a *clash*: it is recorded (``metric_clashes``,
    ``provider_clashes``: name → the plugins), ``harness plugins`` reports it, and only a run that uses the
    name fails (with a message naming both plugins); every other metric and provider works as usual."""

    metrics: dict[str, Any] = field(default_factory=dict)
    providers: dict[str, Any] = field(default_factory=dict)
    plugins: list[Registered] = field(default_factory=list)
    metric_plugin: dict[str, str] = field(default_factory=dict)
    metric_clashes: dict[str, list[str]] = field(default_factory=dict)
    provider_clashes: dict[str, list[str]] = field(default_factory=dict)

    def metric_clash(self, name: str) -> str | None:
        """Why metric ``name`` cannot be used (two plugins register it), or None."""
        return _clash("metric", name, self.metric_clashes.get(name))

    def provider_clash(self, name: str) -> str | None:
        """Why provider ``name`` cannot be used (two plugins register it), or None."""
        return _clash("provider", name, self.provider_clashes.get(name))

    def usable_metrics(self) -> list[str]:
        """Every registered metric but those two plugins register (the default metric set of a run)."""
        return [name for name in self.metrics if name not in self.metric_clashes]

    def metric(self, name: str) -> Any:
        clash = self.metric_clash(name)
        if clash is not None:
            raise UsageError(clash)
        try:
            return self.metrics[name]
        except KeyError:
            raise UsageError(f"unknown metric {name!r} (known: {', '.join(sorted(self.metrics))})") from None

    def provider(self, name: str) -> Any:
        clash = self.provider_clash(name)
        if clash is not None:
            raise UsageError(clash)
        try:
            return self.providers[name]
        except KeyError:
            raise UsageError(
                f"unknown provider {name!r} (known: {', '.join(sorted(self.providers))})") from None

    def clash_messages(self) -> list[str]:
        return [msg for kind, clashes in (("metric", self.metric_clashes), ("provider", self.provider_clashes))
                for name, owners in clashes.items() if (msg := _clash(kind, name, owners)) is not None]


def _clash(kind: str, name: str, owners: list[str] | None) -> str | None:
    if not owners:
        return None
    return (f"{kind} {name!r} is registered by {len(owners)} plugins ({', '.join(owners)}), so harness cannot tell "
            f"which one to use: uninstall one, or load only one with {ALLOW_ENV}=NAME[,NAME...]")


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
    provider_plugin: dict[str, str] = {}
    for name, plugin in pm.list_name_plugin():
        source, version = sources.get(name, ("registered", getattr(plugin, "__version__", None)))
        entry = Registered(plugin=name, version=version, source=source)

        def add_metric(metric: Any, _entry: Registered = entry) -> None:
            if metric.name in registry.metrics:  # a clash: recorded, fatal only to a run that uses the name
                owners = registry.metric_clashes.setdefault(metric.name, [registry.metric_plugin[metric.name]])
                if _entry.plugin not in owners:
                    owners.append(_entry.plugin)
            else:
                registry.metrics[metric.name] = metric
                registry.metric_plugin[metric.name] = _entry.plugin
            _entry.metrics.append(metric.name)

        def add_provider(provider: Any, _entry: Registered = entry) -> None:
            if provider.name in registry.providers:
                owners = registry.provider_clashes.setdefault(provider.name, [provider_plugin[provider.name]])
                if _entry.plugin not in owners:
                    owners.append(_entry.plugin)
            else:
                registry.providers[provider.name] = provider
                provider_plugin[provider.name] = _entry.plugin
            _entry.providers.append(provider.name)

        for impl in pm.hook.register_metrics.get_hookimpls():
            if impl.plugin is plugin:
                impl.function(register=add_metric)
        for impl in pm.hook.register_providers.get_hookimpls():
            if impl.plugin is plugin:
                impl.function(register=add_provider)
        registry.plugins.append(entry)
    return registry
