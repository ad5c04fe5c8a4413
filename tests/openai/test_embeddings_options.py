"""Options of the embeddings baselines: numbers finite and positive, an option of the other classifier an error
naming it (never silently ignored), and a server's impossible token count not recorded as a count."""

from __future__ import annotations

import json

import pytest
from embeddings_testkit import MODEL, model_entry, run, signal_vector, write_suite


def _one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and not ln.lstrip().startswith("data check:")]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(("classifier", "option", "value"), [
    ("logistic", "C", ".inf"), ("zero-shot", "temperature", ".inf"), ("zero-shot", "temperature", ".nan"),
    ("logistic", "C", "0"), ("zero-shot", "temperature", "-1")])
def test_c_and_temperature_must_be_finite_and_positive(fake, tmp_path, capsys, classifier, option, value) -> None:
    suite = write_suite(tmp_path / "s", models={"x": {"provider": "embeddings", "argument": MODEL,
                                                      "options": {"classifier": classifier}}})
    assert run(suite, tmp_path / "out", "--option", f"x.{option}={value}") == 2
    line = _one_line(capsys.readouterr().err)
    assert f"models.x.{option}" in line
    assert not fake.requests and not (tmp_path / "out" / "results.json").exists()


@pytest.mark.parametrize(("classifier", "option", "value"), [
    ("logistic", "temperature", "0.05"), ("zero-shot", "C", "2"), ("zero-shot", "cv_folds", "3"),
    ("zero-shot", "cv_sample", "500")])
def test_an_option_of_the_other_classifier_is_an_error_naming_it(fake, tmp_path, capsys, classifier, option,
                                                                 value) -> None:
    suite = write_suite(tmp_path / "s", models={"x": {"provider": "embeddings", "argument": MODEL,
                                                      "options": {"classifier": classifier}}})
    assert run(suite, tmp_path / "out", "--option", f"x.{option}={value}") == 2
    line = _one_line(capsys.readouterr().err)
    assert f"models.x.{option}" in line and "applies to classifier" in line
    assert not fake.requests


def test_the_same_options_on_lsa(tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"x": "embeddings-lsa:6"})
    assert run(suite, tmp_path / "out", "--option", "x.temperature=0.1") == 2
    assert "applies to classifier: zero-shot only" in _one_line(capsys.readouterr().err)


def test_a_negative_token_count_from_the_server_is_not_recorded(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    fake.reported_tokens = -5
    suite = write_suite(tmp_path / "s")
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    usage = model_entry(tmp_path / "out")["usage"]
    assert all(not isinstance(v, int) or v >= 0 for v in usage.values()), usage
    json.loads((tmp_path / "out" / "results.json").read_text())
