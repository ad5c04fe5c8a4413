"""Every rule kind judged on in-memory data: verdicts, directions, words, the family-wise correction."""

from __future__ import annotations

import numpy as np
import pytest

from harness.analysis.gate import GateConfig, GateInput, ModelRecord, Rule, judge
from harness.metrics import MetricData
from harness.plugins import load_registry

REGISTRY = load_registry(entry_points=False)
BINARY = ("neg", "pos")
MULTI = ("billing", "shipping", "urgent")


def data(labels, y_true, right, conf=None, seed=0) -> MetricData:
    """Predictions right where ``right`` (else the next label); probabilities ``conf`` on the prediction."""
    y_true = np.asarray(y_true)
    k = len(labels)
    pred = np.where(right, y_true, (y_true + 1) % k)
    proba = None
    if conf is not None:
        proba = np.full((len(y_true), k), 0.0)
        proba[:] = ((1 - np.asarray(conf)) / (k - 1))[:, None]
        proba[np.arange(len(y_true)), pred] = conf
    return MetricData(tuple(labels), y_true, pred, proba, 1 if k == 2 else None, {"ece_bins": 10, "beta": 1.0})


def record(name, d: MetricData, failed=0) -> ModelRecord:
    return ModelRecord(name, d, counts={"n": d.n, "ok": d.n - failed, "invalid": 0, "failed": failed})


def verdicts(cand: MetricData, ref: MetricData, *rules: Rule, strict=False, alpha=0.05, failed=0):
    metrics = {r.metric: REGISTRY.metrics[r.metric] for r in rules if r.metric}
    inp = GateInput(record("cand", cand, failed), record("ref", ref), metrics, cand.labels)
    v = judge(inp, GateConfig(tuple(rules), alpha=alpha, strict=strict, n_resamples=400))
    return v, [a.verdict for a in v.assessments]


