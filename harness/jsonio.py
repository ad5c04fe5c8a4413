"""Fast JSON for the hot paths (responses, the cache, predictions.jsonl), through ``orjson``.

orjson parses and writes JSON several times faster than the standard library; at thousands of responses a
run that is the difference between a cached re-run taking a fraction of a second or most of one. Where it is
stricter than the standard library, :func:`loads` falls back to it, so behaviour is the standard library's:
non-standard tokens some servers emit (``NaN``, ``-Infinity``) are still read, and a malformed document
raises :class:`json.JSONDecodeError` with the standard library's message, line and column.

:func:`dumps` writes compact UTF-8 JSON; non-finite floats become ``null`` (valid JSON, unlike the standard
library's ``NaN``), values orjson does not know become strings, and dict keys that are not strings are
written as strings.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def loads(data: str | bytes) -> Any:
    """Parse JSON (orjson; the standard library for what orjson refuses, so errors read the same)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON text (``sort_keys``: keys in sorted order, at every level)."""
    opts = _OPTS | orjson.OPT_SORT_KEYS if sort_keys else _OPTS
    try:
        return orjson.dumps(value, default=str, option=opts).decode("utf-8")
    except TypeError:  # e.g. a circular reference or an integer beyond 64 bits: the standard library's rules
        return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, default=str, separators=(",", ":"))
