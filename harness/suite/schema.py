"""The schema of ``suite.yaml`` (pydantic, ``extra="forbid"``: an unknown key is an error naming its line)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

DEFAULT_SEPARATOR = "\n\n###\n\n"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSection(_Strict):
    heldout: str
    train: str | None = None
    validation: str | None = None  # optional: checkpoints are chosen on it, held-out confirms (docs/report.md)
    format: Literal["openai-jsonl", "chat-jsonl", "csv", "tsv"] | None = None
    id_field: str | None = None
    text_field: str = "text"
    label_field: str = "label"


class LabelSpec(_Strict):
    name: str = Field(min_length=1)
    display: str | None = None
    description: str | None = Field(default=None, min_length=1)  # what the label means (zero-shot classifiers)


class PromptSection(_Strict):
    separator: str = DEFAULT_SEPARATOR
    template: str | None = None
    system: str | None = None


class ModelEntry(_Strict):
    provider: str
    argument: str = ""
    options: dict[str, Any] = Field(default_factory=dict)


class PriceEntry(_Strict):
    """USD per 1M tokens (see harness/data/prices.yaml)."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class RateLimitEntry(_Strict):
    """Requests and tokens per minute for a model name, a provider name or ``default``."""

    rpm: float | None = Field(default=None, gt=0)
    tpm: float | None = Field(default=None, gt=0)


class SelectionSection(_Strict):
    """``selection:``: how the report picks the model to ship (docs/report.md, "Verdict")."""

    metric: str | None = Field(default=None, min_length=1)     # primary metric (default: accuracy, else the first)
    tie_break: str | None = Field(default=None, min_length=1)  # default: the first calibration metric


class ThresholdSection(_Strict):
    """``thresholds:``: target operating points for binary tasks (the report's threshold section)."""

    precision: float | None = Field(default=None, gt=0, lt=1)  # the threshold with the best recall at >= this
    recall: float | None = Field(default=None, gt=0, lt=1)     # the threshold with the best precision at >= this


