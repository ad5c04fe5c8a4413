"""Open models behind OpenAI-compatible servers (vLLM, llama.cpp, llama-cpp-python), against the fake server:
the server's own tokenizer through its tokenize endpoint, a tokenizer that does not match the server's
vocabulary refused, full-label scoring (legacy completions with echo, vLLM prompt_logprobs), and the
fallback to ``max_tokens`` when a server ignores ``max_completion_tokens``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, logprobs_of
from openai_testkit import SEP, write_suite

from harness.cli.main import main

LLAMA = "llama-3.1-8b-instruct"  # a name no OpenAI encoding is known for
FF = ("False", "France")
TEXTS = ["Paris is the capital of Germany", "Lyon is in France", "The Seine flows through Paris",
         "Berlin is in France"]
ROWS = [(f"ex{i}", t, FF[i % 2]) for i, t in enumerate(TEXTS)]


def run(tmp_path: Path, rows, labels, *args: Any, model: str = f"m=openai:{LLAMA}") -> tuple[int, Path]:
    suite = write_suite(tmp_path / "s", rows, labels=labels, metrics=["accuracy", "log_loss"])
    out = tmp_path / "out"
    code = main(["run", str(suite), "--model", model, "--only", "--out", str(out), "--progress", "off",
                 "--no-report", "--no-cache", *map(str, args)])
    return code, out


def preds(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]


def info(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text())["models"][0]["info"]


def one_line(err: str) -> str:
    """The error, one line (the data checks' warnings, printed before anything is scored, are not the error)."""
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and not ln.lstrip().startswith("data check:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def script_ff(fake: FakeOpenAI) -> dict[str, float]:
    # a bare "F" in the top-k: the beginning of both labels as text, but a token of its own for the model
    top = {"False": 0.5, " France": 0.1, "France": 0.2, "F": 0.15, "The": 0.05}
    for text in TEXTS:
        fake.script(text + SEP, logprobs_of(top))
    return top


# --- the model's own tokenizer ----------------------------------------------------------------------

def test_labels_sharing_a_first_letter_stop_text_matching_with_advice_beyond_openai_encodings(
        fake, tmp_path, capsys) -> None:
    script_ff(fake)
    code, _ = run(tmp_path, ROWS, FF)
    line = one_line(capsys.readouterr().err)
    assert code == 3 and "'F'" in line
    # the advice names the model's own tokenizer and full-label scoring, not just OpenAI encodings
    assert "tokenizer.json" in line and "scoring: full" in line


@pytest.mark.parametrize("dialect", ["llama.cpp", "vllm", "llama-cpp-python"])
def test_the_servers_tokenizer_tells_labels_sharing_a_first_letter_apart(fake, tmp_path, capsys, dialect) -> None:
    fake.tokenize_dialect = dialect
    top = script_ff(fake)
    code, out = run(tmp_path, ROWS, FF, "--option", "m.logit_bias=true")
    assert code == 0, capsys.readouterr().err
    false_mass, france_mass = top["False"], top["France"] + top[" France"]  # "F" belongs to neither label
    for p in preds(out):
        assert p["probs"]["False"] == pytest.approx(false_mass / (false_mass + france_mass), abs=1e-12)
        assert p["extra"]["off_label_mass"] == pytest.approx(top["F"] + top["The"], abs=1e-12)
    meta = info(out)
    assert meta["tokenizer_source"] == "server" and meta["matching"] == "tokenizer"
    assert meta["scoring"] == "first-token-top-k"
    assert sorted(meta["label_tokens"]["France"]) == [" France", "France"]
    # logit_bias on the server's own token ids (the fake vocabulary's), not an OpenAI encoding's
    ids = {fake.vocab.index(t) for t in ("False", " False", "France", " France")}
    body = fake.calls("/chat/completions")[0].json
    assert {int(k) for k in body["logit_bias"]} == ids
    if dialect == "llama-cpp-python":  # the BOS that /extras/tokenize puts first is not a label's first token
        assert 0 not in {int(k) for k in body["logit_bias"]}


def test_a_server_that_refuses_the_tokenize_request_falls_back_to_text_matching_and_says_so(
        fake, tmp_path, capsys) -> None:
    fake.tokenize_dialect = "vllm"
    fake.inject(422, {"detail": "unknown fields"}, path="/tokenize", times=None)
    for text in TEXTS:
        fake.script(text + SEP, logprobs_of({"False": 0.6, "France": 0.4}))
    code, out = run(tmp_path, ROWS, FF)
    assert code == 0, capsys.readouterr().err
    meta = info(out)
    assert meta["tokenizer_source"] == "none" and "matched by text" in meta["tokenizer_note"]
    assert preds(out)[0]["probs"]["False"] == pytest.approx(0.6)


def test_a_tokenizer_that_does_not_match_the_servers_vocabulary_is_refused_before_scoring(
        fake, tmp_path, capsys) -> None:
    fake.tokenize_dialect = "llama.cpp"
    script_ff(fake)
    code, _ = run(tmp_path, ROWS, FF, "--option", "m.tokenizer=o200k_base")
    line = one_line(capsys.readouterr().err)
    assert code == 2 and "does not match the server's vocabulary" in line and "o200k_base" in line
    assert not fake.calls("/v1/")


def test_without_a_tokenize_endpoint_tokens_outside_the_tokenizers_vocabulary_stop_the_model(
        fake, tmp_path, capsys) -> None:
    top = {"False": 0.6, "France": 0.3, "<|eot_id|>": 0.1}  # a Llama special token o200k_base does not have
    for text in TEXTS:
        fake.script(text + SEP, logprobs_of(top))
    code, _ = run(tmp_path, ROWS, FF, "--option", "m.tokenizer=o200k_base")
    err = capsys.readouterr().err
    assert code == 3 and "'<|eot_id|>'" in err and "does not have" in err


def test_logit_bias_that_the_model_does_not_follow_is_an_error_not_invalid_outputs(fake, tmp_path, capsys) -> None:
    # o200k_base ids boost unrelated tokens of a Llama vocabulary: the model says something else
    for text in TEXTS:
        fake.script(text + SEP, logprobs_of({"The": 0.7, "False": 0.2, "France": 0.1}))
    code, _ = run(tmp_path, ROWS, FF, "--option", "m.tokenizer=o200k_base", "--option", "m.logit_bias=true")
    err = capsys.readouterr().err
    assert code == 3 and "logit_bias" in err and "'The'" in err


def test_a_local_tokenizer_json_that_matches_the_server_is_accepted(fake, tmp_path, capsys) -> None:
    tokenizers = pytest.importorskip("tokenizers", reason="the hf extra (tokenizers) is not installed")
    vocab = {t: i for i, t in enumerate(["[UNK]", "False", "France", "F", "The", "Paris"])}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    path = tmp_path / "tok" / "tokenizer.json"
    path.parent.mkdir()
    tok.save(str(path))
    fake.tokenize_dialect = "vllm"
    fake.encode = lambda text: tok.encode(text, add_special_tokens=False).ids
    fake.decode_token = lambda i: tok.id_to_token(i)
    top = {"False": 0.7, "France": 0.2, "F": 0.1}
    for text in TEXTS:
        fake.script(text + SEP, logprobs_of(top))
    code, out = run(tmp_path, ROWS, FF, "--option", f"m.tokenizer={path.parent}")
    assert code == 0, capsys.readouterr().err
    assert preds(out)[0]["probs"]["False"] == pytest.approx(0.7 / 0.9, abs=1e-12)
    assert info(out)["tokenizer_source"] == "local"
    # the same file against a server whose vocabulary differs is refused
    fake.encode = fake._greedy_encode
    code, _ = run(tmp_path / "again", ROWS, FF, "--option", f"m.tokenizer={path}")
    assert code == 2 and "does not match the server's vocabulary" in capsys.readouterr().err


def test_a_missing_tokenizer_file_is_a_one_line_input_error(fake, tmp_path, capsys) -> None:
    code, _ = run(tmp_path, ROWS, FF, "--option", f"m.tokenizer={tmp_path / 'nope'}")
    line = one_line(capsys.readouterr().err)
    assert code == 2 and "nope" in line and "tokenizer" in line


# --- a server that ignores the one-token limit --------------------------------------------------------

def test_a_server_ignoring_max_completion_tokens_is_warned_about_once_and_gets_max_tokens(
        fake, tmp_path, capsys) -> None:
    fake.ignore_max_completion_tokens = True
    script_ff(fake)
    fake.tokenize_dialect = "llama.cpp"
    code, out = run(tmp_path, ROWS, FF, "--concurrency", "1")
    err = capsys.readouterr()
    assert code == 0, err.err
    sent = [c.json for c in fake.calls("/chat/completions")]
    assert sent[0]["max_completion_tokens"] == 1 and "max_tokens" not in sent[0]
    assert all(b["max_tokens"] == 1 and "max_completion_tokens" not in b for b in sent[1:])
    notices = json.loads((out / "results.json").read_text())["engine"]["notices"]
    assert len([n for n in notices if "ignored max_completion_tokens" in n]) == 1
    assert (err.out + err.err).count("ignored max_completion_tokens") == 1
    assert any("max_tokens" in n for n in info(out)["notes"])
    # each prediction records the body that was actually sent
    assert [p["extra"]["request"].get("max_tokens") for p in preds(out)][1:] == [1, 1, 1]


def test_a_server_ignoring_both_limits_gets_a_second_notice_and_no_third(fake, tmp_path, capsys) -> None:
    from fakes.openai_server import usage_body

    script_ff(fake)
    fake.tokenize_dialect = "llama.cpp"
    orig = fake.chat

    def runaway(body, **kw):
        status, out = orig(body, **kw)
        out["usage"] = usage_body(20, 2000)  # whatever the request says
        return status, out

    fake.chat = runaway  # type: ignore[method-assign]
    code, out = run(tmp_path, ROWS, FF, "--concurrency", "1")
    assert code == 0, capsys.readouterr().err
    notices = [n for n in json.loads((out / "results.json").read_text())["engine"]["notices"] if "ignored" in n]
    assert len(notices) == 2
    assert "ignored max_completion_tokens" in notices[0] and "ignored max_tokens: 1 too" in notices[1]


# --- full-label scoring -------------------------------------------------------------------------------

NY = ("New York", "York")
NY_ROWS = [(f"ny{i}", t, NY[i % 2]) for i, t in enumerate(["Big apple", "Minster city", "Yankees", "Shambles"])]
NY_LOGPROBS = {"New": -1.0, " New": -0.5, " York": -0.2, "York": -3.0}


def expected_ny(spellings: dict[str, list[list[str]]]) -> dict[str, float]:
    mass = {lab: sum(math.exp(sum(NY_LOGPROBS[t] for t in toks)) for toks in spellings[lab]) for lab in NY}
    total = sum(mass.values())
    return {lab: m / total for lab, m in mass.items()}


def test_completions_full_scoring_sums_the_whole_labels_token_logprobs(fake, tmp_path, capsys) -> None:
    fake.token_logprobs.update(NY_LOGPROBS)
    fake.script("Big apple" + SEP, logprobs_of({"New": 0.8, "The": 0.2}))
    fake.script("Minster city" + SEP, logprobs_of({" York": 0.7, "The": 0.3}))
    fake.script("Yankees" + SEP, logprobs_of({"Ne": 0.6, "The": 0.4}))  # a first piece of "New York": valid
    fake.script("Shambles" + SEP, logprobs_of({"The": 0.9, "New": 0.1}))  # an invalid output
    code, out = run(tmp_path, NY_ROWS, NY, "--option", "m.scoring=full", model=f"m=openai-completions:{LLAMA}")
    assert code == 0, capsys.readouterr().err
    # "New York" = New + " York" or " New" + " York"; "York" = York or " York"
    want = expected_ny({"New York": [["New", " York"], [" New", " York"]], "York": [["York"], [" York"]]})
    rows = preds(out)
    for p in rows:
        assert p["probs"] == pytest.approx(want, abs=1e-12)
        assert p["extra"]["spelling_logprobs"]["New York"] == pytest.approx(-1.2, abs=1e-12)
    assert [p["status"] for p in rows] == ["ok", "ok", "ok", "invalid"]
    body = next(c.json for c in fake.calls("/v1/completions") if c.json["prompt"][0] == "Big apple" + SEP)
    assert body["echo"] is True and body["prompt"][1:] == ["Big apple" + SEP + s for s in
                                                          ("New York", " New York", "York", " York")]
    assert info(out)["scoring"] == "full-sequence-exact"


def test_completions_full_scoring_on_a_server_without_list_prompts_sends_one_per_prompt(fake, tmp_path,
                                                                                       capsys) -> None:
    fake.token_logprobs.update(NY_LOGPROBS)
    orig = fake.completion

    def one_prompt_only(body):  # like a server whose completions take a single prompt
        if isinstance(body.get("prompt"), list):
            return 400, {"error": {"message": "'prompt' must be a string", "type": "invalid_request_error",
                                   "param": "prompt", "code": None}}
        return orig(body)

    fake.completion = one_prompt_only  # type: ignore[method-assign]
    code, out = run(tmp_path, NY_ROWS, NY, "--option", "m.scoring=full", "--concurrency", "1",
                    model=f"m=openai-completions:{LLAMA}")
    assert code == 0, capsys.readouterr().err
    want = expected_ny({"New York": [["New", " York"], [" New", " York"]], "York": [["York"], [" York"]]})
    assert all(p["probs"] == pytest.approx(want, abs=1e-12) for p in preds(out))
    notes = json.loads((out / "results.json").read_text())["engine"]["notices"]
    assert len([n for n in notes if "list of prompts" in n]) == 1


def test_completions_full_scoring_stops_when_the_server_ignores_echo(fake, tmp_path, capsys) -> None:
    fake.token_logprobs.update(NY_LOGPROBS)
    orig = fake.completion
    fake.completion = lambda body: orig({k: v for k, v in body.items() if k != "echo"})  # type: ignore
    code, _ = run(tmp_path, NY_ROWS, NY, "--option", "m.scoring=full", model=f"m=openai-completions:{LLAMA}")
    err = capsys.readouterr().err
    assert code == 3 and "did not echo the prompt" in err


def test_completions_full_scoring_refuses_a_label_merged_with_the_prompts_end(fake, tmp_path, capsys) -> None:
    fake.vocab.append("\nNew")  # the prompt's last newline and the label become one token
    fake.token_logprobs.update(NY_LOGPROBS)
    code, out = run(tmp_path, NY_ROWS, NY, "--option", "m.scoring=full", "--max-failed", "100%",
                    model=f"m=openai-completions:{LLAMA}")
    assert code == 0, capsys.readouterr().err
    rows = preds(out)
    assert all(p["status"] == "failed" and "merge into one token" in p["error"] for p in rows)


def test_chat_full_scoring_reads_vllm_prompt_logprobs(fake, tmp_path, capsys) -> None:
    fake.token_logprobs.update(NY_LOGPROBS)
    code, out = run(tmp_path, NY_ROWS, NY, "--option", "m.scoring=full", "--option", "m.tokenizer=none")
    assert code == 0, capsys.readouterr().err
    # a chat answer starts the assistant turn: "New York" = New + " York", "York" = York
    want = expected_ny({"New York": [["New", " York"]], "York": [["York"]]})
    for p in preds(out):
        assert p["probs"] == pytest.approx(want, abs=1e-12)
    conts = [c.json for c in fake.calls("/chat/completions") if c.json.get("prompt_logprobs") is not None]
    assert conts and all(b["continue_final_message"] is True and b["add_generation_prompt"] is False
                         and b["messages"][-1]["role"] == "assistant" for b in conts)
    assert info(out)["scoring"] == "full-sequence-exact"


def test_chat_full_scoring_on_a_server_that_does_not_continue_the_message_stops(fake, tmp_path, capsys) -> None:
    orig = fake.render_chat
    fake.render_chat = lambda body: orig({**body, "continue_final_message": False})  # type: ignore[method-assign]
    code, _ = run(tmp_path, NY_ROWS, NY, "--option", "m.scoring=full", "--option", "m.tokenizer=none")
    err = capsys.readouterr().err
    assert code == 3 and "continue_final_message" in err


def test_chat_full_scoring_on_a_server_without_prompt_logprobs_stops_with_a_reason(fake, tmp_path, capsys) -> None:
    orig = fake.chat

    def chat(body, **kw):
        body = {k: v for k, v in body.items() if k != "prompt_logprobs"}  # a server that drops the field
        return orig(body, **kw)

    fake.chat = chat  # type: ignore[method-assign]
    code, _ = run(tmp_path, NY_ROWS, NY, "--option", "m.scoring=full", "--option", "m.tokenizer=none")
    err = capsys.readouterr().err
    assert code == 3 and "prompt_logprobs" in err


def test_a_cached_rerun_and_offline_send_no_tokenize_request(fake, tmp_path, capsys) -> None:
    """The tokenize endpoint's answers are kept beside the response cache: a fully cached rerun asks the server
    nothing, --offline sends nothing at all (and scores as the first run did); --refresh asks again."""
    fake.tokenize_dialect = "vllm"
    suite = write_suite(tmp_path / "s", ROWS, labels=FF, metrics=["accuracy", "log_loss"])
    base = ["run", str(suite), "--model", f"m=openai:{LLAMA}", "--only", "--progress", "off", "--no-report",
            "--cache", str(tmp_path / "cache" / "c.sqlite3")]
    assert main([*base, "--out", str(tmp_path / "o1")]) == 0, capsys.readouterr().err
    assert any("tokenize" in c.path for c in fake.calls())
    first = preds(tmp_path / "o1")
    for extra in ((), ("--offline",)):
        n = len(fake.calls())
        out = tmp_path / f"o{len(extra) + 2}"
        assert main([*base, "--out", str(out), *extra]) == 0, capsys.readouterr().err
        assert fake.calls()[n:] == [], [c.path for c in fake.calls()[n:]]
        assert info(out)["tokenizer_source"] == "server"
        for a, b in zip(preds(out), first, strict=True):
            assert a["probs"] == pytest.approx(b["probs"])
    n = len(fake.calls())
    assert main([*base, "--out", str(tmp_path / "o9"), "--refresh"]) == 0
    assert any("tokenize" in c.path for c in fake.calls()[n:])
