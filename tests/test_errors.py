"""Bad input gives one line naming the file, the line and the field, exit code 2, and no traceback."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
from pathlib import Path

import pytest
from harness_testkit import HARNESS_SCRIPT, toy_pairs, write_data
from sklearn.dummy import DummyClassifier


def assert_input_error(res, *fragments: str) -> str:
    """Exit 2, a single ``error: ...`` line on stderr containing every fragment, no traceback."""
    assert res.code == 2, (res.code, res.err)
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert len(lines) == 1, res.err
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in res.err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def run(harness_cli, suite: Path, *extra) -> object:
    return harness_cli("run", suite, "--out", suite.parent / "out", "--no-report", *extra)


def write_suite_yaml(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "suite.yaml").write_text(text, encoding="utf-8")
    return root


# --- data files ----------------------------------------------------------------------------------


def test_missing_data_file(harness_cli, tmp_path):
    suite = write_suite_yaml(tmp_path / "s", "name: s\ndata:\n  heldout: nope.jsonl\nlabels: [neg, pos]\n"
                                               "models:\n  m: demo:base\n")
    assert_input_error(run(harness_cli, suite), "suite.yaml:3", "data.heldout", "nope.jsonl", "not found")


def test_malformed_jsonl_line(harness_cli, make_suite):
    suite = make_suite(models={"m": "demo:base"})
    lines = (suite / "heldout.jsonl").read_text().splitlines()
    lines[2] = '{"prompt": "oops", "completion": '
    (suite / "heldout.jsonl").write_text("\n".join(lines) + "\n")
    assert_input_error(run(harness_cli, suite), "heldout.jsonl:3", "malformed JSON")


def test_label_outside_label_set(harness_cli, make_suite):
    pairs = toy_pairs(6)
    pairs[4] = ("some text", "maybe")
    suite = make_suite(pairs, models={"m": "demo:base"})
    assert_input_error(run(harness_cli, suite), "heldout.jsonl:5", "completion", "'maybe'", "label set")


def test_label_outside_label_set_csv(harness_cli, make_suite):
    pairs = toy_pairs(6)
    pairs[1] = ("some text", "maybe")
    suite = make_suite(pairs, fmt="csv", models={"m": "demo:base"})
    assert_input_error(run(harness_cli, suite), "heldout.csv:3", "label", "'maybe'")


def test_chat_without_assistant_label(harness_cli, make_suite):
    suite = make_suite(fmt="chat-jsonl", models={"m": "demo:base"})
    lines = (suite / "heldout.jsonl").read_text().splitlines()
    row = json.loads(lines[1])
    row["messages"] = row["messages"][:-1]
    lines[1] = json.dumps(row)
    (suite / "heldout.jsonl").write_text("\n".join(lines) + "\n")
    assert_input_error(run(harness_cli, suite), "heldout.jsonl:2", "messages[1].role", "assistant")


def test_csv_missing_column(harness_cli, make_suite):
    suite = make_suite(fmt="csv", data={"text_field": "body"}, models={"m": "demo:base"})
    assert_input_error(run(harness_cli, suite), "heldout.csv:2", "body", "missing column")


def test_duplicate_explicit_ids(harness_cli, make_suite):
    pairs = toy_pairs(5)
    suite = make_suite(pairs, ids=["a", "b", "c", "b", "e"], models={"m": "demo:base"})
    line = assert_input_error(run(harness_cli, suite), "heldout.jsonl:4", "id", "'b'")
    assert "line 2" in line  # where it was first seen


def test_duplicate_content_derived_ids(harness_cli, make_suite):
    pairs = toy_pairs(5)
    pairs[3] = pairs[0]
    suite = make_suite(pairs, models={"m": "demo:base"})
    line = assert_input_error(run(harness_cli, suite), "heldout.jsonl:4", "prompt", "same content")
    assert "line 1" in line


def test_duplicate_content_csv(harness_cli, make_suite):
    pairs = toy_pairs(5)
    pairs[2] = (pairs[1][0], "neg")  # same text, even with another label
    suite = make_suite(pairs, fmt="csv", models={"m": "demo:base"})
    assert_input_error(run(harness_cli, suite), "heldout.csv:4", "text", "same content")


# --- suite.yaml ----------------------------------------------------------------------------------


def test_unknown_metric_in_suite(harness_cli, make_suite):
    suite = make_suite(metrics=["accuracy", "acuracy"], models={"m": "demo:base"})
    text = (suite / "suite.yaml").read_text().splitlines()
    lineno = next(i for i, t in enumerate(text, 1) if "acuracy" in t and "- accuracy" not in t)
    assert_input_error(run(harness_cli, suite), f"suite.yaml:{lineno}", "metrics[1]", "'acuracy'")


def test_unknown_metric_on_command_line(harness_cli, make_suite):
    suite = make_suite(models={"m": "demo:base"})
    assert_input_error(run(harness_cli, suite, "--metric", "acuracy"), "'acuracy'", "unknown metric")


def test_unknown_provider_in_suite(harness_cli, tmp_path):
    root = tmp_path / "s"
    write_data(root / "heldout.jsonl", toy_pairs(6))
    write_suite_yaml(root, "data:\n  heldout: heldout.jsonl\nlabels: [neg, pos]\nmodels:\n"
                           "  bad: nosuch:thing\n")
    assert_input_error(run(harness_cli, root), "suite.yaml:5", "'bad'", "unknown provider 'nosuch'")


def test_unknown_provider_on_command_line(harness_cli, make_suite):
    suite = make_suite()
    assert_input_error(run(harness_cli, suite, "--model", "x=nosuch:thing"), "--model", "'x'",
                       "unknown provider 'nosuch'")


@pytest.mark.parametrize("spec", ["noequals", "x=", "=demo:base", "x=:base"])
def test_malformed_model_spec(harness_cli, make_suite, spec):
    suite = make_suite()
    assert_input_error(run(harness_cli, suite, "--model", spec), "--model", "PROVIDER:ARGUMENT")


def test_malformed_option(harness_cli, make_suite):
    suite = make_suite(models={"m": "demo:base"})
    assert_input_error(run(harness_cli, suite, "--option", "seed=3"), "--option", "'seed=3'")
    assert_input_error(run(harness_cli, suite, "--option", "other.seed=3"), "--option", "'other'")


def test_unknown_provider_option(harness_cli, make_suite):
    suite = make_suite(models={"m": "demo:base"})
    assert_input_error(run(harness_cli, suite, "--option", "m.sede=3"), "models.m.sede", "provider demo")


def test_unknown_option_in_suite_model(harness_cli, tmp_path):
    root = tmp_path / "s"
    write_data(root / "heldout.jsonl", toy_pairs(6))
    write_suite_yaml(root, "data:\n  heldout: heldout.jsonl\nlabels: [neg, pos]\nmodels:\n"
                           "  m:\n    provider: demo\n    argument: base\n    options: {sede: 3}\n")
    assert_input_error(run(harness_cli, root), "suite.yaml:5", "models.m.sede")


def test_unknown_field_in_suite(harness_cli, tmp_path):
    root = tmp_path / "s"
    write_data(root / "heldout.jsonl", toy_pairs(6))
    write_suite_yaml(root, "name: s\ndata:\n  heldout: heldout.jsonl\n  formatt: csv\nlabels: [neg, pos]\n")
    assert_input_error(run(harness_cli, root), "suite.yaml:4", "data.formatt", "unknown field")


def test_unknown_field_in_model_entry(harness_cli, tmp_path):
    """A mapping with a typo is reported as the typo, not as "should be a string"."""
    root = tmp_path / "s"
    write_data(root / "heldout.jsonl", toy_pairs(6))
    write_suite_yaml(root, "data:\n  heldout: heldout.jsonl\nlabels: [neg, pos]\nmodels:\n"
                           "  m:\n    provider: demo\n    opts: {}\n")
    assert_input_error(run(harness_cli, root), "suite.yaml:7", "models.m.opts", "unknown field")


def test_invalid_field_value(harness_cli, tmp_path):
    root = tmp_path / "s"
    write_data(root / "heldout.jsonl", toy_pairs(6))
    write_suite_yaml(root, "data:\n  heldout: heldout.jsonl\n  format: parquet\nlabels: [neg, pos]\n")
    assert_input_error(run(harness_cli, root), "suite.yaml:3", "data.format")


def test_positive_not_a_label(harness_cli, tmp_path):
    root = tmp_path / "s"
    write_data(root / "heldout.jsonl", toy_pairs(6))
    write_suite_yaml(root, "data:\n  heldout: heldout.jsonl\nlabels: [neg, pos]\npositive: yes_\n")
    assert_input_error(run(harness_cli, root), "suite.yaml:4", "positive", "'yes_'")


def test_invalid_yaml(harness_cli, tmp_path):
    root = write_suite_yaml(tmp_path / "s", "name: s\ndata:\n  heldout: [unclosed\nlabels: [neg, pos]\n")
    assert_input_error(run(harness_cli, root), "suite.yaml:4", "invalid YAML")


def test_suite_not_a_mapping(harness_cli, tmp_path):
    root = write_suite_yaml(tmp_path / "s", "- just\n- a list\n")
    assert_input_error(run(harness_cli, root), "suite.yaml:1", "mapping")


def test_no_such_suite(harness_cli, tmp_path):
    assert_input_error(harness_cli("run", tmp_path / "nowhere", "--out", tmp_path / "o"), "nowhere",
                       "baseball-hockey")


# --- model files ---------------------------------------------------------------------------------


def test_pickle_needs_trust(harness_cli, make_suite, tmp_path):
    suite = make_suite()
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps(DummyClassifier().fit([[0], [1]], ["neg", "pos"])))
    line = assert_input_error(run(harness_cli, suite, "--model", f"m=sklearn:{model}", "--only"),
                              "model.pkl", "models.m", "trust_pickle")
    assert "--option m.trust_pickle=true" in line or "--option NAME.trust_pickle=true" in line


def test_missing_model_file(harness_cli, make_suite, tmp_path):
    suite = make_suite()
    assert_input_error(run(harness_cli, suite, "--model", f"m=sklearn:{tmp_path / 'nope.skops'}", "--only"),
                       "nope.skops", "models.m", "not found")


# --- predictions files ---------------------------------------------------------------------------


@pytest.fixture
def id_suite(make_suite):
    return make_suite(toy_pairs(4), ids=["a", "b", "c", "d"])


def _preds(suite: Path, name: str, text: str) -> Path:
    path = suite / name
    path.write_text(text, encoding="utf-8")
    return path


def test_predictions_unknown_id(harness_cli, id_suite):
    p = _preds(id_suite, "p.jsonl", '{"id": "a", "label": "pos"}\n{"id": "zzz", "label": "neg"}\n')
    assert_input_error(run(harness_cli, id_suite, "--model", f"m=predictions:{p}", "--only"),
                       "p.jsonl:2", "id", "'zzz'", "not in the held-out")


def test_predictions_duplicate_id(harness_cli, id_suite):
    p = _preds(id_suite, "p.jsonl", '{"id": "a", "label": "pos"}\n\n{"id": "a", "label": "neg"}\n')
    assert_input_error(run(harness_cli, id_suite, "--model", f"m=predictions:{p}", "--only"),
                       "p.jsonl:3", "id", "'a'")


@pytest.mark.parametrize("probs, field", [('{"neg": "abc", "pos": 0.5}', "probs.neg"),
                                          ('{"neg": -0.1, "pos": 1.1}', "probs.neg"),
                                          ('{"neg": 0.5, "pos": 0.4, "other": 0.1}', "probs.other"),
                                          ('[0.5, 0.5]', "probs")])
def test_predictions_bad_probability(harness_cli, id_suite, probs, field):
    p = _preds(id_suite, "p.jsonl", '{"id": "a", "label": "pos"}\n'
                                    f'{{"id": "b", "probs": {probs}}}\n')
    assert_input_error(run(harness_cli, id_suite, "--model", f"m=predictions:{p}", "--only"),
                       "p.jsonl:2", field)


def test_predictions_bad_probability_csv(harness_cli, id_suite):
    p = _preds(id_suite, "p.csv", "id,label,prob_neg,prob_pos\na,pos,0.1,0.9\nb,neg,high,0.2\n")
    assert_input_error(run(harness_cli, id_suite, "--model", f"m=predictions:{p}", "--only"),
                       "p.csv:3", "prob_neg", "'high'")


def test_predictions_malformed_line(harness_cli, id_suite):
    p = _preds(id_suite, "p.jsonl", '{"id": "a", "label": "pos"}\n{"id": "b", \n')
    assert_input_error(run(harness_cli, id_suite, "--model", f"m=predictions:{p}", "--only"),
                       "p.jsonl:2", "malformed JSON")


def test_predictions_row_without_label_or_probs(harness_cli, id_suite):
    p = _preds(id_suite, "p.jsonl", '{"id": "a"}\n')
    assert_input_error(run(harness_cli, id_suite, "--model", f"m=predictions:{p}", "--only"),
                       "p.jsonl:1", "label")


# --- results files -------------------------------------------------------------------------------


def test_report_on_a_file_that_is_not_results(harness_cli, tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text('{"hello": 1}\n')
    assert_input_error(harness_cli("report", bad), "results.json", "format")
    bad.write_text('{"format": "harness.results",\n "schema_version": 99}\n')
    assert_input_error(harness_cli("report", bad), "results.json", "schema_version")
    bad.write_text('{"format": \n')
    assert_input_error(harness_cli("report", bad), "results.json:", "malformed JSON")


# --- through the real console script -------------------------------------------------------------


def _script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_DEBUG"}
    return subprocess.run([str(HARNESS_SCRIPT), *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_console_script_bad_input_has_no_traceback(make_suite, tmp_path):
    suite = make_suite(models={"m": "demo:base"})
    lines = (suite / "heldout.jsonl").read_text().splitlines()
    lines[6] = "not json at all"
    (suite / "heldout.jsonl").write_text("\n".join(lines) + "\n")
    proc = _script("run", str(suite), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(err) == 1 and "heldout.jsonl:7" in err[0] and "malformed JSON" in err[0]


@pytest.mark.parametrize("args, words", [(["run", "--bogus"], "--bogus"), (["run"], "SUITE"),
                                         (["plugins", "--json", "extra"], "extra")])
def test_command_line_mistake_is_a_usage_error(harness_cli, args, words):
    """An unknown option or a missing argument: exit 2 and a short message, no traceback."""
    res = harness_cli(*args)
    assert res.code == 2, res.err
    assert "Traceback" not in res.err and words.lower() in res.err.lower()
