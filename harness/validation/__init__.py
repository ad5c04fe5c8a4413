"""Data checks before money is spent (``harness validate``, ``harness run``'s pre-flight, ``harness.validate()``):
format parity with training, labels and their tokens, lengths, duplicates and leakage, size and balance.

One module per family of checks: ``rows`` (reading every row, however broken), ``conventions`` (what the
training file does), ``formatting``, ``labels``, ``length``, ``duplicates``, ``size``; ``core`` runs them into
:class:`Validation` findings; ``fix`` writes a corrected copy of a suite.
"""

from .core import CODES, Checked, check_suite, model_specs, validate
from .findings import ERROR, INFO, SEVERITIES, WARNING, Finding, Validation

__all__ = ["CODES", "ERROR", "INFO", "SEVERITIES", "WARNING", "Checked", "Finding", "Validation", "check_suite",
           "model_specs", "validate"]
