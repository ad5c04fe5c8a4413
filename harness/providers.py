"""The model-provider contract.

A :class:`Provider` (registered by a plugin) turns a :class:`ModelSpec` such as ``demo:base`` or
``openai-job:ftjob-abc`` into one or more :class:`Model` objects (a fine-tuning job expands into its base
model, every checkpoint and the final model). Two kinds of model exist:

* :class:`LocalModel` scores a whole list of examples in-process (scikit-learn, a predictions file).
* :class:`RequestModel` makes one request per example to an API. It only says how to build a request,
  send it and parse the response; the runner's engine owns concurrency, caching, retries and batching,
  so every HTTP provider gets them for free.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import InputError
from .examples import Example, Prediction

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .suite import Suite


class Options(BaseModel):
    """Base for provider options: unknown keys are an error, not a silent default."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ModelSpec:
    """``NAME=PROVIDER:ARGUMENT`` plus options, from the suite or the command line."""

    name: str
    provider: str
    argument: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""  # "suite.yaml:12" or "--model", for error messages

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.argument}" if self.argument else self.provider


@dataclass
class Resolved:
    """What a provider makes of one spec: models to score plus run artifacts (e.g. training curves)."""

    models: list["Model"]
    training: dict[str, Any] | None = None


class Model:
    """One model to score on the held-out set."""

    def __init__(self, name: str, spec: ModelSpec) -> None:
        self.name = name
        self.spec = spec

    @property
    def provider(self) -> str:
        return self.spec.provider

    def describe(self) -> dict[str, Any]:
        """JSON-safe metadata recorded in results.json. Never include secrets."""
        return {}

    async def predict(self, examples: Sequence[Example], engine: "Engine") -> list[Prediction]:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release clients and connections."""


class LocalModel(Model):
    """A model that scores examples in-process; :meth:`predict_all` runs in a worker thread."""

    def predict_all(self, examples: Sequence[Example]) -> list[Prediction]:
        raise NotImplementedError

    async def predict(self, examples: Sequence[Example], engine: "Engine") -> list[Prediction]:
        return await asyncio.to_thread(self.predict_all, examples)


class RequestModel(Model):
    """A model reached through one API request per example.

    Subclasses implement :meth:`build_request` (a deterministic JSON body), :meth:`send` (one async call
    returning the JSON response; raise :class:`harness.errors.ExampleFailure` for a per-example failure,
    :class:`harness.engine.Retryable` for a transient one, :class:`harness.errors.ProviderError` to stop the
    run) and :meth:`parse` (response → :class:`Prediction`). ``endpoint`` and :meth:`cache_identity`
    identify the target for the response cache and batch submission.
    """

    endpoint: ClassVar[str] = ""

    def build_request(self, example: Example) -> dict[str, Any]:
        raise NotImplementedError

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, example: Example, request: dict[str, Any], response: dict[str, Any]) -> Prediction:
        raise NotImplementedError

    def cache_identity(self) -> dict[str, Any]:
        """What, besides the request body, determines the response (provider, base URL, endpoint)."""
        return {"provider": self.provider, "endpoint": self.endpoint}

    async def predict(self, examples: Sequence[Example], engine: "Engine") -> list[Prediction]:
        return await engine.run_requests(self, examples)


class Provider:
    """A named factory of models. Plugins register instances with ``register_providers``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    argument_help: ClassVar[str] = ""
    options_model: ClassVar[type[Options]] = Options

    def parse_options(self, spec: ModelSpec) -> Options:
        try:
            return self.options_model(**dict(spec.options))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err.get("loc", ()))
            raise InputError(f"{err.get('msg', 'invalid option')} (provider {self.name})",
                             file=spec.origin or None, field=f"models.{spec.name}.{loc}") from None

    def resolve(self, spec: ModelSpec, suite: "Suite") -> Resolved:
        raise NotImplementedError
