"""harness: paired evaluation of base vs fine-tuned classifiers."""

from importlib.metadata import PackageNotFoundError, version

import pluggy

from . import _compat

hookimpl = pluggy.HookimplMarker("harness")

try:
    __version__ = version("harness-eval")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

_compat.install()  # the 0.1 module paths (harness.results, harness.cache...) still import

__all__ = ["hookimpl", "__version__"]
