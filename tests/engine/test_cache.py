"""The SQLite response cache: keys, durability, batch records, secrets, ``harness cache info|clear``."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cache import Cache, SecretScanner, batch_key, canonical_json, default_cache_path, request_key
from harness.engine import Engine, EngineOptions
from harness.errors import InputError, ProviderError

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
    assert scanner.found_in("Bearer sk-proj-abcdefghijklmnopqrstuvwx0123456789AB")  # key-shaped, from any source
    assert not scanner.found_in('{"home":"/root/secret","t":"abc"}')
    with pytest.raises(ProviderError, match="refusing to cache"):
        scanner.check(API_KEY, "the identity")


def test_secret_scanner_finds_any_key_variable_and_ignores_ordinary_sk_words() -> None:
    # the openai provider accepts any api_key_env: a key in MY_KEY must be found too
    scanner = SecretScanner({"MY_KEY": "0123abcd-not-openai-shaped", "PASSWORD": "hunter2hunter2", "KEY": "short"})
    assert scanner.found_in('{"x":"0123abcd-not-openai-shaped"}')
    assert scanner.found_in("hunter2hunter2")
    assert not scanner.found_in("short")  # too short to be a secret: everywhere in ordinary text
    # ordinary hyphenated text is not a key ("refusing to send" would stop the whole model)
    for text in ("sk-learn-pipeline-classifier", "use sk-learn-pipeline-classifier-with-tfidf-features-v",
                 "sk-0123456789", "task-0123456789abcdef0123456789abcdef0123"):
        assert not SecretScanner({}).found_in(text), text
    for text in ("sk-2024-ultralight-trekking-pole-carbon-x", "sk-None", "sk-ant-lopes-are-fast-animals"):
        assert not SecretScanner({}).found_in(text), text
    for key in ("sk-" + "a1" * 24, "sk-proj-" + "Ab3_" * 10, "sk-svcacct-" + "x9-Y" * 9, "sk-None-" + "Zq4" * 12,
                "sk-or-v1-" + "0f" * 32, "sk-ant-api03-" + "Ab9-" * 20):
        assert SecretScanner({}).found_in(f"Bearer {key}"), key
        assert SecretScanner({}).scrub(f"bad key {key}.") == "bad key ***."


def test_scrub_removes_environment_secrets() -> None:
    scanner = SecretScanner({"MY_KEY": "0123abcd-not-openai-shaped", "OPENAI_API_KEY": API_KEY})
    assert scanner.scrub(f"401: key {API_KEY} / 0123abcd-not-openai-shaped rejected") == "401: key *** / *** rejected"


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


def test_cache_info_and_clear_by_model(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.sqlite3"
    cache = Cache(path)
    server = canonical_json({"provider": "openai", "base_url": "http://a/v1"})
    for i, model in enumerate(["gpt-4o-mini"] * 3 + ["ft:gpt-4o-mini-2024-07-18:acme::abc123"] * 2):
        cache.put(f"k{i}", server, "/v1/chat/completions", canonical_json({"model": model, "i": i}), {"i": i})
    cache.close()
    assert run_cli("cache", "info", "--cache", str(path), "--json") == 0
    targets = {t["model"]: t["responses"] for t in json.loads(capsys.readouterr().out)["targets"]}
    assert targets == {"gpt-4o-mini": 3, "ft:gpt-4o-mini-2024-07-18:acme::abc123": 2}
    assert run_cli("cache", "info", "--cache", str(path)) == 0
    assert "ft:gpt-4o-mini-2024-07-18:acme::abc123" in capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))  # answering no deletes nothing; not an error (exit 0)
    assert run_cli("cache", "clear", "--cache", str(path), "--match", "abc123") == 0
    assert cached_count(path) == 5
    assert run_cli("cache", "clear", "--cache", str(path), "--match", "abc123", "--yes") == 0
    assert "deleted 2 responses" in capsys.readouterr().out
    assert cached_count(path) == 3


def test_cache_commands_use_harness_cache_dir(cache_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Cache(cache_file).close()
    assert run_cli("cache", "info") == 0
    assert str(cache_file) in capsys.readouterr().out


def test_cache_info_reads_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``cache info`` opens the file read-only: it works on a read-only file and never changes it."""
    path = tmp_path / "c.sqlite3"
    cache = Cache(path)
    cache.put("k", "{}", "/e", "{}", {"i": 1})
    cache.close()
    before = path.stat()
    ro = Cache(path, readonly=True)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ro.db.execute("INSERT INTO meta VALUES ('x', 'y')")
    ro.close()
    path.chmod(0o444)
    try:
        assert run_cli("cache", "info", "--cache", str(path), "--json") == 0
        assert json.loads(capsys.readouterr().out)["responses"] == 1
        after = path.stat()
        assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
        if not os.access(path, os.W_OK):  # root ignores the mode: then the read-only open above is the check
            with pytest.raises(InputError):
                Cache(path)  # opening it for writing fails: info did not need to
    finally:
        path.chmod(0o644)


