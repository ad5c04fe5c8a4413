"""The classifiers on top of a server's vectors: logistic regression equals scikit-learn's on the same matrix (C
chosen as documented), zero-shot equals a direct computation, and the fitted classifier saved beside the results
is reused by a rerun (which then asks the server for no training vector)."""

from __future__ import annotations

import numpy as np
import pytest
from embeddings_testkit import (
    LABELS,
    MODEL,
    ZS,
    model_entry,
    predictions,
    run,
    signal_vector,
    split_rows,
    write_suite,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

DESCRIPTIONS = {"baseball": "pitcher inning bullpen", "hockey": "goalie puck faceoff"}


def matrix(texts: list[str]) -> np.ndarray:
    return np.asarray([signal_vector(t) for t in texts], dtype=np.float32)


def probs_of(out, model: str = "emb") -> np.ndarray:
    return np.array([[r["probs"][lab] for lab in LABELS] for r in predictions(out, model)])


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a.astype(np.float64) @ b.T.astype(np.float64)


def test_logistic_probabilities_equal_scikit_learns_on_the_same_matrix(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", n_train=60, n_heldout=30)
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    train, held = split_rows(suite, "train"), split_rows(suite, "heldout")
    X, y = matrix([t for _, t, _ in train]), np.array([lab for _, _, lab in train], dtype=object)
    info = model_entry(tmp_path / "out")["info"]
    expected = LogisticRegression(C=info["C"], max_iter=1000).fit(X, y).predict_proba(matrix([t for _, t, _ in held]))
    assert list(LogisticRegression().fit(X, y).classes_) == list(LABELS)
    np.testing.assert_allclose(probs_of(tmp_path / "out"), expected, atol=1e-5)
    # C as documented: the least mean log loss of stratified 5-fold cross-validation (shuffled, seed 0)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    losses = []
    for c in info["Cs"]:
        total = 0.0
        for tr, va in folds.split(X, y):
            est = LogisticRegression(C=c, max_iter=1000).fit(X[tr], y[tr])
            total += log_loss(y[va], est.predict_proba(X[va]), labels=est.classes_) * len(va)
        losses.append(total / len(y))
    assert info["C"] == info["Cs"][int(np.argmin(losses))]
    assert [info["cv_log_loss"][f"{c:g}"] for c in info["Cs"]] == pytest.approx(losses, abs=1e-6)
    assert info["C_source"].startswith("stratified 5-fold cross-validation") and info["n_train"] == 60


def test_the_option_c_skips_the_cross_validation(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", models={"emb": {"provider": "embeddings", "argument": MODEL,
                                                        "options": {"C": 0.5}}})
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    info = model_entry(tmp_path / "out")["info"]
    assert info["C"] == 0.5 and info["C_source"] == "the option C" and "cv_log_loss" not in info
    train, held = split_rows(suite, "train"), split_rows(suite, "heldout")
    est = LogisticRegression(C=0.5, max_iter=1000).fit(matrix([t for _, t, _ in train]), [g for _, _, g in train])
    np.testing.assert_allclose(probs_of(tmp_path / "out"), est.predict_proba(matrix([t for _, t, _ in held])),
                               atol=1e-5)


def test_zero_shot_probabilities_equal_a_direct_computation(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", descriptions=DESCRIPTIONS,
                        models={"zs": {"provider": "embeddings", "argument": MODEL,
                                       "options": {"classifier": "zero-shot"}}})
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    assert all(d in fake.embedded for d in DESCRIPTIONS.values())  # descriptions, not label names
    info = model_entry(tmp_path / "out", "zs")["info"]
    L = matrix([DESCRIPTIONS[lab] for lab in LABELS])
    T = info["temperature"]
    held = split_rows(suite, "heldout")
    expected = softmax(cosine(matrix([t for _, t, _ in held]), L) / T)
    np.testing.assert_allclose(probs_of(tmp_path / "out", "zs"), expected, atol=1e-6)
    # T minimises the training split's log loss
    train = split_rows(suite, "train")
    S = cosine(matrix([t for _, t, _ in train]), L)
    gold = np.array([LABELS.index(lab) for _, _, lab in train])

    def nll(t: float) -> float:
        return float(-np.log(softmax(S / t)[np.arange(len(gold)), gold]).mean())

    assert nll(T) <= min(nll(T * 1.05), nll(T / 1.05)) + 1e-12
    assert info["temperature_source"].startswith("fitted on the training split (40 examples")
    assert info["label_texts"] == DESCRIPTIONS


