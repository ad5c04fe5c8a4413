"""The data checks against the OpenAI providers: tokens and context windows offline, no request before a run's
data is clean."""

from __future__ import annotations

import json

import pytest
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


# --- a model's own tokenizer.json (the option tokenizer) and full-label scoring, offline -------------------------

LLAMA_WORDS = ["False France New York New Jersey Boston", "is it False or True", "France is big",
               "New York is a city", "New Jersey is a state", "post number about the game"] * 20


def _tokenizer_json(folder):
    """A byte-level BPE tokenizer.json trained here (the tokenizers library; nothing is downloaded): 'False' and
    'France' are distinct single tokens, 'New York' and 'New Jersey' both begin with 'New'."""
    tokenizers = pytest.importorskip("tokenizers", reason="the hf extra (tokenizers) is not installed")
    tok = tokenizers.Tokenizer(tokenizers.models.BPE())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=400, show_progress=False,
                                             initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(LLAMA_WORDS, trainer)
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    return folder / "tokenizer.json"


def _rows(labels):
    return [(f"ex{i}", f"post number {i} about the game", labels[i % len(labels)]) for i in range(12)]


def _llama(tokenizer, **options):
    return {"m": {"provider": "openai", "argument": "my-llama", "options": {"tokenizer": tokenizer, **options}}}


def test_a_local_tokenizer_accepts_labels_that_share_a_first_letter_but_not_a_first_token(tmp_path) -> None:
    suite = write_suite(tmp_path / "s", _rows(("False", "France")), labels=("False", "France"),
                        models=_llama("tok/tokenizer.json"))
    _tokenizer_json(suite / "tok")  # a path in suite.yaml is relative to the suite folder
    v = validate(suite)
    assert v.ok and v.get("label-first-token-collision") is None and v.get("no-model-facts") is None
    assert v.get("label-multi-token") is None  # each is one token under this tokenizer
    # 'my-llama' implies no bundled encoding: the tokens come from the local file, which splits this pair alike
    v = validate(write_suite(tmp_path / "t", _rows(("New York", "New Jersey")), labels=("New York", "New Jersey"),
                             models=_llama(str(_tokenizer_json(tmp_path / "tok2")))))
    f = v.get("label-first-token-collision", "m")
    assert f is not None and f.severity == "error" and f.items == ("New York", "New Jersey")
    assert "'New'" in f.message or "' New'" in f.message  # the token's text, decoded by the local tokenizer


def test_full_scoring_accepts_labels_that_share_a_first_token(tmp_path) -> None:
    tok = _tokenizer_json(tmp_path / "tok")
    labels = ("New York", "New Jersey")
    v = validate(write_suite(tmp_path / "s", _rows(labels), labels=labels, models=_llama(str(tok), scoring="full")))
    assert v.ok and v.get("label-first-token-collision") is None
    multi = v.get("label-multi-token", "m")
    assert multi is not None and set(multi.items) == set(labels) and "scored whole" in multi.message


def test_a_local_tokenizer_on_the_command_line_is_relative_to_the_current_folder(tmp_path, monkeypatch, capsys):
    _tokenizer_json(tmp_path / "here" / "tok")
    suite = write_suite(tmp_path / "s", _rows(("New York", "New Jersey")), labels=("New York", "New Jersey"))
    monkeypatch.chdir(tmp_path / "here")
    code = main(["validate", str(suite), "-m", "m=openai:my-llama", "-o", "m.tokenizer=tok"])
    out = capsys.readouterr().out
    assert code == 2 and "label-first-token-collision" in out
    code = main(["validate", str(suite), "-m", "m=openai:my-llama", "-o", "m.tokenizer=nowhere/tokenizer.json"])
    captured = capsys.readouterr()
    assert code == 2 and "model-options" in captured.out and "nowhere" in captured.out
    assert "Traceback" not in captured.err


def test_lengths_are_counted_with_the_local_tokenizer(tmp_path) -> None:
    rows = list(ROWS)
    rows[2] = ("long", "New York " * 60, "hockey")
    suite = write_suite(tmp_path / "s", rows, models={"m": {"provider": "openai-completions", "argument": "my-llama",
                                                            "options": {"tokenizer": "tok", "context_window": 100}}})
    _tokenizer_json(suite / "tok")
    f = validate(suite).get("too-long", "m")
    assert f is not None and list(f.rows) == [3]
