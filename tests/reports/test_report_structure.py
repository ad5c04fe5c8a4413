"""The rendered demo reports have the sections, numbers and markings the team relies on."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from report_dom import Node, assert_only_our_script, parse
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from harness_reports import render_html


def _label_names(results) -> list[str]:
    return [lab["name"] for lab in results["suite"]["labels"]]


def _rows_of(preds, model):
    return [r for r in preds if r["model"] == model]


@pytest.mark.parametrize("demo_name", ["binary_demo", "multiclass_demo"])
def test_metrics_table_one_row_per_model_and_best_marked(demo_name, request):
    demo = request.getfixturevalue(demo_name)
    doc = parse(demo.html)
    table = doc.find("table", pred=lambda n: n.has_class("metrics"))
    assert table is not None
    body = table.find("tbody")
    rows = body.child_tags("tr")
    assert [r.attrs["data-model"] for r in rows] == [m["name"] for m in demo.results["models"]]
    header = [th.attrs.get("data-metric") for th in table.find("thead").find_all("th")][1:]
    assert header == [m["name"] for m in demo.results["metrics"]]
    for j, meta in enumerate(demo.results["metrics"]):
        th = table.find("thead").find_all("th")[j + 1]
        assert th.attrs["title"] == meta["description"]  # description as tooltip
        values = {m["name"]: m["metrics"][meta["name"]]["value"] for m in demo.results["models"]}
        known = {k: v for k, v in values.items() if v is not None}
        target = (max if meta["higher_is_better"] else min)(known.values())
        expected = {k for k, v in known.items() if abs(v - target) <= 1e-12}
        marked = set()
        for row in rows:
            cell = row.child_tags("td")[j]
            if cell.has_class("best"):
                marked.add(row.attrs["data-model"])
                # bold + a marker, not colour alone
                assert cell.find("strong") is not None and "★" in cell.text()
            else:
                assert "★" not in cell.text()
            v = values[row.attrs["data-model"]]
            if v is not None:
                assert f"{v:.4f}" in cell.text()
        assert marked == expected, meta["name"]


def test_binary_report_has_roc_and_pr_svgs(binary_demo):
    doc = parse(binary_demo.html)
    for chart in ("roc", "pr"):
        fig = doc.find("figure", data_chart=chart)
        assert fig is not None, chart
        svg = fig.find("svg")
        assert svg is not None and svg.attrs.get("role") == "img"
        text = svg.clean_text()
        for m in binary_demo.results["models"]:
            assert m["name"] in text  # every model in the legend, with its AUC / AP
        assert ("AUC" if chart == "roc" else "AP") in text
    # legend AUCs agree with the auroc metric of the run
    label = doc.find("figure", data_chart="roc").find("svg").attrs["aria-label"]
    for m in binary_demo.results["models"]:
        auc = m["metrics"]["auroc"]["value"]
        assert f"{m['name']} AUC {auc:.3f}" in label


def test_multiclass_report_has_per_class_table_and_no_binary_curves(multiclass_demo):
    doc = parse(multiclass_demo.html)
    assert doc.find("figure", data_chart="roc") is None
    table = doc.find("table", pred=lambda n: n.has_class("per-class"))
    assert table is not None
    labels = _label_names(multiclass_demo.results)
    groups = table.find_all("tbody", pred=lambda n: n.has_class("class-group"))
    assert [g.attrs["data-class"] for g in groups] == labels
    models = [m["name"] for m in multiclass_demo.results["models"]]
    for gi, group in enumerate(groups):
        rows = group.child_tags("tr")
        assert [r.attrs["data-model"] for r in rows] == models
        for r in rows:
            preds = _rows_of(multiclass_demo.predictions, r.attrs["data-model"])
            y_true = [p["gold"] for p in preds]
            y_pred = [p["pred"] if p["pred"] is not None else "<none>" for p in preds]
            p, rc, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
            nums = [c.clean_text() for c in r.child_tags("td") if c.has_class("num")]
            nums = nums[-4:]  # (support only on the first row) precision, recall, F1, predicted
            assert nums[0] == f"{p[gi]:.3f}" and nums[1] == f"{rc[gi]:.3f}"
            assert nums[2].startswith(f"{f[gi]:.3f}")


@pytest.mark.parametrize("demo_name", ["binary_demo", "multiclass_demo"])
def test_confusion_counts_equal_sklearn(demo_name, request):
    demo = request.getfixturevalue(demo_name)
    _check_confusion(demo.results, demo.predictions, parse(demo.html))


def _check_confusion(results, predictions, doc: Node) -> None:
    labels = _label_names(results)
    tables = doc.find_all("table", pred=lambda n: n.has_class("confusion"))
    assert [t.attrs["data-model"] for t in tables] == [m["name"] for m in results["models"]]
    for t in tables:
        rows = _rows_of(predictions, t.attrs["data-model"])
        valid = [r for r in rows if r["pred"] is not None]
        expected = confusion_matrix([r["gold"] for r in valid], [r["pred"] for r in valid], labels=labels)
        invalid = Counter(r["gold"] for r in rows if r["pred"] is None)
        body = t.find("tbody").child_tags("tr")
        assert len(body) == len(labels)
        for i, tr in enumerate(body):
            counts = [int(td.attrs["data-count"]) for td in tr.child_tags("td") if "data-count" in td.attrs]
            assert counts[:-1] == expected[i].tolist()
            assert counts[-1] == invalid.get(labels[i], 0)
            cells = [td for td in tr.child_tags("td") if "data-count" in td.attrs]
            assert [td.clean_text() for td in cells] == [str(c) for c in counts]


def test_confusion_invalid_column_and_shading(binary_demo):
    results, preds = binary_demo.fresh()
    model = results["models"][1]["name"]
    for k, r in enumerate(r for r in preds if r["model"] == model):
        if k % 7 == 0:
            r.update(pred=None, status="invalid", probs=None)
        elif k % 11 == 0:
            r.update(pred=None, status="failed", probs=None, error="timeout")
    doc = parse(render_html(results, preds))
    _check_confusion(results, preds, doc)
    table = doc.find("table", data_model=model)
    styles = [td.attrs.get("style", "") for td in table.find_all("td") if "data-count" in td.attrs]
    assert all(re.fullmatch(r"(background-color: rgba\(\d+, \d+, \d+, [0-9.]+\))?", s) for s in styles)
    invalid_cells = [td for td in table.find_all("td") if td.has_class("invalid")]
    assert sum(int(td.attrs["data-count"]) for td in invalid_cells) == sum(
        1 for r in preds if r["model"] == model and r["pred"] is None)


def test_no_external_resources(binary_demo, multiclass_demo):
    for demo in (binary_demo, multiclass_demo):
        doc = parse(demo.html)
        assert_only_our_script(doc)
        assert not doc.find_all("link") and not doc.find_all("img") and not doc.find_all("iframe")
        for n in doc.iter():
            for k, v in n.attrs.items():
                if k in ("src", "href", "xlink:href", "action", "poster", "data"):
                    assert v.startswith("#"), (n.tag, k, v)
        assert "http://" not in demo.html and "https://" not in demo.html
        assert "@import" not in demo.html and "url(http" not in demo.html
        csp = doc.find("meta", http_equiv="Content-Security-Policy")
        assert csp is not None and "default-src 'none'" in csp.attrs["content"]


def test_header_and_footer_metadata(binary_demo):
    doc = parse(binary_demo.html)
    r = binary_demo.results
    head = doc.find("header").clean_text()
    for expected in (r["suite"]["name"], "Baseball", "Hockey", r["suite"]["dataset"]["sha256"],
                     r["harness_version"], r["created_at"], r["baseline"], "338 examples"):
        assert expected in head, expected
    foot = doc.find("footer").clean_text()
    for m in r["models"]:
        assert m["spec"] in foot and m["provider"] in foot
    for m in r["metrics"]:
        assert m["plugin"] in foot


def test_counts_and_timing_table(binary_demo):
    doc = parse(binary_demo.html)
    table = doc.find("table", pred=lambda n: n.has_class("outputs"))
    rows = table.find("tbody").child_tags("tr")
    assert [tr.attrs["data-model"] for tr in rows] == [m["name"] for m in binary_demo.results["models"]]
    for tr, m in zip(rows, binary_demo.results["models"]):
        cells = [td.clean_text() for td in tr.child_tags("td")]
        c = m["counts"]
        assert cells[:5] == [str(c["n"]), str(c["ok"]), str(c["invalid"]), str(c["failed"]), str(c["flagged"])]


def test_calibration_and_training_sections(binary_demo):
    doc = parse(binary_demo.html)
    cal = doc.find("figure", data_chart="calibration")
    assert cal is not None and cal.find("svg") is not None
    for m in binary_demo.results["models"]:
        assert m["name"] in cal.find("svg").attrs["aria-label"]
    training = doc.find("section", id="training")
    assert training is not None and training.find("figure", data_chart="training").find("svg") is not None
    ckpts = binary_demo.results["training"]["job"]["checkpoints"]
    table = training.find("table", pred=lambda n: n.has_class("checkpoints"))
    rows = table.find("tbody").child_tags("tr")
    assert [tr.attrs["data-model"] for tr in rows] == [c["model"] for c in ckpts]
    acc = {m["name"]: m["metrics"]["accuracy"]["value"] for m in binary_demo.results["models"]}
    best = max(acc[c["model"]] for c in ckpts)
    marked = [tr.attrs["data-model"] for tr in rows if any(td.has_class("best") for td in tr.child_tags("td"))]
    assert marked == [c["model"] for c in ckpts if acc[c["model"]] == best]


def test_rendering_is_deterministic(binary_demo):
    results, preds = binary_demo.fresh()
    assert render_html(results, preds, texts=binary_demo.texts) == binary_demo.html


def test_svg_ids_are_unique_across_charts(binary_demo):
    ids = re.findall(r'\sid="([^"]+)"', binary_demo.html)
    dupes = [i for i, k in Counter(ids).items() if k > 1]
    assert not dupes
    for ref in set(re.findall(r'(?:href="#|url\(#)([^")]+)', binary_demo.html)):
        assert ref in ids, ref


def test_demo_numbers_are_finite(binary_demo):
    assert "nan" not in re.sub(r"<svg.*?</svg>", "", binary_demo.html, flags=re.S).lower().split()
    assert np.isfinite([m["metrics"]["accuracy"]["value"] for m in binary_demo.results["models"]]).all()
