"""Suites and datasets: the data formats, derived ids, label and positive-class handling, bundled suites."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
from harness_testkit import SEP, toy_pairs, write_data

from harness.suite import bundled_suite_names, find_suite, load_suite

PAIRS = toy_pairs(12, seed=5)


def examples_of(suite_dir):
    return load_suite(suite_dir).heldout.examples


@pytest.mark.parametrize("fmt", ["openai-jsonl", "chat-jsonl", "csv", "tsv"])
def test_formats_read_the_same_examples(make_suite, fmt):
    ds = load_suite(make_suite(PAIRS, fmt=fmt)).heldout
    assert ds.format == fmt
    assert [(ex.text, ex.label) for ex in ds.examples] == PAIRS
    first = 2 if fmt in ("csv", "tsv") else 1  # after the header row
    assert [ex.line for ex in ds.examples] == list(range(first, first + len(PAIRS)))
    assert len(set(ds.ids)) == len(PAIRS)
    assert len(ds.sha256) == 64


@pytest.mark.parametrize("fmt", ["openai-jsonl", "chat-jsonl", "csv", "tsv"])
def test_format_is_inferred(make_suite, fmt):
    suite = make_suite(PAIRS, fmt=fmt, data={"format": None})
    assert load_suite(suite).heldout.format == fmt


def test_openai_jsonl(make_suite):
    ex = examples_of(make_suite(PAIRS, fmt="openai-jsonl"))[0]
    text, label = PAIRS[0]
    assert ex.text == text  # without the separator
    assert ex.prompt == text + SEP  # what a fine-tuned completions model was trained on
    assert ex.label == label  # the completion's leading space is not part of the label
    assert ex.messages == ({"role": "user", "content": text + SEP},)


def test_chat_jsonl_last_assistant_message_is_the_label(tmp_path, make_suite):
    suite = make_suite(PAIRS, fmt="chat-jsonl")
    rows = [{"messages": [{"role": "system", "content": "You route tickets."},
                          {"role": "user", "content": "first part"},
                          {"role": "assistant", "content": "Go on."},
                          {"role": "user", "content": "second part"},
                          {"role": "assistant", "content": " pos "}]},
            {"messages": [{"role": "user", "content": "short"}, {"role": "assistant", "content": "neg"}]}]
    (suite / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    a, b = examples_of(suite)
    assert a.label == "pos" and b.label == "neg"
    assert a.messages == tuple(rows[0]["messages"][:-1])  # the conversation without the answer
    assert a.text == "first part\nsecond part"
    assert b.messages == ({"role": "user", "content": "short"},)


def test_csv_named_columns_and_template(tmp_path):
    root = tmp_path / "s"
    root.mkdir()
    with (root / "tickets.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket", "subject", "body", "queue"])
        w.writerow(["T1", "Card charged twice", "I was billed, twice.\nPlease fix", "billing"])
        w.writerow(["T2", "Where is it", "Parcel late", "shipping"])
    (root / "suite.yaml").write_text(
        "data:\n  heldout: tickets.csv\n  id_field: ticket\n  text_field: body\n  label_field: queue\n"
        "labels: [billing, shipping]\n"
        "prompt:\n  template: \"Subject: {{ subject }}\\nBody: {{ text }}\"\n  separator: \"\\n->\"\n"
        "  system: Route the ticket.\n")
    a, b = examples_of(root)
    assert (a.id, a.label, a.text) == ("T1", "billing", "I was billed, twice.\nPlease fix")
    assert a.prompt == "Subject: Card charged twice\nBody: I was billed, twice.\nPlease fix\n->"
    assert a.messages == ({"role": "system", "content": "Route the ticket."},
                          {"role": "user", "content": a.prompt})
    assert (b.id, b.line) == ("T2", 4)  # line numbers count the quoted newline


def test_template_with_unknown_column_names_the_line(tmp_path, harness_cli):
    root = tmp_path / "s"
    write_data(root / "heldout.csv", PAIRS, "csv")
    (root / "suite.yaml").write_text("data:\n  heldout: heldout.csv\nlabels: [neg, pos]\n"
                                     "prompt:\n  template: \"{{ title }}: {{ text }}\"\n")
    res = harness_cli("run", root, "--model", "m=demo:base", "--out", tmp_path / "o")
    assert res.code == 2
    assert "heldout.csv:2" in res.err and "prompt.template" in res.err and "title" in res.err


def test_explicit_ids(make_suite):
    ids = [f"row-{i}" for i in range(len(PAIRS))]
    assert load_suite(make_suite(PAIRS, ids=ids)).heldout.ids == ids
    numeric = make_suite(PAIRS, ids=list(range(len(PAIRS))), folder="numeric")
    assert load_suite(numeric).heldout.ids == [str(i) for i in range(len(PAIRS))]


# --- derived ids ---------------------------------------------------------------------------------


def test_derived_ids_are_stable_across_loads_and_processes(make_suite):
    suite = make_suite(PAIRS)
    first = load_suite(suite).heldout.ids
    assert load_suite(suite).heldout.ids == first
    code = ("import json, sys; from harness.suite import load_suite; "
            "print(json.dumps(load_suite(sys.argv[1]).heldout.ids))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    proc = subprocess.run([sys.executable, "-c", code, str(suite)], capture_output=True, text=True, env=env,
                          timeout=120, check=True)
    assert json.loads(proc.stdout) == first


def test_derived_ids_depend_on_content_not_position(make_suite):
    """Reordering, adding or removing other examples keeps every example's id."""
    base = dict(zip((t for t, _ in PAIRS), load_suite(make_suite(PAIRS, folder="a")).heldout.ids))
    changed = list(reversed(PAIRS[2:])) + [("a brand new example", "pos")]
    other = dict(zip((t for t, _ in changed), load_suite(make_suite(changed, folder="b")).heldout.ids))
    for text in other:
        if text in base:
            assert other[text] == base[text]
    assert other["a brand new example"] not in base.values()


