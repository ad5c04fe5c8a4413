"""The openai / openai-completions / azure providers against a real loopback server speaking the OpenAI API."""

from __future__ import annotations

import asyncio
import json
import math
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import error_body, logprobs_of
from openai_testkit import AZURE_KEY, KEY, SEP, write_suite

from harness.engine import Engine, EngineOptions, Retryable
from harness.errors import ExampleFailure, InputError, ProviderError, UsageError
from harness.examples import Prediction
from harness.plugins import load_registry
from harness.providers import ModelSpec
from harness.suite import load_suite
from harness_plugins.providers._openai_api.batch import parse_result_lines
from harness_plugins.providers._openai_api.connection import retry_after

FT = "ft:gpt-4o-mini-2024-07-18:org::abc123"


@pytest.fixture
def suite(tmp_path: Path):
    rows = [("a", "Nobody can hit lefties", "baseball"), ("b", "Benched the captain in the third", "hockey"),
            ("c", "Bullpen blew it again", "baseball")]
    return load_suite(write_suite(tmp_path / "s", rows))


@pytest.fixture(scope="module")
def registry():
    return load_registry(entry_points=False)


def resolve(registry, suite, provider: str, argument: str, **options: Any):
    spec = ModelSpec("m", provider, argument, options, origin="--model")
    return registry.providers[provider].resolve(spec, suite).models[0]


def run(model, examples) -> list[Prediction]:
    async def go():
        try:
            return await model.predict(examples, Engine(EngineOptions(max_attempts=3, backoff_base=0.01, cache=False)))
        finally:
            await model.aclose()
    return asyncio.run(go())


def send(model, example) -> dict[str, Any]:
    async def go():
        try:
            return await model.send(model.build_request(example))
        finally:
            await model.aclose()
    return asyncio.run(go())


# --- request policy ----------------------------------------------------------------------------------

def test_chat_request_follows_the_classification_policy(fake, registry, suite) -> None:
    model = resolve(registry, suite, "openai", FT)
    ex = suite.heldout.examples[0]
    body = model.build_request(ex)
    assert body == {"model": FT, "messages": [{"role": "user", "content": ex.text + SEP}], "temperature": 0,
                    "max_completion_tokens": 1, "logprobs": True, "top_logprobs": 20}
    biased = resolve(registry, suite, "openai", FT, seed=7, logit_bias=True, top_logprobs=5,
                     max_tokens_field="max_tokens").build_request(ex)
    # +100 on the first tokens of "baseball", " baseball", "hockey", " hockey" in o200k_base
    assert biased["logit_bias"] == {"5423": 100, "30867": 100, "71": 100, "47144": 100}
    assert list(biased["logit_bias"]) == sorted(biased["logit_bias"], key=int)  # deterministic body
    assert biased["seed"] == 7 and biased["top_logprobs"] == 5 and biased["max_tokens"] == 1
    assert "max_completion_tokens" not in biased


def test_completions_request_uses_the_prompt_and_logprobs_5(fake, registry, suite) -> None:
    model = resolve(registry, suite, "openai-completions", "ft:babbage-002:org::xyz")
    ex = suite.heldout.examples[0]
    assert model.build_request(ex) == {"model": "ft:babbage-002:org::xyz", "prompt": ex.prompt, "temperature": 0,
                                       "max_tokens": 1, "logprobs": 5}
    assert model.describe()["tokenizer"] == "cl100k_base"


def test_options_are_strict_and_validated(fake, registry, suite) -> None:
    with pytest.raises(InputError, match="top_loprobs"):
        resolve(registry, suite, "openai", FT, top_loprobs=5)
    with pytest.raises(InputError, match="top_logprobs"):
        resolve(registry, suite, "openai", FT, top_logprobs=21)
    with pytest.raises(InputError):
        resolve(registry, suite, "openai", FT, api_key="sk-in-the-suite")  # keys are never options
    with pytest.raises(UsageError, match="needs a model id"):
        resolve(registry, suite, "openai", "")


