"""Issue 10, items 1-8 and 17: one test (or a few) per item, each failing on the code before the fix.

The corpus (test_inputs_corpus.py) checks that every broken input is one clean error; these check the
behaviour around each fix: what still works, what the user sees, what is (not) written or sent."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import yaml
from corpus import SUITE_YAML, _bomb, _fitted, _skops, jsonl_rows, make_suite, run, write

from harness.suite import load_suite


def one_error(res, *fragments: str) -> str:
    """The error, one line (the data checks' warnings, printed before anything is scored, are not the error)."""
    assert res.code == 2, (res.code, res.err)
    lines = [line for line in res.err.splitlines() if line.strip() and not line.lstrip().startswith("data check:")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in res.err, res.err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def results_of(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


# --- 1. YAML alias bomb --------------------------------------------------------------------------------------

def test_the_alias_bomb_of_the_issue_is_refused_before_anything_is_written(harness_cli, fake, tmp_path):
    bomb = _bomb(levels=7, width=9)  # 9**7 = 4.8 million strings once expanded
    assert len(bomb.encode()) < 600
    suite = make_suite(tmp_path, SUITE_YAML + bomb)
    one_error(harness_cli(*run(tmp_path, suite)), "suite.yaml:", "metric_options.", "aliases expand to more than")
    assert not (tmp_path / "out").exists() and fake.requests == []


def test_aliases_and_merge_keys_within_the_bound_still_work(tmp_path):
    text = SUITE_YAML.replace("models:\n  api: openai:gpt-4o-mini\n", (
        "models:\n"
        "  api: {provider: openai, argument: gpt-4o-mini, options: &opts {max_attempts: 3}}\n"
        "  api2: {provider: openai, argument: gpt-4o, options: *opts}\n"
        "pricing:\n"
        "  gpt-4o-mini: &price {input: 1.0, output: 2.0}\n"
        "  gpt-4o: {<<: *price, output: 4.0}\n"))
    suite = load_suite(make_suite(tmp_path, text))
    assert [dict(m.options) for m in suite.models] == [{"max_attempts": 3}, {"max_attempts": 3}]
    assert suite.pricing == {"gpt-4o-mini": {"input": 1.0, "output": 2.0}, "gpt-4o": {"input": 1.0, "output": 4.0}}


@pytest.mark.parametrize("text, problem", [
    ("a: &x [1, *x]\n", "recursive"),
    ("a: " + "[" * 100 + "]" * 100 + "\n", "nesting deeper"),
    ("a: &a [" + ", ".join(["x"] * 200) + "]\nb: [" + ", ".join(["*a"] * 60) + "]\n", "aliases expand"),
])
def test_the_loader_refuses_recursive_deep_and_expanding_documents(text, problem):
    from harness import yamlload

    with pytest.raises(yaml.YAMLError) as info:
        yamlload.load(text)
    assert problem in yamlload.describe_error(info.value)[0]


# --- 2. duplicate keys -------------------------------------------------------------------------------------

def test_a_duplicate_positive_class_names_both_lines(harness_cli, fake, tmp_path):
    """positive: pos, later positive: neg — the metrics of the wrong class, silently, before the fix."""
    suite = make_suite(tmp_path, SUITE_YAML + "description: x\npositive: neg\n")
    one_error(harness_cli(*run(tmp_path, suite)), "suite.yaml:11", "positive", "first on line 6", "again on line 11")
    assert not (tmp_path / "out").exists()


def test_duplicate_keys_compare_as_values_and_merges_may_be_overridden():
    from harness import yamlload

    with pytest.raises(yamlload.DuplicateKeyError) as info:
        yamlload.load("m:\n  opts: {seed: 1, x: 2}\n  seed: 3\n  opts: {}\n")
    assert yamlload.describe_error(info.value) == ("duplicate key 'opts' (first on line 2, again on line 4)", 4,
                                                   "m.opts")
    with pytest.raises(yamlload.DuplicateKeyError):
        yamlload.load("{1: a, 0x1: b}")
    assert yamlload.load("base: &b {x: 1, y: 2}\nm: {<<: *b, x: 3}\n")["m"] == {"x": 3, "y": 2}


# --- 3. a byte-order mark (Excel's "CSV UTF-8") ------------------------------------------------------------

@pytest.mark.parametrize("fmt, name", [("csv", "heldout.csv"), ("tsv", "heldout.tsv"), ("openai-jsonl", "h.jsonl")])
def test_a_byte_order_mark_keeps_the_id_column(harness_cli, tmp_path, fmt, name):
    sep = {"csv": ",", "tsv": "\t"}.get(fmt)
    rows = [("a", "awful slow", "neg"), ("b", "great fast", "pos"), ("c", "rude late", "neg")]
    if sep:
        body = f"id{sep}text{sep}label\n" + "".join(f"{i}{sep}{t}{sep}{lab}\n" for i, t, lab in rows)
    else:
        body = jsonl_rows(rows)
    text = SUITE_YAML.replace("heldout: heldout.jsonl\n  format: openai-jsonl", f"heldout: {name}\n  format: {fmt}")
    suite = make_suite(tmp_path, text, b"\xef\xbb\xbf" + body.encode(), name)
    preds = write(tmp_path / "p.csv", "\ufeffid,label,prob_neg,prob_pos\na,neg,0.8,0.2\nb,pos,0.3,0.7\nc,pos,0.6,0.4\n")
    res = harness_cli(*run(tmp_path, suite, "--only", "--model", f"p=predictions:{preds}", "--no-report"))
    assert res.code == 0, res.err
    out = results_of(tmp_path / "out")
    assert out["models"][0]["counts"] == {"n": 3, "ok": 3, "invalid": 0, "failed": 0, "flagged": 0}
    assert out["models"][0]["metrics"]["accuracy"]["value"] == pytest.approx(2 / 3)
    ids = [json.loads(line)["id"] for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert ids == ["a", "b", "c"]


# --- 4. bytes that are not UTF-8 ---------------------------------------------------------------------------

def test_invalid_utf8_in_a_predictions_file_stops_before_anything_is_written_or_sent(harness_cli, fake, tmp_path):
    """Before the fix: exit 3, "internal error in provider: UnicodeDecodeError", partial results written."""
    preds = write(tmp_path / "p.jsonl", b'{"id": "a", "label": "neg"}\n{"id": "b", "label": "p\xf6s"}\n')
    res = harness_cli(*run(tmp_path, make_suite(tmp_path), "--model", f"p=predictions:{preds}"))
    one_error(res, "p.jsonl:2", "label", "not valid UTF-8", "column 24")
    assert not (tmp_path / "out").exists() and fake.requests == []


def test_invalid_utf8_in_heldout_data_and_results_names_file_line_and_column(harness_cli, tmp_path):
    rows = jsonl_rows().encode().splitlines(keepends=True)
    rows[4] = rows[4].replace(b"cold", b"c\xc3ld")
    suite = make_suite(tmp_path, heldout=b"".join(rows))
    one_error(harness_cli(*run(tmp_path, suite)), "heldout.jsonl:5", "prompt", "byte 0xc3 at column 25")
    write(tmp_path / "r" / "results.json", b'{"format": "harness.results",\n "schema_version": 1, "x": "\xff"}\n')
    one_error(harness_cli("report", tmp_path / "r"), "results.json:2", "x", "UTF-8")


# --- 5. harness report validates what it reads --------------------------------------------------------------

@pytest.fixture
def finished_run(harness_cli, fake, tmp_path) -> Path:
    res = harness_cli(*run(tmp_path, make_suite(tmp_path), "--no-report"))
    assert res.code == 0, res.err
    return tmp_path / "out"


def test_report_on_odd_prediction_rows_and_deep_json(harness_cli, finished_run):
    preds = finished_run / "predictions.jsonl"
    rows = preds.read_text(encoding="utf-8").splitlines()
    row = json.loads(rows[2])
    row["probs"] = {"neg": "x", "pos": None}
    preds.write_text("\n".join([*rows[:2], json.dumps(row), *rows[3:]]) + "\n", encoding="utf-8")
    one_error(harness_cli("report", finished_run), "predictions.jsonl:3", "probs.neg", "'x'")
    preds.write_text("\n".join(rows) + "\n" + "[" * 50000 + "]" * 50000 + "\n", encoding="utf-8")
    one_error(harness_cli("report", finished_run), f"predictions.jsonl:{len(rows) + 1}", "nested too deeply")
    results = finished_run / "results.json"
    results.write_text(results.read_text()[:-2] + ', "deep": ' + "{\"a\": " * 50000 + "1" + "}" * 50000 + "}\n")
    one_error(harness_cli("report", finished_run), "results.json:", "nested too deeply")
    assert not (finished_run / "report.html").exists()


def test_report_names_the_line_of_a_bad_value_in_results(harness_cli, finished_run):
    results = finished_run / "results.json"
    text = results.read_text(encoding="utf-8")
    doc = json.loads(text)
    doc["models"][0]["counts"]["failed"] = "none"
    results.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    line = next(i for i, t in enumerate(results.read_text().splitlines(), 1) if '"failed": "none"' in t)
    one_error(harness_cli("report", finished_run), f"results.json:{line}", "models.0.counts.failed")
    one_error(harness_cli("export", finished_run, "--out", finished_run / "tables"), f"results.json:{line}")
    assert not (finished_run / "tables").exists()


def test_a_report_still_renders_without_its_predictions_file(harness_cli, finished_run):
    (finished_run / "predictions.jsonl").unlink()
    res = harness_cli("report", finished_run)
    assert res.code == 0, res.err
    assert "Predictions could not be read" in (finished_run / "report.html").read_text(encoding="utf-8")


# --- 6. data paths stay in the suite folder -----------------------------------------------------------------

def test_a_data_path_out_of_the_suite_is_refused_without_echoing_the_file(harness_cli, tmp_path):
    write(tmp_path / "private.csv", "secret-first-line,with,columns\n1,2,3\n")
    text = SUITE_YAML.replace("heldout: heldout.jsonl\n  format: openai-jsonl",
                              "heldout: ../private.csv\n  format: csv")
    err = one_error(harness_cli(*run(tmp_path, make_suite(tmp_path, text))), "suite.yaml:3", "data.heldout",
                    "outside the suite folder", "--allow-external-data")
    assert "secret" not in err.replace("../private.csv", "")


def test_allow_external_data_reads_data_from_elsewhere(harness_cli, fake, tmp_path):
    write(tmp_path / "shared" / "heldout.jsonl", jsonl_rows())
    text = SUITE_YAML.replace("heldout: heldout.jsonl", "heldout: ../shared/heldout.jsonl")
    suite = make_suite(tmp_path, text)
    res = harness_cli(*run(tmp_path, suite, "--allow-external-data", "--no-report"))
    assert res.code == 0, res.err
    assert results_of(tmp_path / "out")["suite"]["dataset"]["path"] == "../shared/heldout.jsonl"


# --- 7. a model path in suite.yaml is relative to the suite --------------------------------------------------

def test_a_model_file_in_the_current_folder_never_replaces_the_suites(harness_cli, tmp_path, monkeypatch):
    suite = make_suite(tmp_path, SUITE_YAML.replace("  api: openai:gpt-4o-mini\n", "  m: sklearn:models/m.skops\n"))
    _skops(suite / "models" / "m.skops", _fitted(("neg", "pos")))
    here = tmp_path / "elsewhere"
    _skops(here / "models" / "m.skops", _fitted(("pos", "neg")))  # the same file name, the opposite model
    monkeypatch.chdir(here)
    assert harness_cli(*run(tmp_path, suite, "--no-report")).code == 0
    from_suite = results_of(tmp_path / "out")["models"][0]["metrics"]["accuracy"]["value"]
    # on the command line, a path is relative to the current folder: this is the other model
    res = harness_cli(*run(tmp_path, suite, "--only", "--model", "m=sklearn:models/m.skops", "--no-report"))
    assert res.code == 0, res.err
    from_here = results_of(tmp_path / "out")["models"][0]["metrics"]["accuracy"]["value"]
    monkeypatch.chdir(tmp_path)
    assert harness_cli(*run(tmp_path, suite, "--no-report")).code == 0
    assert results_of(tmp_path / "out")["models"][0]["metrics"]["accuracy"]["value"] == from_suite
    assert from_here < 0.5 < from_suite  # really the other model


# --- 8. the output folder -----------------------------------------------------------------------------------

def test_an_unwritable_output_folder_is_refused_before_any_request(harness_cli, fake, tmp_path, monkeypatch):
    import harness.output.results as results_module

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(results_module.tempfile, "mkdtemp", read_only)
    one_error(harness_cli(*run(tmp_path, make_suite(tmp_path))), "out", "--out", "Read-only file system")
    assert fake.requests == [] and not (tmp_path / "response-cache").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_folder_without_write_permission_is_refused(harness_cli, fake, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        one_error(harness_cli("run", make_suite(tmp_path), "--out", locked / "out"), "--out", "Permission denied")
    finally:
        locked.chmod(0o755)
    assert fake.requests == []


def test_a_full_disk_is_an_environment_error_and_the_rerun_sends_nothing(harness_cli, fake, tmp_path, monkeypatch):
    import harness.output.results as results_module

    real_fdopen = results_module.os.fdopen

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results_module.os, "fdopen", lambda fd, *a, **k: Full(real_fdopen(fd, *a, **k)))
    line = one_error(harness_cli(*run(tmp_path, make_suite(tmp_path))), "predictions.jsonl", "No space left",
                     "disk is full", "run the same command again")
    assert "internal error" not in line
    sent = len(fake.calls("/chat/completions"))  # besides, a free tokenizer probe each run
    assert sent == 6 and [p.name for p in (tmp_path / "out").iterdir()] == []  # no half-written file left
    monkeypatch.setattr(results_module.os, "fdopen", real_fdopen)
    res = harness_cli(*run(tmp_path, make_suite(tmp_path), "--no-report"))
    assert res.code == 0, res.err
    assert len(fake.calls("/chat/completions")) == sent  # every response came from the cache


# --- 17. a report meant for sharing carries no folder of this machine --------------------------------------

def test_report_and_results_hold_no_absolute_paths_and_no_cache_location(harness_cli, fake, tmp_path):
    suite = make_suite(tmp_path)
    preds = write(suite / "preds" / "p.jsonl", '{"id": "a", "label": "neg"}\n{"id": "b", "label": "pos"}\n')
    res = harness_cli(*run(tmp_path, suite.absolute(), "--model", f"p=predictions:{preds.absolute()}",
                          "--max-failed", "100%"))
    assert res.code == 0, res.err
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert str(tmp_path) not in html and "response-cache" not in html
    assert "heldout.jsonl" in html and "p.jsonl" in html  # still says which files, relative to the suite
    results = results_of(tmp_path / "out")
    assert results["suite"]["dataset"]["path"] == "heldout.jsonl"
    assert str(tmp_path) not in json.dumps(results["models"][1]["failures"])


def test_validate_refuses_a_validation_split_out_of_the_suite_without_reading_it(harness_cli, tmp_path):
    """Finding 4: `data.validation` is confined like heldout/train, in `harness validate` too."""
    write(tmp_path / "private.csv", "secret-first-line,with,columns\n1,2,3\n")
    text = SUITE_YAML.replace("  format: openai-jsonl\n", "  format: openai-jsonl\n  validation: ../private.csv\n")
    suite = make_suite(tmp_path, text)
    err = one_error(harness_cli("validate", suite), "suite.yaml:5", "data.validation", "outside the suite folder")
    assert "secret" not in err
    res = harness_cli("validate", suite, "--allow-external-data")
    assert "outside the suite folder" not in res.err + res.out


@pytest.mark.parametrize("template", ['{% include "heldout.jsonl" %}', "{% for i in range(100000000) %}x{% endfor %}",
                                      '{{ "x" * 100000000 }}', "{{ txet }}"])
def test_validate_reports_a_bad_template_as_an_error_finding_not_a_crash(harness_cli, tmp_path, template):
    """Finding 5: `harness validate` names prompt.template and exits 2 (no internal error, no hang)."""
    suite = make_suite(tmp_path, SUITE_YAML + f"prompt:\n  template: {json.dumps(template)}\n")
    res = harness_cli("validate", suite)
    assert res.code == 2, res.err
    assert "Traceback" not in res.err and "internal error" not in res.err
    assert "prompt.template" in res.out


def test_a_csv_field_over_the_csv_modules_default_limit_is_read(harness_cli, tmp_path):
    """Finding 15: a 200,000-character document is data, not "malformed CSV" (the csv module's 131,072 limit)."""
    text = SUITE_YAML.replace("heldout: heldout.jsonl\n  format: openai-jsonl", "heldout: heldout.csv\n  format: csv")
    suite = make_suite(tmp_path, text, "id,text,label\na," + "long " * 40_000 + ",neg\nb,great,pos\n", "heldout.csv")
    preds = write(tmp_path / "p.jsonl", '{"id": "a", "label": "neg"}\n{"id": "b", "label": "pos"}\n')
    res = harness_cli(*run(tmp_path, suite, "--no-report", "--only", "--model", f"p=predictions:{preds}"))
    assert res.code == 0, res.err
    assert results_of(tmp_path / "out")["models"][0]["counts"]["ok"] == 2


@pytest.mark.parametrize(("name", "content", "gist"), [
    ("heldout.csv", "id,text,label,label\na,awful,neg,pos\n", "duplicate column 'label'"),
    ("heldout.jsonl", '{"id": "a", "prompt": "x", "completion": " neg", "completion": " pos"}\n',
     "duplicate key 'completion'")])
def test_validate_reports_duplicate_names_as_errors(harness_cli, tmp_path, name, content, gist):
    """Finding 8: `harness validate` flags a duplicated CSV column / JSON key (exit 2) instead of reading one."""
    fmt = "csv" if name.endswith(".csv") else "openai-jsonl"
    text = SUITE_YAML.replace("heldout: heldout.jsonl\n  format: openai-jsonl", f"heldout: {name}\n  format: {fmt}")
    res = harness_cli("validate", make_suite(tmp_path, text, content, name))
    assert res.code == 2
    assert gist in res.out