def test_derived_ids_same_across_formats_of_the_same_text(make_suite):
    csv_ids = load_suite(make_suite(PAIRS, fmt="csv", folder="c")).heldout.ids
    tsv_ids = load_suite(make_suite(PAIRS, fmt="tsv", folder="t")).heldout.ids
    assert csv_ids == tsv_ids


# --- labels and the positive class ---------------------------------------------------------------


def test_positive_defaults_to_second_label(make_suite):
    s = load_suite(make_suite(PAIRS, labels=("neg", "pos")))
    assert s.positive == "pos" and s.task == "binary"


def test_positive_default_follows_label_order(make_suite):
    pairs = [(t, {"neg": "no", "pos": "yes"}[lab]) for t, lab in PAIRS]
    assert load_suite(make_suite(pairs, labels=("yes", "no"))).positive == "no"


def test_explicit_positive(make_suite):
    assert load_suite(make_suite(PAIRS, positive="neg")).positive == "neg"


def test_multiclass_has_no_default_positive(make_suite):
    labels = ("billing", "shipping", "account")
    s = load_suite(make_suite(toy_pairs(9, labels), labels=labels))
    assert s.positive is None and s.task == "multiclass"


def test_labels_with_display_names(make_suite):
    s = load_suite(make_suite(PAIRS, labels=[{"name": "neg", "display": "Negative"}, "pos"]))
    assert s.labels == ("neg", "pos")
    assert s.display == {"neg": "Negative", "pos": "pos"}


@pytest.mark.parametrize("labels, words", [(["neg", "neg"], "duplicate"), (["only"], "at least 2"),
                                           ([" neg", "pos"], "spaces")])
