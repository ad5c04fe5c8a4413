"""``embeddings-lsa``: the demo's local stand-in for an embedding model (TF-IDF + truncated SVD fitted on the
training split), no server and no network. Its vectors are what scikit-learn computes; it needs a training split
whatever the classifier; a rerun loads the fitted embedder and classifier."""

from __future__ import annotations

import numpy as np
import pytest
from embeddings_testkit import LABELS, model_entry, predictions, run, split_rows, write_suite
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

DESCRIPTIONS = {"baseball": "pitcher inning bullpen shortstop", "hockey": "goalie puck faceoff icing"}


def _one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and not ln.lstrip().startswith("data check:")]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


def _lsa(train: list[str], texts: list[str], dims: int) -> np.ndarray:
    tfidf = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))
    svd = TruncatedSVD(n_components=dims, algorithm="randomized", random_state=0).fit(tfidf.fit_transform(train))
    z = tfidf.transform(texts) @ svd.components_.T
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def test_zero_shot_on_lsa_equals_a_direct_computation(tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", descriptions=DESCRIPTIONS, models={
        "zs": {"provider": "embeddings-lsa", "argument": "6", "options": {"classifier": "zero-shot",
                                                                          "temperature": 0.05}}})
    assert run(suite, tmp_path / "out") == 0, capsys.readouterr().err
    train = [t for _, t, _ in split_rows(suite, "train")]
    held = [t for _, t, _ in split_rows(suite, "heldout")]
    vecs = _lsa(train, held + [DESCRIPTIONS[lab] for lab in LABELS], 6)
    z = vecs[: len(held)] @ vecs[len(held):].T / 0.05  # rows are unit: cosine similarities
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    got = np.array([[r["probs"][lab] for lab in LABELS] for r in predictions(tmp_path / "out", "zs")])
    np.testing.assert_allclose(got, expected, atol=1e-4)
    info = model_entry(tmp_path / "out", "zs")["info"]
    assert info["dimensions"] == 6 and "stand-in" in info["embedding"] and info["vectors"]["dtype"] == "float32"


def test_lsa_needs_a_training_split_even_for_zero_shot(tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", train=False, models={
        "zs": {"provider": "embeddings-lsa", "options": {"classifier": "zero-shot"}}})
    assert run(suite, tmp_path / "out") == 2
    line = _one_line(capsys.readouterr().err)
    assert "training split" in line and "LSA" in line and "suite.yaml" in line
    assert not (tmp_path / "out" / "results.json").exists()


def test_lsa_dimensions_must_be_a_positive_number(tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"emb": "embeddings-lsa:many"})
    assert run(suite, tmp_path / "out") == 2
    assert "embeddings-lsa takes a number of dimensions" in _one_line(capsys.readouterr().err)


def test_a_rerun_loads_the_fitted_lsa_and_classifier(tmp_path, capsys) -> None:
    suite = write_suite(tmp_path / "s", models={"emb": "embeddings-lsa:8"})
    out = tmp_path / "out"
    assert run(suite, out) == 0, capsys.readouterr().err
    first = [r["probs"] for r in predictions(out)]
    assert model_entry(out)["info"]["classifier_state"] == "fitted in this run"
    assert run(suite, out) == 0, capsys.readouterr().err
    assert model_entry(out)["info"]["classifier_state"].startswith("loaded")
    for a, b in zip(first, (r["probs"] for r in predictions(out)), strict=True):
        assert a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-6 for k in a)


@pytest.mark.parametrize("how", ["components_shape", "components_nan", "idf_short", "no_terms", "classifier_dims"])
def test_a_damaged_saved_lsa_is_refitted_with_a_notice(tmp_path, capsys, how) -> None:
    import skops.io as sio

    suite = write_suite(tmp_path / "s", models={"emb": "embeddings-lsa:8"})
    out = tmp_path / "out"
    assert run(suite, out) == 0, capsys.readouterr().err
    first = [r["probs"] for r in predictions(out)]
    (path,) = (out / "classifiers").iterdir()
    obj = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    emb = obj["embedder"]
    if how == "components_shape":
        emb["components"] = emb["components"][:, :5]
    elif how == "components_nan":
        emb["components"][0, 0] = np.nan
    elif how == "idf_short":
        emb["idf"] = emb["idf"][:3]
    elif how == "no_terms":
        del emb["terms"]
    else:
        emb["components"] = emb["components"][:4]
    sio.dump(obj, path)
    capsys.readouterr()
    assert run(suite, out) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "damaged: refitted" in err and "internal error" not in err
    assert model_entry(out)["info"]["classifier_state"] == "fitted in this run"
    for a, b in zip(first, (r["probs"] for r in predictions(out)), strict=True):
        assert all(abs(a[k] - b[k]) < 1e-6 for k in a)
