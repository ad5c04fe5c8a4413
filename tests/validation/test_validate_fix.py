"""``harness validate --fix OUT``: a corrected copy that re-validates clean, the input untouched."""

from __future__ import annotations

import hashlib
import json

import pytest
from validation_kit import SEP, completion_rows, planted_suite

from harness.validation import validate

FIXED = {"separator-missing", "completion-whitespace", "leak", "leak-normalised", "duplicate", "duplicate-normalised",
         "bom", "crlf", "stop-sequence"}


def _digest(root):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir()) if p.is_file()}


def test_fix_writes_a_suite_that_revalidates_clean_and_leaves_the_input_alone(write_suite, harness_cli, tmp_path):
    root = planted_suite(write_suite)
    before = _digest(root)
    res = harness_cli("validate", root, "--fix", tmp_path / "fixed")
    assert res.code == 0, res.out + res.err  # the exit code is the corrected copy's: no errors left
    assert _digest(root) == before
    assert "added the separator" in res.out and "lines 3, 17" in res.out
    assert "removed 2 row(s) leaked from the training file: lines 8, 12" in res.out
    again = validate(tmp_path / "fixed")
    assert again.ok and not FIXED & set(again.codes())
    assert again.get("conflicting-labels") is not None  # not a mechanical fix: which label is right?
    rows = [json.loads(line) for line in (tmp_path / "fixed" / "heldout.jsonl").read_text().splitlines()]
    assert len(rows) == 40 - 4  # leak, leak-normalised, duplicate, duplicate-normalised
    assert all(r["prompt"].endswith(SEP) and r["completion"].startswith(" ") for r in rows)
    assert (tmp_path / "fixed" / "train.jsonl").read_bytes() == (root / "train.jsonl").read_bytes()


def test_unchanged_rows_keep_their_bytes(write_suite, tmp_path):
    held = [json.dumps(r, separators=(",", ":")) for r in completion_rows(20, "held")]
    held[5] = json.dumps({"prompt": "no sep", "completion": " pos"})
    root = write_suite(held)
    from harness.validation import check_suite
    from harness.validation.fix import fix_suite

    fix_suite(check_suite(root), tmp_path / "out")
    out = (tmp_path / "out" / "heldout.jsonl").read_text().splitlines()
    assert out[:5] == held[:5] and out[6:] == held[6:]
    assert json.loads(out[5]) == {"prompt": "no sep" + SEP, "completion": " pos"}


def test_a_partial_separator_is_completed_not_doubled(write_suite, tmp_path, harness_cli):
    held = completion_rows(20, "held")
    held[2]["prompt"] = "cut short\n\n###"
    held[3]["prompt"] = "spaced wrong\n###\n"
    root = write_suite(held)
    assert harness_cli("validate", root, "--fix", tmp_path / "out").code == 0
    rows = [json.loads(line) for line in (tmp_path / "out" / "heldout.jsonl").read_text().splitlines()]
    assert rows[2]["prompt"] == "cut short" + SEP and rows[3]["prompt"] == "spaced wrong" + SEP


def test_bom_and_crlf_are_converted_to_a_plain_file(write_suite, tmp_path, harness_cli):
    raw = b"\xef\xbb\xbf" + "".join(json.dumps(r) + "\r\n" for r in completion_rows(20, "held")).encode()
    root = write_suite([], raw_heldout=raw)
    res = harness_cli("validate", root, "--fix", tmp_path / "out.jsonl")
    assert "dropped the UTF-8 byte-order mark" in res.out and "CRLF" in res.out
    data = (tmp_path / "out.jsonl").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and data.count(b"\n") == 20
    assert (root / "heldout.jsonl").read_bytes() == raw


def test_csv_duplicates_and_leaks_are_removed(write_suite, tmp_path):
    train = [{"prompt": f"train text {i}{SEP}", "completion": " pos"} for i in range(10)]
    csv = ["text,label\n", "first,neg\n", '"multi\nline",pos\n', "Train Text 3,pos\n", "first,neg\n", "last,pos\n"]
    root = write_suite(csv, train=train, heldout_name="heldout.csv")
    from harness.validation import check_suite
    from harness.validation.fix import fix_suite

    report = fix_suite(check_suite(root), tmp_path / "out")
    assert report.removed == [5, 6]  # the leaked row (line 5) and the duplicate of line 2 (line 6)
    assert (tmp_path / "out" / "heldout.csv").read_text() == 'text,label\nfirst,neg\n"multi\nline",pos\nlast,pos\n'


