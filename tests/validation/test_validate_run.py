"""``harness run`` runs the blocking checks first: errors stop it before anything is scored (unless overridden);
warnings are printed, recorded in results.json and shown in the report."""

from __future__ import annotations

import json

from harness_testkit import toy_pairs
from validation_kit import SEP


def _rows(pairs, space=" "):
    return [{"prompt": text + SEP, "completion": space + label} for text, label in pairs]


def _suite(write_suite, held_pairs, train_pairs, **kw):
    return write_suite(_rows(held_pairs), train=_rows(train_pairs), models={"base": "demo:base"}, **kw)


def test_a_run_on_data_with_errors_stops_before_scoring(write_suite, harness_cli, tmp_path):
    train = toy_pairs(80, seed=3)
    held = toy_pairs(40, seed=4)
    held[7] = train[12]  # leaked
    root = _suite(write_suite, held, train)
    res = harness_cli("run", root, "--out", tmp_path / "out")
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert res.code == 2 and len(lines) == 1 and lines[0].startswith("error: ")
    assert "nothing was sent" in lines[0] and "leak" in lines[0] and "--allow-data-errors" in lines[0]
    assert "scored" not in res.out and "data check" not in res.err  # the one line says it all
    assert not (tmp_path / "out" / "results.json").exists()


def test_the_override_runs_and_records_the_errors(write_suite, harness_cli, tmp_path):
    train = toy_pairs(80, seed=3)
    held = toy_pairs(40, seed=4)
    held[7] = train[12]
    root = _suite(write_suite, held, train)
    res = harness_cli("run", root, "--out", tmp_path / "out", "--allow-data-errors")
    assert res.code == 0, res.err
    v = json.loads((tmp_path / "out" / "results.json").read_text())["data_checks"]
    assert v["overridden"] is True and v["ok"] is False
    leak = next(f for f in v["findings"] if f["code"] == "leak")
    assert leak["rows"] == [8] and leak["file"] == "heldout.jsonl"  # relative to the suite: no local paths
    html = (tmp_path / "out" / "report.html").read_text()
    assert "the run was forced" in html and "[leak]" in html


def test_warnings_are_printed_recorded_and_reported(write_suite, harness_cli, tmp_path):
    held = _rows(toy_pairs(40, seed=4))
    held[2]["completion"] = held[2]["completion"].strip()
    root = write_suite(held, train=_rows(toy_pairs(80, seed=3)), models={"base": "demo:base"})
    # printed whatever the progress display: with it off (as under pytest), and with --quiet, which leaves stderr
    # to warnings and errors (README, "Output streams"); never on stdout, which carries the tables
    for flags in ((), ("--quiet",), ("--progress", "off")):
        plain = harness_cli("run", root, "--out", tmp_path / "plain", "--no-report", *flags)
        assert plain.code == 0, plain.err
        assert "data check: warning  completion-whitespace" in plain.err and "data check" not in plain.out, flags
    quiet = harness_cli("run", root, "--out", tmp_path / "plain", "--no-report", "--quiet")
    assert [line for line in quiet.err.splitlines() if line.strip() and "data check" not in line] == []
    res = harness_cli("run", root, "--out", tmp_path / "out", "--verbose")  # printed with the status lines
    assert res.code == 0, res.err
    assert "data check: warning  completion-whitespace" in res.err
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    v = results["data_checks"]
    assert v["ok"] is True and v["overridden"] is False and v["settings"]["mde"] == 0.02
    f = next(f for f in v["findings"] if f["code"] == "completion-whitespace")
    assert f["severity"] == "warning" and f["rows"] == [3]
    assert all(f["severity"] in ("error", "warning") for f in v["findings"])
    assert "completion-whitespace" in (tmp_path / "out" / "report.html").read_text()


