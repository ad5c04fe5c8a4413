"""Each check on a suite with the defect planted at known rows: the finding's code, severity, count and rows."""

from __future__ import annotations

import pytest
from validation_kit import SEP, completion_rows, planted_suite

import harness
from harness.stats.samplesize import paired_mde, paired_sample_size
from harness.validation import validate


@pytest.mark.parametrize("code, severity, rows", [
    ("separator-missing", "error", [3, 17]),
    ("completion-whitespace", "warning", [5, 22, 31]),
    ("leak", "error", [8]),
    ("leak-normalised", "error", [12]),
    ("duplicate", "warning", [35]),  # explicit ids: the run accepts it, but it counts twice
    ("duplicate-normalised", "warning", [26]),
    ("conflicting-labels", "warning", [38, 39]),
])
def test_planted_defects_are_found_with_their_rows(write_suite, code, severity, rows):
    v = validate(planted_suite(write_suite))
    f = v.get(code)
    assert f is not None, v.codes()
    assert (f.severity, f.count, list(f.rows)) == (severity, len(rows), rows)
    assert f.file and f.file.endswith("heldout.jsonl")


def test_the_planted_suite_has_only_the_planted_problems(write_suite):
    v = validate(planted_suite(write_suite))
    unexpected = {f.code for f in v.findings if f.severity != "info"} - {
        "separator-missing", "completion-whitespace", "leak", "leak-normalised", "duplicate", "duplicate-normalised",
        "conflicting-labels", "class-small", "too-small"}
    assert not unexpected
    assert not v.ok and {f.code for f in v.errors} == {"separator-missing", "leak", "leak-normalised"}


def test_a_clean_suite_has_no_errors_or_format_warnings(write_suite):
    v = validate(write_suite(completion_rows(40, "held"), train=completion_rows(60, "train")))
    assert v.ok
    assert {f.code for f in v.warnings} <= {"class-small", "too-small"}


def test_exact_duplicates_without_ids_are_errors_because_the_run_refuses_them(write_suite):
    held = completion_rows(30, "held")
    held[20] = dict(held[6])
    f = validate(write_suite(held)).get("duplicate")
    assert f is not None and f.severity == "error" and list(f.rows) == [21]


def test_separator_inside_a_prompt(write_suite):
    held = completion_rows(30, "held")
    held[9]["prompt"] = "first part" + SEP + "second part" + SEP
    f = validate(write_suite(held)).get("separator-inside")
    assert f is not None and f.severity == "warning" and list(f.rows) == [10]


def test_a_suite_separator_that_differs_from_the_training_files(write_suite):
    held = completion_rows(30, "held", sep=" ->")
    v = validate(write_suite(held, train=completion_rows(40, "train", sep=" ->")))
    f = v.get("separator-mismatch")
    assert f is not None and " ->" in f.message and f.severity == "warning"  # prompts as written are sent
    assert v.get("separator-missing") is None  # the held-out prompts do end with the training separator
    held[4]["prompt"] = "no arrow here"
    assert list(validate(write_suite(held, train=completion_rows(40, "train", sep=" ->"), folder="b"))
                .get("separator-missing").rows) == [5]


def test_stop_sequence_parity_with_training(write_suite):
    held = completion_rows(30, "held", stop="\n")
    held[6]["completion"] = " pos"
    held[13]["completion"] = " neg\n\n"
    f = validate(write_suite(held, train=completion_rows(40, "train", stop="\n"))).get("stop-sequence")
    assert f is not None and list(f.rows) == [7, 14] and f.fixable


def test_chat_system_prompt_and_separator_parity(write_suite):
    def chat(i, system="Classify the post.", sep="", label=None):
        msgs = [{"role": "system", "content": system}] if system is not None else []
        return {"messages": [*msgs, {"role": "user", "content": f"post {i}{sep}"},
                             {"role": "assistant", "content": label or ("neg", "pos")[i % 2]}]}
    train = [chat(i, sep=" =>") for i in range(40)]
    held = [chat(100 + i, sep=" =>") for i in range(30)]
    held[2] = chat(102, system="Be brief.", sep=" =>")
    held[7] = chat(107, system=None, sep=" =>")
    held[11] = chat(111)  # no separator
    v = validate(write_suite(held, train=train))
    assert list(v.get("system-prompt").rows) == [3, 8] and v.get("system-prompt").severity == "error"
    assert list(v.get("separator-missing").rows) == [12]


