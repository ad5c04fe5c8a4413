"""Everything a run checks before it sends anything, shared by the run and ``--dry-run`` — so an estimate that
succeeds means the real run will not stop on bad input: the metrics exist, every model resolves, the baseline
and the suite's ``comparisons:`` name models of this run, the budget has prices. A new pre-flight check goes
here, not in the run alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine import paused_gc
from ..engine.pricing import PriceTable
from ..errors import InputError
from ..output.results import VALIDATION_PREDICTIONS_FILE, check_output_dir
from ..plugins import Registry
from ..providers import Model, ModelSpec, SetupCalls, estimating_scope, setup_calls_scope
from ..suite import Suite
from ..suite.paths import shown_path
from .datachecks import check_data
from .setup import RunOptions, check_budget_prices, check_metric_options, load_prices, merge_specs, resolve_models
from .verdicts import check_selection, check_split_ids


@dataclass
class Plan:
    """What a run will do, checked: metrics, the models (resolved), the baseline and the comparison pairs."""

    metric_names: list[str]
    specs: list[ModelSpec]
    models: list[Model]
    training: dict[str, Any]
    baseline: str
    pairs: list[tuple[str, str]]
    notices: list[str] = field(default_factory=list)  # said once to the user and kept in results.json
    prices: PriceTable | None = None
    data_checks: dict[str, Any] | None = None  # what results.json records of the data checks (harness.validation)


def output_files(suite: Suite, options: RunOptions) -> tuple[str, ...]:
    """What the run writes in its output folder besides results.json, predictions.jsonl and examples.jsonl."""
    validation = (VALIDATION_PREDICTIONS_FILE,) if suite.data.validation else ()
    return (*validation, *options.outputs)


def plan_run(suite: Suite, registry: Registry, options: RunOptions, *, estimate: bool = False) -> Plan:
    """Check a run before anything is scored or sent. ``estimate``: for ``--dry-run`` (providers may then skip
    what they need only to send, such as an API key: :func:`harness.providers.estimating`)."""
    with paused_gc():  # the held-out rows, the data checks' rows, predictions files: a million objects each
        return _plan_run(suite, registry, options, estimate)


def _plan_run(suite: Suite, registry: Registry, options: RunOptions, estimate: bool) -> Plan:
    if suite.validation is not None:  # a validation split must not share an example with the held-out set
        check_split_ids(suite, suite.heldout.examples, suite.validation.examples)
    metric_names = selected_metrics(suite, registry, options.metrics)
    check_metric_options(suite, registry, metric_names)
    check_selection(suite, metric_names)
    notices: list[str] = []
    if not options.metrics and suite.metric_names is None:  # every metric: a clashing name is left out
        notices.extend(f"{msg}; it is left out of this run" for name, msg in
                       ((n, registry.metric_clash(n)) for n in registry.metric_clashes) if msg)
    specs = merge_specs(suite, options.models, options.only_cli_models)
    prices = load_prices(suite, options)

    def local_checks_done() -> None:  # the last local check, before a provider may call a server
        check_output_dir(options.out_dir, files=output_files(suite, options))  # writes nothing; a dry run too

    scope = estimating_scope if estimate else contextlib.nullcontext
    with scope():
        models, training = resolve_models(suite, registry, specs, before_network=local_checks_done)
    names = [m.name for m in models]
    baseline = suite.baseline if suite.baseline is not None else names[0]
    if baseline not in names:
        notices.append(f"the suite's baseline {baseline!r} is not in this run: comparing against {names[0]!r}")
        baseline = names[0]
    pairs = comparison_pairs_of(suite, names, drop_missing=options.only, notices=notices)
    check_budget_prices(models, options, prices)
    if options.before_scoring is not None:  # e.g. `run --gate`: the gate's models, rules and stored baseline
        options.before_scoring(names, baseline)
    checked = check_data(suite, registry, specs, options)  # errors stop the run unless overridden
    with scope(), setup_calls_scope(_setup_calls(options)):  # --offline: not even a free set-up call
        for model in models:  # the last step: what may ask a server something free (a tokenize endpoint)
            model.prepare()
    data_checks = None
    if checked is not None:
        data_checks, findings = checked
        if options.on_validation is not None:  # every check passed: the warnings are worth reading now
            options.on_validation(findings)
    return Plan(metric_names, specs, models, training, baseline, pairs, notices, prices, data_checks)


def _setup_calls(options: RunOptions) -> SetupCalls:
    """What a model's free set-up calls may do: none with --offline; their answers kept beside the cache."""
    from ..engine.cache import default_cache_path

    eng = options.engine
    memo = (eng.cache_path or default_cache_path()).parent / "setup-calls.json" if eng.cache else None
    return SetupCalls(offline=eng.offline, memo=memo, refresh=eng.refresh)


def selected_metrics(suite: Suite, registry: Registry, override: list[str] | None) -> list[str]:
    """The metrics to compute: ``--metric``, else the suite's ``metrics:``, else every registered metric
    (leaving out, with a warning from the registry, a name two plugins register)."""
    if override:
        for name in override:
            registry.metric(name)
        return list(override)
    if suite.metric_names is None:
        return list(registry.usable_metrics())
    for i, name in enumerate(suite.metric_names):
        where = {"file": suite.path, "line": suite.line_of("metrics", i), "field": f"metrics[{i}]"}
        clash = registry.metric_clash(name)
        if clash is not None:
            raise InputError(clash, **where)
        if name not in registry.metrics:
            raise InputError(f"unknown metric {name!r} (known: {', '.join(sorted(registry.metrics))})", **where)
    return list(suite.metric_names)


def comparison_pairs_of(suite: Suite, names: Sequence[str], *, drop_missing: bool = False,
                        notices: list[str] | None = None) -> list[tuple[str, str]]:
    """The suite's extra ``comparisons:`` pairs, checked against the models of the run. With ``--only``
    (``drop_missing``) the suite's own models are not run, so a pair naming one is dropped with a notice;
    otherwise it is an error naming the line."""
    pairs = []
    for i, (a, b) in enumerate(suite.comparisons):
        missing = [(j, name) for j, name in enumerate((a, b)) if name not in names]
        if missing and drop_missing:
            if notices is not None:
                absent = " and ".join(repr(n) for _, n in missing)
                where = f"{shown_path(suite.path)}:{suite.line_of('comparisons', i)}"
                notices.append(f"comparison [{a}, {b}] ({where}) is "
                               f"left out: --only runs just the --model models, and {absent} "
                               f"{'is' if len(missing) == 1 else 'are'} not among them")
            continue
        for j, name in missing:
            raise InputError(f"no model named {name!r} in this run (models: {', '.join(names)})",
                             file=suite.path, line=suite.line_of("comparisons", i, j),
                             field=f"comparisons[{i}][{j}]")
        pairs.append((a, b))
    return pairs