def test_zero_shot_without_a_training_split_uses_the_documented_temperature(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", train=False, models={"zs": {"provider": "embeddings", "argument": MODEL,
                                                                    "options": {"classifier": "zero-shot"}}})
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    info = model_entry(tmp_path / "out", "zs")["info"]
    assert info["temperature"] == 0.01 and "no training split" in info["temperature_source"]
    assert sorted(fake.embedded[:2]) == sorted(LABELS)  # label names, without descriptions
    held = split_rows(suite, "heldout")
    expected = softmax(cosine(matrix([t for _, t, _ in held]), matrix(list(LABELS))) / 0.01)
    np.testing.assert_allclose(probs_of(tmp_path / "out", "zs"), expected, atol=1e-6)


def test_a_rerun_reuses_the_saved_classifier_when_the_vectors_are_the_same(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", descriptions=DESCRIPTIONS, models={
        "emb": f"embeddings:{MODEL}",
        "zs": ZS})
    out = tmp_path / "out"
    assert run(suite, out) == 0, capsys.readouterr().err
    first = {m: probs_of(out, m) for m in ("emb", "zs")}
    assert model_entry(out)["info"]["classifier_state"] == "fitted in this run"
    n = len(fake.requests)
    assert run(suite, out) == 0  # everything cached: no request, the classifiers loaded
    assert len(fake.requests) == n
    for m in ("emb", "zs"):
        assert model_entry(out, m)["info"]["classifier_state"].startswith("loaded")
    assert run(suite, out, "--no-cache") == 0  # the server's vectors again, the same: loaded, not refitted
    for m in ("emb", "zs"):
        assert model_entry(out, m)["info"]["classifier_state"].startswith("loaded")
        np.testing.assert_allclose(probs_of(out, m), first[m], atol=1e-12)
    assert model_entry(out, "zs")["info"]["temperature"] > 0


@pytest.mark.parametrize("dims", [8, 16])
def test_a_classifier_fitted_on_other_vectors_is_refitted(fake, tmp_path, capsys, dims) -> None:
    """The server's model changed (same or another dimension): --refresh fetches new vectors, and the saved
    classifier, fitted on the old ones, is refitted rather than used on vectors it was not fitted on."""
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", descriptions=DESCRIPTIONS, models={
        "emb": f"embeddings:{MODEL}",
        "zs": ZS})
    out = tmp_path / "out"
    assert run(suite, out) == 0, capsys.readouterr().err

    def changed(text: str) -> list[float]:
        v = signal_vector(text)
        return [-x for x in v] + ([0.5] * (dims - len(v)))

    fake.embed = changed
    capsys.readouterr()
    assert run(suite, out, "--refresh") == 0, capsys.readouterr().err
    err = " ".join(capsys.readouterr().err.split())
    assert "not reused (it was fitted on other data or settings)" in err
    train, held = split_rows(suite, "train"), split_rows(suite, "heldout")
    Xtr = np.asarray([changed(t) for _, t, _ in train], dtype=np.float32)
    Xh = np.asarray([changed(t) for _, t, _ in held], dtype=np.float32)
    info = model_entry(out)["info"]
    assert info["classifier_state"] == "fitted in this run" and model_entry(out, "zs")["info"][
        "classifier_state"] == "fitted in this run"
    est = LogisticRegression(C=info["C"], max_iter=1000).fit(Xtr, [g for _, _, g in train])
    np.testing.assert_allclose(probs_of(out), est.predict_proba(Xh), atol=1e-5)


def test_a_changed_training_split_means_a_refit(fake, tmp_path, capsys) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s")
    out = tmp_path / "out"
    assert run(suite, out) == 0
    rows = split_rows(suite, "train")
    rows[0] = (rows[0][0], rows[0][1], LABELS[1] if rows[0][2] == LABELS[0] else LABELS[0])  # one label changed
    from embeddings_testkit import write_split

    write_split(suite / "train.jsonl", rows)
    capsys.readouterr()
    assert run(suite, out) == 0
    err = capsys.readouterr().err
    info = model_entry(out)["info"]
    assert info["classifier_state"] == "fitted in this run"
    assert "not reused (it was fitted on other data or settings)" in " ".join(err.split())


