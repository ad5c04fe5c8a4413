"""Broken inputs: each is a finding with its rows, or a clean exit 2 — never a crash."""

from __future__ import annotations

import json

import pytest
from validation_kit import SEP, completion_rows

from harness.errors import InputError
from harness.validation import validate

GOOD = [json.dumps(r) for r in completion_rows(25, "held")]


def _lines(*replace: tuple[int, str]) -> bytes:
    rows = list(GOOD)
    for line, text in replace:
        rows[line - 1] = text
    return ("\n".join(rows) + "\n").encode("utf-8")


BROKEN = {
    "malformed-json": (_lines((5, '{"prompt": "x'),), "malformed-json", [5]),
    "not-an-object": (_lines((6, '["a", "b"]'),), "malformed-json", [6]),
    "missing-field": (_lines((2, json.dumps({"prompt": "x" + SEP})),), "missing-field", [2]),
    "prompt-not-text": (_lines((7, json.dumps({"prompt": 3, "completion": " pos"})),), "bad-field", [7]),
    "completion-not-text": (_lines((8, json.dumps({"prompt": "p" + SEP, "completion": None})),), "bad-field", [8]),
    "unknown-label": (_lines((4, json.dumps({"prompt": "p" + SEP, "completion": " POS"})),), "unknown-label", [4]),
    "not-utf8": (_lines((3, "")).replace(b"\n\n", b'\n{"prompt": "caf\xe9", "completion": " pos"}\n', 1),
                 "not-utf8", [3]),
    "duplicate-id": (("\n".join(json.dumps(dict(json.loads(r), id="a" if i in (1, 9) else f"x{i}"))
                                for i, r in enumerate(GOOD)) + "\n").encode(), "duplicate-id", [10]),
    "missing-id": (("\n".join(json.dumps(dict(json.loads(r), id="" if i == 4 else f"x{i}"))
                              for i, r in enumerate(GOOD)) + "\n").encode(), "missing-id", [5]),
    "empty": (b"", "no-examples", []),
    "blank-lines-only": (b"\n\n  \n", "no-examples", []),
    "binary": (bytes(range(256)) * 4, None, None),
    "deep-nesting": (_lines((9, "[" * 100_000 + "]" * 100_000),), "malformed-json", [9]),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_held_out_file_is_a_finding(write_suite, harness_cli, name):
    raw, code, rows = BROKEN[name]
    root = write_suite([], raw_heldout=raw)
    v = validate(root)
    assert not v.ok
    if code is not None:
        f = v.get(code)
        assert f is not None and f.severity == "error", v.codes()
        assert list(f.rows) == rows
    res = harness_cli("validate", root, "--json")
    assert res.code == 2 and "Traceback" not in res.err and "internal error" not in res.err
    assert json.loads(res.out)["ok"] is False


def test_the_hint_for_a_label_that_differs_only_in_case(write_suite):
    root = write_suite([], raw_heldout=_lines((4, json.dumps({"prompt": "p" + SEP, "completion": " POS"}))))
    assert "but for case" in validate(root).get("unknown-label").message


def test_bom_and_crlf_are_reported_and_fixable(write_suite):
    raw = b"\xef\xbb\xbf" + _lines().replace(b"\n", b"\r\n")
    v = validate(write_suite([], raw_heldout=raw))
    assert v.get("bom").fixable and v.get("bom").rows == (1,)
    assert v.get("crlf").count == 25 and v.get("crlf").fixable


def test_a_missing_or_unreadable_held_out_file(write_suite, harness_cli, tmp_path):
    root = write_suite(completion_rows(5, "x"))
    (root / "heldout.jsonl").unlink()
    v = validate(root)
    assert v.get("file-not-found").severity == "error"
    (root / "heldout.jsonl").mkdir()
    assert validate(root).get("unreadable").severity == "error"
    res = harness_cli("validate", root)
    assert res.code == 2 and "Traceback" not in res.err


def test_a_broken_training_file_is_a_warning_and_the_held_out_checks_go_on(write_suite):
    train = [json.dumps(r) for r in completion_rows(20, "train")]
    train[3] = "{oops"
    held = completion_rows(20, "held")
    held[2] = {"prompt": "no separator", "completion": " pos"}
    v = validate(write_suite(held, train=train))
    assert v.get("malformed-json").severity == "warning" and list(v.get("malformed-json").rows) == [4]
    assert list(v.get("separator-missing").rows) == [3]


@pytest.mark.parametrize("header, rows, code, lines", [
    ("words,label\n", ["hi,pos\n"] * 3, "missing-field", [1]),
    ("text,label\n", ["a,pos\n", "b,pos,extra\n", "c,neg\n"], "bad-row", [3]),
    ("text,label\n", ["a,pos\n", '"multi\nline",nope\n', "c,neg\n"], "unknown-label", [3]),
])
def test_broken_csv(write_suite, header, rows, code, lines):
    root = write_suite([header, *rows], heldout_name="heldout.csv")
    f = validate(root).get(code)
    assert f is not None and f.severity == "error" and list(f.rows) == lines


@pytest.mark.parametrize("row, code", [
    ({"messages": []}, "bad-field"),
    ({"messages": [{"role": "user", "content": "hi"}]}, "bad-field"),
    ({"messages": [{"role": "user", "content": 1}, {"role": "assistant", "content": "pos"}]}, "bad-field"),
    ({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "maybe"}]}, "unknown-label"),
])
def test_broken_chat_rows(write_suite, row, code):
    good = [{"messages": [{"role": "user", "content": f"m {i}"}, {"role": "assistant", "content": "pos"}]}
            for i in range(5)]
    root = write_suite([*good[:2], row, *good[2:]], data={"format": "chat-jsonl"})
    f = validate(root).get(code)
    assert f is not None and list(f.rows) == [3]