def binary_pair(n=1000, acc_ref=0.85, drop=0, seed=0, swap=0):
    """Reference and candidate on the same examples: the candidate is wrong on ``drop`` more examples, and
    ``swap`` of its right answers are exchanged for wrong ones (same accuracy, more disagreement)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    right_ref = rng.random(n) < acc_ref
    right_cand = right_ref.copy()
    if swap:
        right_cand[np.flatnonzero(right_ref)[-swap:]] = False
        right_cand[np.flatnonzero(~right_ref)[:swap]] = True
    if drop:
        right_cand[np.flatnonzero(right_ref)[:drop]] = False
    conf = 0.6 + 0.35 * rng.random(n)
    return data(BINARY, y, right_cand, conf), data(BINARY, y, right_ref, conf)


def test_regression_margin_moves_the_line():
    cand, ref = binary_pair(drop=40)  # 4 points worse
    _, got = verdicts(cand, ref, Rule("regression", "accuracy"))
    assert got == ["fail"]
    _, got = verdicts(cand, ref, Rule("regression", "accuracy", margin=0.10))  # a 10-point drop is allowed
    assert got == ["pass"]


def test_regression_on_a_lower_is_better_metric_fails_on_a_rise():
    cand, ref = binary_pair(drop=60)
    v, got = verdicts(cand, ref, Rule("regression", "log_loss"), Rule("regression", "brier"))
    assert got == ["fail", "fail"]
    j = v.to_json()["rules"][0]
    assert j["delta"] > 0 and j["higher_is_better"] is False and "rise" in j["reason"]
    better_cand = ref
    _, got = verdicts(better_cand, cand, Rule("regression", "log_loss"))
    assert got == ["pass"]


def test_non_inferiority_pass_inconclusive_fail():
    same_c, same_r = binary_pair(n=4000)
    _, got = verdicts(same_c, same_r, Rule("non_inferiority", "accuracy", margin=0.02))
    assert got == ["pass"]  # equal models, a big set: a 2-point drop is ruled out
    small_c, small_r = binary_pair(n=150, swap=10)
    v, got = verdicts(small_c, small_r, Rule("non_inferiority", "accuracy", margin=0.02))
    assert got == ["inconclusive"] and "non-inferiority not shown" in v.assessments[0].reason
    bad_c, bad_r = binary_pair(n=2000, drop=200)
    _, got = verdicts(bad_c, bad_r, Rule("non_inferiority", "accuracy", margin=0.02))
    assert got == ["fail"]


def test_superiority_is_a_demand():
    worse_c, ref = binary_pair(n=2000, drop=200)
    _, got = verdicts(ref, worse_c, Rule("superiority", "accuracy"))
    assert got == ["pass"]  # 10 points better: shown
    _, got = verdicts(ref, worse_c, Rule("superiority", "accuracy", margin=0.2))
    assert got == ["fail"]  # not 20 points better
    same_c, same_r = binary_pair(n=2000)
    v, got = verdicts(same_c, same_r, Rule("superiority", "accuracy"))
    assert got == ["fail"] and v.exit_code == 4


@pytest.mark.parametrize("kind, threshold, on, expected", [
    ("floor", 0.80, "point", "pass"), ("floor", 0.90, "point", "fail"),
    ("floor", 0.80, "bound", "pass"), ("floor", 0.86, "bound", "inconclusive"), ("floor", 0.90, "bound", "fail"),
    ("ceiling", 0.90, "point", "pass"), ("ceiling", 0.80, "point", "fail"),
    ("ceiling", 0.90, "bound", "pass"), ("ceiling", 0.80, "bound", "fail"),
])
def test_floor_and_ceiling_on_point_or_bound(kind, threshold, on, expected):
    cand, ref = binary_pair(n=2000, acc_ref=0.85)
    value = float(np.mean(cand.y_pred == cand.y_true))
    assert 0.83 < value < 0.87
    v, got = verdicts(cand, ref, Rule(kind, "accuracy", threshold=threshold, on=on))
    assert got == [expected], v.assessments[0].reason
    j = v.to_json()["rules"][0]
    assert j["candidate"] == pytest.approx(value) and j["reference"] is None
    assert j["bounds"]["lower"] < value < j["bounds"]["upper"]


def test_ceiling_on_a_lower_is_better_metric():
    cand, ref = binary_pair(n=2000)
    _, got = verdicts(cand, ref, Rule("ceiling", "log_loss", threshold=5.0, on="bound"))
    assert got == ["pass"]
    _, got = verdicts(cand, ref, Rule("ceiling", "log_loss", threshold=0.01, on="bound"))
    assert got == ["fail"]


def test_per_class_rule_sees_a_drop_the_overall_metric_hides():
    rng = np.random.default_rng(4)
    n = 3000
    y = rng.integers(0, 3, n)
    right_ref = rng.random(n) < 0.85
    right_cand = right_ref.copy()
    urgent = np.flatnonzero((y == 2) & right_ref)
    others = np.flatnonzero((y != 2) & ~right_ref)
    right_cand[urgent[:120]] = False  # urgent recall drops about 14 points...
    right_cand[others[:120]] = True  # ...while accuracy stays the same
    cand, ref = data(MULTI, y, right_cand), data(MULTI, y, right_ref)
    v, got = verdicts(cand, ref, Rule("regression", "accuracy"), Rule("regression", "recall", cls="urgent"),
                      Rule("regression", "recall", cls="billing"))
    assert got[1] == "fail" and got[0] != "fail" and got[2] != "fail"
    j = v.to_json()["rules"][1]
    assert j["class"] == "urgent" and j["rule"] == "regression: recall[urgent]"
    assert j["delta"] == pytest.approx(-120 / np.sum(y == 2))


def test_per_class_metric_not_defined_for_multiclass_without_a_class_is_not_judged():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 300)
    cand = data(MULTI, y, rng.random(300) < 0.8)
    v, got = verdicts(cand, cand, Rule("regression", "recall"))
    assert got == ["not_judged"] and v.exit_code == 3 and "not available" in v.assessments[0].reason


def test_health_rule_limits_and_exit_3():
    cand, ref = binary_pair()
    v, got = verdicts(cand, ref, Rule("regression", "accuracy"), Rule("health", max_failed=0.02), failed=30)
    assert got[1] == "fail" and v.status == "could_not_judge" and v.exit_code == 3
    _, got = verdicts(cand, ref, Rule("health", max_failed=0.05), failed=30)
    assert got == ["pass"]


def test_holm_keeps_a_rule_that_fails_alone_from_failing_in_a_family():
    cand, ref = binary_pair(n=1000, drop=18, swap=40, seed=3)  # about p = 0.035 on its own
    alone, got = verdicts(cand, ref, Rule("regression", "accuracy"))
    p = alone.assessments[0].p_value
    assert 0.025 < p < 0.05 and got == ["fail"]
    rules = [Rule("regression", "accuracy"), Rule("regression", "f1_macro"), Rule("regression", "auroc"),
             Rule("regression", "brier")]
    family, got = verdicts(cand, ref, *rules)
    acc = family.assessments[0]
    assert acc.p_value == pytest.approx(p) and acc.p_adjusted > p
    if acc.p_adjusted > 0.05:
        assert got[0] == "inconclusive" and "Holm" in acc.reason
    assert family.to_json()["family"]["size"] == 4


def test_strict_turns_inconclusive_into_fail():
    cand, ref = binary_pair(n=150, drop=2)
    v, got = verdicts(cand, ref, Rule("regression", "accuracy"))
    assert got == ["inconclusive"] and v.exit_code == 0
    v, got = verdicts(cand, ref, Rule("regression", "accuracy"), strict=True)
    assert got == ["inconclusive"] and v.exit_code == 4 and v.to_json()["rules"][0]["blocking"]


def test_inconclusive_words_say_what_cannot_be_ruled_out_and_how_many_examples_would_tell():
    cand, ref = binary_pair(n=300, drop=3)
    v, _ = verdicts(cand, ref, Rule("regression", "accuracy"))
    a = v.assessments[0]
    low = a.estimate.lower(0.05)
    assert f"a drop of up to {abs(100 * low):.1f} points cannot be ruled out" in a.reason
    assert "examples would detect a drop of 1 point" in a.reason and a.examples_needed > 300


def test_a_point_floor_needs_no_interval():
    """AUROC with a single positive example has a value but no DeLong interval: a floor on the point is still
    judged (only a floor on the bound cannot be)."""
    y = np.zeros(200, int)
    y[5] = 1
    conf = np.linspace(0.6, 0.95, 200)
    cand = data(BINARY, y, np.ones(200, bool), conf)
    v, got = verdicts(cand, cand, Rule("floor", "auroc", threshold=0.5), Rule("floor", "auroc", threshold=0.5,
                                                                               on="bound"))
    assert got == ["pass", "not_judged"], [a.reason for a in v.assessments]
    assert v.to_json()["rules"][0]["bounds"]["lower"] is None
