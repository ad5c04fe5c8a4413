"""The verdict first, in words, in the three cases (better, worse — a regression, not distinguishable), the
same in results.json, the terminal summary, the HTML report and the Markdown summary; honest selection on a
validation split; every new section present and well formed (parsed with an HTML parser)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from report_dom import parse
from rich.console import Console

from harness.cli.summary import print_verdict
from harness.errors import InputError
from harness.plugins import load_registry
from harness.runner import RunOptions, run
from harness.suite import load_suite
from harness_reports import render_html, write_report
from harness_reports.markdown import render_markdown, write_markdown
from harness_reports.render import side_files

N = 400


def _suite(tmp: Path, cand_acc: float, base_acc: float = 0.75, seed: int = 0) -> Path:
    """Two models from a predictions file: the baseline right on a random 75% of the examples; the
    candidate right on ``cand_acc`` of them (its errors and rights overlapping the baseline's as much as
    they can), or, at the same accuracy, the baseline with 8 examples traded (4 fixed, 4 broken)."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 2, N)
    labels = ["neg", "pos"]
    with (tmp / "heldout.jsonl").open("w") as fh:
        for i, g in enumerate(gold):
            fh.write(json.dumps({"id": f"e{i}", "prompt": f"example number {i}\n\n###\n\n",
                                 "completion": f" {labels[g]}"}) + "\n")
    order = rng.permutation(N)
    base = np.zeros(N, dtype=bool)
    base[order[: int(base_acc * N)]] = True
    cand = np.zeros(N, dtype=bool)
    cand[order[: int(cand_acc * N)]] = True
    if cand_acc == base_acc:
        cand = base.copy()
        cand[order[:4]] = False
        cand[order[-4:]] = True
    for name, right in (("base", base), ("cand", cand)):
        with (tmp / f"{name}.jsonl").open("w") as fh:
            for i, (g, ok) in enumerate(zip(gold, right)):
                p = 0.8 if ok else 0.3  # probability of the gold label
                pp = p if g == 1 else 1 - p
                fh.write(json.dumps({"id": f"e{i}", "label": labels[g if ok else 1 - g],
                                     "probs": {"neg": 1 - pp, "pos": pp}}) + "\n")
    (tmp / "suite.yaml").write_text(
        "name: words\nlabels: [neg, pos]\ndata: {heldout: heldout.jsonl}\n"
        "models:\n  base: predictions:base.jsonl\n  cand: predictions:cand.jsonl\nbaseline: base\n",
        encoding="utf-8")
    return tmp


def _run(folder: Path):
    outcome = run(load_suite(folder), load_registry(entry_points=False), RunOptions(out_dir=folder / "out"))
    write_report(outcome.results_path)
    return outcome.results, (folder / "out" / "report.html").read_text(encoding="utf-8"), outcome.results_path


@pytest.mark.parametrize("acc, word, call", [
    (0.88, "better", "better"), (0.6, "worse — a regression", "worse"),
    (0.75, "not distinguishable", "not_distinguishable")])
def test_verdict_words_in_three_cases(tmp_path, acc, word, call):
    results, html, path = _run(_suite(tmp_path, acc))
    v = results["verdict"]
    pair = v["pairs"][0]
    assert pair["families"]["accuracy"]["call"] == call
    assert v["headline"].startswith(f"cand vs base: {word}")
    doc = parse(html)
    box = doc.find("section", id="verdict")
    assert box is not None and doc.find("main").child_tags("section")[0] is box  # first on the page
    assert box.find("p", pred=lambda n: n.has_class("headline")).clean_text().startswith(f"cand vs base: {word}")
    cells = box.find("table", pred=lambda n: n.has_class("families")).find("tbody").child_tags("tr")[0]
    assert word in cells.child_tags("td")[1].clean_text()  # the accuracy family's cell
    console = Console(record=True, width=200)
    print_verdict(results, console)
    assert f"verdict: cand vs base: {word}" in console.export_text()
    assert f"**Verdict:** cand vs base: {word}" in write_markdown(path)


