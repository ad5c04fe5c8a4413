"""The local providers: ``sklearn:PATH`` (skops, trusted pickle) and ``predictions:PATH`` (JSONL, CSV)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from harness_testkit import read_jsonl, toy_pairs
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline

from harness.suite import load_suite

TRAIN = toy_pairs(120, seed=10)
HELDOUT = toy_pairs(50, seed=11)


@pytest.fixture(scope="module")
def pipeline():
    texts, labels = zip(*TRAIN)
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=2.0)).fit(list(texts), list(labels))


def results_of(out: Path) -> tuple[dict, list[dict]]:
    return json.loads((out / "results.json").read_text()), read_jsonl(out / "predictions.jsonl")


def model_entry(results: dict, name: str) -> dict:
    return next(m for m in results["models"] if m["name"] == name)


# --- sklearn -------------------------------------------------------------------------------------


def check_matches_sklearn(results: dict, rows: list[dict], pipe, name: str = "m") -> None:
    texts, gold = zip(*HELDOUT)
    proba = pipe.predict_proba(list(texts))
    classes = list(pipe.classes_)
    pred = [classes[i] for i in proba.argmax(axis=1)]
    pos = classes.index("pos")
    metrics = model_entry(results, name)["metrics"]
    assert metrics["accuracy"]["value"] == pytest.approx(accuracy_score(gold, pred))
    assert metrics["auroc"]["value"] == pytest.approx(roc_auc_score(np.array(gold) == "pos", proba[:, pos]))
    assert metrics["log_loss"]["value"] == pytest.approx(log_loss(gold, proba, labels=classes))
    mine = [r for r in rows if r["model"] == name]
    assert [r["pred"] for r in mine] == pred
    for r, p in zip(mine, proba):
        assert r["probs"] == pytest.approx({c: p[i] for i, c in enumerate(classes)})


def test_sklearn_skops(harness_cli, make_suite, pipeline, tmp_path):
    suite = make_suite(HELDOUT, models={"other": "demo:base"})
    model = tmp_path / "model.skops"
    sio.dump(pipeline, model)
    out = tmp_path / "out"
    res = harness_cli("run", suite, "--model", f"m=sklearn:{model}", "--only", "--out", out, "--no-report")
    assert res.code == 0, res.err
    results, rows = results_of(out)
    assert [m["name"] for m in results["models"]] == ["m"]  # --only: not the suite's model
    assert model_entry(results, "m")["provider"] == "sklearn"
    check_matches_sklearn(results, rows, pipeline)


def test_sklearn_path_relative_to_suite(harness_cli, make_suite, pipeline, tmp_path):
    suite = make_suite(HELDOUT, models={"m": "sklearn:model.skops"})
    sio.dump(pipeline, suite / "model.skops")
    out = tmp_path / "out"
    res = harness_cli("run", suite, "--out", out, "--no-report")
    assert res.code == 0, res.err
    check_matches_sklearn(*results_of(out), pipeline)


def test_sklearn_pickle_with_and_without_trust(harness_cli, make_suite, pipeline, tmp_path):
    suite = make_suite(HELDOUT)
    model = tmp_path / "model.pkl"
    model.write_bytes(pickle.dumps(pipeline))
    out = tmp_path / "out"
    refused = harness_cli("run", suite, "--model", f"m=sklearn:{model}", "--only", "--out", out, "--no-report")
    assert refused.code == 2 and "trust_pickle" in refused.err
    assert not (out / "results.json").exists()

    res = harness_cli("run", suite, "--model", f"m=sklearn:{model}", "--option", "m.trust_pickle=true",
                      "--only", "--out", out, "--no-report")
    assert res.code == 0, res.err
    check_matches_sklearn(*results_of(out), pipeline)


def test_sklearn_classes_outside_label_set(harness_cli, make_suite, tmp_path):
    texts, _ = zip(*TRAIN)
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(
        list(texts), ["good" if i % 2 else "bad" for i in range(len(texts))])
    sio.dump(pipe, tmp_path / "other.skops")
    res = harness_cli("run", make_suite(HELDOUT), "--model", f"m=sklearn:{tmp_path / 'other.skops'}", "--only",
                      "--out", tmp_path / "o", "--no-report")
    assert res.code == 2
    assert "other.skops" in res.err and "label set" in res.err


# --- predictions ---------------------------------------------------------------------------------

IDS = [f"ex{i:02d}" for i in range(len(HELDOUT))]


def _prob_rows(ids: list[str]) -> dict[str, dict[str, float]]:
    """Deterministic probabilities, informative about the gold label, rounded like a file would be."""
    rng = np.random.default_rng(3)
    gold = dict(zip(IDS, (lab for _, lab in HELDOUT)))
    out = {}
    for i in ids:
        p = float(np.clip(rng.normal(0.7 if gold.get(i, "pos") == "pos" else 0.35, 0.2), 0.01, 0.99))
        out[i] = {"neg": round(1 - p, 3), "pos": round(p, 3)}
    return out


def _run_predictions(harness_cli, suite: Path, preds: Path, out: Path, *extra):
    res = harness_cli("run", suite, "--model", f"m=predictions:{preds}", "--only", "--out", out, "--no-report",
                      "--max-failed", "100%", *extra)  # rows missing on purpose are failed examples
    assert res.code == 0, res.err
    return results_of(out)


def test_predictions_jsonl_joined_on_id(harness_cli, make_suite, tmp_path):
    suite = make_suite(HELDOUT, ids=IDS)
    probs = _prob_rows(IDS)
    order = list(reversed(IDS))  # file order differs from the dataset's
    missing, invalid, label_only = order[0], order[1], order[2]
    lines = []
    for i in order:
        if i == missing:
            continue
        if i == invalid:
            lines.append({"id": i, "label": "maybe"})
        elif i == label_only:
            lines.append({"id": i, "label": "neg"})
        else:
            lines.append({"id": i, "probs": probs[i]})
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps(r) + "\n" for r in lines))

    results, rows = _run_predictions(harness_cli, suite, preds, tmp_path / "out")
    m = model_entry(results, "m")
    assert m["counts"] == {"n": 50, "ok": 48, "invalid": 1, "failed": 1, "flagged": 0}
    assert [r["id"] for r in rows] == IDS  # aligned to the dataset, not to the file
    by_id = {r["id"]: r for r in rows}
    assert by_id[missing]["status"] == "failed" and by_id[missing]["pred"] is None
    assert by_id[invalid]["status"] == "invalid" and by_id[invalid]["output"] == "maybe"
    assert by_id[label_only]["pred"] == "neg" and by_id[label_only]["probs"] is None

    gold = {i: lab for i, (_, lab) in zip(IDS, HELDOUT)}
    expected_pred = {i: ("pos" if probs[i]["pos"] > probs[i]["neg"] else "neg") for i in IDS}
    expected_pred.update({missing: None, invalid: None, label_only: "neg"})
    correct = sum(expected_pred[i] == gold[i] for i in IDS)
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(correct / len(IDS))  # missing/invalid are wrong
    with_p = [i for i in IDS if i not in (missing, invalid, label_only)]
    assert m["metrics"]["auroc"]["value"] == pytest.approx(
        roc_auc_score([gold[i] == "pos" for i in with_p], [probs[i]["pos"] for i in with_p]))
    assert m["metrics"]["auroc"]["n"] == len(with_p)


def test_predictions_csv_with_prob_columns(harness_cli, make_suite, tmp_path):
    suite = make_suite(HELDOUT, ids=IDS)
    probs = _prob_rows(IDS)
    lines = ["id,label,prob_neg,prob_pos"]
    for i in IDS[1:]:
        # scores that do not sum to 1: renormalised over the label set only when asked, and flagged
        lines.append(f"{i},,{probs[i]['neg'] * 0.5},{probs[i]['pos'] * 0.5}")
    preds = tmp_path / "preds.csv"
    preds.write_text("\n".join(lines) + "\n")

    results, rows = _run_predictions(harness_cli, suite, preds, tmp_path / "out", "--option", "m.renormalize=true")
    m = model_entry(results, "m")
    assert (m["counts"]["ok"], m["counts"]["failed"], m["counts"]["flagged"]) == (49, 1, 49)
    assert all(r["flags"] == ["probs-renormalized"] for r in rows if r["status"] == "ok")
    by_id = {r["id"]: r for r in rows}
    assert by_id[IDS[0]]["status"] == "failed"
    for i in IDS[1:]:
        assert by_id[i]["probs"] == pytest.approx(probs[i])
        assert by_id[i]["pred"] == max(probs[i], key=probs[i].get)
    gold = dict(zip(IDS, (lab for _, lab in HELDOUT)))
    assert m["metrics"]["auroc"]["value"] == pytest.approx(
        roc_auc_score([gold[i] == "pos" for i in IDS[1:]], [probs[i]["pos"] for i in IDS[1:]]))


def test_predictions_tsv_with_labels_only(harness_cli, make_suite, tmp_path):
    suite = make_suite(HELDOUT, ids=IDS)
    gold = [lab for _, lab in HELDOUT]
    flipped = {IDS[3], IDS[7]}
    preds = tmp_path / "preds.tsv"
    preds.write_text("id\tlabel\n" + "".join(
        f"{i}\t{('neg' if g == 'pos' else 'pos') if i in flipped else g}\n" for i, g in zip(IDS, gold)))
    results, _ = _run_predictions(harness_cli, suite, preds, tmp_path / "out")
    m = model_entry(results, "m")
    assert m["metrics"]["accuracy"]["value"] == pytest.approx(1 - 2 / len(IDS))
    assert m["metrics"]["auroc"]["value"] is None and m["metrics"]["auroc"]["reason"]


def test_predictions_with_derived_ids(harness_cli, make_suite, tmp_path):
    suite = make_suite(HELDOUT)  # no id field: ids are derived from the content
    ids = load_suite(suite).heldout.ids
    assert len(set(ids)) == len(HELDOUT)
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"id": i, "label": lab}) + "\n"
                             for i, (_, lab) in zip(ids, HELDOUT)))
    results, rows = _run_predictions(harness_cli, suite, preds, tmp_path / "out")
    assert model_entry(results, "m")["metrics"]["accuracy"]["value"] == 1.0
    assert [r["id"] for r in rows] == ids


def test_predictions_custom_fields(harness_cli, make_suite, tmp_path):
    suite = make_suite(HELDOUT, ids=IDS)
    preds = tmp_path / "preds.jsonl"
    preds.write_text("".join(json.dumps({"key": i, "answer": lab}) + "\n"
                             for i, (_, lab) in zip(IDS, HELDOUT)))
    res = harness_cli("run", suite, "--model", f"m=predictions:{preds}", "--option", "m.id_field=key",
                      "--option", "m.label_field=answer", "--only", "--out", tmp_path / "out", "--no-report")
    assert res.code == 0, res.err
    assert model_entry(results_of(tmp_path / "out")[0], "m")["metrics"]["accuracy"]["value"] == 1.0


def test_two_models_compared(harness_cli, make_suite, pipeline, tmp_path):
    """A suite naming a predictions file and an sklearn model: both scored on every example."""
    suite = make_suite(HELDOUT, ids=IDS, models={"base": "predictions:base.jsonl", "ft": "sklearn:ft.skops"})
    (suite / "base.jsonl").write_text("".join(json.dumps({"id": i, "label": "pos"}) + "\n" for i in IDS))
    sio.dump(pipeline, suite / "ft.skops")
    out = tmp_path / "out"
    res = harness_cli("run", suite, "--out", out, "--no-report")
    assert res.code == 0, res.err
    results, rows = results_of(out)
    assert [m["name"] for m in results["models"]] == ["base", "ft"]
    assert results["baseline"] == "base"
    for name in ("base", "ft"):
        assert [r["id"] for r in rows if r["model"] == name] == IDS
    gold = [lab for _, lab in HELDOUT]
    assert model_entry(results, "base")["metrics"]["accuracy"]["value"] == pytest.approx(gold.count("pos") / 50)
    check_matches_sklearn(results, rows, pipeline, name="ft")


def test_predictions_rows_may_give_a_label_only_even_with_probability_columns(harness_cli, make_suite, tmp_path):
    """A CSV with prob_ columns whose cells are blank on some rows, and JSONL `"probs": {}`, mean "label only"."""
    root = make_suite([("good game", "pos"), ("bad game", "neg")], ids=["a", "b"])
    csv_file = tmp_path / "p.csv"
    csv_file.write_text("id,label,prob_neg,prob_pos\na,pos,0.2,0.8\nb,neg,,\n")
    res = harness_cli("run", root, "--only", "--model", f"m=predictions:{csv_file}", "--out", tmp_path / "o1",
                      "--no-report", "--no-stats")
    assert res.code == 0, res.err
    rows = [json.loads(x) for x in (tmp_path / "o1" / "predictions.jsonl").read_text().splitlines()]
    assert rows[0]["probs"]["pos"] == pytest.approx(0.8) and rows[1]["probs"] is None and rows[1]["pred"] == "neg"
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"id": "a", "label": "pos", "probs": {}}\n{"id": "b", "label": "neg"}\n')
    res = harness_cli("run", root, "--only", "--model", f"m=predictions:{jsonl}", "--out", tmp_path / "o2",
                      "--no-report", "--no-stats")
    assert res.code == 0, res.err


@pytest.mark.parametrize(("probs", "field"), [({"neg": 0.9, "pos": 0.9}, "probs"), ({"neg": 0.3}, "probs"),
                                              ({"neg": 1.4, "pos": -0.4}, "probs.neg")])
def test_probabilities_that_do_not_sum_to_one_are_an_input_error(harness_cli, make_suite, tmp_path, probs, field):
    """Issue 9, item 7: {"neg": 0.9, "pos": 0.9} became 0.5/0.5 and {"neg": 0.3} became neg = 1.0, silently.
    Now: exit 2 before anything is scored, one line naming the file, line and field."""
    suite = make_suite(HELDOUT, ids=IDS)
    rows = [{"id": i, "probs": {"neg": 0.25, "pos": 0.75}} for i in IDS[:3]] + [{"id": IDS[3], "probs": probs}]
    preds = tmp_path / "bad.jsonl"
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = harness_cli("run", suite, "--model", f"m=predictions:{preds}", "--only", "--out", tmp_path / "o",
                      "--no-report")
    assert res.code == 2, res.err
    lines = [x for x in res.err.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in res.err
    assert "bad.jsonl:4" in lines[0] and field in lines[0]
    assert not (tmp_path / "o" / "results.json").exists()


def test_renormalize_option_rescales_and_flags(harness_cli, make_suite, tmp_path):
    suite = make_suite(HELDOUT, ids=IDS)
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": IDS[0], "probs": {"neg": 0.9, "pos": 0.9}}) + "\n"
                     + json.dumps({"id": IDS[1], "probs": {"neg": 0.2, "pos": 0.795}}) + "\n")  # rounding: kept
    results, rows = _run_predictions(harness_cli, suite, preds, tmp_path / "o", "--option", "m.renormalize=true")
    by_id = {r["id"]: r for r in rows}
    assert by_id[IDS[0]]["probs"] == pytest.approx({"neg": 0.5, "pos": 0.5})
    assert by_id[IDS[0]]["flags"] == ["probs-renormalized"]
    assert "flags" not in by_id[IDS[1]] and sum(by_id[IDS[1]]["probs"].values()) == pytest.approx(1.0)
    assert model_entry(results, "m")["counts"]["flagged"] == 1
