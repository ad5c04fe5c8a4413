"""Suites and their data: ``suite.yaml`` (its schema, :class:`Suite`, :func:`load_suite`), the held-out and
training files (:mod:`harness.suite.datasets`) and YAML line numbers for errors (:mod:`harness.suite.yamlpos`).

Depends only on the plugin contract (``harness.errors``, ``harness.examples``, ``harness.providers.ModelSpec``).
"""

from .load import (
    Suite,
    bundled_suite_names,
    bundled_suites_dir,
    find_suite,
    load_suite,
    parse_cli_model,
    parse_model_spec,
)
from .schema import (
    DEFAULT_SEPARATOR,
    DataSection,
    LabelSpec,
    ModelEntry,
    PriceEntry,
    PromptSection,
    RateLimitEntry,
    SuiteFile,
    ValidateSection,
)

__all__ = [
    "DEFAULT_SEPARATOR", "DataSection", "LabelSpec", "ModelEntry", "PriceEntry", "PromptSection",
    "RateLimitEntry", "Suite", "SuiteFile", "ValidateSection", "bundled_suite_names", "bundled_suites_dir",
    "find_suite", "load_suite", "parse_cli_model", "parse_model_spec",
]
