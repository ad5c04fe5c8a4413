"""Token prices, per-model usage and cost, and the run budget.

Prices are USD per 1M input (prompt) and output (completion) tokens. Three layers are consulted in order:
``--prices FILE``, the suite's ``pricing:`` section, then the bundled ``harness/data/prices.yaml``. In each
user layer (``--prices``, the suite) a model is found by its harness name first; in every layer by its
provider's ``pricing_key()``: the exact id, for a
fine-tuned id ``ft:BASE:...`` the entry ``ft:BASE`` (then ``ft:`` + BASE without its date suffix), else the
id without a date suffix. The Batch API costs ``batch_discount`` (0.5) times the listed price.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .. import yamlload
from ..errors import InputError
from ..textfile import read_text
from ..yamlload import Located

BUNDLED = "prices.yaml (bundled)"
_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{4})$")


@dataclass(frozen=True)
class Price:
    input: float  # USD per 1M prompt tokens
    output: float  # USD per 1M completion tokens
    source: str  # "prices.yaml (bundled): gpt-4o-mini"
    batch_discount: float = 0.5

    def cost(self, prompt_tokens: float, completion_tokens: float, batch: bool = False) -> float:
        usd = (prompt_tokens * self.input + completion_tokens * self.output) / 1e6
        return usd * self.batch_discount if batch else usd


def candidates(model_id: str) -> list[str]:
    """Ids to try for one model id, most specific first."""
    out = [model_id]
    if model_id.startswith("ft:"):
        base = model_id.split(":")[1]
        if base:
            out.append(f"ft:{base}")
            stripped = _DATE_SUFFIX.sub("", base)
            if stripped != base:
                out.append(f"ft:{stripped}")
        return out  # never price a fine-tuned model at its base model's price
    stripped = _DATE_SUFFIX.sub("", model_id)
    if stripped != model_id:
        out.append(stripped)
    return out


def _entries(data: Any, where: str, located: Located | None = None
             ) -> tuple[dict[str, tuple[float, float]], float | None]:
    """Parse a price mapping: ``{models: {ID: {input, output}}, batch_discount}`` or a bare ``{ID: {...}}``
    (``located``: the line of every key, when read from a file)."""
    def line(*path: Any) -> int | None:
        return located.line(path) if located is not None else None

    if data is None:
        return {}, None
    if not isinstance(data, Mapping):
        raise InputError("prices must be a mapping of model id to {input, output} (USD per 1M tokens)", file=where,
                         line=line())
    discount = data.get("batch_discount")
    models = data.get("models", data if "models" not in data else None)
    out: dict[str, tuple[float, float]] = {}
    if not isinstance(models or {}, Mapping):
        raise InputError("models must be a mapping of model id to {input, output}", file=where,
                         line=line("models"), field="models")
    for key, value in (models or {}).items():
        if key in ("batch_discount", "as_of"):
            continue
        path = ("models", key) if "models" in data else (key,)
        if not isinstance(value, Mapping) or not {"input", "output"} <= set(value):
            raise InputError("each price needs input and output (USD per 1M tokens)", file=where,
                             line=line(*path), field=".".join(map(str, path)))
        try:
            out[str(key)] = (float(value["input"]), float(value["output"]))
        except (TypeError, ValueError):
            raise InputError("input and output must be numbers (USD per 1M tokens)", file=where,
                             line=line(*path), field=".".join(map(str, path))) from None
    if discount is not None:
        try:
            discount = float(discount)
        except (TypeError, ValueError):
            raise InputError("batch_discount must be a number (0.5 = half price)", file=where,
                             line=line("batch_discount"), field="batch_discount") from None
    return out, discount


class PriceTable:
    """Layers of prices, most authoritative first."""

    def __init__(self, layers: list[tuple[str, dict[str, tuple[float, float]]]], batch_discount: float = 0.5) -> None:
        self.layers = layers
        self.batch_discount = batch_discount

    @classmethod
    def load(cls, suite_pricing: Mapping[str, Any] | None = None, prices_file: Path | None = None,
             suite_path: str = "suite") -> PriceTable:
        text = resources.files("harness").joinpath("data/prices.yaml").read_text(encoding="utf-8")
        bundled, discount = _entries(yamlload.load(text), BUNDLED)
        layers: list[tuple[str, dict[str, tuple[float, float]]]] = []
        if prices_file is not None:
            try:
                located = yamlload.load_located(read_text(prices_file, "yaml"), prices_file)
            except FileNotFoundError:
                raise InputError("prices file not found", file=prices_file, field="--prices") from None
            entries, file_discount = _entries(located.data, str(prices_file), located)
            layers.append((f"--prices {prices_file}", entries))
        else:
            file_discount = None
        suite_discount = None
        if suite_pricing:
            entries, suite_discount = _entries(dict(suite_pricing), suite_path)
            layers.append((f"suite {suite_path}", entries))
        # the most authoritative layer that sets a batch discount wins
        discount = next((d for d in (file_discount, suite_discount, discount) if d is not None), None)
        layers.append((BUNDLED, bundled))
        return cls(layers, 0.5 if discount is None else discount)

    def lookup(self, name: str, pricing_key: str | None) -> Price | None:
        by_id = candidates(pricing_key) if pricing_key else []
        for source, entries in self.layers:
            # a harness model name is the user's choice ("gpt-4o-mini" may name a fine-tune): only the
            # user's own layers may price by it, never the bundled table of model ids
            keys = by_id if source == BUNDLED else [name, *by_id]
            for key in keys:
                if key in entries:
                    inp, outp = entries[key]
                    return Price(inp, outp, f"{source}: {key}", self.batch_discount)
        return None


@dataclass
class ModelUsage:
    """Requests, tokens and cost of one model in this run (results.json ``usage`` and ``cost``)."""

    price: Price | None = None
    requests: int = 0  # responses received from the API in this run (batch included)
    cached: int = 0  # responses read from the cache
    batched: int = 0  # of ``requests``, received through the Batch API
    attempts: int = 0  # calls to send(), retries included
    retries: int = 0  # of ``attempts``, the ones after a request's first (counted when sent, like a server would)
    sent: int = 0  # requests sent to the API in this run: every attempt, and every line of a batch collected
    errors: int = 0  # of ``sent``, answered with an error or not at all (timeout, connection error, batch error)
    abandoned: int = 0  # of ``attempts``, cancelled in flight as the run stopped (the server may have seen them)
    rate_limited: int = 0  # 429s
    prompt_tokens: int = 0
    completion_tokens: int = 0
    without_usage: int = 0  # responses that reported no token usage
    usd: float = 0.0  # cost of every response used (cached ones at what they cost when fetched)
    spent_usd: float = 0.0  # cost of the responses fetched in this run

    def add(self, tokens: dict[str, int] | None, batch: bool, fetched: bool) -> float:
        if not tokens:
            self.without_usage += 1
            return 0.0
        pt, ct = int(tokens.get("prompt_tokens") or 0), int(tokens.get("completion_tokens") or 0)
        self.prompt_tokens += pt
        self.completion_tokens += ct
        cost = self.price.cost(pt, ct, batch) if self.price else 0.0
        self.usd += cost
        if fetched:
            self.spent_usd += cost
        return cost

    def usage_json(self) -> dict[str, int]:
        return {"requests": self.requests, "cached": self.cached, "batched": self.batched,
                "attempts": self.attempts, "retries": self.retries, "sent": self.sent, "errors": self.errors,
                "abandoned": self.abandoned,
                "rate_limited": self.rate_limited,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}

    def cost_json(self) -> dict[str, Any]:
        if self.price is None:
            return {"usd": None, "spent_usd": None, "source": "unknown (no price for this model)"}
        return {"usd": round(self.usd, 6), "spent_usd": round(self.spent_usd, 6), "source": self.price.source,
                "input_per_1m": self.price.input, "output_per_1m": self.price.output,
                "complete": self.without_usage == 0}


class Budget:
    """``--max-cost``: a request's estimated cost is reserved before it is sent and settled at its actual
    cost when it returns; once a reservation does not fit, the budget is exhausted and nothing more is sent."""

    def __init__(self, max_usd: float) -> None:
        self.max_usd = max_usd
        self.spent = 0.0
        self.reserved = 0.0
        self.exhausted = False

    def reserve(self, usd: float) -> bool:
        if self.exhausted or self.spent + self.reserved + usd > self.max_usd:
            self.exhausted = True
            return False
        self.reserved += usd
        return True

    def settle(self, reserved: float, actual: float) -> None:
        self.reserved = max(0.0, self.reserved - reserved)
        self.spent += actual

    def release(self, reserved: float) -> None:
        self.reserved = max(0.0, self.reserved - reserved)


def fallback_estimate(request: Mapping[str, Any], body_chars: int) -> tuple[int, int]:
    """A deliberately high token estimate for a provider without a tokenizer: a token per 3 characters of
    the JSON body, and the body's completion limit (256 when it sets none)."""
    limit = next((request[k] for k in ("max_completion_tokens", "max_tokens", "max_output_tokens")
                  if isinstance(request.get(k), int)), 256)
    return body_chars // 3 + 1, int(limit)
