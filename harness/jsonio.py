"""Fast JSON for the hot paths (responses, the cache, predictions.jsonl), through ``orjson``.

orjson parses and writes JSON several times faster than the standard library; at thousands of responses a
run that is the difference between a cached re-run taking a fraction of a second or most of one. Where it
differs from the standard library, :func:`loads` uses the standard library instead, so what is read is
exactly what the standard library would read:

* non-standard tokens some servers emit (``NaN``, ``-Infinity``) are still read; the objects of such a
  document are :class:`Exact` dicts, so ``dumps(..., exact=True)`` (the response cache) writes them back
  unchanged instead of as ``null``;
* with ``exact_ints`` (dataset files, where an id may be a long integer), integers beyond 64 bits stay exact
  integers (orjson would make floats of them; API responses hold no such numbers);
* a malformed document raises :class:`json.JSONDecodeError` with the standard library's message, line and
  column; so does one nested too deeply to read (the standard library would raise ``RecursionError``);
* with ``unique_keys`` (data and predictions files), an object that names a key twice raises
  :class:`DuplicateKey` (both parsers would keep the last value silently). The check costs one regular
  expression count of the document's keys and one walk of the parsed value; only a document with more keys than
  the parsed value holds (a duplicate) is parsed again, by the standard library, to name it.

:func:`dumps` writes compact UTF-8 JSON; non-finite floats become ``null`` (strict JSON, unlike the standard
library's ``NaN``) unless ``exact`` applies, values orjson does not know become strings, and dict keys that
are not strings are written as strings.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
#: 19 digits in a row may be an integer beyond 64 bits (the standard library then reads the document)
_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_B = re.compile(rb"\d{19}")


#: The closing quote of a key: a quote after an even number of backslashes (inside a string a quote is always
#: escaped), then a colon. In valid JSON these are exactly the document's keys.
_KEY_TOKEN = re.compile(r'(?<!\\)(?:\\\\)*"\s*:')
_KEY_TOKEN_B = re.compile(rb'(?<!\\)(?:\\\\)*"\s*:')
_QUOTE_COLON = re.compile(r'"\s*:')
_QUOTE_COLON_B = re.compile(rb'"\s*:')


class Exact(dict):  # type: ignore[type-arg]
    """A JSON object read by the standard library's parser (it may hold ``NaN``/``±Infinity``)."""


class DuplicateKey(ValueError):
    """A JSON object names the same key twice. ``field``: where, as ``probs.hockey`` or ``messages[0].role``."""

    def __init__(self, key: str, field: str) -> None:
        super().__init__(f"duplicate key {key!r} in a JSON object")
        self.key = key
        self.field = field


def loads(data: str | bytes, *, exact_ints: bool = False, unique_keys: bool = False) -> Any:
    """Parse JSON: orjson, or the standard library where orjson would refuse or change the document.
    ``unique_keys``: an object naming a key twice raises :class:`DuplicateKey`."""
    if not exact_ints or (_LONG_DIGITS_B if isinstance(data, bytes) else _LONG_DIGITS).search(data) is None:  # type: ignore[arg-type]
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        else:
            if unique_keys and may_repeat_keys(data, value):
                _find_duplicate(data)
            return value
    try:
        value = json.loads(data, object_hook=Exact)
    except RecursionError:
        doc = data if isinstance(data, str) else data.decode("utf-8", "replace")
        raise json.JSONDecodeError("nested too deeply", doc, 0) from None
    if unique_keys and may_repeat_keys(data, value):
        _find_duplicate(data)
    return value


def _count_keys(value: Any) -> int:
    if isinstance(value, dict):
        n = len(value)
        for v in value.values():
            if isinstance(v, (dict, list)):
                n += _count_keys(v)
        return n
    if isinstance(value, list):
        return sum(_count_keys(v) for v in value if isinstance(v, (dict, list)))
    return 0


def may_repeat_keys(data: str | bytes, value: Any) -> bool:
    """Every key of the document is a ``"...":`` token: no more tokens than parsed keys means no key repeated."""
    if not isinstance(value, (dict, list)):
        return False
    is_bytes = isinstance(data, bytes)
    colons = data.count(b":" if is_bytes else ":")  # type: ignore[arg-type]
    if type(value) is dict:  # the usual row, at a fraction of the cost: keys counted one level deep are a
        known = len(value)  # lower bound, so no more colons than those means no key repeated
        for v in value.values():
            if type(v) is dict:
                known += len(v)
        if colons <= known:
            return False
    keys = _count_keys(value)
    if colons <= keys:
        return False  # cheap upper bounds first: every key is followed by a colon...
    if len((_QUOTE_COLON_B if is_bytes else _QUOTE_COLON).findall(data)) <= keys:  # type: ignore[arg-type]
        return False  # ...and ends with a quote
    return len((_KEY_TOKEN_B if is_bytes else _KEY_TOKEN).findall(data)) > keys  # type: ignore[arg-type]


class _Pairs(list):  # type: ignore[type-arg]
    """An object as its (key, value) pairs, in order, duplicates kept."""


def _find_duplicate(data: str | bytes) -> None:
    """Raise :class:`DuplicateKey` for the first repeated key of the document, if there is one."""
    def walk(node: Any, path: str) -> None:
        if isinstance(node, _Pairs):
            seen: set[str] = set()
            for key, child in node:
                where = f"{path}.{key}" if path else key
                if key in seen:
                    raise DuplicateKey(key, where)
                seen.add(key)
                walk(child, where)
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{path}[{i}]")
    walk(json.loads(data, object_pairs_hook=_Pairs), "")


def has_long_digits(text: str | bytes) -> bool:
    """Does ``text`` hold 19 digits in a row anywhere? Where a whole file has none, no line of it needs
    ``loads(..., exact_ints=True)``: the plain (faster) call reads each line to the same value."""
    return (_LONG_DIGITS_B if isinstance(text, bytes) else _LONG_DIGITS).search(text) is not None  # type: ignore[arg-type]


def dumps(value: Any, *, sort_keys: bool = False, exact: bool = False) -> str:
    """Compact JSON text (``sort_keys``: keys in sorted order, at every level). ``exact``: a document read by
    the standard library (an :class:`Exact` dict) is written by it too, keeping ``NaN``/``±Infinity``."""
    if exact and isinstance(value, Exact):
        return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, default=str, separators=(",", ":"))
    opts = _OPTS | orjson.OPT_SORT_KEYS if sort_keys else _OPTS
    try:
        return orjson.dumps(value, default=str, option=opts).decode("utf-8")
    except TypeError:  # e.g. a circular reference or an integer beyond 64 bits: the standard library's rules
        return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, default=str, separators=(",", ":"))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_safe(value: Any) -> Any:
    """Best-effort conversion of provider payloads for results files."""
    t = type(value)
    if t in _SCALARS:
        return value
    if t is dict or isinstance(value, dict):
        return {k if type(k) is str else str(k): v if type(v) in _SCALARS else json_safe(v)
                for k, v in value.items()}
    if t is list or t is tuple or isinstance(value, (list, tuple)):
        return [v if type(v) in _SCALARS else json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
