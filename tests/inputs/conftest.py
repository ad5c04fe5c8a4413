"""Fixtures for the bad-input tests: a suite whose model is reached through a real loopback OpenAI server (so
"nothing was sent" is something a test can check), a response cache and an output folder of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, start_server
from pytest_httpserver import HTTPServer

KEY = "sk-test-inputs-0123456789abcdef"


@pytest.fixture(scope="session")
def inputs_http() -> Iterator[HTTPServer]:
    server = start_server()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def fake(inputs_http: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeOpenAI:
    for var in ("OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT",
                "HARNESS_REPORT_TEMPLATES", "HARNESS_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeOpenAI(inputs_http, api_key=KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("HARNESS_OPENAI_STRICT", "1")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "response-cache"))
    return fake