def test_harness_report_on_a_finished_run_needs_no_classifier_and_no_server(fake, tmp_path, capsys) -> None:
    from harness.cli.main import main

    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", descriptions=DESCRIPTIONS, models={
        "emb": f"embeddings:{MODEL}",
        "zs": ZS})
    out = tmp_path / "out"
    assert run(suite, out) == 0, capsys.readouterr().err
    for f in (out / "classifiers").iterdir():
        f.unlink()  # the fitted models gone: the report reads results.json and predictions.jsonl only
    n = len(fake.requests)
    capsys.readouterr()
    assert main(["report", str(out / "results.json")]) == 0, capsys.readouterr().err
    assert len(fake.requests) == n
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "emb" in html and "zs" in html and "zero-shot" in html
    assert not any((out / "classifiers").iterdir())  # nothing was refitted


def _tamper(out, how: str) -> None:
    import skops.io as sio

    (path,) = (out / "classifiers").iterdir()
    obj = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    est = obj["estimator"]
    if how == "estimator_none":
        obj["estimator"] = None
    elif how == "estimator_str":
        obj["estimator"] = "hello"
    elif how == "kind":
        obj["kind"] = "zero-shot"
    elif how == "classes":
        obj["classes"] = ["x", "y", "z"]
    elif how == "coef_nan":
        est.coef_[:] = np.nan
    elif how == "coef_shape":
        est.coef_ = est.coef_[:, :3]
    elif how == "info":
        obj["info"] = "[1, 2]"
    sio.dump(obj, path)


@pytest.mark.parametrize("how", ["estimator_none", "estimator_str", "kind", "classes", "coef_nan", "coef_shape",
                                 "info"])
def test_a_damaged_saved_classifier_is_refitted_with_a_notice(fake, tmp_path, capsys, how) -> None:
    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s")
    out = tmp_path / "out"
    assert run(suite, out) == 0, capsys.readouterr().err
    first = probs_of(out)
    _tamper(out, how)
    capsys.readouterr()
    assert run(suite, out) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "is not reused (" in err and "internal error" not in err
    assert model_entry(out)["info"]["classifier_state"] == "fitted in this run"
    np.testing.assert_allclose(probs_of(out), first, atol=1e-6)
    assert run(suite, out) == 0  # the refit replaced the file: loaded now
    assert model_entry(out)["info"]["classifier_state"].startswith("loaded")


@pytest.mark.parametrize("how", ["vectors_nan", "vectors_shape", "vectors_scaled", "temperature", "classes"])
def test_a_damaged_saved_zero_shot_classifier_is_refitted(fake, tmp_path, capsys, how) -> None:
    import skops.io as sio

    fake.embed = signal_vector
    suite = write_suite(tmp_path / "s", models={"zs": {"provider": "embeddings", "argument": MODEL,
                                                       "options": {"classifier": "zero-shot"}}})
    out = tmp_path / "out"
    assert run(suite, out) == 0, capsys.readouterr().err
    first = probs_of(out, "zs")
    (path,) = (out / "classifiers").iterdir()
    obj = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    if how == "vectors_nan":
        obj["label_vectors"][0, 0] = np.nan
    elif how == "vectors_shape":
        obj["label_vectors"] = obj["label_vectors"][:, :4]
    elif how == "vectors_scaled":
        obj["label_vectors"] = obj["label_vectors"] * 3
    elif how == "temperature":
        obj["temperature"] = -1.0
    else:
        obj["classes"] = list(reversed(obj["classes"]))
    sio.dump(obj, path)
    capsys.readouterr()
    assert run(suite, out) == 0
    assert "is not reused (" in " ".join(capsys.readouterr().err.split())
    assert model_entry(out, "zs")["info"]["classifier_state"] == "fitted in this run"
    np.testing.assert_allclose(probs_of(out, "zs"), first, atol=1e-6)
