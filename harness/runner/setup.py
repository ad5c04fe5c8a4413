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
from ..errors import UsageError
from ..plugins import Registry
from ..providers import Model, ModelSpec, RequestModel
from ..suite import Suite


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
    # called with the run's model names (job specs expanded) and its baseline before any example is sent
    # (``harness run --gate`` checks the gate's rules, models and stored baseline there)
    before_scoring: Callable[[list[str], str], None] | None = None


def merge_specs(suite: Suite, cli: Sequence[ModelSpec], only_cli: bool = False) -> list[ModelSpec]:
    """The suite's models, with ``--model NAME=...`` replacing a model of the same name or adding one."""
    specs = {} if only_cli else {s.name: s for s in suite.models}
    for s in cli:
        specs[s.name] = s
    if not specs:
        raise UsageError(f"no models to run: the suite {suite.path} names none; add --model NAME=PROVIDER:ARGUMENT")
    return list(specs.values())


def resolve_models(suite: Suite, registry: Registry, specs: Sequence[ModelSpec]
                   ) -> tuple[list[Model], dict[str, Any]]:
    models: list[Model] = []
    training: dict[str, Any] = {}
    for spec in specs:
        if spec.provider not in registry.providers:
            known = ", ".join(sorted(registry.providers))
            raise UsageError(f"{spec.origin}: model {spec.name!r}: unknown provider {spec.provider!r} "
                             f"(known: {known})")
        resolved = registry.providers[spec.provider].resolve(spec, suite)
        models.extend(resolved.models)
        if resolved.training:
            training[spec.name] = resolved.training
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(f"two models are named {', '.join(dupes)}: give each --model a distinct NAME")
    return models, training


def make_engine(suite: Suite, models: Sequence[Model], options: RunOptions) -> Engine:
    """The engine for a run: suite rate limits under the CLI's, prices from --prices, the suite and the
    bundled table; with --max-cost every request model must have a price."""
    suite_limits = {k: RateLimit(v.get("rpm"), v.get("tpm")) for k, v in suite.rate_limits.items()}
    eng = replace(options.engine, rate_limits={**suite_limits, **options.engine.rate_limits})
    prices = PriceTable.load(suite.pricing, options.prices_file, str(suite.path))
    engine = Engine(eng, prices, console=options.console)
    if eng.max_cost is not None:
        unpriced = [m.name for m in models if isinstance(m, RequestModel) and engine.price_for(m) is None]
        if unpriced:
            raise UsageError(f"--max-cost needs a price for model(s) {', '.join(unpriced)}: add them to the "
                             "suite's pricing: section or a --prices FILE (USD per 1M input/output tokens)")
    return engine