def test_binary_demo_sections(binary_demo):
    doc = parse(binary_demo.html)
    for sid in ("verdict", "metrics", "deltas", "comparisons", "examples", "curves", "confusion", "calibration",
                "sweep", "training", "outputs"):
        assert doc.find("section", id=sid) is not None, sid
    sel = doc.find("table", pred=lambda n: n.has_class("best-set"))
    rows = sel.find("tbody").child_tags("tr")
    assert len(rows) == 7 and sum(r.has_class("in-set") for r in rows) >= 2  # 5 of the job, 2 baselines
    assert "ship" in " ".join(r.clean_text() for r in rows if r.has_class("recommended"))
    assert "optimistic" in doc.find("section", id="verdict").clean_text()
    matrix = doc.find("table", pred=lambda n: n.has_class("delta-matrix"))
    assert len(matrix.find("tbody").child_tags("tr")) == len(binary_demo.results["comparisons"]["pairs"])
    assert "▼" in matrix.clean_text()  # ECE got worse vs the base: called worse
    assert doc.find("figure", data_chart="forest").find("svg") is not None
    assert all(p.tag == "details" for p in doc.find("section", id="comparisons").find_all(
        pred=lambda n: n.has_class("pair")))
    flips = doc.find("table", id="flips").find("tbody").child_tags("tr")
    assert flips and all("data-f0" in r.attrs and r.attrs["data-gold"] in ("baseball", "hockey") for r in flips)
    shown = doc.find("p", pred=lambda n: n.has_class("shown")).clean_text()
    assert f"{len(flips)} of " in shown
    first = flips[0].child_tags("td")[0].clean_text()
    assert binary_demo.texts[flips[0].find("span").clean_text()][:30] in first  # the example's own text
    confs = [float(r.attrs["data-conf"]) for r in flips]
    assert confs == sorted(confs, reverse=True)
    assert len(doc.find_all("details", pred=lambda n: n.has_class("model-errors"))) == 7
    th = doc.find("table", pred=lambda n: n.has_class("thresholds")).clean_text()
    assert "F1-optimal" in th and "p > 0.5" in th
    assert "optimistic" in doc.find("section", id="curves").clean_text()
    temp = doc.find("table", pred=lambda n: n.has_class("temperature"))
    assert len(temp.find("tbody").child_tags("tr")) == 7 and "T = " in temp.clean_text()
    bins = doc.find("table", pred=lambda n: n.has_class("bin-table")).find("tbody").child_tags("tr")
    assert sum(int(td.clean_text().replace(",", "")) for td in bins[0].child_tags("td")) == 338
    sweep = doc.find("section", id="sweep")
    assert sweep.find("figure", data_chart="sweep") is not None and "epoch" in sweep.clean_text()


def test_examples_are_capped_and_say_so(binary_demo):
    from harness_reports import examples as ex_mod
    from harness_reports.tables import group_by_model

    results = binary_demo.results
    names = [m["name"] for m in results["models"]]
    groups = group_by_model(binary_demo.predictions, names)
    labels = [{"name": x["name"], "display": x["display"]} for x in results["suite"]["labels"]]
    pairs = [(p["a"], p["b"]) for p in results["comparisons"]["pairs"]]
    sec = ex_mod.examples_section(groups, labels, binary_demo.texts, pairs, "job/final", "job/base", {}, cap=30)
    assert sec["shown"] == 30 and sec["total"] > 30 and sec["capped"]
    kinds = [r["flips"][3] for r in sec["rows"]]  # job/final vs job/base
    assert kinds.count("broken") == kinds.count("fixed") == 10


