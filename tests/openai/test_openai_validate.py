"""The data checks against the OpenAI providers: tokens and context windows offline, no request before a run's
data is clean."""

from __future__ import annotations

import json

from openai_testkit import write_suite

from harness.cli.main import main
from harness.validation import validate

ROWS = [(f"ex{i}", f"post number {i} about the game", ("baseball", "hockey")[i % 2]) for i in range(12)]


def test_a_row_over_the_context_window_stops_the_run_before_any_request(fake, tmp_path, capsys) -> None:
    rows = list(ROWS)
    rows[4] = ("long", "word " * 500, "hockey")
    suite = write_suite(tmp_path / "s", rows)
    code = main(["run", str(suite), "--only", "--model", "m=openai:gpt-4o-mini", "--option", "m.context_window=300",
                 "--out", str(tmp_path / "out"), "--no-report"])
    err = capsys.readouterr().err
    assert code == 2 and "too-long" in err and "rows 5" in err
    assert not fake.calls()


def test_validate_needs_no_key_and_no_server(tmp_path, monkeypatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    suite = write_suite(tmp_path / "s", ROWS, labels=("hockey", "hockeyball"))
    v = validate(suite, ["ft=openai:ft:gpt-4o-mini-2024-07-18:org::abc", "c=openai-completions:davinci-002",
                         "j=openai-job:ftjob-abc"])
    assert v.get("label-first-token-collision", "ft").items == ("hockey", "hockeyball")
    assert v.get("label-first-token-collision", "c") is not None
    assert v.get("no-model-facts", "j") is not None  # a job's base model is known only by asking the API


def test_validate_cli_json_with_models(tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", ROWS)
    code = main(["validate", str(suite), "--json", "-m", "openai:gpt-4o-mini", "-m", "c=openai-completions:babbage-002",
                 "-o", "c.tokenizer=cl100k_base"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["models"] == ["openai:gpt-4o-mini", "c"]
    assert not [f for f in doc["findings"] if f["code"] in ("no-model-facts", "length-unchecked")]
