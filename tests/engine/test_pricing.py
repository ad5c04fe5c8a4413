"""Price lookup (bundled, suite, --prices), fine-tuned prefixes, the Batch discount and the budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.pricing import Budget, PriceTable, candidates, fallback_estimate


def test_candidates() -> None:
    assert candidates("gpt-4o-mini-2024-07-18") == ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"]
    assert candidates("ft:gpt-4o-mini-2024-07-18:acme:exp:abc123:ckpt-step-100") == [
        "ft:gpt-4o-mini-2024-07-18:acme:exp:abc123:ckpt-step-100", "ft:gpt-4o-mini-2024-07-18", "ft:gpt-4o-mini"]


def test_bundled_prices_base_and_fine_tuned() -> None:
    table = PriceTable.load()
    base = table.lookup("base", "gpt-4o-mini-2024-07-18")
    tuned = table.lookup("tuned", "ft:gpt-4o-mini-2024-07-18:acme::abc123:ckpt-step-80")
    assert base is not None and tuned is not None
    assert (base.input, base.output) == (0.15, 0.60)
    assert tuned.input > base.input and "ft:gpt-4o-mini-2024-07-18" in tuned.source
    assert tuned.cost(1_000_000, 0) == pytest.approx(tuned.input)
    assert tuned.cost(1_000_000, 1_000_000, batch=True) == pytest.approx((tuned.input + tuned.output) / 2)
    assert table.lookup("x", "ft:some-unknown-base:org::id") is None  # never priced at a base model's price
    assert table.lookup("local", None) is None


def test_overrides_file_beats_suite_beats_bundled(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("batch_discount: 0.25\nmodels:\n  gpt-4o-mini: {input: 1, output: 2}\n")
    table = PriceTable.load({"gpt-4o-mini": {"input": 5, "output": 6}, "myvllm": {"input": 0.01, "output": 0.02}},
                            prices, "suite.yaml")
    p = table.lookup("base", "gpt-4o-mini")
    assert p is not None and (p.input, p.output) == (1, 2) and p.source.startswith("--prices")
    assert p.cost(1e6, 0, batch=True) == pytest.approx(0.25)
    by_name = table.lookup("myvllm", None)  # a harness model name works too
    assert by_name is not None and by_name.source.startswith("suite")
    assert table.lookup("b", "gpt-4.1-nano") is not None  # bundled still there


def test_bad_prices_file(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("models:\n  gpt-4o: {input: 1}\n")
    with pytest.raises(InputError, match="input and output"):
        PriceTable.load(prices_file=bad)
    with pytest.raises(InputError, match="not found"):
        PriceTable.load(prices_file=tmp_path / "missing.yaml")


def test_budget_reserve_settle_release() -> None:
    b = Budget(1.0)
    assert b.reserve(0.6)
    assert not b.reserve(0.5)  # would exceed: exhausted from now on
    assert b.exhausted and not b.reserve(0.01)
    b.settle(0.6, 0.4)
    assert b.spent == pytest.approx(0.4) and b.reserved == 0


def test_fallback_estimate_is_high() -> None:
    req = {"messages": [{"role": "user", "content": "x" * 300}], "max_tokens": 3}
    prompt, completion = fallback_estimate(req, 330)
    assert prompt >= 100 and completion == 3
    assert fallback_estimate({}, 30)[1] == 256