def test_cache_closes_its_connection_when_opening_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[sqlite3.Connection] = []
    closed: list[sqlite3.Connection] = []
    real_connect = sqlite3.connect

    class Tracked(sqlite3.Connection):
        def close(self) -> None:
            closed.append(self)
            super().close()

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        db = real_connect(*args, factory=Tracked, **kwargs)  # type: ignore[misc]
        opened.append(db)
        return db

    monkeypatch.setattr("harness.cache.sqlite3.connect", connect)
    garbage = tmp_path / "not-a-cache.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    newer = tmp_path / "newer.sqlite3"
    Cache(newer).close()
    with real_connect(newer) as db:
        db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    for path, kwargs in ((garbage, {}), (garbage, {"readonly": True}), (newer, {}), (newer, {"create": False})):
        n = len(opened)
        with pytest.raises(InputError):
            Cache(path, **kwargs)
        assert len(opened) == n + 1 and opened[-1] in closed, (path, kwargs)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable for this process: chmod for a normal user; as root (which chmod does not
    stop), the immutable attribute; skip where neither is possible."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("cannot make a file read-only for root here (no chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_cache_is_used_but_not_written(tmp_path: Path) -> None:
    from .test_engine import FAST, Fake, examples, run

    path = tmp_path / "c.sqlite3"
    opts = {**FAST, "cache": True, "cache_path": path}
    first = Fake("m")
    run(Engine(EngineOptions(**opts)), (first, examples(5)))
    assert cached_count(path) == 5
    Cache(path).db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file, as on a shared mount
    with read_only(path):
        again = Fake("m")
        engine = Engine(EngineOptions(**opts))
        [preds] = run(engine, (again, examples(8)))
        assert [p.label for p in preds] == ["yes"] * 8
        assert set(again.attempts) == {f"t text {i}" for i in range(5, 8)}  # the cached five were not sent
        assert any("read-only" in n for n in engine.notices)
        offline = Engine(EngineOptions(**opts, offline=True))
        [preds] = run(offline, (Fake("m"), examples(8)))
        assert [p.status for p in preds].count("failed") == 3  # the three never stored
    assert cached_count(path) == 5


def test_a_cache_in_a_read_only_folder_is_used_too(tmp_path: Path) -> None:
    """A read-only mount: not even the WAL's -shm file can be created there."""
    from .test_engine import FAST, Fake, examples, run

    folder = tmp_path / "mount"
    folder.mkdir()
    path = folder / "c.sqlite3"
    opts = {**FAST, "cache": True, "cache_path": path}
    run(Engine(EngineOptions(**opts)), (Fake("m"), examples(4)))
    Cache(path).close()  # the last connection to close checkpoints the WAL into the file and removes it
    assert not Path(f"{path}-wal").exists()
    with read_only(folder):
        again = Fake("m")
        engine = Engine(EngineOptions(**opts))
        [preds] = run(engine, (again, examples(6)))
        assert [p.label for p in preds] == ["yes"] * 6
        assert set(again.attempts) == {"t text 4", "t text 5"}
        assert any("read-only" in n for n in engine.notices)
