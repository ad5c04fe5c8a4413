"""The gate on a stored run: read results.json and predictions.jsonl (and a stored baseline's), find the rules
(``--rules``, else the suite's ``gate:`` section, else the defaults), check them against the run, and judge.

Errors: a bad rules file or a name it gives that the run does not have is an ``InputError`` (exit 2, with
file, line and field); datasets that differ are exit 2 too. Results that cannot be read, or a model or its
predictions missing, are :class:`CannotJudge` (exit 3: the gate fails closed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.gate import CannotJudge, GateConfig, GateInput, ModelRecord, Rule, Verdict, judge
from ..errors import HarnessError, InputError
from ..jsonio import json_safe
from ..metrics import MetricData
from ..output.results import load_predictions, load_results
from ..plugins import Registry
from ..suite import Suite, load_suite
from ..suite.paths import shown_path
from ..suite.rules import WrittenRules, default_rules, load_rules_file, suite_rules
from .gate_baseline import check_same_meaning
from .gate_models import choose_models as _choose_models
from .gate_request import GateRequest, StoredRun


def _read(path: Path, what: str) -> dict[str, Any]:
    try:
        return load_results(path)
    except HarnessError as exc:
        raise CannotJudge(f"cannot read the {what}: {exc.one_line()}") from None


def _rows(path: Path, results: dict[str, Any], what: str, required: bool) -> tuple[list | None, str | None]:
    if not (results.get("predictions") or {}).get("path"):
        if required:
            raise CannotJudge(f"the {what} {shown_path(path)} names no predictions file: the gate needs per-example "
                              "predictions")
        return None, f"{shown_path(path)} names no predictions file"
    try:
        return load_predictions(path, results), None
    except HarnessError as exc:
        if required:
            raise CannotJudge(f"cannot read the {what}'s predictions: {exc.one_line()}") from None
        return None, exc.one_line()


def _entry(results: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in results["models"] if m.get("name") == name)


def _with_defaults(written: WrittenRules) -> tuple[WrittenRules, WrittenRules]:
    """(the settings, the rules): rules written without ``rules:`` (a suite's ``gate:`` section or a ``--rules``
    file alike) keep the documented default rules and take their other settings (candidate, against, baseline,
    alpha, strict) from what was written — a gate never passes for want of rules. The settings keep the file
    they were written in (errors name its lines; a relative ``baseline:`` is relative to it); the rules, theirs."""
    if written.section.rules is not None:
        return written, written
    defaults = default_rules()
    section = defaults.section.model_copy(update={k: v for k, v in written.section.model_dump().items()
                                                  if k != "rules" and k in written.section.model_fields_set})
    return WrittenRules(section, written.located, written.prefix,
                        f"the default rules (settings from {written.source})"), defaults


def _rules_for(request: GateRequest, results: dict[str, Any], notes: list[str]) -> tuple[WrittenRules, WrittenRules]:
    if request.rules is not None:
        return _with_defaults(load_rules_file(request.rules))
    suite = request.suite
    if suite is None:
        path = Path(str((results.get("suite") or {}).get("path") or ""))
        if path.name and path.is_file():
            suite = load_suite(path)
        elif path.name:
            notes.append(f"the run's suite file {shown_path(path)} was not found, so its gate: section (if any) "
                         "was not read: give --rules to use it")
    written = suite_rules(suite) if suite is not None else None
    return _with_defaults(written) if written is not None else (default_rules(), default_rules())


def _check_same_data(run: dict[str, Any], stored: StoredRun, run_path: Path) -> None:
    check_same_meaning(run, stored.results, run_path, stored.path)


def _metric_data(rows: list[dict[str, Any]], order: Sequence[str], labels: tuple[str, ...], positive: int | None,
                 options: dict[str, Any], what: str) -> MetricData:
    index = {lab: i for i, lab in enumerate(labels)}
    by_id = {}
    for r in rows:
        if r.get("id") in by_id:
            raise CannotJudge(f"{what}: example id {r.get('id')!r} appears twice in the predictions")
        by_id[r.get("id")] = r
    missing = [i for i in order if i not in by_id]
    if missing or len(by_id) != len(order):
        raise InputError(f"{what}: the example ids differ from the candidate's ({len(missing)} missing, e.g. "
                         f"{(missing or sorted(set(by_id) - set(order)))[0]!r}) although the data file is the same",
                         field="predictions")
    y_true = np.empty(len(order), dtype=np.int64)
    y_pred = np.full(len(order), -1, dtype=np.int64)
    proba = None
    for i, ex in enumerate(order):
        r = by_id[ex]
        if r.get("gold") not in index:
            raise CannotJudge(f"{what}: example {ex!r} has gold label {r.get('gold')!r}, not in the label set")
        y_true[i] = index[r["gold"]]
        if r.get("pred") in index:  # as the run reads its predictions (runner.pipeline.metric_data)
            y_pred[i] = index[r["pred"]]
        probs = r.get("probs")
        if isinstance(probs, dict):
            if proba is None:
                proba = np.full((len(order), len(labels)), np.nan)
            proba[i] = [float(probs.get(lab, 0.0)) for lab in labels]
    return MetricData(labels, y_true, y_pred, proba, positive, options)


def _record(results: dict[str, Any], rows: list[dict[str, Any]] | None, name: str, order: Sequence[str] | None,
            source: str, what: str, labels: tuple[str, ...] | None = None) -> ModelRecord:
    """One model's record; ``labels``: the order to read its rows in (a stored baseline's, as the run lists
    them — the same set, :mod:`.gate_baseline`), default its own results' order."""
    entry = _entry(results, name)
    suite = results.get("suite") or {}
    labels = labels or tuple(lab["name"] for lab in suite.get("labels", []))
    positive = labels.index(suite["positive"]) if suite.get("positive") in labels else None
    data = None
    if rows is not None:
        mine = [r for r in rows if r.get("model") == name]
        if not mine and not entry.get("error"):
            raise CannotJudge(f"{what} {name!r} has no rows in the predictions file")
        if mine:
            data = _metric_data(mine, order if order is not None else [r.get("id") for r in mine], labels, positive,
                                dict(suite.get("metric_options") or {}), f"{what} {name!r}")
    return ModelRecord(name, data, entry.get("metrics") or {}, entry.get("intervals") or {},
                       entry.get("counts") or {}, entry.get("error"), source)


