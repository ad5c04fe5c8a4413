"""The fast JSON layer behaves like the standard library where users can tell the difference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from harness import jsonio
from harness.results import write_predictions


def test_reads_what_the_standard_library_reads() -> None:
    # some OpenAI-compatible servers write non-finite logprobs as bare NaN / -Infinity tokens
    data = jsonio.loads('{"logprob": -Infinity, "other": NaN, "text": "caf\\u00e9"}')
    assert data["logprob"] == -math.inf and math.isnan(data["other"]) and data["text"] == "café"
    assert jsonio.loads(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}


def test_malformed_json_reports_like_the_standard_library() -> None:
    with pytest.raises(json.JSONDecodeError) as exc:
        jsonio.loads('{"a": 1,\n "b": }')
    assert (exc.value.lineno, exc.value.colno, exc.value.msg) == (2, 7, "Expecting value")


def test_writes_strict_utf8_json() -> None:
    text = jsonio.dumps({"b": float("nan"), "a": "é <script>", 3: np.float64(0.25), "o": object()}, sort_keys=True)
    assert text.startswith('{"3":0.25,"a":"é <script>","b":null,"o":"<object object')
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard token {c}"))


def test_values_orjson_refuses_fall_back_to_the_standard_library() -> None:
    assert json.loads(jsonio.dumps({"big": 2**70})) == {"big": 2**70}
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        jsonio.dumps(loop)


def test_predictions_file_is_one_strict_json_object_per_line(tmp_path) -> None:
    rows = [{"id": "a", "probs": {"x": float("nan")}, "text": "line\nbreak \u2028 ünïcode"},
            {"id": "b", "loop": None}]
    write_predictions(tmp_path / "p.jsonl", rows)
    with (tmp_path / "p.jsonl").open(encoding="utf-8") as fh:  # how JSONL readers split lines
        lines = list(fh)
    assert len(lines) == 2
    first = json.loads(lines[0], parse_constant=lambda c: pytest.fail(c))
    assert first == {"id": "a", "probs": {"x": None}, "text": "line\nbreak \u2028 ünïcode"}


def test_integers_beyond_64_bits_stay_exact() -> None:
    assert jsonio.loads('{"id": 98765432109876543210}', exact_ints=True) == {"id": 98765432109876543210}
    assert jsonio.loads(b'[-9223372036854775809]', exact_ints=True) == [-9223372036854775809]


def test_a_dataset_id_beyond_64_bits_loads(make_suite) -> None:
    from harness.suite import load_suite

    suite = make_suite([("a b", "neg"), ("c d", "pos")])
    data = suite / "heldout.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    data.write_text("".join(json.dumps({**r, "id": 98765432109876543210 + i}) + "\n" for i, r in enumerate(rows)))
    assert [ex.id for ex in load_suite(suite).heldout.examples] == ["98765432109876543210", "98765432109876543211"]


def test_non_finite_values_survive_the_cache(tmp_path) -> None:
    """A server's -Infinity logprob is read, cached and read back the same (a cached re-run equals the live run)."""
    from harness.cache import Cache

    body = '{"choices": [{"logprobs": {"content": [{"token": "zzz", "logprob": -Infinity}]}}], "x": NaN}'
    response = jsonio.loads(body)
    cache = Cache(tmp_path / "c.sqlite3")
    cache.put("k", "{}", "/e", "{}", response)
    again = cache.get_many(["k"])["k"].response
    cache.close()
    assert again["choices"][0]["logprobs"]["content"][0]["logprob"] == -math.inf and math.isnan(again["x"])
    # orjson-read responses (the usual case) are stored compactly by orjson
    assert jsonio.dumps(jsonio.loads('{"a": [1, 2]}'), exact=True) == '{"a":[1,2]}'


def test_a_dataset_with_one_long_integer_id_reads_it_exactly(tmp_path) -> None:
    # the readers check a whole file once for 19-digit runs instead of every line: a file with one long id (or
    # ids differing only beyond 64 bits) still reads it exactly, in the run and in the data checks
    from harness.suite import load_suite
    from harness.validation.rows import read_split

    rows = [{"id": 1, "prompt": "a ->", "completion": " x"},
            {"id": 98765432109876543210, "prompt": "b ->", "completion": " y"},
            {"id": 98765432109876543211, "prompt": "c ->", "completion": " x"}]
    (tmp_path / "h.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "suite.yaml").write_text("name: s\ndata: {heldout: h.jsonl}\nlabels: [x, y]\nmodels: {}\n",
                                         encoding="utf-8")
    suite = load_suite(tmp_path)
    assert [ex.id for ex in suite.heldout.examples] == ["1", "98765432109876543210", "98765432109876543211"]
    split = read_split("heldout", tmp_path / "h.jsonl", "openai-jsonl", ("x", "y"), suite.data)
    assert [r.raw["id"] for r in split.rows] == [1, 98765432109876543210, 98765432109876543211]
