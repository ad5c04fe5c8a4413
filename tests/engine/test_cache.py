"""The SQLite response cache: keys, durability, batch records, secrets, ``harness cache info|clear``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from harness.cache import Cache, SecretScanner, batch_key, canonical_json, default_cache_path, request_key
from harness.errors import ProviderError

from .conftest import API_KEY, cached_count, run_cli


def test_default_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_path() == tmp_path / "c" / "cache.sqlite3"
    monkeypatch.delenv("HARNESS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_path() == tmp_path / "xdg" / "harness" / "cache.sqlite3"


def test_key_is_canonical_and_covers_identity_endpoint_body() -> None:
    ident = canonical_json({"provider": "p", "base_url": "u"})
    k1 = request_key(ident, "/v1/chat", canonical_json({"a": 1, "b": [1, 2]}))
    assert k1 == request_key(canonical_json({"base_url": "u", "provider": "p"}), "/v1/chat",
                             canonical_json({"b": [1, 2], "a": 1}))
    assert len(k1) == 64
    assert k1 != request_key(ident, "/v1/completions", canonical_json({"a": 1, "b": [1, 2]}))
    assert k1 != request_key(canonical_json({"provider": "q", "base_url": "u"}), "/v1/chat",
                             canonical_json({"a": 1, "b": [1, 2]}))
    assert k1 != request_key(ident, "/v1/chat", canonical_json({"a": 2, "b": [1, 2]}))


def test_put_is_committed_for_other_connections_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    cache = Cache(path)
    cache.put("k1", "{}", "/e", '{"x":1}', {"answer": "é"})
    assert cached_count(path) == 1  # another connection sees it before close: committed
    assert cache.get_many(["k1", "k2"])["k1"].response == {"answer": "é"}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cache.close()


def test_batch_records_exact_and_superset(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c.sqlite3")
    keys = ["a", "b", "c"]
    bkey = batch_key("{}", keys)
    assert bkey == batch_key("{}", ["c", "a", "b"])
    cache.record_batch(bkey, "{}", "batch_1", keys, "submitted")
    assert cache.find_batch(bkey, "{}", set(keys)) == (bkey, "batch_1", keys)
    # some answers were cached before an interruption: the rest is still covered by the same batch
    assert cache.find_batch(batch_key("{}", ["a", "c"]), "{}", {"a", "c"}) == (bkey, "batch_1", keys)
    assert cache.find_batch(batch_key("{}", ["a", "z"]), "{}", {"a", "z"}) is None
    assert cache.find_batch(batch_key('{"o":1}', ["a"]), '{"o":1}', {"a"}) is None
    cache.update_batch(bkey, "in_progress")
    assert cache.info()["batches"][0]["status"] == "in_progress"
    cache.forget_batch(bkey)
    assert cache.info()["batches"] == []
    cache.close()


def test_secret_scanner() -> None:
    scanner = SecretScanner({"OPENAI_API_KEY": API_KEY, "SHORT_TOKEN": "abc", "HOME": "/root/secret"})
    assert scanner.found_in(f'{{"key":"{API_KEY}"}}')
    assert scanner.found_in("Bearer sk-proj-abcdefghijklmnopqrstuvwx")  # key-shaped, from any source
    assert not scanner.found_in('{"home":"/root/secret","t":"abc"}')
    with pytest.raises(ProviderError, match="refusing to cache"):
        scanner.check(API_KEY, "the identity")


def test_cache_info_and_clear_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.sqlite3"
    assert run_cli("cache", "info", "--cache", str(path)) == 0
    assert "empty" in capsys.readouterr().out
    cache = Cache(path)
    for i in range(3):
        cache.put(f"k{i}", canonical_json({"provider": "p", "base_url": "http://a"}), "/e", "{}", {"i": i})
    cache.put("z", canonical_json({"provider": "p", "base_url": "http://b"}), "/e", "{}", {"i": 9})
    cache.record_batch("bk", "{}", "batch_9", ["z"], "in_progress")
    cache.close()
    assert run_cli("cache", "info", "--cache", str(path), "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert info["responses"] == 4 and len(info["targets"]) == 2 and info["batches"][0]["batch_id"] == "batch_9"
    assert run_cli("cache", "info", "--cache", str(path)) == 0
    out = capsys.readouterr().out
    assert "4 responses" in out and "batch_9" in out and "base_url=http://a" in out
    assert run_cli("cache", "clear", "--cache", str(path), "--match", "http://b", "--yes") == 0
    assert "deleted 1 responses" in capsys.readouterr().out
    assert cached_count(path) == 3
    assert run_cli("cache", "clear", "--cache", str(path), "--yes") == 0
    assert cached_count(path) == 0


def test_cache_commands_use_harness_cache_dir(cache_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Cache(cache_file).close()
    assert run_cli("cache", "info") == 0
    assert str(cache_file) in capsys.readouterr().out