def _rule(written: WrittenRules, i: int, raw: Any) -> Rule:
    where = f"{shown_path(written.file)}:{written.line('rules', i)}" if written.file else None
    common: dict[str, Any] = {"kind": raw.kind, "where": where}
    if raw.kind == "health":
        return Rule(**common, max_failed=raw.max_failed, max_invalid=raw.max_invalid)
    common.update(metric=raw.metric, cls=raw.class_, optional=raw.optional)
    if raw.kind == "regression":
        return Rule(**common, margin=raw.max_drop, detect=raw.detect)
    if raw.kind in ("non_inferiority", "superiority"):
        return Rule(**common, margin=raw.margin)
    return Rule(**common, threshold=raw.min if raw.kind == "floor" else raw.max, on=raw.on)


def _check_rules(written: WrittenRules, registry: Registry, results: dict[str, Any], rules: list[Rule]) -> None:
    labels = [lab.get("name") for lab in (results.get("suite") or {}).get("labels", [])]
    in_run = {m.get("name"): m.get("plugin") for m in results.get("metrics", [])}
    for i, rule in enumerate(rules):
        if rule.metric is not None and rule.metric not in registry.metrics and not rule.optional:
            hint = (f"; the run computed it with plugin {in_run[rule.metric]!r}: load it with --plugin"
                    if rule.metric in in_run else "")
            raise written.error(f"unknown metric {rule.metric!r} (known: {', '.join(sorted(registry.metrics))})"
                                f"{hint}", "rules", i, "metric")
        if rule.cls is not None and rule.cls not in labels:
            raise written.error(f"unknown class {rule.cls!r} (labels: {', '.join(map(str, labels))})",
                                "rules", i, "class")
        metric = registry.metrics.get(rule.metric or "")
        if metric is not None and metric.proportion:
            _check_proportion(written, i, rule, metric.name)


def _check_proportion(written: WrittenRules, i: int, rule: Rule, metric: str) -> None:
    """A rule on a metric that is a share in [0, 1]: its limit lies in [0, 1] and its margins are at most 1
    (``min: 90`` for 90% could never be met; ``max_drop: 5`` would allow any drop)."""
    checks: list[tuple[str, float | None, str]] = []
    if rule.kind in ("floor", "ceiling"):
        checks.append(("min" if rule.kind == "floor" else "max", rule.threshold, "a limit"))
    elif rule.kind == "regression":
        checks += [("max_drop", rule.margin, "a drop"), ("detect", rule.detect, "a drop")]
    elif rule.kind in ("non_inferiority", "superiority"):
        checks.append(("margin", rule.margin, "a margin"))
    for field, value, what in checks:
        if value is not None and not 0.0 <= value <= 1.0:
            raise written.error(f"{metric} is a share in [0, 1]: {what} of {value:g} is out of range (0.9 for "
                                "90%, 0.01 for one point)", "rules", i, field)


def suite_gate_for_run(suite: Suite, names: Sequence[str], only: bool) -> tuple[Suite, list[str]]:
    """``harness run --gate``, once the run's models are known and before anything is scored: the suite's
    ``gate:`` section's ``candidate`` (and ``against``, unless it names a stored ``baseline:``) must be models of
    the run. With ``--only`` the suite's own models are not run, so such a setting is left out — the gate then
    chooses as without it — and a note says so; otherwise it is an error naming the line (exit 2)."""
    sec = suite.gate
    if sec is None:
        return suite, []
    fields = ["candidate"] + (["against"] if sec.baseline is None else [])
    missing = [(f, getattr(sec, f)) for f in fields if getattr(sec, f) is not None and getattr(sec, f) not in names]
    if not missing:
        return suite, []
    written = suite_rules(suite)
    if not only and written is not None:
        field, name = missing[0]
        raise written.error(f"no model named {name!r} in this run (models: {', '.join(names)})", field)
    notes = [f"the suite's gate: {field}: {name} is left out: --only runs just the --model models, and {name!r} "
             "is not among them" for field, name in missing]
    gate = sec.model_copy(update={field: None for field, _ in missing})
    return replace(suite, gate=gate), notes