@pytest.mark.parametrize("target", ["existing", "inside", "input-file", "suite-file"])
def test_fix_never_overwrites_the_input(write_suite, tmp_path, harness_cli, target):
    root = write_suite(completion_rows(20, "held"))
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "keep.txt").write_text("mine")
    out = {"existing": tmp_path / "existing", "inside": root / "fixed", "input-file": root / "heldout.jsonl",
           "suite-file": root / "suite.yaml"}[target]
    before = _digest(root)
    res = harness_cli("validate", root, "--fix", out)
    assert res.code == 2 and res.err.startswith("error: --fix") and "Traceback" not in res.err
    assert _digest(root) == before and (tmp_path / "existing" / "keep.txt").read_text() == "mine"


def test_json_output_of_a_fix(write_suite, tmp_path, harness_cli):
    held = completion_rows(20, "held")
    held[0]["prompt"] = "x"
    res = harness_cli("validate", write_suite(held), "--fix", tmp_path / "o", "--json")
    doc = json.loads(res.out)
    assert doc["summary"]["error"] == 1 and doc["fix"]["edited"] == [1] and doc["fix"]["revalidated"]["error"] == 0


def test_same_input_other_label_without_ids_is_an_error_before_the_fix_and_named_as_not_fixable(
        write_suite, tmp_path, harness_cli):
    """Acceptance finding 12: a file without ids holding an exact duplicate and the same input with another label.
    The run derives ids from the input, so it cannot read the second; validate says so before --fix (not only the
    first reader error), --fix says it cannot correct it, and the copy's re-validation agrees."""
    held = completion_rows(30, "held")
    held[3]["prompt"] = "no separator here"
    held[10] = dict(held[9])  # an exact duplicate: --fix removes it
    held[12] = {"prompt": held[9]["prompt"], "completion": " pos" if held[9]["completion"] == " neg" else " neg"}
    root = write_suite(held)
    before = harness_cli("validate", root)
    assert before.code == 2
    assert "duplicate-id" in before.out and "rows 13" in before.out
    assert "not the error(s) duplicate-id" in before.out

    res = harness_cli("validate", root, "--fix", tmp_path / "fixed")
    assert res.code == 2  # the copy still has an error: said, not claimed fixed
    assert "not corrected (--fix cannot): duplicate-id (rows 13)" in res.out
    assert "still: error duplicate-id" in res.out and "to correct by hand" in res.out
    again = validate(tmp_path / "fixed")
    assert [f.code for f in again.errors] == ["duplicate-id"]

    as_json = json.loads(harness_cli("validate", root, "--fix", tmp_path / "fixed2", "--json").out)
    assert [f["code"] for f in as_json["fix"]["not_fixed"] if f["severity"] == "error"] == ["duplicate-id"]


def test_whatever_fix_corrects_the_run_can_then_read(write_suite, tmp_path, harness_cli):
    """The property behind finding 12: when --fix says the copy is clean, the run's own reader accepts it."""
    held = completion_rows(30, "held")
    for i in (2, 5, 7):
        held[i]["prompt"] = held[i]["prompt"].removesuffix(SEP)
    held[8]["completion"] = held[8]["completion"].lstrip()
    held[20] = dict(held[19])
    root = write_suite(held)
    res = harness_cli("validate", root, "--fix", tmp_path / "fixed")
    assert res.code == 0, res.out
    assert "clean: no errors" in res.out
    from harness.suite import load_suite
    from harness.suite.datasets import load_dataset

    assert len(load_dataset(load_suite(tmp_path / "fixed"), "heldout")) == 29


def test_every_error_of_the_runs_reader_is_found_not_only_the_first(write_suite, monkeypatch):
    """Finding 12: the run's reader stops at its first error; validate asks it again on the rows no finding names,
    so an error only the reader sees is reported even when others were found (the safety net)."""
    import harness.validation.duplicates as duplicates

    monkeypatch.setattr(duplicates, "same_content_other_label", lambda held: ([], {}))  # a check that misses it
    held = completion_rows(30, "held")
    held[10] = dict(held[9])  # an exact duplicate (found by the lenient reading)
    held[12] = {"prompt": held[9]["prompt"], "completion": " pos" if held[9]["completion"] == " neg" else " neg"}
    held[20] = dict(held[19])  # another exact duplicate
    v = validate(write_suite(held))
    unreadable = v.get("unreadable")
    assert unreadable is not None and unreadable.rows == (13,), [f.to_json() for f in v.findings]
    assert v.get("duplicate").rows == (11, 21)