class ValidateSection(_Strict):
    """``validate:``: what the data checks (``harness validate``, and ``harness run`` before it sends anything)
    hold the held-out set to."""

    mde: float = Field(0.02, gt=0, le=1)  # the accuracy difference the suite must be able to detect
    discordance: float = Field(0.1, gt=0, le=1)  # assumed share of examples two models disagree on
    power: float = Field(0.8, gt=0, lt=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    min_per_class: int = Field(20, ge=0)  # fewer held-out examples of a label: a warning
    ignore: list[str] = Field(default_factory=list)  # finding codes not to report


class SuiteFile(_Strict):
    name: str | None = None
    description: str = ""
    data: DataSection
    labels: list[LabelSpec | str] = Field(min_length=2)
    positive: str | None = None
    prompt: PromptSection = Field(default_factory=PromptSection)
    metrics: list[str] | None = None
    metric_options: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, str | ModelEntry] = Field(default_factory=dict)
    baseline: str | None = None
    comparisons: list[list[str]] = Field(default_factory=list)
    gate: GateSection | None = None
    selection: SelectionSection | None = None
    thresholds: ThresholdSection | None = None
    validate_: ValidateSection = Field(default_factory=ValidateSection, alias="validate")

    @field_validator("comparisons")
    @classmethod
    def _pairs(cls, pairs: list[list[str]]) -> list[list[str]]:
        for pair in pairs:
            if len(pair) != 2 or pair[0] == pair[1]:
                raise ValueError("each comparison is a pair of two different model names, e.g. [job/final, base]")
        return pairs
    pricing: dict[str, PriceEntry] | None = None  # model id or model name -> price
    rate_limits: dict[str, RateLimitEntry] | None = None  # model name, provider or "default" -> limits

    @field_validator("positive", mode="before")
    @classmethod
    def _scalar_positive(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("labels", mode="before")
    @classmethod
    def _scalar_labels(cls, labels: Any) -> Any:
        """Numeric labels (``labels: [0, 1]``) are their text; a boolean cannot be told back into text."""
        if not isinstance(labels, list):
            return labels
        out = []
        for lab in labels:
            if isinstance(lab, bool):
                raise ValueError(f"label {lab!r} was read as a YAML boolean: quote it (e.g. \"{str(lab).lower()}\")")
            out.append(str(lab) if isinstance(lab, (int, float)) else lab)
        return out

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, labels: list[LabelSpec | str]) -> list[LabelSpec | str]:
        names = [lab if isinstance(lab, str) else lab.name for lab in labels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate label(s): {', '.join(dupes)}")
        return labels


# --- the CI gate: the suite's ``gate:`` section, and a ``--rules`` file (the same schema) -----------------

RULE_KINDS = ("regression", "non_inferiority", "superiority", "floor", "ceiling", "health")


def _finite(value: Any) -> Any:
    """A gate's number is a finite number: ``.nan`` compares false with everything (a rule that can never fail),
    ``.inf`` allows any drop; a YAML boolean is not a number."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {str(value).lower()}")
    if isinstance(value, (int, float, str)):
        try:
            number = float(value)
        except OverflowError:
            raise ValueError("must be a finite number, got one too large to use") from None
        except ValueError:
            return value  # not a number at all: pydantic says so
        if not math.isfinite(number):
            raise ValueError(f"must be a finite number, got {value!r}")
    return value


Number = Annotated[float, BeforeValidator(_finite)]


def _size(value: float) -> float:
    if value < 0:
        raise ValueError(f"must not be negative (got {value}): a margin is the size of a change in the metric's "
                         "units, e.g. 0.01 for one point of accuracy")
    return value


class _MetricRule(_Strict):
    metric: str = Field(min_length=1)
    class_: str | None = Field(default=None, alias="class", min_length=1)  # the metric of one named class
    optional: bool = False  # skip (with a note) when neither model has the metric, instead of failing closed


class RegressionRule(_MetricRule):
    """Fails only when the data show the candidate worse than the reference by more than ``max_drop``."""

    kind: Literal["regression"]
    max_drop: Number = 0.0
    detect: Number = Field(default=0.01, gt=0)  # the drop beyond max_drop the gate should be able to see

    @field_validator("max_drop")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        return _size(value)


class NonInferiorityRule(_MetricRule):
    """Passes only when the data show the candidate no worse than the reference by more than ``margin``."""

    kind: Literal["non_inferiority"]
    margin: Number

    @field_validator("margin")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        return _size(value)


class SuperiorityRule(_MetricRule):
    """Passes only when the data show the candidate better than the reference by more than ``margin``."""

    kind: Literal["superiority"]
    margin: Number = 0.0

    @field_validator("margin")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        return _size(value)


class FloorRule(_MetricRule):
    """The candidate's own value must be at least ``min`` (on its point value or its confidence bound)."""

    kind: Literal["floor"]
    min: Number
    on: Literal["point", "bound"] = "point"


class CeilingRule(_MetricRule):
    """The candidate's own value must be at most ``max`` (on its point value or its confidence bound)."""

    kind: Literal["ceiling"]
    max: Number
    on: Literal["point", "bound"] = "point"


class HealthRule(_Strict):
    """The shares of failed and invalid examples of each model (candidate and reference) stay under limits."""

    kind: Literal["health"]
    max_failed: Number = Field(default=0.01, ge=0, le=1)
    max_invalid: Number = Field(default=0.05, ge=0, le=1)


GateRule = Annotated[RegressionRule | NonInferiorityRule | SuperiorityRule | FloorRule | CeilingRule | HealthRule,
                     Field(discriminator="kind")]


class GateSection(_Strict):
    """``gate:`` in suite.yaml, or a whole ``--rules`` file. Without ``rules`` the documented defaults apply."""

    candidate: str | None = Field(default=None, min_length=1)
    against: str | None = Field(default=None, min_length=1)
    baseline: str | None = Field(default=None, min_length=1)  # a stored run: results.json or its folder
    alpha: Number = Field(default=0.04, gt=0, le=0.25)  # the gate's DEFAULT_ALPHA (docs/ci.md)
    strict: bool = False
    rules: list[GateRule] | None = Field(default=None, min_length=1)  # none at all: the defaults; never empty