def test_a_chat_suite_prompt_system_must_match_the_chat_training_file(write_suite, tmp_path):
    train = [{"messages": [{"role": "system", "content": "Sort tickets."}, {"role": "user", "content": f"t {i}"},
                           {"role": "assistant", "content": ("neg", "pos")[i % 2]}]} for i in range(30)]
    csv = "text,label\n" + "".join(f"ticket {i},{('neg', 'pos')[i % 2]}\n" for i in range(30))
    root = write_suite([csv], train=train, heldout_name="heldout.csv", prompt={"separator": "",
                                                                              "system": "Other system."})
    f = validate(root).get("system-prompt")
    assert f is not None and f.severity == "error" and f.count == 30 and f.file.endswith("suite.yaml")


def test_a_template_that_changes_the_training_prompts(write_suite):
    train = [{"prompt": f"Post: t {i}{SEP}", "completion": " pos"} for i in range(20)]
    held = [{"prompt": f"Post: h {i}{SEP}", "completion": " neg"} for i in range(20)]
    v = validate(write_suite(held, train=train, prompt={"template": "Post: {{ text }}"}))
    f = v.get("template-changes-prompts")
    assert f is not None and f.severity == "error" and f.count == 20 and f.file.endswith("train.jsonl")
    assert validate(write_suite(held, train=train, folder="b",
                                prompt={"template": "{{ text }}"})).get("template-changes-prompts") is None


def test_csv_text_needs_the_template_the_training_prompts_were_written_with(write_suite):
    words = ["Nobody", "anyone", "Trade", "the", "Power", "Walk", "Goalie", "rain", "Icing", "Box"]
    train = [{"prompt": f"Post: {words[i % 10]} {i}{SEP}", "completion": " pos"} for i in range(20)]
    csv = ["text,label\n", *[f"h {i},neg\n" for i in range(20)]]
    v = validate(write_suite(csv, train=train, heldout_name="heldout.csv"))
    assert v.get("prompt-prefix") is not None and "'Post: '" in v.get("prompt-prefix").message
    ok = validate(write_suite(csv, train=train, heldout_name="heldout.csv", folder="b",
                              prompt={"template": "Post: {{ text }}"}))
    assert ok.get("prompt-prefix") is None and ok.get("template-shape") is None
    bad = validate(write_suite(csv, train=train, heldout_name="heldout.csv", folder="c",
                               prompt={"template": "Review: {{ text }}"}))
    assert bad.get("template-shape") is not None and bad.get("template-shape").count == 20


def test_labels_numeric_and_colliding_after_normalisation(write_suite):
    rows = [{"prompt": f"x {i}{SEP}", "completion": f" {lab}"} for i, lab in enumerate(["1", "10", "Not spam",
                                                                                         "not_spam"] * 5)]
    v = validate(write_suite(rows, labels=["1", "10", "Not spam", "not_spam"]))
    assert v.get("label-numeric").items == ("1", "10")
    assert v.get("label-normalised-collision").items == ("Not spam", "not_spam")


def test_label_first_tokens_under_the_models_tokenizer(write_suite):
    rows = [{"prompt": f"x {i}{SEP}", "completion": f" {lab}"} for i, lab in enumerate(["hockey", "hockeyball",
                                                                                         "baseball"] * 5)]
    root = write_suite(rows, labels=["hockey", "hockeyball", "baseball"])
    v = validate(root, ["ft=openai-completions:babbage-002", "chat=openai:gpt-4o-mini"])
    for model in ("ft", "chat"):
        f = v.get("label-first-token-collision", model)
        assert f is not None and f.severity == "error" and f.items == ("hockey", "hockeyball"), model
    multi = v.get("label-multi-token", "chat")  # a chat model writes "hockey" as 'h', 'ockey'
    assert multi is not None and "hockey" in multi.items and multi.severity == "info"
    assert v.get("label-first-token-collision", "chat").count == 2


def test_labels_with_distinct_one_token_forms_pass(write_suite):
    rows = completion_rows(20, "x", labels=("baseball", "hockey"))
    v = validate(write_suite(rows, labels=["baseball", "hockey"]), ["openai-completions:davinci-002"])
    assert v.get("label-first-token-collision") is None and v.get("label-multi-token") is None


