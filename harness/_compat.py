"""The module paths of harness 0.1's flat layout, kept importable after the move into layer packages.

``import harness.results`` (documented), ``from harness.cache import Cache`` and the like still work: each old
name resolves to the *same module object* as its new home (so ``monkeypatch.setattr("harness.progress._clock",
...)`` and ``isinstance`` behave as before). New code should import the new paths; docs/architecture.md has
the map. Installed by ``harness/__init__.py``; imports nothing until an old name is asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

#: old module path -> new module path
MOVED: dict[str, str] = {
    "harness.batch": "harness.engine.batch",
    "harness.cache": "harness.engine.cache",
    "harness.pricing": "harness.engine.pricing",
    "harness.progress": "harness.engine.progress",
    "harness.ratelimit": "harness.engine.ratelimit",
    "harness.datasets": "harness.suite.datasets",
    "harness.yamlpos": "harness.suite.yamlpos",
    "harness.compare": "harness.analysis.compare",
    "harness.results": "harness.output.results",
    "harness.frames": "harness.output.frames",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name and loads it as the module at its new path."""

    def find_spec(self, fullname: str, path: object = None, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module at the new path is already loaded."""


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
