"""``harness run --dry-run``: what a run would send and cost, without calling any model API."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..engine import Engine
from ..plugins import Registry
from ..providers import Model, RequestModel
from ..suite import Suite
from .setup import RunOptions, make_engine, merge_specs, resolve_models


def estimate(suite: Suite, registry: Registry, options: RunOptions) -> list[dict[str, Any]]:
    """``--dry-run``: per model, the requests a run would send (cached ones are free), their tokens from the
    provider's tokenizer (``estimate_tokens``; completion = the request's token limit) and their cost.
    Calls no model API (a provider may still look a fine-tuning job up to list its checkpoints)."""
    specs = merge_specs(suite, options.models, options.only_cli_models)
    models, _ = resolve_models(suite, registry, specs)
    if options.before_scoring is not None:  # `--dry-run --gate`: the gate's own checks too, nothing sent
        names = [m.name for m in models]
        options.before_scoring(names, suite.baseline if suite.baseline in names else names[0])
    engine = make_engine(suite, models, replace(options, engine=replace(options.engine, progress="off")))
    examples = suite.heldout.examples
    cache = None
    path = engine.cache_path
    if path is not None and path.exists() and not options.engine.refresh:
        cache = engine.cache()
    rows: list[dict[str, Any]] = []
    try:
        for model in models:
            if not isinstance(model, RequestModel):
                rows.append({"model": model.name, "kind": "local", "examples": len(examples), "cached": 0,
                             "requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "usd": 0.0,
                             "source": "runs locally", "tokenizer": True})
                continue
            _, jobs, _ = engine.prepare(model, examples)
            cached_keys = cache.cached_keys(list(jobs)) if cache is not None else set()
            todo = [j for k, j in jobs.items() if k not in cached_keys]
            pt = ct = 0
            for job in todo:
                p, c = engine.estimate(model, job)  # the provider's tokenizer, once per request
                pt, ct = pt + p, ct + c
            tokenizer = not any(j.guessed for j in todo)
            price = engine.price_for(model)
            batch = options.engine.batch and model.batch_client() is not None
            rows.append({"model": model.name, "kind": "request", "examples": len(examples),
                         "cached": sum(len(jobs[k].slots) for k in cached_keys), "requests": len(todo),
                         "prompt_tokens": pt, "completion_tokens": ct,
                         "usd": price.cost(pt, ct, batch) if price else None,
                         "source": (price.source + (" (batch: half price)" if batch else "")) if price
                         else "unknown (no price for this model)", "tokenizer": tokenizer})
    finally:
        asyncio.run(_close(models, engine))
    return rows


async def _close(models: Sequence[Model], engine: Engine) -> None:
    for m in models:
        await m.aclose()
    await engine.aclose()
