"""The CI gate: rules judged on a run's results with the paired statistics harness already uses.

``rules`` (the rule records), ``evidence`` (the statistics interface: estimates, bounds, p-values),
``inputs`` (what is judged), one module per rule kind (``regression``, ``noninferiority``, ``superiority``,
``thresholds`` for floors and ceilings, ``health``), ``judge`` (the family-wise correction and the verdict)
and ``verdict`` (the verdict and its public JSON form)."""

from .inputs import GateInput, ModelRecord
from .judge import judge
from .rules import GateConfig, Rule
from .verdict import CannotJudge, Verdict, unjudged_json

__all__ = ["CannotJudge", "GateConfig", "GateInput", "ModelRecord", "Rule", "Verdict", "judge", "unjudged_json"]
