"""Untrusted text (model, label, suite, metric, job names...) never becomes markup, script or a handler."""

from __future__ import annotations

import pytest
from report_dom import assert_only_our_script, parse, without_our_script

from harness_reports import render_html
from harness_reports.svg import UnsafeSVG, check_svg

PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>']
EVIL = " ".join(PAYLOADS)


def _hostile(results, preds):
    """Put the payloads into every text field a results file carries, consistently across files."""
    rename = {m["name"]: f"{m['name']} {PAYLOADS[i % 3]}" for i, m in enumerate(results["models"])}
    old_pos = results["suite"]["positive"]
    new_pos = f"{old_pos}{PAYLOADS[0]}"
    for m in results["models"]:
        m["name"] = rename[m["name"]]
        m["spec"] += EVIL
        m["info"]["note"] = EVIL
        m["error"] = EVIL
        m["usage"] = {"requests": 3, "cached": 1, "prompt_tokens": 10, "completion_tokens": 2}
        m["cost"] = {"usd": 0.01, "source": EVIL}
        m["failures"] = {EVIL: 2}
        m["intervals"] = {"accuracy": {"low": 0.1, "high": 0.9, "method": EVIL}}
    results["models"][0]["metrics"]["auroc"] = {"value": None, "reason": EVIL}
    results["baseline"] = rename[results["baseline"]]
    suite = results["suite"]
    suite["name"] += PAYLOADS[2]
    suite["description"] = EVIL
    suite["path"] = EVIL
    suite["dataset"]["path"] = EVIL
    suite["dataset"]["sha256"] = PAYLOADS[1]
    suite["metric_options"][EVIL] = EVIL
    for lab in suite["labels"]:
        lab["display"] = EVIL
        if lab["name"] == old_pos:
            lab["name"] = new_pos
    suite["positive"] = new_pos
    results["created_at"] = EVIL
    results["harness_version"] = EVIL
    for m in results["metrics"]:
        m["title"] += PAYLOADS[1]
        m["description"] = EVIL
        m["plugin"] = EVIL
    job = results["training"].pop("job")
    job["kind"] = EVIL
    job["base_model"] = rename[job["base_model"]]
    for c in job["checkpoints"]:
        c["model"] = rename[c["model"]]
        c["metrics"] = {EVIL: EVIL}
    job["curves"][EVIL + "_loss"] = job["curves"]["train_loss"]
    results["training"][EVIL] = job
    names = [m["name"] for m in results["models"]]
    results["comparisons"] = {
        "alpha": 0.05, "n_resamples": EVIL, "seed": EVIL, "correction": EVIL,
        "omnibus": {"test": EVIL, "statistic": 3.0, "df": 4, "p_value": 0.01},
        "pairs": [{"a": names[0], "b": names[1], "mde_accuracy": 0.05,
                   "metrics": {"accuracy": {"delta": 0.3, "low": 0.2, "high": 0.4, "p_value": 0.001,
                                            "p_adjusted": 0.002, "method": EVIL},
                               EVIL: {"delta": 0.1, "p_value": 0.5, "p_adjusted": 0.5, "method": EVIL}}}],
    }
    for r in preds:
        r["model"] = rename[r["model"]]
        for key in ("gold", "pred"):
            if r.get(key) == old_pos:
                r[key] = new_pos
        if r.get("probs"):
            r["probs"] = {(new_pos if k == old_pos else k): v for k, v in r["probs"].items()}
        r["flags"] = [EVIL]
    return results, preds


def test_hostile_text_never_executes(binary_demo):
    results, preds = _hostile(*binary_demo.fresh())
    html = render_html(results, preds)
    doc = parse(html)
    elements = list(doc.iter())
    assert len(elements) > 500
    assert_only_our_script(doc)
    assert not [n for n in elements if n.tag in ("img", "iframe", "object", "embed", "foreignobject")]
    handlers = [(n.tag, k) for n in elements for k in n.attrs if k.lower().startswith("on")]
    assert not handlers
    # nothing was lost either: the payloads are shown as text, in the tables and inside the SVG charts
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    for raw in ("<script", "<img", "<svg onload"):
        assert raw not in without_our_script(html).lower()
    svgs = doc.find_all("svg")
    assert len(svgs) >= 4
    legend_text = doc.find("figure", data_chart="roc").find("svg").text()
    assert PAYLOADS[0] in legend_text  # decoded text of an escaped <text> node
    # every section still rendered
    for section in ("metrics", "outputs", "comparisons", "curves", "confusion", "per-class", "calibration",
                    "training", "usage"):
        assert doc.find("section", id=section) is not None, section


def test_hostile_labels_multiclass(multiclass_demo):
    results, preds = multiclass_demo.fresh()
    for lab in results["suite"]["labels"]:
        lab["display"] = f"{lab['display']} {PAYLOADS[2]}"
    results["suite"]["description"] = PAYLOADS[0]
    doc = parse(render_html(results, preds))
    assert_only_our_script(doc)
    assert not [k for n in doc.iter() for k in n.attrs if k.startswith("on")]


@pytest.mark.parametrize("svg", [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    '<svg xmlns="http://www.w3.org/2000/svg"><g><rect onclick="x()"/></g></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    '<use xlink:href="http://evil.example/x.svg#a"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><path style="fill: url(http://evil.example/p)"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://evil.example/x.css";</style></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><text>unclosed</svg>',
])
def test_svg_check_rejects_active_content(svg):
    with pytest.raises(UnsafeSVG):
        check_svg(svg)


def test_svg_check_accepts_matplotlib_output():
    check_svg('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
              '<defs><clipPath id="p1"><rect/></clipPath></defs><g clip-path="url(#p1)">'
              '<use xlink:href="#m1" style="fill: #fff"/><text>&lt;script&gt;</text></g></svg>')
