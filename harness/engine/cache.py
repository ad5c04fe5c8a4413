"""The durable response cache: one SQLite file (WAL mode) shared by every run on the machine.

A response is keyed by the sha256 of the canonical JSON of the model's ``cache_identity()``, its endpoint
and the full request body, and committed as soon as it arrives, so a killed run loses at most the
requests that were in flight; re-running the same command resumes where it stopped. Submitted batches
are recorded too (``batches``), so an interrupted ``--batch`` run resumes polling instead of resubmitting.
API keys are never stored: :class:`SecretScanner` refuses any identity or body that contains one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import jsonio
from ..errors import InputError, ProviderError

CACHE_DIR_ENV = "HARNESS_CACHE_DIR"
CACHE_FILE = "cache.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,          -- sha256(canonical {identity, endpoint, body})
    identity TEXT NOT NULL,        -- canonical JSON of the model's cache_identity()
    endpoint TEXT NOT NULL,
    request TEXT NOT NULL,         -- canonical JSON body
    response TEXT NOT NULL,        -- JSON as returned by the provider's send()
    via TEXT NOT NULL DEFAULT 'request',  -- 'request' or 'batch' (batch responses cost half)
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    key TEXT PRIMARY KEY,          -- sha256(identity + sorted request keys)
    identity TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    request_keys TEXT NOT NULL,    -- JSON list of the request keys in the batch
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
"""


def default_cache_path() -> Path:
    """``$HARNESS_CACHE_DIR/cache.sqlite3``; else ``$XDG_CACHE_HOME/harness/…`` when that is set (on any
    platform); else the platform's user cache folder (``platformdirs``): ``~/.cache/harness/…`` on Linux,
    ``~/Library/Caches/harness/…`` on macOS, ``%LOCALAPPDATA%\\harness\\Cache\\…`` on Windows. A cache that
    earlier versions wrote to ``~/.cache/harness/`` on macOS or Windows keeps being used while the platform's
    folder has none (docs/runner.md, "Location")."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser() / CACHE_FILE
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "harness" / CACHE_FILE
    import platformdirs

    platform = Path(platformdirs.user_cache_dir("harness", appauthor=False)) / CACHE_FILE
    legacy = Path.home() / ".cache" / "harness" / CACHE_FILE
    if platform != legacy and legacy.exists() and not platform.exists():
        return legacy
    return platform


def resolve_cache_path(path: str | Path | None = None) -> Path:
    """The cache file to use: ``path`` (``--cache``) if given, else :func:`default_cache_path`."""
    return Path(path) if path else default_cache_path()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def request_key(identity_json: str, endpoint: str, body_json: str) -> str:
    """The cache key of one request (arguments already canonical JSON)."""
    text = f'{{"body":{body_json},"endpoint":{json.dumps(endpoint)},"identity":{identity_json}}}'
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def batch_key(identity_json: str, keys: Iterable[str]) -> str:
    return hashlib.sha256((identity_json + "\n" + "\n".join(sorted(keys))).encode("utf-8")).hexdigest()


# the shapes of OpenAI keys ("sk-proj-…", "sk-svcacct-…", "sk-admin-…", "sk-None-…") and of the
# OpenAI-compatible services people point harness at (OpenRouter "sk-or-v1-…", Anthropic "sk-ant-api03-…"):
# a prefix, then 20+ key characters with a digit; or a legacy "sk-" then 32+ letters and digits (no
# hyphens). Ordinary hyphenated words and part numbers ("sk-learn-pipeline-classifier",
# "sk-2024-ultralight-trekking-pole") are not taken for keys.
_KEY_LIKE = re.compile(r"\bsk-(?:(?:proj|svcacct|admin|None|or-v\d+|ant-api\d+)-(?=[A-Za-z_\-]*[0-9])"
                       r"[A-Za-z0-9_\-]{20,}|(?=[A-Za-z]*[0-9])[A-Za-z0-9]{32,})")
_SECRET_NAMES = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
MIN_SECRET_LEN = 8
REDACTED = "***"


class SecretScanner:
    """Finds API keys in text: the values (8+ characters) of this process's environment variables whose
    names end in ``KEY``/``TOKEN``/``SECRET``/``PASSWORD`` (``OPENAI_API_KEY``, ``MY_KEY``, …), and anything
    shaped like an OpenAI key (``sk-…``)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        values = {v for k, v in env.items() if _SECRET_NAMES.search(k) and len(v) >= MIN_SECRET_LEN}
        self.values = tuple(sorted(values, key=len, reverse=True))  # longest first: scrub() replaces whole keys

    def _env_value_in(self, text: str) -> bool:
        return any(s in text for s in self.values)

    def found_in(self, text: str) -> bool:
        return self._env_value_in(text) or _KEY_LIKE.search(text) is not None

    def check(self, text: str, what: str) -> None:
        """Raise :class:`ProviderError` if ``text`` (a cache identity) holds a key."""
        if self.found_in(text):
            raise ProviderError(f"refusing to cache or send {what}: it contains an API key or token (a provider "
                                "must never put its key in cache_identity() or the request body)")

    def check_body(self, text: str, what: str) -> str | None:
        """Screen a request body before it is sent (and cached). The value of a key variable of this process
        raises :class:`ProviderError` (the provider put its key in the body: stop the model); text merely
        shaped like an OpenAI key (a ticket that quotes one, say) returns the reason to fail that example
        alone; None when clean."""
        if self._env_value_in(text):
            raise ProviderError(f"refusing to cache or send {what}: it contains the value of an API key or token "
                                "variable of this process (a provider must never put its key in the request body)")
        if _KEY_LIKE.search(text) is not None:
            return ("not sent: the example's text contains something shaped like an OpenAI API key (sk-…), "
                    "which must not be stored in the response cache; redact it in the dataset")
        return None

    def scrub(self, text: str) -> str:
        """``text`` with every key replaced by ``***`` (for failure reasons written to results)."""
        for s in self.values:
            if s in text:
                text = text.replace(s, REDACTED)
        return _KEY_LIKE.sub(REDACTED, text)


