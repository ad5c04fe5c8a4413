"""Before a run scores anything: its options, the models it runs (the suite's and ``--model``'s, resolved by
their providers) and the engine they share (rate limits, prices, the budget)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..analysis.compare import CompareOptions
from ..engine import Engine, EngineOptions
from ..engine.pricing import PriceTable
from ..engine.ratelimit import RateLimit
from ..errors import InputError, UsageError
from ..metrics import OptionError
from ..plugins import Registry
from ..providers import Model, ModelSpec, RequestModel, Resolved
from ..suite import Suite

#: The most a model may fail of its examples (failed / n) before the run exits 3 (``--max-failed``): a few
#: over-long prompts are normal, a server that died mid-run is not. Results are written either way.
DEFAULT_MAX_FAILED = 0.1


@dataclass
class RunOptions:
    out_dir: Path
    models: list[ModelSpec] = field(default_factory=list)
    only_cli_models: bool = False
    metrics: list[str] | None = None
    engine: EngineOptions = field(default_factory=EngineOptions)
    prices_file: Path | None = None  # --prices FILE (overrides the suite's pricing and the bundled table)
    stats: CompareOptions | None = field(default_factory=CompareOptions)  # None: no intervals or tests
    console: Any = None  # a rich Console for progress bars and notices
    max_failed: float | None = DEFAULT_MAX_FAILED  # share of a model's examples; None: no limit
    only: bool = False  # --only: the suite's models are not run, so its comparisons naming them are dropped
    check_data: bool = True  # the data checks before anything is sent (harness.validation)
    allow_data_errors: bool = False  # run even when the data checks find errors (they are recorded)
    on_validation: Any = None  # called with the data checks' Validation before anything is scored
    # called with the run's model names (job specs expanded) and its baseline before any example is sent
    # (``harness run --gate`` checks the gate's rules, models and stored baseline there)
    before_scoring: Callable[[list[str], str], None] | None = None
    # files the caller writes in out_dir once the run is done (report.html, the gate's files): checked writable
    # with the run's own files before anything is scored
    outputs: tuple[str, ...] = ()


def merge_specs(suite: Suite, cli: Sequence[ModelSpec], only_cli: bool = False) -> list[ModelSpec]:
    """The suite's models, with ``--model NAME=...`` replacing a model of the same name or adding one."""
    specs = {} if only_cli else {s.name: s for s in suite.models}
    for s in cli:
        specs[s.name] = s
    if not specs:
        raise UsageError(f"no models to run: the suite {suite.path} names none; add --model NAME=PROVIDER:ARGUMENT")
    return list(specs.values())


def resolve_models(suite: Suite, registry: Registry, specs: Sequence[ModelSpec],
                   before_network: Callable[[], None] | None = None) -> tuple[list[Model], dict[str, Any]]:
    """Every spec resolved into its models, in the order given. Providers that resolve offline go first;
    ``before_network`` runs before the first provider that may call a server (``resolves_offline = False``),
    so a run's remaining local checks come before any request."""
    for spec in specs:
        clash = registry.provider_clash(spec.provider)
        if clash is not None:
            raise UsageError(f"{spec.origin}: model {spec.name!r}: {clash}")
        if spec.provider not in registry.providers:
            known = ", ".join(sorted(registry.providers))
            raise UsageError(f"{spec.origin}: model {spec.name!r}: unknown provider {spec.provider!r} "
                             f"(known: {known})")
    resolved: dict[int, Resolved] = {}
    order = sorted(range(len(specs)), key=lambda i: not registry.providers[specs[i].provider].resolves_offline)
    checked = False
    for i in order:
        provider = registry.providers[specs[i].provider]
        if not provider.resolves_offline and not checked:
            checked = True
            if before_network is not None:
                before_network()
        resolved[i] = provider.resolve(specs[i], suite)
    if not checked and before_network is not None:
        before_network()
    models: list[Model] = []
    training: dict[str, Any] = {}
    for i, spec in enumerate(specs):
        models.extend(resolved[i].models)
        if resolved[i].training:
            training[spec.name] = resolved[i].training
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"two models are named {', '.join(dupes)}: give each --model a distinct NAME")
    return models, training


def load_prices(suite: Suite, options: RunOptions) -> PriceTable:
    """The price table: --prices over the suite's ``pricing:`` over the bundled table (checked before a run)."""
    return PriceTable.load(suite.pricing, options.prices_file, str(suite.path))


def make_engine(suite: Suite, models: Sequence[Model], options: RunOptions,
                prices: PriceTable | None = None) -> Engine:
    """The engine for a run: suite rate limits under the CLI's, prices from --prices, the suite and the
    bundled table; with --max-cost every request model must have a price."""
    suite_limits = {k: RateLimit(v.get("rpm"), v.get("tpm")) for k, v in suite.rate_limits.items()}
    eng = replace(options.engine, rate_limits={**suite_limits, **options.engine.rate_limits})
    prices = prices if prices is not None else load_prices(suite, options)
    check_budget_prices(models, options, prices)
    return Engine(eng, prices, console=options.console)


def check_budget_prices(models: Sequence[Model], options: RunOptions, prices: PriceTable) -> None:
    """With --max-cost every request model must have a price (checked before anything is sent)."""
    if options.engine.max_cost is None:
        return
    unpriced = [m.name for m in models
                if isinstance(m, RequestModel) and prices.lookup(m.name, m.pricing_key()) is None]
    if unpriced:
        raise UsageError(f"--max-cost needs a price for model(s) {', '.join(unpriced)}: add them to the "
                         "suite's pricing: section or a --prices FILE (USD per 1M input/output tokens)")


def check_metric_options(suite: Suite, registry: Registry, names: Sequence[str]) -> None:
    """Every selected metric accepts the suite's ``metric_options`` (:meth:`Metric.check_options`), before
    anything is scored: a bad value is an input error naming its line, not a crash after the requests."""
    for name in names:
        try:
            registry.metrics[name].check_options(suite.metric_options)
        except OptionError as exc:
            raise InputError(exc.reason, file=suite.path, line=suite.line_of("metric_options", exc.key),
                             field=f"metric_options.{exc.key}") from None
