"""The parts of a run that serve its verdict (docs/report.md, "Verdict"): the example texts and the validation
split's predictions written beside results.json, the suite's ``selection:`` and ``thresholds:`` checked, and
the ``verdict`` object computed from the comparisons and the per-example data."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..analysis import verdict as verdict_mod
from ..analysis.compare import CompareOptions
from ..errors import InputError
from ..examples import Example
from ..metrics import Metric, MetricData
from ..output.results import EXAMPLES_FILE, VALIDATION_PREDICTIONS_FILE, row_json, write_lines
from ..suite import Suite

TEXT_LIMIT = 4000
"""Characters of an example's text kept in examples.jsonl (the report shows less; the data file has it all)."""


def check_selection(suite: Suite, metric_names: Sequence[str]) -> None:
    """``selection.metric`` and ``selection.tie_break`` must name metrics of the run (checked before scoring)."""
    for key in ("metric", "tie_break"):
        name = getattr(suite.selection, key)
        if name is not None and name not in metric_names:
            raise InputError(f"{name!r} is not one of the run's metrics ({', '.join(metric_names)})",
                             file=suite.path, line=suite.line_of("selection", key), field=f"selection.{key}")


def check_split_ids(suite: Suite, heldout: Sequence[Example], validation: Sequence[Example]) -> None:
    """An example in both the validation and the held-out split would leak the choice into its confirmation."""
    ids = {ex.id for ex in heldout}
    for ex in validation:
        if ex.id in ids:
            raise InputError(f"example id {ex.id!r} is in both the validation and the held-out split (the same "
                             "example cannot both choose the model and confirm the choice)", file=ex.source or
                             suite.path, line=ex.line or None, field="id")


def example_rows(examples: Sequence[Example]) -> list[dict[str, Any]]:
    """examples.jsonl: each held-out example's id and text (for the report's examples; untrusted data)."""
    rows = []
    for ex in examples:
        row: dict[str, Any] = {"id": ex.id, "text": ex.text[:TEXT_LIMIT]}
        if len(ex.text) > TEXT_LIMIT:
            row["truncated"] = True
        rows.append(row)
    return rows


def _example_lines(examples: Sequence[Example], chunk: int = 50_000) -> Iterator[str]:
    for start in range(0, len(examples), chunk):
        yield "".join(row_json(r) + "\n" for r in example_rows(examples[start:start + chunk]))


def write_side_files(out: Path, heldout: Sequence[Example], validation_rows: int | None,
                     validation_dataset: Any) -> dict[str, Any]:
    """Write examples.jsonl; the results.json fields naming it and the validation predictions (written by the
    run: ``validation_rows`` of them, when the run has a validation split)."""
    write_lines(out / EXAMPLES_FILE, _example_lines(heldout))
    fields: dict[str, Any] = {"examples": {"path": EXAMPLES_FILE, "rows": len(heldout)}}
    if validation_rows is not None and validation_dataset is not None:
        fields["validation"] = {
            "dataset": {"path": str(validation_dataset.path), "format": validation_dataset.format,
                        "sha256": validation_dataset.sha256, "n_examples": len(validation_dataset)},
            "predictions": {"path": VALIDATION_PREDICTIONS_FILE, "rows": validation_rows},
        }
    return fields


def add_verdict(results: dict[str, Any], datas: Mapping[str, MetricData], metrics: Sequence[Metric],
                options: CompareOptions, suite: Suite, validation: Mapping[str, MetricData] | None) -> None:
    """results["verdict"] (and the validation metrics the choice was made on)."""
    by_name = {m.name: m for m in metrics}
    if validation is not None:
        from ..metrics import evaluate

        results.setdefault("validation", {})["metrics"] = {
            name: {m.name: evaluate(m, data).to_json() for m in metrics} for name, data in validation.items()}
    results["verdict"] = verdict_mod.build(
        results, datas, by_name, alpha=options.alpha, n_resamples=options.n_resamples, seed=options.seed,
        primary=suite.selection.metric, tie=suite.selection.tie_break, validation=validation)
