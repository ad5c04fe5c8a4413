"""The engine with in-process request models (no HTTP): fairness, limits, retries, failures, budget."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from harness.engine import BUDGET_EXHAUSTED, Engine, EngineOptions, Retryable
from harness.errors import ExampleFailure, ProviderError
from harness.examples import Example, Prediction
from harness.pricing import PriceTable
from harness.providers import ModelSpec, RequestModel
from harness.ratelimit import RateLimit

FAST = dict(backoff_base=0.005, backoff_max=0.02, cache=False)


def examples(n: int, prefix: str = "t") -> list[Example]:
    return [Example(f"{prefix}{i}", "yes", f"{prefix} text {i}", f"{prefix} text {i}", ()) for i in range(n)]


class Fake(RequestModel):
    """send() sleeps ``latency`` then answers; ``script(text, attempt)`` may raise instead."""

    endpoint = "/fake"

    def __init__(self, name: str, latency: float = 0.0, script: Callable[[str, int], None] | None = None,
                 model_id: str | None = None) -> None:
        super().__init__(name, ModelSpec(name, "fake", name))
        self.latency = latency
        self.script = script
        self.model_id = model_id or name
        self.log: list[tuple[float, str]] = []
        self.attempts: dict[str, int] = {}

    def build_request(self, example: Example) -> dict[str, Any]:
        return {"model": self.model_id, "text": example.text}

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        text = request["text"]
        self.attempts[text] = self.attempts.get(text, 0) + 1
        self.log.append((time.monotonic(), text))
        if self.script is not None:
            self.script(text, self.attempts[text])
        await asyncio.sleep(self.latency)
        return {"answer": "yes", "usage": {"prompt_tokens": 10, "completion_tokens": 1}}

    def parse(self, example: Example, request: dict[str, Any], response: dict[str, Any]) -> Prediction:
        if response["answer"] == "boom":
            raise KeyError("choices")
        return Prediction(example.id, label=response["answer"])

    def usage(self, response: dict[str, Any]) -> dict[str, int] | None:
        return response["usage"]

    def estimate_tokens(self, request: dict[str, Any]) -> tuple[int, int] | None:
        return (10, 1)

    def pricing_key(self) -> str | None:
        return "gpt-4o-mini"


async def _run(engine: Engine, *jobs: tuple[RequestModel, list[Example]]) -> list[list[Prediction]]:
    try:
        return list(await asyncio.gather(*(engine.run_requests(m, exs) for m, exs in jobs)))
    finally:
        await engine.aclose()


def run(engine: Engine, *jobs: tuple[RequestModel, list[Example]]) -> list[list[Prediction]]:
    return asyncio.run(_run(engine, *jobs))


def test_models_share_the_slots_round_robin() -> None:
    a, b = Fake("a", latency=0.01), Fake("b", latency=0.01)
    run(Engine(EngineOptions(concurrency=4, **FAST)), (a, examples(40, "a")), (b, examples(40, "b")))
    order = [text[0] for _, text in sorted(a.log + b.log)]
    first = order[:20]
    assert 8 <= first.count("a") <= 12, order  # not model after model


def test_concurrency_is_bounded() -> None:
    inflight, peak = 0, 0

    class Counting(Fake):
        async def send(self, request: dict[str, Any]) -> dict[str, Any]:
            nonlocal inflight, peak
            inflight += 1
            peak = max(peak, inflight)
            try:
                return await super().send(request)
            finally:
                inflight -= 1

    run(Engine(EngineOptions(concurrency=5, **FAST)), (Counting("a", latency=0.005), examples(60)),
        (Counting("b", latency=0.005), examples(60, "b")))
    assert peak == 5


def test_rpm_limit_is_honoured() -> None:
    m = Fake("a")
    t0 = time.monotonic()
    run(Engine(EngineOptions(concurrency=8, rate_limit=RateLimit(rpm=1200), **FAST)), (m, examples(30)))
    # 20/s with a one-second burst of 20: the last 10 need about 0.5 s
    assert time.monotonic() - t0 >= 0.4


def test_suite_and_provider_limits_and_cli_override() -> None:
    class Limited(Fake):
        def rate_limits(self) -> tuple[float | None, float | None]:
            return (100, 1000)

    m = Limited("tuned")
    assert Engine(EngineOptions()).limit_for(m) == RateLimit(100, 1000)
    opts = EngineOptions(rate_limits={"default": RateLimit(tpm=5), "fake": RateLimit(rpm=7),
                                      "tuned": RateLimit(rpm=9)})
    assert Engine(opts).limit_for(m) == RateLimit(9, 5)
    opts.rate_limit = RateLimit(rpm=1)
    assert Engine(opts).limit_for(m) == RateLimit(1, 5)


def test_429_pauses_the_whole_target_not_just_the_request() -> None:
    def script(text: str, attempt: int) -> None:
        if text.endswith(" 0") and attempt == 1:
            raise Retryable("HTTP 429 rate limited", retry_after=0.3, rate_limited=True)

    m = Fake("a", latency=0.02, script=script)
    other = Fake("b", latency=0.02)
    run(Engine(EngineOptions(concurrency=4, **FAST)), (m, examples(30)), (other, examples(30, "b")))
    t429 = next(t for t, text in m.log if text.endswith(" 0"))
    during = [t for t, _ in m.log if t429 + 0.01 < t < t429 + 0.28]
    assert during == []  # nothing else was sent to the throttled target during Retry-After
    assert any(t429 + 0.01 < t < t429 + 0.28 for t, _ in other.log)  # the other target kept going
    assert m.attempts["t text 0"] == 2


def test_transient_errors_are_retried_then_reported() -> None:
    def script(text: str, attempt: int) -> None:
        if text.endswith(" 1") and attempt < 3:
            raise Retryable("HTTP 500 server error")
        if text.endswith(" 2"):
            raise Retryable("HTTP 503 unavailable")
        if text.endswith(" 3"):
            raise ExampleFailure("HTTP 400 prompt too long")
        if text.endswith(" 4") and attempt == 1:
            raise ConnectionResetError("reset")
        if text.endswith(" 5"):
            raise RuntimeError("provider bug")

    m = Fake("a", script=script)
    engine = Engine(EngineOptions(concurrency=4, max_attempts=4, **FAST))
    [preds] = run(engine, (m, examples(8)))
    by_id = {p.example_id: p for p in preds}
    assert by_id["t1"].label == "yes" and m.attempts["t text 1"] == 3
    assert by_id["t2"].error == "HTTP 503 unavailable (gave up after 4 attempts)"
    assert by_id["t3"].error == "HTTP 400 prompt too long" and m.attempts["t text 3"] == 1
    assert by_id["t4"].label == "yes"
    assert by_id["t5"].error == "request failed (RuntimeError: provider bug)"
    usage = engine.usage["a"]
    assert usage.requests == 5 and usage.retries == 2 + 3 + 1


def test_timeout_is_retried() -> None:
    class Staller(Fake):
        async def send(self, request: dict[str, Any]) -> dict[str, Any]:
            self.attempts[request["text"]] = self.attempts.get(request["text"], 0) + 1
            if request["text"].endswith(" 0") and self.attempts[request["text"]] == 1:
                await asyncio.sleep(5)
            return {"answer": "yes", "usage": None}

    m = Staller("a")
    t0 = time.monotonic()
    [preds] = run(Engine(EngineOptions(timeout=0.1, **FAST)), (m, examples(3)))
    assert all(p.label == "yes" for p in preds) and time.monotonic() - t0 < 2


def test_provider_error_stops_only_that_model() -> None:
    def script(text: str, attempt: int) -> None:
        raise ProviderError("bad key")

    bad, good = Fake("bad", script=script), Fake("good")
    engine = Engine(EngineOptions(**FAST))

    async def go() -> tuple[Any, Any]:
        try:
            return tuple(await asyncio.gather(engine.run_requests(bad, examples(10)),
                                              engine.run_requests(good, examples(10)), return_exceptions=True))
        finally:
            await engine.aclose()

    r_bad, r_good = asyncio.run(go())
    assert isinstance(r_bad, ProviderError)
    assert all(p.label == "yes" for p in r_good)


def test_identical_requests_are_sent_once_and_parse_errors_are_per_example() -> None:
    class Dup(Fake):
        def build_request(self, example: Example) -> dict[str, Any]:
            return {"model": "m", "text": "same"}

        async def send(self, request: dict[str, Any]) -> dict[str, Any]:
            await super().send(request)
            return {"answer": "boom", "usage": None}

    m = Dup("a")
    [preds] = run(Engine(EngineOptions(**FAST)), (m, examples(5)))
    assert m.attempts == {"same": 1}
    assert [p.example_id for p in preds] == [f"t{i}" for i in range(5)]
    assert all(p.error == "could not parse the response (KeyError: 'choices')" for p in preds)


def test_budget_stops_before_it_is_exceeded() -> None:
    m = Fake("a", latency=0.001)
    prices = PriceTable([("test", {"gpt-4o-mini": (10_000.0, 10_000.0)})])  # 11 tokens = $0.11 a request
    engine = Engine(EngineOptions(concurrency=2, max_cost=1.0, **FAST), prices)
    [preds] = run(engine, (m, examples(20)))
    done = [p for p in preds if p.error is None]
    assert 1 <= len(done) <= 9
    assert all(p.error == BUDGET_EXHAUSTED for p in preds if p.error is not None)
    assert engine.budget is not None and engine.budget.spent <= 1.0 and engine.budget_exhausted
    assert engine.usage["a"].cost_json()["spent_usd"] == pytest.approx(0.11 * len(done))


def test_retryable_rate_limit_is_explicit() -> None:
    # never guessed from the reason: a model id such as ckpt-step-429 must not pause the target
    assert not Retryable("model 'ft:gpt-4o-mini:acme::abc:ckpt-step-429': request timed out").rate_limited
    assert not Retryable("Rate limit reached").rate_limited
    assert not Retryable("HTTP 503 unavailable").rate_limited
    assert Retryable("model 'x': HTTP 429: slow down", 1.0, rate_limited=True).rate_limited


def test_a_timeout_whose_reason_mentions_429_does_not_pause_the_target() -> None:
    def script(text: str, attempt: int) -> None:
        if text.endswith(" 0") and attempt == 1:
            raise Retryable("model 'ckpt-step-429': request timed out", retry_after=0.5)

    m = Fake("a", script=script)
    engine = Engine(EngineOptions(concurrency=1, **FAST))
    t0 = time.monotonic()
    [preds] = run(engine, (m, examples(5)))
    assert all(p.label == "yes" for p in preds)
    assert engine.usage["a"].rate_limited == 0 and engine.usage["a"].retries == 1
    others = [t for t, text in m.log if not text.endswith(" 0")]
    assert max(others) - t0 < 0.25  # the other requests were not held back by a pause of the target


def test_a_request_body_holding_a_key_is_never_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_API_KEY", "very-secret-value-123")

    class Leaky(Fake):
        def build_request(self, example: Example) -> dict[str, Any]:
            return {"model": "m", "text": example.text, "auth": "very-secret-value-123"}

    m = Leaky("a")
    engine = Engine(EngineOptions(**FAST))

    async def go() -> Any:
        try:
            return await engine.run_requests(m, examples(3))
        finally:
            await engine.aclose()

    with pytest.raises(ProviderError, match="contains the value of an API key or token variable"):
        asyncio.run(go())
    assert m.attempts == {}


def test_key_shaped_text_in_one_example_fails_only_that_example() -> None:
    texts = ["my key sk-proj-Ab3dEf5gH7jK9mN1pQ3rS5tU7vW9xY1z stopped working",  # a ticket quoting a key
             "part sk-2024-ultralight-trekking-pole-carbon-x arrived broken",  # a part number: not a key
             "an ordinary ticket"]
    exs = [Example(f"t{i}", "yes", t, t, ()) for i, t in enumerate(texts)]
    m = Fake("m")
    engine = Engine(EngineOptions(**FAST))
    [preds] = run(engine, (m, exs))
    assert preds[0].status == "failed" and "shaped like an OpenAI API key" in preds[0].error
    assert "sk-proj" not in preds[0].error
    assert [p.label for p in preds[1:]] == ["yes", "yes"]
    assert set(m.attempts) == set(texts[1:])  # the key-shaped one was never sent


# --- regressions: scheduling after a 429 or a fatal error ---------------------------------------------------


def test_after_a_429_the_next_request_waits_for_retry_after() -> None:
    def script(text: str, attempt: int) -> None:
        if text.endswith(" 0") and attempt == 1:
            raise Retryable("HTTP 429 rate limited", retry_after=0.3, rate_limited=True)

    m = Fake("a", script=script)
    run(Engine(EngineOptions(concurrency=1, **FAST)), (m, examples(3)))
    (t429, first), (t_next, _) = m.log[0], m.log[1]
    assert first == "t text 0"
    assert t_next - t429 >= 0.25  # the freed slot was not refilled before the target was paused


def test_a_provider_error_sends_nothing_more_for_that_model() -> None:
    def script(text: str, attempt: int) -> None:
        raise ProviderError("HTTP 401: invalid key")

    bad, good = Fake("bad", script=script), Fake("good")
    engine = Engine(EngineOptions(concurrency=1, **FAST))

    async def go() -> tuple[Any, Any]:
        try:
            return tuple(await asyncio.gather(engine.run_requests(bad, examples(5)),
                                              engine.run_requests(good, examples(5)), return_exceptions=True))
        finally:
            await engine.aclose()

    r_bad, r_good = asyncio.run(go())
    assert isinstance(r_bad, ProviderError)
    assert len(bad.log) == 1  # not one more request after the 401
    assert all(p.label == "yes" for p in r_good)


# --- regressions: per-example failures instead of a crashed run -----------------------------------------------


def test_an_unserialisable_request_fails_only_its_example() -> None:
    class Odd(Fake):
        def build_request(self, example: Example) -> dict[str, Any]:
            if example.id == "t1":
                return {"model": "m", "text": example.text, "temperature": float("nan")}
            if example.id == "t2":
                return {"model": "m", "text": example.text, "stop": {"a", "b"}}  # a set: not JSON
            if example.id == "t3":
                raise ValueError("prompt template has no {text} field")
            return super().build_request(example)

    m = Odd("a")
    [preds] = run(Engine(EngineOptions(**FAST)), (m, examples(5)))
    by_id = {p.example_id: p for p in preds}
    assert by_id["t0"].label == by_id["t4"].label == "yes"
    assert by_id["t1"].error is not None and by_id["t1"].error.startswith("could not build the request (ValueError:")
    assert by_id["t2"].error is not None and by_id["t2"].error.startswith("could not build the request (TypeError:")
    assert by_id["t3"].error == "could not build the request (ValueError: prompt template has no {text} field)"
    assert sorted(m.attempts) == ["t text 0", "t text 4"]


def test_a_provider_timeout_without_an_engine_timeout_is_retried() -> None:
    def script(text: str, attempt: int) -> None:
        if text.endswith(" 0") and attempt == 1:
            raise TimeoutError  # the provider's own timeout (engine timeout=None)

    m = Fake("a", script=script)
    engine = Engine(EngineOptions(timeout=None, **FAST))
    [preds] = run(engine, (m, examples(2)))
    assert all(p.label == "yes" for p in preds)
    assert m.attempts["t text 0"] == 2 and engine.usage["a"].retries == 1


def test_failure_reasons_never_hold_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "not-openai-shaped-secret-42")

    def script(text: str, attempt: int) -> None:
        if text.endswith(" 0"):
            raise RuntimeError("auth header was Bearer not-openai-shaped-secret-42")
        if text.endswith(" 1"):
            raise ExampleFailure("HTTP 400 for key sk-proj-0123456789abcdefghijklmnopqrstuvwxyz")

    class Parser(Fake):
        def parse(self, example: Example, request: dict[str, Any], response: dict[str, Any]) -> Prediction:
            if example.id == "t2":
                raise ValueError("unexpected body from not-openai-shaped-secret-42")
            return super().parse(example, request, response)

    m = Parser("a", script=script)
    [preds] = run(Engine(EngineOptions(**FAST)), (m, examples(3)))
    reasons = [p.error for p in preds]
    assert reasons == ["request failed (RuntimeError: auth header was Bearer ***)", "HTTP 400 for key ***",
                       "could not parse the response (ValueError: unexpected body from ***)"]


def test_one_retry_delay_for_requests_and_batch_calls() -> None:
    engine = Engine(EngineOptions(backoff_base=0.5, backoff_max=30.0))
    assert engine.retry_delay(1, 0.3) == 0.3  # the server's Retry-After, whatever the status
    assert engine.retry_delay(1, 45.0) == 45.0  # beyond backoff_max: still honoured...
    assert engine.retry_delay(1, 3600.0) == 120.0  # ...up to 120 s
    assert Engine(EngineOptions(backoff_max=300.0)).retry_delay(1, 3600.0) == 300.0
    assert engine.retry_delay(1, -1.0) == 0.0
    assert 0.25 <= engine.retry_delay(1, None) <= 0.5 and 2.0 <= engine.retry_delay(4, None) <= 4.0
    assert 15.0 <= engine.retry_delay(20, None) <= 30.0  # backoff capped at backoff_max


def test_a_failing_usage_hook_does_not_hang_the_run() -> None:
    class NoUsage(Fake):
        def usage(self, response: dict[str, Any]) -> dict[str, int] | None:
            raise KeyError("usage")

    engine = Engine(EngineOptions(**FAST))
    [preds] = asyncio.run(asyncio.wait_for(_run(engine, (NoUsage("a"), examples(3))), timeout=10))
    assert all(p.label == "yes" for p in preds)
    assert engine.usage["a"].requests == 3 and engine.usage["a"].cost_json()["complete"] is False


def test_a_model_whose_first_requests_all_fail_is_stopped_with_the_reason() -> None:
    def reject(text: str, attempt: int) -> None:
        raise ExampleFailure("HTTP 400 unsupported model family")

    bad, good = Fake("bad", latency=0.002, script=reject), Fake("good", latency=0.002)
    engine = Engine(EngineOptions(concurrency=4, **FAST))

    async def both() -> tuple[Any, Any]:
        try:
            return tuple(await asyncio.gather(engine.run_requests(bad, examples(200)),
                                              engine.run_requests(good, examples(50, "g")),
                                              return_exceptions=True))
        finally:
            await engine.aclose()

    bad_out, good_out = asyncio.run(both())
    assert isinstance(bad_out, ProviderError)
    assert "the first 10 requests of model bad failed and none was answered" in str(bad_out)
    assert "HTTP 400 unsupported model family" in str(bad_out)
    assert len(bad.attempts) < 20  # stopped early, not 200 doomed requests
    assert [p.label for p in good_out] == ["yes"] * 50  # the other model is unaffected


def test_a_tiny_model_whose_every_request_failed_is_stopped_too() -> None:
    m = Fake("m", script=lambda text, attempt: (_ for _ in ()).throw(Retryable("connection refused")))
    with pytest.raises(ProviderError, match="all 3 requests of model m failed.*connection refused"):
        run(Engine(EngineOptions(concurrency=2, max_attempts=2, **FAST)), (m, examples(3)))


def test_failures_after_a_first_answer_stay_per_example() -> None:
    def later_all_fail(text: str, attempt: int) -> None:
        if text != "t text 0":
            raise ExampleFailure("HTTP 400 flagged prompt")

    m = Fake("m", script=later_all_fail)
    [preds] = run(Engine(EngineOptions(concurrency=1, **FAST)), (m, examples(30)))
    assert preds[0].label == "yes"
    assert all(p.error == "HTTP 400 flagged prompt" for p in preds[1:])


def test_quick_rejections_do_not_stop_a_model_whose_slower_requests_succeed() -> None:
    """Fail-fast counts the first requests *sent*: a fifth of prompts rejected at once (too long) while the
    rest take 50 ms must not look like 'the first 10 requests failed'."""
    class Mixed(Fake):
        async def send(self, request: dict[str, Any]) -> dict[str, Any]:
            if int(request["text"].rsplit(" ", 1)[1]) % 5 == 0:
                raise ExampleFailure("prompt too long for the model's context window")
            await asyncio.sleep(0.05)
            return {"answer": "yes", "usage": {"prompt_tokens": 10, "completion_tokens": 1}}

    [preds] = run(Engine(EngineOptions(concurrency=64, **FAST)), (Mixed("m"), examples(200)))
    assert sum(p.label == "yes" for p in preds) == 160
    assert sum(p.status == "failed" for p in preds) == 40