def test_a_model_without_an_offline_tokenizer_is_said_so(write_suite):
    v = validate(write_suite(completion_rows(20, "x")), ["local=openai:meta-llama/Llama-3.1-8B-Instruct"])
    assert v.get("no-model-facts", "local") is not None and v.get("label-first-token-collision") is None


def test_rows_over_the_context_window(write_suite):
    held = completion_rows(30, "held")
    for line in (4, 19):
        held[line - 1]["prompt"] = "word " * 300 + SEP
    root = write_suite(held, models={"m": {"provider": "openai-completions", "argument": "babbage-002",
                                           "options": {"context_window": 200}}})
    f = validate(root).get("too-long", "m")
    assert f is not None and f.severity == "error" and list(f.rows) == [4, 19] and "200" in f.message
    assert validate(root, ["m=openai-completions:babbage-002"]).get("too-long") is None  # 16,384 tokens
    unknown = validate(root, ["m=openai:some-local-model"], only=True)
    assert unknown.get("length-unchecked") is None and unknown.get("no-model-facts", "m") is not None


def test_size_and_balance(write_suite):
    held = completion_rows(60, "held", labels=("a", "b", "c"))
    held = [r for r in held if not r["completion"].endswith("c")][:45] + [held[2]]  # c: one example
    v = validate(write_suite(held, labels=["a", "b", "c", "d"]))
    assert v.get("class-missing").items == ("d",)
    assert v.get("class-small").items == ("c",)
    f = v.get("too-small")
    assert f is not None and f"{paired_sample_size(0.02, 0.1):,}" in f.message
    assert v.get("class-counts").items == ("a=20", "b=20", "c=1", "d=0")


def test_size_is_enough_when_the_suite_cares_about_a_large_difference(write_suite):
    held = completion_rows(400, "held")
    v = validate(write_suite(held, validate={"mde": 0.1, "discordance": 0.2}))
    assert v.get("too-small") is None
    assert f"{paired_mde(400, 0.2) * 100:.1f} points" in v.get("size").message


def test_ignore_and_unknown_codes(write_suite):
    held = completion_rows(30, "held")
    held[3]["completion"] = "pos"
    v = validate(write_suite(held, validate={"ignore": ["completion-whitespace", "nonsense"]}))
    assert v.get("completion-whitespace") is None
    assert v.get("unknown-ignore").items == ("nonsense",)


def test_the_python_api_is_harness_validate(write_suite):
    held = completion_rows(30, "held")
    held[0]["prompt"] = "no separator"
    v = harness.validate(write_suite(held))
    assert not v.ok and v.errors[0].code == "separator-missing"
    doc = v.to_json()
    assert doc["findings"][0]["rows"] == [1] and doc["summary"]["error"] == 1


def test_label_tokens_are_counted_as_the_training_file_writes_completions(write_suite):
    """Trained without the leading space, a completion model writes 'hockey' as 'h', 'ockey'."""
    rows = completion_rows(20, "x", labels=("baseball", "hockey"), space="")
    v = validate(write_suite(rows, train=completion_rows(20, "t", labels=("baseball", "hockey"), space=""),
                             labels=["baseball", "hockey"]), ["ft=openai-completions:davinci-002"])
    multi = v.get("label-multi-token", "ft")
    assert multi is not None and multi.items == ("baseball", "hockey")


def test_without_training_file_the_default_separator_is_held_to_only_when_most_prompts_use_it(write_suite):
    plain = [{"prompt": f"plain text {i}", "completion": " pos"} for i in range(20)]
    assert validate(write_suite(plain)).get("separator-missing") is None  # no separator at all: consistent
    mixed = completion_rows(20, "held")
    mixed[4]["prompt"] = "forgot it"
    f = validate(write_suite(mixed, folder="b")).get("separator-missing")
    assert list(f.rows) == [5] and "most held-out prompts'" in f.message
    arrows = [{"prompt": f"text {i} ->", "completion": " pos"} for i in range(20)]
    arrows[7]["prompt"] = "no arrow"
    assert list(validate(write_suite(arrows, folder="c")).get("separator-missing").rows) == [8]
    explicit = validate(write_suite(plain, folder="d", prompt={"separator": "\n\n###\n\n"}))
    assert explicit.get("separator-missing").count == 20  # the suite says so: the prompts lack it