def test_colliding_label_first_tokens_are_refused_before_scoring(fake, registry, tmp_path) -> None:
    """Refused when the model is prepared (a run prepares every model once its local checks passed, before
    anything is scored), or on first use by a caller that resolves a model directly."""
    s = load_suite(write_suite(tmp_path / "c", [("a", "x", "hockey"), ("b", "y", "h")], labels=("hockey", "h")))
    with pytest.raises(UsageError, match=r"labels 'hockey' and 'h' begin with the same token 'h'"):
        resolve(registry, s, "openai", "gpt-4o-mini").prepare()
    with pytest.raises(UsageError, match="logit_bias needs the model's tokenizer"):
        resolve(registry, s, "openai", "llama3", logit_bias=True).prepare()
    with pytest.raises(UsageError, match=r"labels 'hockey' and 'h' begin with the same token 'h'"):
        resolve(registry, s, "openai", "gpt-4o-mini").build_request(s.heldout.examples[0])


def test_missing_key_names_the_variable(fake, registry, suite, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ProviderError, match="set the environment variable OPENAI_API_KEY"):
        resolve(registry, suite, "openai", FT)
    with pytest.raises(ProviderError, match="set the environment variable MY_KEY"):
        resolve(registry, suite, "openai", FT, api_key_env="MY_KEY")
    monkeypatch.setenv("MY_KEY", KEY)
    assert resolve(registry, suite, "openai", FT, api_key_env="MY_KEY").describe()["api_key_env"] == "MY_KEY"


# --- scoring -------------------------------------------------------------------------------------

def test_chat_scores_every_example_from_top_logprobs(fake, registry, suite) -> None:
    a, b, c = suite.heldout.examples
    fake.script(a.text + SEP, logprobs_of({"base": 0.6, "h": 0.3, "The": 0.1}))
    fake.script(b.text + SEP, logprobs_of({"h": 0.7, " hockey": 0.1, "base": 0.15, "I": 0.05}))
    fake.script(c.text + SEP, logprobs_of({"Sorry": 0.5, "base": 0.3, "h": 0.2}))
    model = resolve(registry, suite, "openai", FT)
    preds = run(model, [a, b, c])
    assert [p.label for p in preds] == ["baseball", "hockey", None]
    assert preds[0].probs == pytest.approx({"baseball": 2 / 3, "hockey": 1 / 3}, abs=1e-12)
    assert preds[1].probs == pytest.approx({"baseball": 0.15 / 0.95, "hockey": 0.8 / 0.95}, abs=1e-12)
    assert preds[2].status == "invalid" and preds[2].output == "Sorry"
    assert preds[2].probs == pytest.approx({"baseball": 0.6, "hockey": 0.4}, abs=1e-12)
    assert preds[0].extra["off_label_mass"] == pytest.approx(0.1, abs=1e-12)
    assert preds[0].extra["request"]["top_logprobs"] == 20  # recorded by the engine
    assert all(KEY not in str(p) for p in preds)
    sent = fake.calls("/chat/completions")
    assert len(sent) == 3 and sent[0].headers["Authorization"] == f"Bearer {KEY}"


def test_a_label_outside_the_top_k_is_flagged(fake, registry, suite) -> None:
    fake.max_top_logprobs = 20
    ex = suite.heldout.examples[0]
    fake.script(ex.text + SEP, logprobs_of({"base": 0.9, "Base": 0.05, "The": 0.01}))
    [pred] = run(resolve(registry, suite, "openai", FT), [ex])
    assert pred.flags == ("label-outside-top-k",)
    assert pred.probs["hockey"] == pytest.approx(0.01 / 0.91, abs=1e-12)
    assert pred.extra["labels_outside_top_k"] == ["hockey"]


def test_completions_scores_from_the_legacy_logprobs_shape(fake, registry, suite) -> None:
    ex = suite.heldout.examples[1]
    # the completion of a fine-tuned babbage-002 starts with a space: " hockey"
    fake.script(ex.prompt, logprobs_of({" hockey": 0.5, " baseball": 0.2, " h": 0.1, " The": 0.1, "\n": 0.05,
                                        " base": 0.05}))
    model = resolve(registry, suite, "openai-completions", "ft:babbage-002:org::xyz")
    [pred] = run(model, [ex])
    # logprobs=5: the five most likely come back; " hockey" and " baseball" are the labels' first tokens
    body = fake.calls("/v1/completions")[0].json
    assert body["logprobs"] == 5 and body["max_tokens"] == 1
    assert pred.label == "hockey"
    assert pred.probs == pytest.approx({"baseball": 0.2 / 0.7, "hockey": 0.5 / 0.7}, abs=1e-12)


