"""The report in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

The demo reports load with no console error and no network request; the examples table's filters, search
and sort work; no table is wider than the page at 1,280 px or in print (A4 and Letter, portrait); and
payloads placed in example texts, label names, display names, model names and the suite description never
execute. Skipped only where no chromium is installed (.ci/run installs it, and playwright comes with the
test extras).
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.plugins import load_registry
from harness.runner import RunOptions, run
from harness.suite import load_suite
from harness_reports import write_report

pytestmark = pytest.mark.browser

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# printable width of a portrait page with the report's 12 mm margins, in CSS pixels (96 per inch)
PRINT_WIDTHS = {"A4": round((210 - 24) / 25.4 * 96), "Letter": round((8.5 * 25.4 - 24) / 25.4 * 96)}


def _chromium() -> str | None:
    for c in CANDIDATES:
        if Path(c).exists():
            return c
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def browser():
    path = _chromium()
    if path is None:
        pytest.skip("no chromium installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Page:
    """A page with everything it logged and requested recorded."""

    def __init__(self, browser, html_path: Path, width: int = 1280) -> None:
        self.ctx = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=True)
        self.page = self.ctx.new_page()
        self.console: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.ctx.on("request", lambda r: self.requests.append(r.url))
        self.url = html_path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_load_state("load")

    def close(self) -> None:
        self.ctx.close()


def _write(demo, tmp_path: Path) -> Path:
    for f in demo.results_path.parent.iterdir():
        if f.is_file():  # not classifiers/ (the embeddings baselines' fitted models)
            shutil.copy(f, tmp_path / f.name)
    return write_report(tmp_path / "results.json")


OVERFLOW_JS = """() => {
  const W = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > W + 1) out.push('page ' + document.documentElement.scrollWidth);
  for (const t of document.querySelectorAll('table')) {
    const r = t.getBoundingClientRect();
    if (r.width === 0) continue;  // folded away
    if (r.right > W + 1 || t.scrollWidth > t.clientWidth + 1) out.push((t.id || t.className) + ' ' + r.right);
  }
  return out;
}"""


@pytest.mark.parametrize("demo_name", ["binary_demo", "multiclass_demo"])
def test_demo_report_loads_clean(binary_demo, multiclass_demo, browser, demo_name, tmp_path):
    demo = binary_demo if demo_name == "binary_demo" else multiclass_demo  # runs before the browser starts
    page = Page(browser, _write(demo, tmp_path))
    try:
        assert page.console == []
        assert page.requests == [page.url]  # the page itself, nothing else
        assert page.page.evaluate("document.getElementById('flips-count').textContent") != ""  # the script ran
        assert page.page.evaluate(OVERFLOW_JS) == []
        page.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert page.page.evaluate(OVERFLOW_JS) == []
        for size, width in PRINT_WIDTHS.items():
            page.page.emulate_media(media="print")
            page.page.set_viewport_size({"width": width, "height": 1100})
            assert page.page.evaluate(OVERFLOW_JS) == [], size
        pdf = page.page.pdf(format="A4")
        assert pdf[:5] == b"%PDF-" and len(pdf) > 50_000
    finally:
        page.close()


def _visible(page) -> list[dict[str, str]]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('#flips tbody tr')).filter(r => !r.hidden)
        .map(r => ({gold: r.dataset.gold, f: r.getAttribute('data-f' + document.getElementById('flips-pair').value),
                    conf: r.dataset.conf, text: r.textContent.toLowerCase()}))""")


def test_flips_filter_search_and_sort(binary_demo, browser, tmp_path):
    page = Page(browser, _write(binary_demo, tmp_path))
    p = page.page
    try:
        total = len(_visible(p))
        assert total > 20
        p.select_option("#flips-gold", "hockey")
        rows = _visible(p)
        assert 0 < len(rows) < total and {r["gold"] for r in rows} == {"hockey"}
        assert p.text_content("#flips-count") == str(len(rows))
        p.select_option("#flips-type", "broken")
        broken = _visible(p)
        assert broken and all(r["f"] == "broken" and r["gold"] == "hockey" for r in broken)
        p.select_option("#flips-pair", index=0)  # another comparison: the filter follows it
        assert all(r["f"] == "broken" for r in _visible(p))
        p.select_option("#flips-gold", "")
        p.select_option("#flips-type", "")
        word = "puck"
        p.fill("#flips-search", word)
        found = _visible(p)
        assert found and all(word in r["text"] for r in found) and len(found) < total
        p.fill("#flips-search", "")
        assert len(_visible(p)) == total
        confs = [float(r["conf"]) for r in _visible(p)]
        assert confs == sorted(confs, reverse=True)
        p.click("#flips-sort")
        confs = [float(r["conf"]) for r in _visible(p)]
        assert confs == sorted(confs)
        assert page.console == []
    finally:
        page.close()


