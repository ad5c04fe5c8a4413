"""How p-values read in the report: a bootstrap p-value at its resolution limit is not shown as exact."""

from harness_reports.sections import _p


def test_bootstrap_floor_reads_as_a_bound():
    assert _p(1 / 1001, floor=1 / 1001) == "≤ 0.0010"
    assert _p(0.0123, floor=1 / 1001) == "0.0123"
    assert _p(3e-6) == "< 0.0001"  # closed-form tests (McNemar, DeLong) have no floor
    assert _p(None) == "n/a"