def test_a_compatible_server_without_auth_and_without_token_bytes(fake, registry, suite, monkeypatch) -> None:
    fake.api_key = None
    fake.null_bytes = True
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    ex = suite.heldout.examples[0]
    fake.script(ex.text + SEP, logprobs_of({" baseball": 0.5, "hock": 0.25, "Baseball": 0.25}))
    model = resolve(registry, suite, "openai", "meta-llama/Llama-3.1-8B-Instruct", base_url=fake.base_url,
                    api_key_env="none", top_logprobs=5)
    assert model.describe()["matching"] == "text" and model.pricing_key() is None
    [pred] = run(model, [ex])
    assert pred.error is None, pred.error
    assert pred.probs == pytest.approx({"baseball": 2 / 3, "hockey": 1 / 3}, abs=1e-12)
    assert "Authorization" not in fake.calls("/chat/completions")[0].headers


def test_case_insensitive_option(fake, registry, suite) -> None:
    ex = suite.heldout.examples[0]
    fake.script(ex.text + SEP, logprobs_of({"Base": 0.5, "base": 0.2, "H": 0.3}))
    [plain] = run(resolve(registry, suite, "openai", FT), [ex])
    [ci] = run(resolve(registry, suite, "openai", FT, case_insensitive=True), [ex])
    assert plain.label is None  # "Base" (of "Baseball") counts only when case is ignored
    assert ci.label == "baseball" and ci.probs == pytest.approx({"baseball": 0.7, "hockey": 0.3})


# --- errors --------------------------------------------------------------------------------------