def test_plan_reads_what_a_run_can_detect(write_suite, harness_cli, tmp_path):
    root = write_suite(_rows(toy_pairs(60, seed=4)), train=_rows(toy_pairs(120, seed=3)),
                       models={"base": "demo:base", "ft": "demo:finetuned"}, validate={"mde": 0.3})
    assert harness_cli("run", root, "--out", tmp_path / "out", "--no-report").code == 0
    res = harness_cli("plan", tmp_path / "out" / "results.json", "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["mde"] == 0.3  # the suite's validate.mde, recorded in the results
    [pair] = doc["pairs"]
    assert pair["n"] == 60 and {pair["a"], pair["b"]} == {"base", "ft"}
    from harness.stats.samplesize import paired_mde

    assert pair["mde_now"] == paired_mde(60, max(pair["discordance"], 1 / 60))


def test_plan_repeats_the_runs_mde_column_at_the_runs_level(write_suite, harness_cli, tmp_path):
    root = write_suite(_rows(toy_pairs(60, seed=4)), train=_rows(toy_pairs(120, seed=3)),
                       models={"base": "demo:base", "ft": "demo:finetuned", "twin": "demo:finetuned"},
                       comparisons=[["twin", "ft"]])
    assert harness_cli("run", root, "--out", tmp_path / "out", "--no-report").code == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    comp = results["comparisons"]
    assert comp["mde"]["alpha"] == 0.05 / 3
    res = harness_cli("plan", tmp_path / "out", "--json")
    doc = json.loads(res.out)
    assert res.code == 0 and doc["alpha"] == comp["mde"]["alpha"] and "alpha / 3" in doc["alpha_rule"]
    for mine, runs in zip(doc["pairs"], comp["pairs"]):
        assert (mine["a"], mine["b"]) == (runs["a"], runs["b"])
        assert mine["mde_now"] == runs["mde_accuracy"]  # the same computation: equal, not merely close
    twin = doc["pairs"][-1]
    assert twin["discordant"] == 0 and twin["mde_now"] is None
    text = harness_cli("plan", tmp_path / "out").out
    assert "twin vs ft: 60 examples, disagreeing on 0 (0.0%); detects no difference at this power" in text
    assert "no difference or more" not in text
    assert json.loads(harness_cli("plan", tmp_path / "out", "--json", "--alpha", "0.05").out)["alpha"] == 0.05


def test_validate_names_a_training_file_the_demo_models_cannot_read(tmp_path, harness_cli):
    # a CSV held-out file with a template using another column, and an openai-jsonl training file: the demo
    # models train on the training split, which the run reads through the template too ('extra' is undefined
    # there). validate said "harness run will proceed" and the run then failed; now both stop with the reason.
    root = tmp_path / "suite"
    root.mkdir()
    held = [(f"rink puck ice goalie {i}", "hockey") if i % 2 else (f"strikeout bullpen inning {i}", "baseball")
            for i in range(40)]
    (root / "heldout.csv").write_text("text,label,extra\n" + "".join(f"{t},{lab},{i}\n" for i, (t, lab) in
                                                                   enumerate(held)), encoding="utf-8")
    (root / "train.jsonl").write_text("".join(json.dumps({"prompt": f"Post: {t} #{i}{SEP}", "completion": " " + lab})
                                              + "\n" for i, (t, lab) in enumerate(held)), encoding="utf-8")
    (root / "suite.yaml").write_text(
        "name: tpl\ndata: {heldout: heldout.csv, train: train.jsonl}\nlabels: [baseball, hockey]\n"
        "prompt:\n  template: 'Post: {{ text }} #{{ extra }}'\nmodels:\n  m: demo:finetuned\n", encoding="utf-8")
    res = harness_cli("validate", root)
    assert res.code == 2
    assert "the prompt template fails on train.jsonl:1: 'extra' is undefined" in res.out
    res = harness_cli("run", root, "--out", tmp_path / "out", "--no-report")
    assert res.code == 2 and "'extra' is undefined" in res.err
