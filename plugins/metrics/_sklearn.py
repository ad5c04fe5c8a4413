"""``sklearn.metrics``, imported on first use.

It takes about a second to import; listing plugins (``harness plugins``) or a suite that fails validation
should not wait for it. Python caches the module, so every later call is a dictionary lookup.
"""

from __future__ import annotations

from typing import Any


def sk() -> Any:
    import sklearn.metrics

    return sklearn.metrics
