"""The installed version of harness, in a module of its own: any layer reads it without importing the package root
(which offers ``harness.validate()`` and so reaches up to the data checks)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("harness-eval")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