@pytest.mark.parametrize("text", ["data: [unclosed", "labels: [a, b]\n", "- a list\n", "data: {heldout: h.jsonl}\n"
                                  "labels: [a, b]\nvalidate: {mde: 2}\n"])
def test_a_broken_suite_file_is_one_line_and_exit_2(tmp_path, harness_cli, text):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "suite.yaml").write_text(text, encoding="utf-8")
    res = harness_cli("validate", tmp_path / "s")
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert res.code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "suite.yaml" in lines[0]


def test_a_data_path_with_a_nul_character_is_a_clean_error(tmp_path, harness_cli):
    """The suite itself is refused as it loads (a data path must be usable and inside the suite folder): one
    line naming the file, line and field, exit 2 — never a crash."""
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "suite.yaml").write_text('data: {heldout: "held\\0out.jsonl"}\nlabels: [neg, pos]\n',
                                               encoding="utf-8")
    with pytest.raises(InputError, match="data.heldout: not a usable path"):
        validate(tmp_path / "s")
    res = harness_cli("validate", tmp_path / "s")
    lines = res.err.strip().splitlines()
    assert res.code == 2 and len(lines) == 1 and "suite.yaml:1: data.heldout" in lines[0]


def test_a_label_outside_the_label_set_is_not_interned(tmp_path) -> None:
    # labels are interned so a million rows share one string each (issue 14); an unknown value from the data
    # must not be: Python 3.12 never frees interned strings, so untrusted values would pile up
    import sys

    from harness.validation.rows import read_split

    class Data:
        id_field = None
        text_field = "text"
        label_field = "label"

    path = tmp_path / "h.jsonl"
    odd = "zz-not-a-label-" + "7f3a9c"
    path.write_text('{"prompt": "a\\n\\n###\\n\\n", "completion": " neg"}\n'
                    f'{{"prompt": "b\\n\\n###\\n\\n", "completion": " {odd}"}}\n')
    split = read_split("heldout", path, "openai-jsonl", ("neg", "pos"), Data())
    known, unknown = split.rows
    assert known.label == "neg" and known.label is sys.intern("n" + "eg")
    assert unknown.label == odd and unknown.label is not sys.intern("zz-not-a-label-" + "7f3a9c")