def check_suite_rules(suite: Suite, registry: Registry) -> None:
    """``harness run --gate``: the suite's rules checked (metrics, classes) before anything is sent."""
    written = suite_rules(suite)
    if written is None or not written.section.rules:
        return
    shape = {"suite": {"labels": [{"name": lab} for lab in suite.labels]}, "metrics": []}
    _check_rules(written, registry, shape, [_rule(written, i, raw) for i, raw in enumerate(written.section.rules)])


def check_before_scoring(suite: Suite, registry: Registry, names: Sequence[str], baseline: str) -> None:
    """``harness run --gate``, once the run's models are known (job specs expanded into their checkpoints)
    and before any example is sent: everything the gate will check that needs no results — the rules, the
    candidate and reference they name or imply, and a stored baseline (readable, on the same held-out data,
    labels, positive class and metric options). A mistake is an error now (exit 2), not a verdict after the
    whole run was paid for."""
    check_suite_rules(suite, registry)
    written, _ = _rules_for(GateRequest(Path(suite.path), suite=suite), {}, [])
    dataset = suite.heldout
    run = {"models": [{"name": name} for name in names], "baseline": baseline,
           "suite": {"labels": [{"name": lab} for lab in suite.labels], "dataset": {"sha256": dataset.sha256},
                     "positive": suite.positive, "metric_options": json_safe(suite.metric_options)}}
    stored = None
    if written.section.baseline:
        path = written.relative(written.section.baseline)
        try:
            stored_results = load_results(path)
        except HarnessError as exc:
            raise written.error(f"the stored baseline cannot be read: {exc.one_line()}", "baseline") from None
        stored = StoredRun(path, stored_results, None)
        _check_same_data(run, stored, Path(suite.path))
    _choose_models(GateRequest(Path(suite.path), suite=suite), written, run, stored, [])


def prepare(request: GateRequest, registry: Registry) -> tuple[GateInput, GateConfig]:
    """Read and check everything the gate needs; judge nothing."""
    run = _read(request.results, "results")
    notes: list[str] = list(request.notes)
    written, rules_at = _rules_for(request, run, notes)
    rules = [_rule(rules_at, i, raw) for i, raw in enumerate(rules_at.section.rules or [])]
    _check_rules(rules_at, registry, run, rules)
    stored = None
    baseline = request.baseline or (written.relative(written.section.baseline) if written.section.baseline else None)
    if baseline is not None:
        stored_results = _read(baseline, "stored baseline")
        rows, why = _rows(baseline, stored_results, "stored baseline", required=False)
        stored = StoredRun(baseline, stored_results, rows, why)
        _check_same_data(run, stored, request.results)
    cand, against = _choose_models(request, written, run, stored, notes)
    run_rows = _rows(request.results, run, "results", required=True)[0] or []
    candidate = _record(run, run_rows, cand, None, "this run", "candidate")
    order = [r.get("id") for r in run_rows if r.get("model") == cand]
    if stored is None:
        reference = _record(run, run_rows, against, order, "this run", "reference")
    else:
        reference = _record(stored.results, stored.rows, against, order, f"stored baseline {shown_path(stored.path)}",
                            "reference", candidate.data.labels if candidate.data is not None else None)
        if reference.data is None:
            notes.append(f"UNPAIRED comparison: the stored baseline {shown_path(stored.path)} has no per-example "
                         f"predictions ({stored.missing_predictions}); each difference is judged from the two "
                         "models' own intervals (a normal approximation), which is less sensitive than a paired "
                         "comparison. "
                         "Commit predictions.jsonl beside the baseline's results.json to pair them.")
    comparisons = run.get("comparisons") or {}
    ref_alpha = ((stored.results if stored else run).get("comparisons") or {}).get("alpha") or 0.05
    metrics = {r.metric: registry.metrics[r.metric] for r in rules if r.metric in registry.metrics}
    labels = tuple(lab["name"] for lab in (run.get("suite") or {}).get("labels", []))
    sha = ((run.get("suite") or {}).get("dataset") or {}).get("sha256")
    inp = GateInput(candidate, reference, metrics, labels, float(ref_alpha), sha, tuple(notes))
    config = GateConfig(tuple(rules), written.section.alpha, bool(request.strict or written.section.strict),
                        written.source, int(comparisons.get("n_resamples") or 1000), int(comparisons.get("seed") or 0))
    return inp, config


def gate(request: GateRequest, registry: Registry) -> Verdict:
    inp, config = prepare(request, registry)
    return judge(inp, config)
