"""Token usage, cost and the ``max_cost`` budget of the requests a run sends (requests and batches alike).

A request's estimated cost is reserved before it is sent (:meth:`Ledger.reserve`) and settled at its actual
cost when its response is booked (:meth:`Ledger.account`); see :class:`~harness.engine.pricing.Budget`.
"""

from __future__ import annotations

from typing import Any

from .lanes import Job, Lane, estimate_tokens
from .pricing import Budget


class Ledger:
    def __init__(self, max_cost: float | None) -> None:
        self.budget = Budget(max_cost) if max_cost is not None else None

    @property
    def exhausted(self) -> bool:
        return self.budget is not None and self.budget.exhausted

    def reserve(self, lane: Lane, job: Job, batch: bool = False) -> float | None:
        """Reserve a request's estimated cost against ``max_cost``: the amount reserved (0.0 without a
        budget), or None when it does not fit (the budget is then exhausted)."""
        if self.budget is None:
            return 0.0
        price = lane.usage.price
        cost = price.cost(*estimate_tokens(lane.model, job), batch=batch) if price else 0.0
        return cost if self.budget.reserve(cost) else None

    def account(self, lane: Lane, reserved: float, response: dict[str, Any] | None = None,
                batch: bool = False) -> dict[str, int] | None:
        """Book a request's outcome: with a response, count it, its tokens and cost and settle the
        reservation at the actual cost (returns the response's token usage); without one, give the
        reservation back."""
        if response is None:
            if self.budget is not None:
                self.budget.release(reserved)
            return None
        usage = lane.usage
        try:
            counted = lane.model.usage(response)
        except Exception:  # a provider bug must not leave the request's slot taken (and the run waiting forever)
            counted = None  # counted as a response without usage: the model's cost is marked incomplete
        usage.requests += 1
        if batch:
            usage.batched += 1
        cost = usage.add(counted, batch=batch, fetched=True)
        if self.budget is not None:
            self.budget.settle(reserved, cost if counted else reserved)
        return counted