def test_bad_label_lists(make_suite, harness_cli, tmp_path, labels, words):
    suite = make_suite(PAIRS, labels=labels)
    res = harness_cli("run", suite, "--model", "m=demo:base", "--out", tmp_path / "o")
    assert res.code == 2
    assert "suite.yaml:" in res.err and "labels" in res.err and words in res.err


def test_suite_name_defaults_to_folder(tmp_path, monkeypatch):
    root = tmp_path / "my-suite"
    write_data(root / "h.jsonl", PAIRS)
    (root / "suite.yaml").write_text("data: {heldout: h.jsonl}\nlabels: [neg, pos]\n")
    assert load_suite(root).name == "my-suite"
    monkeypatch.chdir(root)
    assert load_suite(".").name == "my-suite"


# --- finding suites ------------------------------------------------------------------------------


def test_bundled_suites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # found by name from anywhere, not only the repository
    assert {"baseball-hockey", "support-tickets"} <= set(bundled_suite_names())
    bh = load_suite("baseball-hockey")
    assert bh.labels == ("baseball", "hockey") and bh.positive == "hockey" and bh.task == "binary"
    assert len(bh.heldout) > 100 and len(bh.train) > len(bh.heldout)
    st = load_suite("support-tickets")
    assert st.task == "multiclass" and len(st.labels) == 5 and st.positive is None
    assert not set(bh.heldout.ids) & set(bh.train.ids)  # no held-out example is in the training split


def test_find_suite_by_folder_and_file(make_suite):
    suite = make_suite(PAIRS)
    assert find_suite(suite) == suite / "suite.yaml"
    assert find_suite(suite / "suite.yaml") == suite / "suite.yaml"


def test_find_suite_under_cwd_suites(make_suite, tmp_path, monkeypatch):
    make_suite(PAIRS, folder="suites/local-one")
    monkeypatch.chdir(tmp_path)
    assert find_suite("local-one") == tmp_path / "suites" / "local-one" / "suite.yaml"


def _raw_suite(tmp_path, pairs, yaml_text):
    write_data(tmp_path / "heldout.jsonl", pairs)
    (tmp_path / "suite.yaml").write_text("data: {heldout: heldout.jsonl}\n" + yaml_text, encoding="utf-8")
    return tmp_path


def test_yes_no_labels_stay_text(tmp_path):
    """YAML 1.1 reads an unquoted yes/no as booleans; a suite is read with YAML 1.2's booleans instead."""
    pairs = [(f"is {i} even?", "yes" if i % 2 == 0 else "no") for i in range(8)]
    s = load_suite(_raw_suite(tmp_path, pairs, "labels: [no, yes]\npositive: yes\n"))
    assert s.labels == ("no", "yes") and s.positive == "yes"
    assert [ex.label for ex in s.heldout.examples] == [lab for _, lab in pairs]


@pytest.mark.parametrize("written", [["0", "1"], ["010", "020"], ["07", "1_000"], ["1:30", "2.50"]])
def test_numeric_labels_are_the_text_written(tmp_path, written):
    """YAML 1.1 would read 010 as 8, 1_000 as 1000 and 1:30 as 90; labels are what the suite says."""
    pairs = [(f"item {i}", written[i % 2]) for i in range(8)]
    s = load_suite(_raw_suite(tmp_path, pairs, f"labels: [{written[0]}, {{name: {written[1]}}}]\n"
                                               f"positive: {written[1]}\n"))
    assert s.labels == tuple(written) and s.positive == written[1]
    assert [ex.label for ex in s.heldout.examples] == [lab for _, lab in pairs]


def test_a_boolean_label_is_a_clear_error(tmp_path, harness_cli):
    suite = _raw_suite(tmp_path, PAIRS, "labels: [true, false]\n")
    res = harness_cli("run", suite, "--model", "m=demo:base", "--out", tmp_path / "o")
    assert res.code == 2 and "suite.yaml:2" in res.err and "YAML boolean: quote it" in res.err
    assert res.err.count("\n") == 1
