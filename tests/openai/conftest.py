"""Fixtures for the OpenAI provider tests: a real loopback server speaking the OpenAI wire format.

Every test gets a fresh :class:`fakes.openai_server.FakeOpenAI` on one session-wide server, the environment
pointing the providers at it (``OPENAI_BASE_URL``), a recognisable fake key, and strict SDK response
validation (``HARNESS_OPENAI_STRICT=1``) so a fake body that drifts from the real API schema fails, and a
response cache of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, start_server
from openai_testkit import AZURE_KEY, KEY
from pytest_httpserver import HTTPServer

_ENV_TO_CLEAR = ("OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_ADMIN_KEY", "OPENAI_CUSTOM_HEADERS",
                 "OPENAI_WEBHOOK_SECRET", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_AD_TOKEN",
                 "OPENAI_API_VERSION", "MY_KEY")


@pytest.fixture(scope="session")
def openai_http() -> Iterator[HTTPServer]:
    server = start_server()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def fake(openai_http: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeOpenAI]:
    for var in _ENV_TO_CLEAR:
        monkeypatch.delenv(var, raising=False)
    fake = FakeOpenAI(openai_http, api_key=KEY, azure_key=AZURE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("HARNESS_OPENAI_STRICT", "1")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "response-cache"))  # never the user's cache
    yield fake
    # a request abandoned in flight at the end of this test must not reach the next test's handler (and take
    # the fault that test injects: test_strict_validation_catches_a_body_that_drifts_from_the_api was flaky)
    fake.settle()
