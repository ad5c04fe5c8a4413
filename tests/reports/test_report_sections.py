"""Optional sections, graceful degradation, template overrides and the numbers behind the charts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from report_dom import parse
from sklearn.metrics import average_precision_score, roc_auc_score

from harness.results import FORMAT
from harness_reports import render_html, tables, write_report


def _section(doc, name):
    return doc.find("section", id=name)


def test_minimal_results_render(tmp_path):
    html = render_html({"format": FORMAT, "schema_version": 1}, [])
    doc = parse(html)
    assert doc.find("h1").clean_text() == "harness run"
    assert "No metrics" in _section(doc, "metrics").clean_text()
    for name in ("comparisons", "curves", "confusion", "per-class", "calibration", "training", "usage"):
        assert _section(doc, name) is None, name


def test_junk_fields_do_not_break_rendering(binary_demo):
    results, preds = binary_demo.fresh()
    results["models"][0]["metrics"]["accuracy"] = {"value": "0.5"}          # not a number
    results["models"][1]["counts"] = None
    results["models"][2]["info"] = ["not", "a", "dict"]
    results["training"]["job"]["curves"]["train_loss"][3] = None          # a gap
    results["training"]["job"]["curves"]["weird"] = "not a list"
    results["suite"]["metric_options"]["ece_bins"] = "many"
    preds.append({"model": results["models"][0]["name"], "gold": "cricket", "pred": "baseball", "probs": None})
    preds.append({"model": "unknown", "gold": "baseball", "pred": "baseball"})
    preds[0]["probs"] = {"baseball": "x"}
    preds[1]["pred"] = "curling"
    doc = parse(render_html(results, preds))
    assert "rows with an unknown gold label left out" in _section(doc, "confusion").clean_text()


def test_not_available_values_show_reason_and_footnote(binary_demo):
    results, preds = binary_demo.fresh()
    reason = "the model gives no probabilities"
    model = results["models"][0]
    for name in ("auroc", "auprc", "log_loss", "brier", "ece"):
        model["metrics"][name] = {"value": None, "reason": reason}
    for r in preds:
        if r["model"] == model["name"]:
            r["probs"] = None
    doc = parse(render_html(results, preds))
    row = doc.find("tr", data_model=model["name"])
    na = [td for td in row.child_tags("td") if td.has_class("na")]
    assert len(na) == 5 and all(td.attrs["title"] == reason for td in na)
    assert all(td.clean_text().startswith("n/a") for td in na)
    notes = doc.find("ol", pred=lambda n: n.has_class("notes"))
    assert notes is not None and reason in notes.clean_text()
    assert notes.find("li").attrs["id"] == "na-1"
    # curves and calibration list the model as skipped, the others are still drawn
    for section in ("curves", "calibration"):
        text = _section(doc, section).clean_text()
        assert f"{model['name']} (no probabilities)" in text
    assert model["name"] not in doc.find("figure", data_chart="roc").find("svg").attrs["aria-label"]


def test_no_probabilities_at_all(binary_demo):
    results, preds = binary_demo.fresh()
    for r in preds:
        r["probs"] = None
    doc = parse(render_html(results, preds))
    assert doc.find("figure", data_chart="roc") is None
    assert "No model gave usable probabilities" in _section(doc, "curves").clean_text()
    assert doc.find("figure", data_chart="calibration") is None


def test_comparisons_section(binary_demo):
    """The shape harness.compare writes: pairs (candidate a, baseline b), delta = a − b."""
    results, preds = binary_demo.fresh()
    del results["verdict"]  # an older results file: the point-estimate line at a glance stays
    acc = {m["name"]: m["metrics"]["accuracy"]["value"] for m in results["models"]}
    base = results["baseline"]
    best = max(acc, key=lambda k: acc[k])  # the first of the best, as the report names them
    other = next(k for k in acc if k not in (base, best))
    results["comparisons"] = {
        "alpha": 0.05, "n_resamples": 2000, "seed": 7, "correction": "holm",
        "family": "per metric, across the 3 comparison(s) of this run",
        "omnibus": {"test": "cochran-q", "on": "accuracy (per-example correctness)", "statistic": 120.5,
                    "df": 4, "p_value": 1e-9},
        "pairs": [
            {"a": best, "b": base, "n": 338, "mde_accuracy": 0.071, "discordant": {"a_only": 70, "b_only": 9},
             "metrics": {"accuracy": {"delta": acc[best] - acc[base], "low": 0.2, "high": 0.36,
                                      "p_value": 0.0001, "p_adjusted": 0.0003, "method": "exact McNemar"},
                         "log_loss": {"delta": -0.2, "low": -0.3, "high": -0.1, "p_value": 0.001,
                                      "p_adjusted": 0.004, "method": "paired bootstrap"},
                         "auroc": {"delta": None, "reason": "the model gives no probabilities"}}},
            {"a": base, "b": best, "mde_accuracy": None,
             "metrics": {"accuracy": {"delta": acc[base] - acc[best], "low": -0.36, "high": -0.2,
                                      "p_value": 0.0001, "p_adjusted": 0.0003, "method": "exact McNemar"}}},
            {"a": other, "b": best,
             "metrics": {"accuracy": {"delta": acc[other] - acc[best], "low": -0.04, "high": 0.02,
                                      "p_value": 0.2, "p_adjusted": 0.6, "method": "exact McNemar"}}},
        ],
    }
    next(m for m in results["models"] if m["name"] == best)["intervals"] = {
        "accuracy": {"low": 0.79, "high": 0.85, "method": "bootstrap"}}
    doc = parse(render_html(results, preds))
    sec = _section(doc, "comparisons")
    tables_ = sec.find_all("table")
    assert len(tables_) == 3
    rows = [t.find("tbody").child_tags("tr") for t in tables_]
    first = [td.clean_text() for td in rows[0][0].child_tags("td")]
    assert first[0] == f"+{acc[best] - acc[base]:.4f}" and first[1] == "[+0.2000, +0.3600]"
    assert first[2] == "0.0001" and first[3] == "0.0003" and first[-1] == "▲ better"
    # log loss went down: lower is better, so A is better
    assert [td.clean_text() for td in rows[0][1].child_tags("td")][-1] == "▲ better"
    untested = [td.clean_text() for td in rows[0][2].child_tags("td")]
    assert untested[0] == "n/a" and "not tested" in untested[-1] and "no probabilities" in untested[-1]
    flipped = [td.clean_text() for td in rows[1][0].child_tags("td")]
    assert flipped[0].startswith("−") and flipped[-1] == "▼ worse"
    assert flipped[1] == "[−0.3600, −0.2000]"
    assert [td.clean_text() for td in rows[2][0].child_tags("td")][-1] == "no significant difference at α = 0.05"
    text = sec.clean_text()
    for expected in ("cochran-q", "holm", "0.071", "only A got right: 70", "only B got right: 9"):
        assert expected in text
    cell = doc.find("tr", data_model=best).child_tags("td")[0]
    assert "[0.790, 0.850]" in cell.clean_text()
    assert "95% CI" in cell.find("span", pred=lambda n: n.has_class("ci")).attrs["title"]
    glance = doc.find("section", id="glance").clean_text()
    assert "a significant difference at α = 0.05 (adjusted p 0.0003)" in glance


def test_usage_section(binary_demo):
    results, preds = binary_demo.fresh()
    for m in results["models"]:
        m["failures"] = {}  # what a local run writes
    assert _section(parse(render_html(results, preds)), "usage") is None
    results["models"][0]["usage"] = {"requests": 338, "cached": 12, "batched": 0, "attempts": 341, "retries": 3,
                                     "rate_limited": 1, "prompt_tokens": 40000, "completion_tokens": 338}
    results["models"][0]["cost"] = {"usd": 0.0123, "spent_usd": 0.011, "source": "bundled price table",
                                    "complete": True}
    results["models"][1]["failures"] = {"timeout": 3, "rate limited": 1}
    results["cost"] = {"usd": 0.0123, "spent_usd": 0.011, "currency": "USD", "complete": False, "max_cost": 1.0,
                       "budget_exhausted": True}
    doc = parse(render_html(results, preds))
    sec = _section(doc, "usage")
    rows = sec.find("tbody").child_tags("tr")
    assert len(rows) == 2
    first = [td.clean_text() for td in rows[0].child_tags("td")]
    assert first[:6] == ["338", "12", "3", "40,000", "338", "40,338"]
    assert first[6].startswith("$0.0123") and "spent $0.0110" in first[6] and first[7] == "bundled price table"
    assert "timeout: 3" in rows[1].clean_text()
    assert "budget exhausted" in sec.clean_text() and "$0.0123" in sec.clean_text()


def test_training_absent_or_partial(binary_demo):
    results, preds = binary_demo.fresh()
    results["training"] = {}
    assert _section(parse(render_html(results, preds)), "training") is None
    results, preds = binary_demo.fresh()
    curves = results["training"]["job"]["curves"]
    curves["valid_loss"] = [v + 0.05 if i % 10 == 0 else None for i, v in enumerate(curves["train_loss"])]
    del curves["train_accuracy"]
    doc = parse(render_html(results, preds))
    svg = doc.find("figure", data_chart="training").find("svg")
    assert "valid loss" in svg.text() and "train accuracy" not in svg.text()
    results["training"]["job"]["curves"] = {}
    doc = parse(render_html(results, preds))
    assert doc.find("figure", data_chart="training") is not None  # checkpoint markers alone


def test_write_report_missing_predictions(binary_demo, tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(binary_demo.results), encoding="utf-8")
    out = write_report(tmp_path / "results.json")
    assert out == tmp_path / "report.html"
    doc = parse(out.read_text(encoding="utf-8"))
    assert "Predictions could not be read" in doc.find("p", pred=lambda n: n.has_class("notice")).clean_text()
    assert _section(doc, "confusion") is None
    assert _section(doc, "training") is not None


def test_write_report_to_explicit_path(binary_demo, tmp_path):
    out = write_report(binary_demo.results_path.parent, tmp_path / "sub" / "r.html")
    assert out.read_text(encoding="utf-8") == binary_demo.html


def test_template_override(binary_demo, tmp_path, monkeypatch):
    (tmp_path / "_glance.html.j2").write_text("<p id=\"custom\">{{ head.name }} custom</p>\n", encoding="utf-8")
    results, preds = binary_demo.fresh()
    results["suite"]["name"] = "<b>x</b>"
    html = render_html(results, preds, templates=[tmp_path])
    assert '<p id="custom">&lt;b&gt;x&lt;/b&gt; custom</p>' in html  # overrides are autoescaped too
    monkeypatch.setenv("HARNESS_REPORT_TEMPLATES", str(tmp_path))
    assert '<p id="custom">' in render_html(results, preds)
    monkeypatch.delenv("HARNESS_REPORT_TEMPLATES")
    assert '<p id="custom">' not in render_html(results, preds)


# --- the arithmetic behind the charts, against scikit-learn ---------------------------------------


def test_binary_curves_match_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(100):
        n = int(rng.integers(3, 80))
        y = rng.integers(0, 2, n)
        if y.all() or not y.any():
            continue
        score = np.round(rng.random(n), int(rng.integers(1, 3)))  # plenty of ties
        rows = [{"gold": "ab"[t], "probs": {"a": 1 - s, "b": s}} for t, s in zip(y, score)]
        bc = tables.binary_curves(rows, ["a", "b"], "b")
        assert bc.auc == pytest.approx(roc_auc_score(y, score), abs=1e-12)
        assert bc.ap == pytest.approx(average_precision_score(y, score), abs=1e-12)


def test_binary_curves_reasons():
    assert tables.binary_curves([{"gold": "a", "probs": None}], ["a", "b"], "b") == "no probabilities"
    one = [{"gold": "a", "probs": {"a": 0.6, "b": 0.4}}] * 3
    assert "one class" in tables.binary_curves(one, ["a", "b"], "b")


def test_calibration_bins_match_the_ece_metric(multiclass_demo):
    from harness_plugins.metrics.probabilistic import calibration_error

    labels = [lab["name"] for lab in multiclass_demo.results["suite"]["labels"]]
    for m in multiclass_demo.results["models"]:
        rows = [r for r in multiclass_demo.predictions if r["model"] == m["name"]]
        cal = tables.calibration(rows, labels, 10)
        probs = np.array([[r["probs"][lb] for lb in labels] for r in rows])
        gold = np.array([labels.index(r["gold"]) for r in rows])
        ece = calibration_error(probs.max(1), (probs.argmax(1) == gold).astype(float), 10)
        assert cal.ece == pytest.approx(ece, abs=1e-12)
        assert cal.ece == pytest.approx(m["metrics"]["ece"]["value"], abs=1e-9)
        assert cal.counts.sum() == len(rows)


def test_a_failing_chart_leaves_a_note(binary_demo, monkeypatch):
    from harness_reports import charts
    from harness_reports.svg import UnsafeSVG

    def boom(*args, **kwargs):
        raise UnsafeSVG("element <script> not allowed")

    monkeypatch.setattr(charts, "figure_svg", boom)
    results, preds = binary_demo.fresh()
    doc = parse(render_html(results, preds))
    notes = doc.find_all("p", pred=lambda n: n.has_class("chart-error"))
    charts_ = doc.find_all("figure", pred=lambda n: "data-chart" in n.attrs)
    assert len(notes) == len(charts_) >= 6  # forest, ROC, PR, calibration, runs side by side, training
    assert "UnsafeSVG: element <script> not allowed" in notes[0].clean_text()
    assert not doc.find_all("svg")


@pytest.mark.parametrize("n_bins", [10, 25, 50, 100])
def test_reliability_bins_equal_the_metric_bins_at_any_bin_count(n_bins):
    """0.07, 0.14, 0.28, 0.55... times 100 are not exact in binary: the report must bin as the metric does."""
    from harness.stats.calibration import calibration_bins

    conf = np.array([0.55, 0.555, 0.07, 0.14, 0.28, 0.56, 1.0, 0.5])
    rows = [{"gold": "a", "probs": {"a": c, "b": 1 - c}} for c in conf]
    rows[1]["gold"] = "b"
    cal = tables.calibration(rows, ["a", "b"], n_bins)
    top = np.maximum(conf, 1 - conf)
    assert (cal.counts == np.bincount(calibration_bins(top, n_bins), minlength=n_bins)).all()
    from harness_plugins.metrics.probabilistic import calibration_error

    correct = np.array([True, False, False, False, False, True, True, True])  # top label a unless conf < .5
    assert cal.ece == pytest.approx(calibration_error(top, correct.astype(float), n_bins), abs=1e-12)


def test_a_pair_with_no_detectable_difference_says_so(binary_demo):
    # final vs epoch 2 disagree on 5 of 338 examples: no accuracy difference is detectable, and the report says
    # why instead of showing a minimum detectable difference larger than their disagreement
    results, preds = binary_demo.fresh()
    pair = next(p for p in results["comparisons"]["pairs"] if (p["a"], p["b"]) == ("job/final", "job/ckpt-step-22"))
    assert pair["mde_accuracy"] is None and sum(pair["discordant"].values()) == 5
    text = _section(parse(render_html(results, preds)), "comparisons").clean_text()
    assert "No accuracy difference is detectable with 80% power here" in text
    assert text.count("Minimum detectable accuracy difference") == len(results["comparisons"]["pairs"]) - 1
