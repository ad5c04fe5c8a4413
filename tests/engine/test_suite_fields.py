"""The suite's optional ``pricing:`` and ``rate_limits:`` sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.suite import load_suite

from .conftest import write_suite


def test_pricing_and_rate_limits_are_loaded(tmp_path: Path) -> None:
    path = write_suite(tmp_path / "s", "http://127.0.0.1:9/v1", n=3, extra=(
        "pricing:\n  my-model: {input: 0.5, output: 1.5}\n"
        "rate_limits:\n  default: {rpm: 500}\n  tuned: {rpm: 60, tpm: 10000}\n"))
    suite = load_suite(path)
    assert suite.pricing == {"my-model": {"input": 0.5, "output": 1.5}}
    assert suite.rate_limits == {"default": {"rpm": 500, "tpm": None}, "tuned": {"rpm": 60, "tpm": 10000}}


@pytest.mark.parametrize("extra, where", [
    ("pricing:\n  m: {input: 1}\n", "pricing"),
    ("pricing:\n  m: {input: -1, output: 1}\n", "pricing"),
    ("rate_limits:\n  default: {rpm: 0}\n", "rate_limits"),
    ("rate_limits:\n  default: {rps: 3}\n", "rate_limits"),
])
def test_bad_sections_point_at_the_line(tmp_path: Path, extra: str, where: str) -> None:
    path = write_suite(tmp_path / "s", "http://127.0.0.1:9/v1", n=3, extra=extra)
    with pytest.raises(InputError) as err:
        load_suite(path)
    assert where in str(err.value) and "suite.yaml:" in str(err.value)


def test_suite_rate_limits_reach_the_engine(tmp_path: Path, registry: object) -> None:
    from harness.runner import RunOptions, make_engine, merge_specs, resolve_models

    suite = load_suite(write_suite(tmp_path / "s", "http://127.0.0.1:9/v1", n=3,
                                   extra="rate_limits:\n  default: {rpm: 500}\n  tuned: {rpm: 60}\n"))
    models, _ = resolve_models(suite, registry, merge_specs(suite, []))  # type: ignore[arg-type]
    engine = make_engine(suite, models, RunOptions(out_dir=tmp_path))
    limits = {m.name: engine.limit_for(m) for m in models}  # type: ignore[arg-type]
    assert limits["base"].rpm == 500 and limits["tuned"].rpm == 60
