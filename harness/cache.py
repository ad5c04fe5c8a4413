"""The durable response cache: one SQLite file (WAL mode) shared by every run on the machine.

A response is keyed by the sha256 of the canonical JSON of the model's ``cache_identity()``, its endpoint
and the full request body, and committed as soon as it arrives, so a killed run loses at most the
requests that were in flight; re-running the same command resumes where it stopped. Submitted batches
are recorded too (``batches``), so an interrupted ``--batch`` run resumes polling instead of resubmitting.
API keys are never stored: :class:`SecretScanner` refuses any identity or body that contains one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from .errors import InputError, ProviderError

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
    """``$HARNESS_CACHE_DIR/cache.sqlite3``, else ``$XDG_CACHE_HOME/harness/…``, else ``~/.cache/harness/…``."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser() / CACHE_FILE
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "harness" / CACHE_FILE


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def request_key(identity_json: str, endpoint: str, body_json: str) -> str:
    """The cache key of one request (arguments already canonical JSON)."""
    text = f'{{"body":{body_json},"endpoint":{json.dumps(endpoint)},"identity":{identity_json}}}'
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def batch_key(identity_json: str, keys: Iterable[str]) -> str:
    return hashlib.sha256((identity_json + "\n" + "\n".join(sorted(keys))).encode("utf-8")).hexdigest()


_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")
_SECRET_NAMES = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)


class SecretScanner:
    """Finds API keys in text: the values of this process's ``*_API_KEY``/``*_TOKEN``/``*_SECRET``
    environment variables, and anything shaped like an OpenAI key (``sk-…``)."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.values = tuple(v for k, v in env.items() if _SECRET_NAMES.search(k) and len(v) >= 8)

    def found_in(self, text: str) -> bool:
        return any(s in text for s in self.values) or _KEY_LIKE.search(text) is not None

    def check(self, text: str, what: str) -> None:
        if self.found_in(text):
            raise ProviderError(f"refusing to cache {what}: it contains an API key or token (a provider "
                                "must never put its key in cache_identity() or the request body)")


@dataclass
class Cached:
    response: dict[str, Any]
    via: str


class Cache:
    """A handle on the cache file. Opened lazily by the engine, used from one thread at a time."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise InputError("no cache file here yet", file=self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                      timeout=30.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise InputError(f"cannot open the response cache ({exc}); use --cache PATH or --no-cache",
                             file=self.path) from None
        if int(row[0]) > SCHEMA_VERSION:
            raise InputError(f"cache schema {row[0]} is newer than this harness understands; upgrade harness "
                             "or use another --cache", file=self.path)

    def close(self) -> None:
        self.db.close()

    # --- responses ----------------------------------------------------------------------------------

    def get_many(self, keys: Sequence[str]) -> dict[str, Cached]:
        out: dict[str, Cached] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            chunk = unique[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for key, response, via in self.db.execute(
                    f"SELECT key, response, via FROM responses WHERE key IN ({marks})", chunk):
                out[key] = Cached(json.loads(response), via)
        return out

    def cached_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these keys have a response (without reading the responses)."""
        out: set[str] = set()
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            chunk = unique[i:i + 500]
            marks = ",".join("?" * len(chunk))
            out.update(k for (k,) in self.db.execute(f"SELECT key FROM responses WHERE key IN ({marks})", chunk))
        return out

    def put(self, key: str, identity_json: str, endpoint: str, request_json: str, response: dict[str, Any],
            via: str = "request") -> None:
        """Store one response, committed at once."""
        self.put_many([(key, identity_json, endpoint, request_json, response, via)])

    def put_many(self, rows: Sequence[tuple[str, str, str, str, dict[str, Any], str]]) -> None:
        """Store responses in one transaction, committed before returning (the engine calls it once per
        event-loop turn with the responses that arrived in it; a batch download calls it once)."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [(k, i, e, r, json.dumps(resp, ensure_ascii=False), via, now)
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

    def record_batch(self, key: str, identity_json: str, batch_id: str, keys: Sequence[str], status: str) -> None:
        now = time.time()
        self.db.execute("INSERT OR REPLACE INTO batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (key, identity_json, batch_id, json.dumps(list(keys)), status, now, now))

    def update_batch(self, key: str, status: str) -> None:
        self.db.execute("UPDATE batches SET status=?, updated_at=? WHERE key=?", (status, time.time(), key))

    def forget_batch(self, key: str) -> None:
        self.db.execute("DELETE FROM batches WHERE key=?", (key,))

    # --- housekeeping -------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        targets = [{"identity": json.loads(ident), "responses": n, "batch_responses": nb,
                    "first": first, "last": last}
                   for ident, n, nb, first, last in self.db.execute(
                       "SELECT identity, count(*), sum(via='batch'), min(created_at), max(created_at) "
                       "FROM responses GROUP BY identity ORDER BY count(*) DESC")]
        batches = [{"batch_id": bid, "status": status, "requests": len(json.loads(keys)), "identity":
                    json.loads(ident), "updated_at": updated}
                   for bid, status, keys, ident, updated in self.db.execute(
                       "SELECT batch_id, status, request_keys, identity, updated_at FROM batches")]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {"path": str(self.path), "bytes": size, "responses": sum(t["responses"] for t in targets),
                "targets": targets, "batches": batches}

    def clear(self, match: str | None = None) -> int:
        """Delete every response (or those whose identity contains ``match``) and pending batch records."""
        with self.db:
            self.db.execute("BEGIN")
            if match:
                like = f"%{match}%"
                n = self.db.execute("DELETE FROM responses WHERE identity LIKE ?", (like,)).rowcount
                self.db.execute("DELETE FROM batches WHERE identity LIKE ?", (like,))
            else:
                n = self.db.execute("DELETE FROM responses").rowcount
                self.db.execute("DELETE FROM batches")
        self.db.execute("VACUUM")
        return n
