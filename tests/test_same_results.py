"""The performance work of issue 14 changed how results are computed, never what they are: the same suites
give the results.json numbers, the predictions.jsonl bytes and the report page (charts aside) that the release
before it gave (``tests/data/same_results``, written by harness at commit 28a5890; see tests/sameresults.py).

Floats are compared to a relative 1e-9 (``sameresults.REL_TOL``): summation order legitimately differs (BLAS
kernels for the bootstrap's products; vectorised metrics instead of scikit-learn's), nothing else may."""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
from pathlib import Path

import pytest
import sameresults
from harness_testkit import HARNESS_SCRIPT

GOLDEN = Path(__file__).parent / "data" / "same_results"


@pytest.fixture(scope="module", params=sameresults.KINDS)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    kind = request.param
    root = tmp_path_factory.mktemp(f"same-{kind}")
    suite = sameresults.write_suite(root / "suite", kind)
    sameresults.run_suite(str(HARNESS_SCRIPT), suite, root / "out")
    return kind, root / "out"


def test_results_json_numbers_are_the_release_befores(run: tuple[str, Path]) -> None:
    kind, out = run
    got = sameresults.normalised(json.loads((out / "results.json").read_text(encoding="utf-8")))
    want = json.loads((GOLDEN / f"{kind}.results.json").read_text(encoding="utf-8"))
    diffs = list(sameresults.differences(want, got))
    assert not diffs, "\n".join(diffs[:40])


def test_predictions_jsonl_is_byte_for_byte_the_release_befores(run: tuple[str, Path]) -> None:
    kind, out = run
    digest = hashlib.sha256((out / "predictions.jsonl").read_bytes()).hexdigest()
    assert digest == (GOLDEN / f"{kind}.predictions.sha256").read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("kind", sameresults.KINDS)
def test_a_runs_report_from_memory_is_the_page_read_back_from_its_files(tmp_path: Path, kind: str) -> None:
    # `harness run` renders the report from the predictions in memory; `harness report` reads them back
    from harness.engine import EngineOptions
    from harness.plugins import load_registry
    from harness.runner import RunOptions, run
    from harness.suite import load_suite
    from harness_reports import write_report

    suite = load_suite(sameresults.write_suite(tmp_path / "suite", kind, csv_checkpoint=False))
    out = tmp_path / "out"
    outcome = run(suite, load_registry(entry_points=False), RunOptions(out_dir=out, engine=EngineOptions(
        cache=False, progress="off")))
    mem = outcome.in_memory
    assert mem is not None and (mem.validation_columns is not None) == (kind == "binary")
    write_report(outcome.results_path, tmp_path / "memory.html", examples=mem.examples, columns=mem.columns,
                 validation_examples=mem.validation_examples, validation_columns=mem.validation_columns)
    write_report(outcome.results_path, tmp_path / "files.html")
    assert (tmp_path / "memory.html").read_text(encoding="utf-8") == \
        (tmp_path / "files.html").read_text(encoding="utf-8")


def test_the_report_says_what_the_release_befores_said(run: tuple[str, Path]) -> None:
    kind, out = run
    page = sameresults.report_page(str(HARNESS_SCRIPT), out)
    want = gzip.decompress((GOLDEN / f"{kind}.report.html.gz").read_bytes()).decode("utf-8")
    if page != want:
        diff = difflib.unified_diff(want.splitlines(), page.splitlines(), "before", "now", lineterm="", n=1)
        pytest.fail("the report page changed:\n" + "\n".join(list(diff)[:60]))
