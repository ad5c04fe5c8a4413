"""Several examples per request (``RequestModel.grouping``): merged within limits, split back, cached one per
example, a refused input isolated by halving; with in-process models (no HTTP)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from harness.engine import Engine, EngineOptions
from harness.errors import ExampleFailure, ProviderError
from harness.examples import Example, Prediction
from harness.providers import Grouping, ModelSpec, RequestModel

FAST = dict(backoff_base=0.005, backoff_max=0.02)


def examples(texts: list[str]) -> list[Example]:
    return [Example(f"e{i}", "x", t, t, ()) for i, t in enumerate(texts)]


class Grouped(RequestModel):
    """Upper-cases a list of inputs per request; refuses requests holding a ``refuse`` input (ExampleFailure);
    answers None for a ``bad`` input (split fails that one)."""

    endpoint = "/fake-embeddings"

    def __init__(self, max_items: int = 3, max_tokens: int | None = None, refuse: set[str] = frozenset(),
                 bad: set[str] = frozenset()) -> None:
        super().__init__("g", ModelSpec("g", "fake", "g"))
        self.limits = Grouping(max_items, max_tokens)
        self.refuse, self.bad = set(refuse), set(bad)
        self.sent: list[list[str]] = []

    def build_request(self, example: Example) -> dict[str, Any]:
        return {"model": "m", "input": example.text}

    def grouping(self) -> Grouping:
        return self.limits

    def combine(self, requests: Any) -> dict[str, Any]:
        return {"model": "m", "input": [r["input"] for r in requests]}

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        inputs = list(request["input"])
        self.sent.append(inputs)
        if self.refuse & set(inputs):
            raise ExampleFailure("refused: too long")
        return {"out": [None if t in self.bad else t.upper() for t in inputs],
                "usage": {"prompt_tokens": sum(self.tokens(t) for t in inputs), "completion_tokens": 0}}

    def split(self, requests: Any, response: dict[str, Any]) -> list[dict[str, Any] | str]:
        return [{"out": o, "usage": {"prompt_tokens": 1, "completion_tokens": 0}} if o is not None else "bad vector"
                for o in response["out"]]

    def parse(self, example: Example, request: dict[str, Any], response: dict[str, Any]) -> Prediction:
        return Prediction(example.id, label=response["out"])

    def usage(self, response: dict[str, Any]) -> dict[str, int] | None:
        return response.get("usage")

    @staticmethod
    def tokens(text: str) -> int:
        return len(text.split())

    def estimate_tokens(self, request: dict[str, Any]) -> tuple[int, int] | None:
        inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
        return sum(self.tokens(t) for t in inputs), 0


def run(engine: Engine, model: RequestModel, exs: list[Example]) -> list[Prediction]:
    async def go() -> list[Prediction]:
        try:
            return await engine.run_requests(model, exs)
        finally:
            await engine.aclose()

    return asyncio.run(go())


def engine(tmp_path: Path | None = None, **kw: Any) -> Engine:
    if tmp_path is None:
        return Engine(EngineOptions(cache=False, **FAST, **kw))
    return Engine(EngineOptions(cache=True, cache_path=tmp_path / "c.sqlite3", **FAST, **kw))


def test_requests_hold_at_most_max_items_and_predictions_keep_their_order() -> None:
    texts = [f"text {i}" for i in range(10)]
    m = Grouped(max_items=3)
    preds = run(engine(), m, examples(texts))
    assert [p.label for p in preds] == [t.upper() for t in texts]
    assert [len(s) for s in m.sent] == [3, 3, 3, 1]
    assert sorted(t for s in m.sent for t in s) == sorted(texts)


def test_requests_hold_at_most_max_tokens() -> None:
    texts = ["a b c", "d e", "f", "g h i j", "k", "l m"]  # 3, 2, 1, 4, 1, 2 tokens
    m = Grouped(max_items=100, max_tokens=5)
    run(engine(), m, examples(texts))
    assert [sum(Grouped.tokens(t) for t in s) for s in m.sent] == [5, 5, 3]  # in order, never over
    assert all(sum(Grouped.tokens(t) for t in s) <= 5 for s in m.sent)


def test_identical_texts_are_one_input() -> None:
    m = Grouped(max_items=10)
    preds = run(engine(), m, examples(["same", "other", "same"]))
    assert m.sent == [["same", "other"]]
    assert [p.label for p in preds] == ["SAME", "OTHER", "SAME"]


def test_a_refused_input_fails_alone_after_halving() -> None:
    texts = [f"t{i}" for i in range(8)]
    m = Grouped(max_items=8, refuse={"t5"})
    preds = run(engine(), m, examples(texts))
    assert [p.error for p in preds] == [None] * 5 + ["refused: too long"] + [None] * 2
    assert [p.label for i, p in enumerate(preds) if i != 5] == [t.upper() for i, t in enumerate(texts) if i != 5]
    assert ["t5"] in m.sent and len(m.sent) <= 1 + 2 * 3  # halved down to t5 alone


def test_each_example_is_cached_on_its_own(tmp_path: Path) -> None:
    m = Grouped(max_items=4, bad={"t2"})
    preds = run(engine(tmp_path), m, examples([f"t{i}" for i in range(6)]))
    assert preds[2].error == "bad vector" and all(p.error is None for i, p in enumerate(preds) if i != 2)
    again = Grouped(max_items=4)  # a rerun: only the example without a usable answer is asked again
    preds = run(engine(tmp_path), again, examples([f"t{i}" for i in range(6)]))
    assert again.sent == [["t2"]]
    assert all(p.error is None for p in preds)
    other = Grouped(max_items=4)  # another set sharing texts: only the new ones are sent, merged
    run(engine(tmp_path), other, examples(["t1", "new1", "t4", "new2"]))
    assert other.sent == [["new1", "new2"]]


def test_a_split_that_stops_the_model_raises() -> None:
    class Stopping(Grouped):
        def split(self, requests: Any, response: dict[str, Any]) -> list[dict[str, Any] | str]:
            raise ProviderError("vectors of 8 and 16 dimensions")

    with pytest.raises(ProviderError, match="8 and 16"):
        run(engine(), Stopping(), examples(["a", "b"]))


def test_a_split_of_the_wrong_length_is_a_provider_bug() -> None:
    class Short(Grouped):
        def split(self, requests: Any, response: dict[str, Any]) -> list[dict[str, Any] | str]:
            return super().split(requests, response)[:-1]

    with pytest.raises(ProviderError, match="split"):
        run(engine(), Short(), examples(["a", "b"]))


def test_grouping_needs_a_positive_size() -> None:
    with pytest.raises(ValueError):
        Grouping(0)