PAYLOADS = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=\"window.__xss=1\">",
    "\"><svg onload=window.__xss=1>",
    "'><iframe srcdoc=\"<script>parent.__xss=1</script>\">",
    "javascript:window.__xss=1",
    "<a href=\"javascript:window.__xss=1\">click</a>",
    "</script><script>window.__xss=1</script>",
    "<details open ontoggle=window.__xss=1>",
    "<body onload=window.__xss=1>",
    "<style>@import 'http://127.0.0.1:9/x.css';</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    "<input autofocus onfocus=window.__xss=1>",
    "<video><source onerror=window.__xss=1></video>",
    "{{ 'tmpl' ~ 'EVAL' }}{% raw %}",
]


def _hostile_suite(tmp: Path) -> Path:
    """A real run whose labels, display names, model names, description and example texts are payloads."""
    pos, neg = "pos" + PAYLOADS[0], "neg" + PAYLOADS[1]
    labels = [neg, pos]
    models = ["base" + PAYLOADS[2], "cand" + PAYLOADS[3], "cand2" + PAYLOADS[6]]
    rows = []
    for i in range(120):
        g = i % 2
        rows.append({"id": f"id{i}{PAYLOADS[i % len(PAYLOADS)]}",
                     "prompt": f"{PAYLOADS[i % len(PAYLOADS)]} text {i}\n\n###\n\n", "completion": " " + labels[g]})
    (tmp / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for k, _name in enumerate(models):
        with (tmp / f"m{k}.jsonl").open("w", encoding="utf-8") as fh:
            for i, r in enumerate(rows):
                g = i % 2
                right = (i * (k + 3)) % 7 != 0
                pp = (0.85 if right else 0.35) if g == 1 else (0.15 if right else 0.65)
                fh.write(json.dumps({"id": r["id"], "label": labels[g if right else 1 - g],
                                     "probs": {neg: 1 - pp, pos: pp}}) + "\n")
    suite = {"name": "xss", "description": " ".join(PAYLOADS),
             "labels": [{"name": neg, "display": PAYLOADS[4] + PAYLOADS[7]},
                        {"name": pos, "display": PAYLOADS[5] + PAYLOADS[8]}],
             "positive": pos, "data": {"heldout": "heldout.jsonl"},
             "models": {name: f"predictions:m{k}.jsonl" for k, name in enumerate(models)},
             "baseline": models[0]}
    (tmp / "suite.yaml").write_text(json.dumps(suite), encoding="utf-8")  # JSON is YAML
    return tmp


def test_payloads_never_execute(browser, tmp_path):
    folder = _hostile_suite(tmp_path)
    with ThreadPoolExecutor(1) as pool:  # the run's event loop, away from Playwright's
        outcome = pool.submit(run, load_suite(folder), load_registry(entry_points=False),
                              RunOptions(out_dir=folder / "out")).result()
    path = write_report(outcome.results_path)
    html = path.read_text(encoding="utf-8")
    assert outcome.results["verdict"]["headline"]
    page = Page(browser, path)
    try:
        p = page.page
        p.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        p.fill("#flips-search", "script")
        p.select_option("#flips-type", "broken")
        p.click("#flips-sort")
        assert p.evaluate("window.__xss === undefined && window.parent.__xss === undefined")
        assert page.dialogs == []
        assert page.requests == [page.url]
        assert p.evaluate("document.querySelectorAll('script').length") == 1
        assert p.evaluate("document.querySelectorAll('img, iframe, video, math, input[autofocus]').length") == 0
        assert p.evaluate("Array.from(document.querySelectorAll('style')).filter(s => !s.closest('svg')).length") \
            == 1  # the page's own <style> (charts carry their own, checked by svg.check_svg)
        body = p.evaluate("document.body.innerText")
        for payload in PAYLOADS[:8]:
            assert payload in body or payload in html.replace("&lt;", "<"), payload  # shown as text
        assert "tmplEVAL" not in body  # no template evaluation (a number such as 7*7 could be in a timestamp)
        errors = [c for c in page.console if "Content Security Policy" not in c]
        assert errors == [], errors
    finally:
        page.close()
