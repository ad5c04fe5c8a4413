"""The verdict's calls per metric family, and its words in the three cases: better, worse (a regression),
not distinguishable — in results.json, the terminal summary and the report."""

from __future__ import annotations

from harness.analysis.verdict import MIXED, family_call, metric_call, pair_verdict

META = [{"name": "accuracy", "family": "accuracy", "higher_is_better": True},
        {"name": "auroc", "family": "discrimination", "higher_is_better": True},
        {"name": "ece", "family": "calibration", "higher_is_better": False},
        {"name": "custom", "family": "", "higher_is_better": True}]


def _pair(acc=(0.05, 0.001), auroc=(0.02, 0.5), ece=(0.03, 0.01)):
    row = lambda d, p: {"delta": d, "p_value": p, "p_adjusted": p, "low": d - 0.01, "high": d + 0.01}  # noqa: E731
    return {"a": "cand", "b": "base", "metrics": {"accuracy": row(*acc), "auroc": row(*auroc), "ece": row(*ece),
                                                   "custom": {"delta": None, "p_value": None}}}


def test_metric_calls_follow_direction_and_holm():
    assert metric_call({"delta": 0.1, "p_adjusted": 0.01, "p_value": 0.001}, True, 0.05) == "better"
    assert metric_call({"delta": 0.1, "p_adjusted": 0.06, "p_value": 0.001}, True, 0.05) == "not_distinguishable"
    assert metric_call({"delta": 0.1, "p_adjusted": 0.01}, False, 0.05) == "worse"  # a loss went up
    assert metric_call({"delta": None, "p_adjusted": None}, True, 0.05) == "not_tested"
    assert family_call(["better", "worse"]) == MIXED and family_call(["not_tested"]) == "not_tested"


def test_calibration_that_got_worse_is_called_worse():
    v = pair_verdict(_pair(), META, 0.05)
    assert v["families"]["calibration"]["call"] == "worse"
    assert "calibration: worse — a regression" in v["sentence"]
    assert v["regression"] == ["calibration"] and v["call"] == MIXED
    assert v["families"]["other"]["call"] == "not_tested"


def test_three_cases():
    better = pair_verdict(_pair(ece=(-0.03, 0.01)), META, 0.05)
    assert better["call"] == "better" and better["sentence"].startswith("cand vs base: better")
    worse = pair_verdict(_pair(acc=(-0.05, 0.001), ece=(0.0, 0.9)), META, 0.05)
    assert worse["call"] == "worse" and "worse — a regression" in worse["sentence"]
    same = pair_verdict(_pair(acc=(0.01, 0.4), ece=(0.01, 0.4)), META, 0.05)
    assert same["call"] == "not_distinguishable" and "not distinguishable" in same["sentence"]