def test_threshold_targets_and_validation_split(tmp_path):
    src = load_suite("baseball-hockey").root
    for f in ("train.jsonl", "suite.yaml"):
        shutil.copy(src / f, tmp_path / f)
    lines = (src / "heldout.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "heldout.jsonl").write_text("".join(lines[:200]), encoding="utf-8")
    (tmp_path / "validation.jsonl").write_text("".join(lines[200:]), encoding="utf-8")
    text = (tmp_path / "suite.yaml").read_text(encoding="utf-8")
    text = text.replace("  train: train.jsonl\n", "  train: train.jsonl\n  validation: validation.jsonl\n")
    (tmp_path / "suite.yaml").write_text(text + "thresholds: {precision: 0.9}\n", encoding="utf-8")
    results, html, path = _run(tmp_path)
    sel = results["verdict"]["selection"]
    assert sel["chosen_on"] == "validation" and sel["optimistic"] is False and sel["n"] == len(lines) - 200
    assert sel["confirmation"]["model"] == sel["recommended"]
    assert (path.parent / "predictions.validation.jsonl").is_file()
    assert set(results["validation"]["metrics"]) == {m["name"] for m in results["models"]}
    doc = parse(html)
    assert "confirm" in doc.find("section", id="verdict").clean_text().lower()
    curves = doc.find("section", id="curves").clean_text()
    assert "picked on the validation split" in curves and "precision ≥ 0.9" in curves
    assert "fitted on the validation split" in doc.find("section", id="calibration").clean_text()


def test_validation_and_heldout_sharing_an_example_is_refused(tmp_path):
    folder = _suite(tmp_path, 0.8)
    shutil.copy(folder / "heldout.jsonl", folder / "validation.jsonl")
    text = (folder / "suite.yaml").read_text().replace("{heldout: heldout.jsonl}",
                                                        "{heldout: heldout.jsonl, validation: validation.jsonl}")
    (folder / "suite.yaml").write_text(text)
    with pytest.raises(InputError, match="both the validation and the held-out split"):
        run(load_suite(folder), load_registry(entry_points=False), RunOptions(out_dir=folder / "out"))


def test_markdown_is_escaped(binary_demo):
    results, preds = binary_demo.fresh()
    texts = {k: "| <script>alert(1)</script> [x](javascript:alert(1)) ![i](http://x/i.png)" for k in binary_demo.texts}
    results["models"][-1]["name"] = "evil|<b>*x*"
    for r in preds:
        if r["model"] == "job/final":
            r["model"] = "evil|<b>*x*"
    results["verdict"]["candidate"] = "evil|<b>*x*"
    for p in results["comparisons"]["pairs"]:
        p["a"] = "evil|<b>*x*" if p["a"] == "job/final" else p["a"]
    out = render_markdown(results, preds, texts)
    assert "<script>" not in out and "<b>" not in out and "[x](javascript" not in out and "![i]" not in out
    assert "\\<script\\>" in out and "\\[x\\](javascript" in out
    for line in out.splitlines():
        if line.startswith("| broken") or line.startswith("| fixed"):
            assert line.count(" | ") == 4  # no cell split by a stray pipe


def test_side_files_and_notices(binary_demo, tmp_path):
    for f in binary_demo.results_path.parent.iterdir():
        if f.is_file():  # not classifiers/ (the embeddings baselines' fitted models)
            shutil.copy(f, tmp_path / f.name)
    (tmp_path / "examples.jsonl").unlink()
    notices: list[str] = []
    texts, validation = side_files(tmp_path / "results.json", binary_demo.results, notices)
    assert texts == {} and validation == [] and "Example texts could not be read" in notices[0]
    html = render_html(*binary_demo.fresh())
    assert "Example texts are not available" in parse(html).find("section", id="examples").clean_text()


def test_scoring_method_from_model_info_is_shown_escaped(binary_demo):
    results, preds = binary_demo.fresh()
    results["models"][1]["info"]["scoring"] = "<b>logprobs</b>"
    doc = parse(render_html(results, preds))
    row = doc.find("tr", data_model=results["models"][1]["name"])
    assert "scoring: <b>logprobs</b>" in row.child_tags("th")[0].clean_text()


def test_markdown_says_what_the_data_checks_found_escaped(binary_demo):
    # the HTML report shows the data checks' errors and warnings at its top; the pull-request summary does too
    results, preds = binary_demo.fresh()
    assert [f["code"] for f in results["data_checks"]["findings"]] == ["too-small"]
    out = render_markdown(results, preds, binary_demo.texts)
    [line] = [line for line in out.splitlines() if "too-small" in line]
    assert line.startswith("> Data check warning: the held-out set (338 examples)")
    assert out.index("too-small") < out.index("**Deltas**")
    results["data_checks"]["overridden"] = True
    results["data_checks"]["findings"] = [{"code": "leak", "severity": "error", "message": "<b>[x](y)</b>",
                                           "rows": [3], "count": 1}] * 9
    out = render_markdown(results, preds, binary_demo.texts)
    assert "the run was forced (--allow-data-errors)" in out and "<b>" not in out and "[x](y)" not in out
    assert "1 more data-check findings in results.json (data\\_checks)" in out  # the key the run writes
