"""Vectors no classifier can use honestly: all-zero vectors (a server's, or LSA's for a text with no known word)
and labels without a training example — each a clear error, a failed example or a notice, never silent."""

from __future__ import annotations

import json

from embeddings_testkit import (
    LABELS,
    MODEL,
    ZS,
    model_entry,
    predictions,
    run,
    signal_vector,
    split_rows,
    write_split,
    write_suite,
)


def _notices(err: str) -> str:
    return " ".join(err.split())


def test_a_zero_vector_from_the_server_fails_its_example_alone(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"emb": f"embeddings:{MODEL}", "zs": ZS})
    bad = split_rows(suite, "heldout")[3][1]
    fake.embed = lambda text: [0.0] * 8 if text == bad else signal_vector(text)
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    for m in ("emb", "zs"):
        preds = predictions(tmp_path / "out", m)
        assert preds[3]["status"] == "failed" and "all-zero vector" in preds[3]["error"]
        assert all(p["status"] == "ok" for i, p in enumerate(preds) if i != 3)
    assert "cosine similarity is undefined" in predictions(tmp_path / "out", "zs")[3]["error"]


def test_zero_training_vectors_are_left_out_of_the_fit_with_a_notice(fake, tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s")
    bad = {t for _, t, _ in split_rows(suite, "train")[:3]}
    fake.embed = lambda text: [0.0] * 8 if text in bad else signal_vector(text)
    assert run(suite, tmp_path / "out") == 0
    err = _notices(capsys.readouterr().err)
    assert "3 of 40 training texts could not be embedded (the server returned an all-zero vector)" in err
    assert model_entry(tmp_path / "out")["info"]["n_train"] == 37


def test_a_zero_label_vector_stops_a_zero_shot_model_naming_the_label(fake, tmp_path, capsys) -> None:
    fake.embed = lambda text: [0.0] * 8 if text == LABELS[1] else signal_vector(text)
    suite = write_suite(tmp_path / "s", models={"zs": ZS})
    assert run(suite, tmp_path / "out") == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"the text of label {LABELS[1]!r}" in err and "all-zero" in err


def test_lsa_zero_shot_with_label_names_outside_its_vocabulary_is_an_error(tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"zs": {"provider": "embeddings-lsa", "argument": "6",
                                                       "options": {"classifier": "zero-shot"}}})
    assert run(suite, tmp_path / "out") == 3  # "baseball", "hockey": not words of the training texts
    err = capsys.readouterr().err
    assert "Traceback" not in err and "the text of label 'baseball'" in err and "vocabulary" in err


def test_lsa_logistic_says_how_many_texts_have_no_known_word(tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"emb": "embeddings-lsa:6"})
    rows = split_rows(suite, "heldout")
    rows[0] = (rows[0][0], "zzzz qqqq", rows[0][2])
    write_split(suite / "heldout.jsonl", rows)
    assert run(suite, tmp_path / "out") == 0
    assert "1 text(s) have all-zero vectors" in _notices(capsys.readouterr().err)
    assert predictions(tmp_path / "out")[0]["status"] == "ok"


def test_a_label_without_training_examples_gets_a_notice(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s")
    doc = (suite / "suite.yaml").read_text()
    (suite / "suite.yaml").write_text(doc.replace("- name: hockey", "- name: hockey\n- name: cricket"))
    out = tmp_path / "out"
    assert run(suite, out) == 0, capsys.readouterr().err
    assert "label(s) 'cricket' have no example in the training split" in _notices(capsys.readouterr().err)
    assert model_entry(out)["info"]["labels_not_in_training"] == ["cricket"]
    assert run(suite, out) == 0  # loaded from the file: the notice again
    assert "'cricket' have no example" in _notices(capsys.readouterr().err)
    json.loads((out / "results.json").read_text())