def _writes(method: Callable[..., None]) -> Callable[..., None]:
    """A write to the cache: nothing happens in a cache opened read-only."""
    @functools.wraps(method)
    def write(self: Cache, *args: Any, **kwargs: Any) -> None:
        if not self.readonly:
            method(self, *args, **kwargs)

    return write


#: The ``model`` a cached request asked for (SQL; NULL when its body has none).
_MODEL = "(CASE WHEN json_valid(request) THEN json_extract(request, '$.model') END)"


@dataclass
class Cached:
    response: dict[str, Any]
    via: str


class Cache:
    """A handle on the cache file. Opened lazily by the engine, used from one thread at a time."""

    def __init__(self, path: Path, *, create: bool = True, readonly: bool = False) -> None:
        """``create=False``: the file must exist and its schema is not created (``harness cache clear``);
        ``readonly=True`` (implies ``create=False``): opened read-only, nothing is written (``cache info``, or
        a run whose cache file is read-only: see :meth:`open_for_run`)."""
        self.path = Path(path)
        self.readonly = readonly
        create = create and not readonly
        if not create and not self.path.exists():
            raise InputError("no cache file here yet", file=self.path)
        db: sqlite3.Connection | None = None
        try:
            if readonly:
                # in a folder nobody may write (a read-only mount), SQLite cannot create the WAL's -shm file
                # that even a reader needs; nothing can change the file there, so it is opened as immutable
                # (responses still in an un-checkpointed -wal file are then not seen)
                frozen = "&immutable=1" if not os.access(self.path.parent, os.W_OK) else ""
                db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro{frozen}", uri=True,
                                     isolation_level=None, check_same_thread=False, timeout=30.0)
            else:
                if create:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0)
            if create:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(_SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except (sqlite3.DatabaseError, OSError) as exc:
            if db is not None:
                db.close()
            raise InputError(f"cannot open the response cache ({exc}); use --cache PATH or --no-cache",
                             file=self.path) from None
        if row is not None and int(row[0]) > SCHEMA_VERSION:
            db.close()
            raise InputError(f"cache schema {row[0]} is newer than this harness understands; upgrade harness "
                             "or use another --cache", file=self.path)
        self.db = db

    @classmethod
    def open_for_run(cls, path: Path) -> Cache:
        """The cache of a run: read-write, created if needed; a file that exists but cannot be written (a
        read-only mount, a shared cache) is opened read-only (check ``readonly``): its responses are still
        used, new ones are simply not stored."""
        try:
            return cls(path)
        except InputError as exc:
            if not path.exists() or os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
                raise
            try:
                return cls(path, readonly=True)
            except InputError:
                raise exc from None  # the reason it could not be opened for writing

    def close(self) -> None:
        self.db.close()

    # --- responses ----------------------------------------------------------------------------------

    def _select_in(self, columns: str, keys: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """``SELECT columns FROM responses WHERE key IN keys``, in chunks (SQLite limits the parameters)."""
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            chunk = unique[i:i + 500]
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(f"SELECT {columns} FROM responses WHERE key IN ({marks})", chunk)

    def get_many(self, keys: Sequence[str]) -> dict[str, Cached]:
        return dict(self.iter_many(keys))

    def iter_many(self, keys: Sequence[str]) -> Iterator[tuple[str, Cached]]:
        """The cached responses of these keys, one at a time (each decoded when reached, so a caller that
        uses and drops them holds one chunk at a time, however many there are)."""
        for key, response, via in self._select_in("key, response, via", keys):
            yield key, Cached(jsonio.loads(response), via)

    def cached_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these keys have a response (without reading the responses)."""
        return {k for (k,) in self._select_in("key", keys)}

    def put(self, key: str, identity_json: str, endpoint: str, request_json: str, response: dict[str, Any],
            via: str = "request") -> None:
        """Store one response, committed at once."""
        self.put_many([(key, identity_json, endpoint, request_json, response, via)])

    @_writes
    def put_many(self, rows: Sequence[tuple[str, str, str, str, dict[str, Any], str]]) -> None:
        """Store responses in one transaction, committed before returning (the engine calls it once per
        event-loop turn with the responses that arrived in it; a batch download calls it once). Nothing is
        stored in a cache opened read-only."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [(k, i, e, r, jsonio.dumps(resp, exact=True), via, now)
                                 for k, i, e, r, resp, via in rows])

    # --- batches ------------------------------------------------------------------------------------

    def find_batch(self, key: str, identity_json: str, keys: set[str]) -> tuple[str, str, list[str]] | None:
        """A recorded batch for exactly these requests, else one of the same target covering all of them:
        (batch key, batch id, its request keys)."""
        row = self.db.execute("SELECT key, batch_id, request_keys FROM batches WHERE key=?", (key,)).fetchone()
        if row:
            return row[0], row[1], json.loads(row[2])
        for bkey, bid, rkeys in self.db.execute(
                "SELECT key, batch_id, request_keys FROM batches WHERE identity=? ORDER BY created_at DESC",
                (identity_json,)):
            covered = json.loads(rkeys)
            if keys <= set(covered):
                return bkey, bid, covered
        return None

    @_writes
    def record_batch(self, key: str, identity_json: str, batch_id: str, keys: Sequence[str], status: str) -> None:
        now = time.time()
        self.db.execute("INSERT OR REPLACE INTO batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (key, identity_json, batch_id, json.dumps(list(keys)), status, now, now))

    @_writes
    def update_batch(self, key: str, status: str) -> None:
        self.db.execute("UPDATE batches SET status=?, updated_at=? WHERE key=?", (status, time.time(), key))

    @_writes
    def forget_batch(self, key: str) -> None:
        self.db.execute("DELETE FROM batches WHERE key=?", (key,))

    # --- housekeeping -------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Responses per target (server identity and the ``model`` the requests ask for), batches, size."""
        targets = [{"identity": json.loads(ident), "model": model, "responses": n, "batch_responses": nb,
                    "first": first, "last": last}
                   for ident, model, n, nb, first, last in self.db.execute(
                       f"SELECT identity, {_MODEL} AS model, count(*), sum(via='batch'), min(created_at), "
                       "max(created_at) FROM responses GROUP BY identity, model ORDER BY count(*) DESC")]
        batches = [{"batch_id": bid, "status": status, "requests": len(json.loads(keys)), "identity":
                    json.loads(ident), "updated_at": updated}
                   for bid, status, keys, ident, updated in self.db.execute(
                       "SELECT batch_id, status, request_keys, identity, updated_at FROM batches")]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {"path": str(self.path), "bytes": size, "responses": sum(t["responses"] for t in targets),
                "targets": targets, "batches": batches}

    def clear(self, match: str | None = None) -> int:
        """Delete every response (or those whose server identity or requested model contains ``match``) and
        pending batch records (of the matching servers)."""
        with self.db:
            self.db.execute("BEGIN")
            if match:
                like = f"%{match}%"
                n = self.db.execute(f"DELETE FROM responses WHERE identity LIKE ?1 OR {_MODEL} LIKE ?1",
                                    (like,)).rowcount
                self.db.execute("DELETE FROM batches WHERE identity LIKE ?", (like,))
            else:
                n = self.db.execute("DELETE FROM responses").rowcount
                self.db.execute("DELETE FROM batches")
        self.db.execute("VACUUM")
        return n