def test_transient_errors_are_retryable_with_the_servers_hint(fake, registry, suite) -> None:
    model = resolve(registry, suite, "openai", FT)
    ex = suite.heldout.examples[0]
    fake.inject(429, error_body("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
                headers={"retry-after-ms": "1500"})
    with pytest.raises(Retryable) as info:
        send(model, ex)
    assert info.value.retry_after == pytest.approx(1.5)
    fake.inject(429, error_body("Rate limit", "requests", "rate_limit_exceeded"), headers={"retry-after": "3"})
    with pytest.raises(Retryable) as info:
        send(model, ex)
    assert info.value.retry_after == 3
    fake.inject(503)
    with pytest.raises(Retryable, match="HTTP 503"):
        send(model, ex)
    fake.inject(200, raw=b'{"id": "chatcmpl-1", "object": "chat.comp')
    with pytest.raises(Retryable, match="undecodable JSON"):
        send(model, ex)
    fake.inject(200, raw=b"this is not gzip", headers={"Content-Encoding": "gzip"})
    with pytest.raises(Retryable, match="connection error"):
        send(model, ex)


def test_the_engine_retries_transient_errors_and_then_succeeds(fake, registry, suite) -> None:
    ex = suite.heldout.examples[0]
    fake.script(ex.text + SEP, logprobs_of({"base": 0.8, "h": 0.2}))
    fake.inject(500, times=1)
    fake.inject(200, raw=b'{"choices": [', times=1)
    [pred] = run(resolve(registry, suite, "openai", FT), [ex])
    assert pred.label == "baseball" and len(fake.calls("/chat/completions")) == 3


def test_quota_exhaustion_is_not_retried(fake, registry, suite) -> None:
    fake.inject(429, error_body("You exceeded your current quota", "insufficient_quota", "insufficient_quota"))
    with pytest.raises(ProviderError, match="quota exceeded"):
        send(resolve(registry, suite, "openai", FT), suite.heldout.examples[0])


def test_the_runs_timeout_is_not_capped_by_the_client(fake, registry, suite) -> None:
    """Without the option, the SDK client's own timeout (600 s) sits above the run's --timeout (120 s by
    default, per attempt), so --timeout 300 really allows 300 s; the option can still set a shorter one."""
    async def timeouts(model) -> Any:
        try:
            return model.client.timeout
        finally:
            await model.aclose()

    default = asyncio.run(timeouts(resolve(registry, suite, "openai", FT)))
    assert getattr(default, "read", default) >= 600
    assert asyncio.run(timeouts(resolve(registry, suite, "openai", FT, timeout=7))) == 7


def test_timeouts_and_connection_errors_are_retryable(fake, registry, suite) -> None:
    model = resolve(registry, suite, "openai", FT, base_url="http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(Retryable, match="connection error"):
        send(model, suite.heldout.examples[0])


@pytest.mark.parametrize("setup, match", [
    (lambda f: f.inject(401, error_body("Incorrect API key provided: sk-te***b06.", code="invalid_api_key")),
     r"authentication failed \(401\).*check OPENAI_API_KEY"),
    (lambda f: f.missing_models.add(FT), r"model 'ft:gpt-4o-mini.*' not found \(404\)"),
    (lambda f: f.reasoning_models.add(FT), r"refuses logprobs \(403\).*reasoning models"),
    (lambda f: f.no_logprobs_models.add(FT), r"returned no logprobs"),
    (lambda f: setattr(f, "max_top_logprobs", 5), r"rejected the request \(400\).*lower the option top_logprobs"),
])
def test_fatal_errors_stop_the_model_with_a_clear_message(fake, registry, suite, setup, match) -> None:
    setup(fake)
    with pytest.raises(ProviderError, match=match) as info:
        run(resolve(registry, suite, "openai", FT), suite.heldout.examples[:1])
    assert "\n" not in str(info.value) and KEY not in str(info.value)


def test_a_rejected_prompt_fails_only_that_example(fake, registry, suite) -> None:
    a, b, c = suite.heldout.examples[:3]
    flagged = error_body("Invalid prompt: your prompt was flagged as potentially violating our usage policy.",
                         code="invalid_prompt")
    fake.inject(400, flagged, when=lambda body: b.text in json.dumps(body), times=None)
    preds = run(resolve(registry, suite, "openai", FT), [a, b, c])
    assert preds[0].status != "failed" and preds[2].status != "failed"
    assert preds[1].status == "failed"
    assert preds[1].error.startswith("the server rejected this example's request (400 invalid_prompt): Invalid prompt")


@pytest.mark.parametrize("param, code",
                         [("temperature", None), (None, "unsupported_parameter"), ("seed", "invalid_type")])
def test_a_rejected_request_parameter_stops_the_model(fake, registry, suite, param, code) -> None:
    fake.inject(400, error_body("Unsupported value for this model.", code=code, param=param), times=None)
    with pytest.raises(ProviderError, match=r"rejected the request \(400\): Unsupported value"):
        run(resolve(registry, suite, "openai", FT), suite.heldout.examples[:3])


def test_strict_validation_catches_a_body_that_drifts_from_the_api(fake, registry, suite) -> None:
    drifted = {"id": "chatcmpl-1", "object": "chat.completion", "model": FT,  # no "created", no "index"
               "choices": [{"message": {"role": "assistant", "content": "h"}, "finish_reason": "length",
                            "logprobs": {"content": [{"token": "h", "logprob": -0.1, "top_logprobs": []}]}}]}
    fake.inject(200, drifted)
    with pytest.raises(ProviderError, match="does not match the OpenAI API schema"):
        send(resolve(registry, suite, "openai", FT), suite.heldout.examples[0])


def test_the_key_is_scrubbed_from_server_messages(fake, registry, suite) -> None:
    fake.inject(401, error_body(f"Key {KEY} was revoked", code="invalid_api_key"))
    with pytest.raises(ProviderError) as info:
        send(resolve(registry, suite, "openai", FT), suite.heldout.examples[0])
    assert KEY not in str(info.value) and "***" in str(info.value)


def test_context_length_fails_only_that_example(fake, registry, suite) -> None:
    fake.context_limit = 30  # the first example's prompt is shorter, the second is longer
    a, b = suite.heldout.examples[:2]
    fake.script(a.text + SEP, logprobs_of({"base": 0.8, "h": 0.2}))
    model = resolve(registry, suite, "openai", FT)
    with pytest.raises(ExampleFailure, match="context window"):
        send(model, b)
    preds = run(model, [a, b])
    assert preds[0].label == "baseball"
    assert preds[1].status == "failed" and "maximum context length" in preds[1].error


def test_an_empty_generation_fails_the_example(fake, registry, suite) -> None:
    model = resolve(registry, suite, "openai", FT)
    response = {"choices": [{"index": 0, "message": {"role": "assistant", "content": ""},
                             "logprobs": {"content": [], "refusal": None}, "finish_reason": "stop"}]}
    with pytest.raises(ExampleFailure, match="generated no token"):
        model.parse(suite.heldout.examples[0], {}, response)
    with pytest.raises(ProviderError, match="unexpected response shape"):
        model.parse(suite.heldout.examples[0], {}, {"choices": [{"logprobs": {"content": [{"top_logprobs": []}]}}]})


# --- Azure ---------------------------------------------------------------------------------------

def test_azure_with_a_key_uses_the_deployment_url_and_api_version(fake, registry, suite, monkeypatch) -> None:
    fake.azure_models["clf-mini"] = "gpt-4o-mini-2024-07-18"
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake.azure_endpoint)
    ex = suite.heldout.examples[1]
    fake.script(ex.text + SEP, logprobs_of({"h": 0.9, "base": 0.1}))
    model = resolve(registry, suite, "azure", "clf-mini", api_version="2024-10-21", tokenizer="o200k_base")
    [pred] = run(model, [ex])
    assert pred.label == "hockey" and pred.probs["hockey"] == pytest.approx(0.9)
    [call] = fake.calls("/openai/deployments/")
    assert call.path == "/openai/deployments/clf-mini/chat/completions"
    assert call.query == {"api-version": "2024-10-21"} and call.headers["Api-Key"] == AZURE_KEY
    info = model.describe()
    assert info["auth"] == "key" and info["api_key_env"] == "AZURE_OPENAI_API_KEY" and AZURE_KEY not in str(info)
    assert model.batch_client() is None and model.pricing_key() is None


def test_azure_unknown_deployment_and_bad_key(fake, registry, suite, monkeypatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    model = resolve(registry, suite, "azure", "nope", endpoint=fake.azure_endpoint)
    with pytest.raises(ProviderError, match=r"Azure deployment 'nope' not found \(404\)"):
        send(model, suite.heldout.examples[0])
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "wrong")
    fake.azure_models["nope"] = "gpt-4o-mini"
    with pytest.raises(ProviderError, match=r"\(401\).*check AZURE_OPENAI_API_KEY"):
        send(resolve(registry, suite, "azure", "nope", endpoint=fake.azure_endpoint), suite.heldout.examples[0])


def test_azure_entra_id_through_azure_identity(fake, registry, suite, monkeypatch) -> None:
    fake.entra_token = "entra-token-123"
    fake.azure_models["clf"] = "gpt-4o-mini-2024-07-18"
    identity = types.ModuleType("azure.identity")
    scopes: list[str] = []

    class DefaultAzureCredential:  # stands in for azure-identity's credential chain
        pass

    def get_bearer_token_provider(credential, scope):
        scopes.append(scope)
        return lambda: "entra-token-123"

    identity.DefaultAzureCredential = DefaultAzureCredential
    identity.get_bearer_token_provider = get_bearer_token_provider
    monkeypatch.setitem(sys.modules, "azure", types.ModuleType("azure"))
    monkeypatch.setitem(sys.modules, "azure.identity", identity)
    ex = suite.heldout.examples[0]
    fake.script(ex.text + SEP, logprobs_of({"base": 0.6, "h": 0.4}))
    model = resolve(registry, suite, "azure", "clf", endpoint=fake.azure_endpoint)  # auth auto, no key set
    [pred] = run(model, [ex])
    assert pred.label == "baseball" and scopes == ["https://cognitiveservices.azure.com/.default"]
    assert fake.calls("/openai/")[0].headers["Authorization"] == "Bearer entra-token-123"
    assert model.describe()["auth"] == "entra"


def test_azure_without_key_or_azure_identity_says_what_to_install(fake, registry, suite, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # import fails
    with pytest.raises(ProviderError, match="set AZURE_OPENAI_API_KEY, or pip install azure-identity"):
        resolve(registry, suite, "azure", "clf", endpoint="https://example.openai.azure.com")
    with pytest.raises(ProviderError, match="set AZURE_OPENAI_ENDPOINT"):
        resolve(registry, suite, "azure", "clf")


# --- capabilities --------------------------------------------------------------------------------

def test_optional_capabilities(fake, registry, suite, monkeypatch) -> None:
    model = resolve(registry, suite, "openai", FT, rpm=500, tpm=200_000, pricing_model="gpt-4o-mini")
    req = model.build_request(suite.heldout.examples[0])
    prompt_tokens, completion = model.estimate_tokens(req)
    assert completion == 1 and prompt_tokens > 5
    assert model.rate_limits() == (500, 200_000)
    assert model.pricing_key() == "gpt-4o-mini"
    assert resolve(registry, suite, "openai", FT).pricing_key() is None  # a local base URL: not OpenAI's prices
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert resolve(registry, suite, "openai", FT).pricing_key() == FT
    _, body = fake.chat(req)
    assert model.usage(body) == {"prompt_tokens": body["usage"]["prompt_tokens"], "completion_tokens": 1}
    assert model.usage({}) is None
    ident = model.cache_identity()
    assert ident == {"provider": "openai", "endpoint": "/v1/chat/completions", "base_url": fake.base_url}
    assert KEY not in str(ident) and KEY not in str(model.describe()) and KEY not in repr(model.connection)
    assert model.new_client() is not model.client


def test_describe_hides_credentials_in_the_base_url(fake, registry, suite) -> None:
    model = resolve(registry, suite, "openai", "llama3", base_url="http://user:pw@127.0.0.1:8000/v1?key=abc")
    assert model.describe()["base_url"] == "http://127.0.0.1:8000/v1"


def test_batch_client_round_trip(fake, registry, suite) -> None:
    a, b, c = suite.heldout.examples
    fake.script(a.text + SEP, logprobs_of({"base": 0.75, "h": 0.25}))
    fake.script(c.text + SEP, logprobs_of({"h": 0.6, "base": 0.4}))
    fake.context_limit = len(b.text + SEP) - 1  # b is the longest: it fails inside the batch
    model = resolve(registry, suite, "openai", FT)
    batch = model.batch_client()
    lines = [{"custom_id": ex.id, "body": model.build_request(ex)} for ex in (a, b, c)]

    async def go():
        batch_id = await batch.submit(lines)
        statuses = [await batch.status(batch_id)]
        while statuses[-1] not in ("completed", "failed", "expired", "cancelled"):
            statuses.append(await batch.status(batch_id))
        return statuses, await batch.results(batch_id)

    statuses, results = asyncio.run(go())
    assert statuses[0] == "in_progress" and statuses[-1] == "completed"
    [upload] = [r for r in fake.calls("/v1/files") if r.method == "POST"]
    assert b'name="purpose"' in upload.raw and b"\r\n\r\nbatch\r\n" in upload.raw
    uploaded = next(data for meta, data in fake.files.values() if meta["purpose"] == "batch")
    first = json.loads(uploaded.decode().splitlines()[0])
    assert first == {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": lines[0]["body"]}
    [created] = [r for r in fake.calls("/v1/batches") if r.method == "POST"]
    assert created.json == {"input_file_id": created.json["input_file_id"], "endpoint": "/v1/chat/completions",
                            "completion_window": "24h"}
    assert set(results) == {"a", "b", "c"}
    pa = model.parse(a, lines[0]["body"], results["a"]["response"])
    pc = model.parse(c, lines[2]["body"], results["c"]["response"])
    assert pa.probs["baseball"] == pytest.approx(0.75) and pc.label == "hockey"
    assert "context_length_exceeded" in results["b"]["error"]


def test_batch_result_lines_join_on_custom_id() -> None:
    text = "\n".join([
        '{"id": "r2", "custom_id": "y", "response": {"status_code": 500, "body": {"error": {"message": "boom", '
        '"type": "server_error"}}}, "error": null}',
        '{"id": "r1", "custom_id": "x", "response": {"status_code": 200, "body": {"ok": 1}}, "error": null}',
        '{"id": "r3", "custom_id": "z", "response": null, "error": {"code": "batch_expired", "message": "expired"}}',
        'not json',
    ])
    out = parse_result_lines(text)
    assert out["x"] == {"response": {"ok": 1}}
    assert out["y"] == {"error": "HTTP 500: server_error: boom"}
    assert out["z"] == {"error": "batch_expired: expired"}


def test_retry_after_header_forms() -> None:
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"retry-after": "2"}) == 2
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0
    assert retry_after({}) is None and retry_after({"retry-after": "soon"}) is None
    assert math.isclose(retry_after({"retry-after-ms": "x", "retry-after": "1.5"}), 1.5)
