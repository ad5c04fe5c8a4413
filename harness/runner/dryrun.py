"""``harness run --dry-run``: what a run would send and cost, without calling any model API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from ..engine import Engine
from ..examples import Example
from ..plugins import Registry
from ..providers import Model, RequestModel, output_dir_scope
from ..suite import Suite
from .plan import Plan, plan_run
from .setup import RunOptions, make_engine


def estimate(suite: Suite, registry: Registry, options: RunOptions,
             on_planned: Callable[[Plan], None] | None = None) -> list[dict[str, Any]]:
    """``--dry-run``: per model, the requests a run would send (cached ones are free), their tokens from the
    provider's tokenizer (``estimate_tokens``; completion = the request's token limit) and their cost.
    Runs every check a real run does (:func:`plan_run`) and calls no model API (a provider may still look a
    fine-tuning job up to list its checkpoints); needs no API key."""
    plan = plan_run(suite, registry, options, estimate=True)  # the checks of a real run, nothing sent
    models = plan.models
    if on_planned is not None:
        on_planned(plan)
    engine = make_engine(suite, models, replace(options, engine=replace(options.engine, progress="off")),
                         plan.prices)
    for text in plan.notices:
        engine.notice(text)
    examples = suite.heldout.examples
    cache = None
    path = engine.cache_path
    if path is not None and path.exists() and not options.engine.refresh:
        cache = engine.cache()
    rows: list[dict[str, Any]] = []
    try:
        with output_dir_scope(options.out_dir):  # a model may find what an earlier run left there
            _estimate_models(engine, models, examples, cache, options, rows)
    finally:
        asyncio.run(_close(models, engine))
    return rows


def _estimate_models(engine: Engine, models: Sequence[Model], examples: Sequence[Example], cache: Any,
                     options: RunOptions, rows: list[dict[str, Any]]) -> None:
    for model in models:
        if not isinstance(model, RequestModel):
            rows.append({"model": model.name, "kind": "local", "examples": len(examples), "cached": 0,
                         "requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "usd": 0.0,
                         "source": "runs locally", "tokenizer": True})
            continue
        planned = model.planned_examples(examples)  # with a training split it embeds, say
        identity, jobs, _ = engine.prepare(model, planned)
        cached_keys = cache.cached_keys(list(jobs)) if cache is not None else set()
        todo = {k: j for k, j in jobs.items() if k not in cached_keys}
        pt = ct = 0
        for job in todo.values():
            p, c = engine.estimate(model, job)  # the provider's tokenizer, once per request
            pt, ct = pt + p, ct + c
        tokenizer = not any(j.guessed for j in todo.values())
        sending = engine.pack(model, identity, todo)  # several examples per request, where the model can
        price = engine.price_for(model)
        batch = options.engine.batch and model.batch_client() is not None
        rows.append({"model": model.name, "kind": "request", "examples": len(planned),
                     "cached": sum(len(jobs[k].slots) for k in cached_keys), "requests": len(sending),
                     "prompt_tokens": pt, "completion_tokens": ct,
                     "usd": price.cost(pt, ct, batch) if price else None,
                     "source": (price.source + (" (batch: half price)" if batch else "")) if price
                     else "unknown (no price for this model)", "tokenizer": tokenizer})


async def _close(models: Sequence[Model], engine: Engine) -> None:
    for m in models:
        await m.aclose()
    await engine.aclose()
