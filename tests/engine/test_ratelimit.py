"""Token buckets and the per-target limiter (time passed in explicitly)."""

from __future__ import annotations

import math

import pytest

from harness.ratelimit import Limiter, RateLimit, TokenBucket


def test_bucket_allows_one_second_burst_then_the_rate() -> None:
    b = TokenBucket(per_minute=600)  # 10/s, holds 10
    for _ in range(10):
        assert b.wait(0.0, 1) == 0
        b.take(0.0, 1)
    assert b.wait(0.0, 1) == pytest.approx(0.1)
    assert b.wait(0.5, 1) == 0  # refilled 5


def test_oversized_request_waits_for_full_bucket_then_goes_into_debt() -> None:
    b = TokenBucket(per_minute=60_000)  # 1000 tokens/s
    b.take(0.0, 1000)
    assert b.wait(0.0, 5000) == pytest.approx(1.0)  # needs a full bucket, not 5000 tokens
    b.take(1.0, 5000)
    assert b.wait(1.0, 10) == pytest.approx(4.01)  # the debt is repaid before the next request


def test_limiter_rpm_and_tpm_and_give_back() -> None:
    lim = Limiter(RateLimit(rpm=60, tpm=600), max_inflight=8)
    assert lim.wait(0.0, 10) == 0
    lim.admit(0.0, 10)
    assert lim.wait(0.0, 10) == pytest.approx(1.0)  # rpm: 1/s
    lim.done(ok=True, token_correction=5)  # used 5 fewer tokens than estimated
    assert lim.tokens is not None and lim.tokens.level == pytest.approx(0 + 5)


def test_throttle_pauses_target_and_halves_cap_once_per_pause() -> None:
    lim = Limiter(RateLimit(), max_inflight=16)
    lim.throttle(10.0, 2.0)
    assert lim.wait(10.0, 0) == pytest.approx(2.0)
    assert lim.cap == 8
    lim.throttle(10.5, 2.0)  # same burst of 429s: no second halving
    assert lim.cap == 8
    assert lim.wait(12.1, 0) == pytest.approx(0.4)  # paused until 12.5 by the second 429
    lim.throttle(13.0, 0.5)
    assert lim.cap == 4
    for _ in range(4):
        lim.admit(13.6, 0)
    assert lim.wait(13.6, 0) == math.inf  # cap reached: wait for one to finish
    lim.done(ok=True)
    assert lim.cap == pytest.approx(4.25)  # additive increase
    assert lim.wait(13.6, 0) == 0


def test_describe() -> None:
    assert RateLimit().describe() == "unlimited"
    assert RateLimit(rpm=500, tpm=2e5).describe() == "500 rpm, 200000 tpm"
