"""The model-provider contract.

A :class:`Provider` (registered by a plugin) turns a :class:`ModelSpec` such as ``demo:base`` or
``openai-job:ftjob-abc`` into one or more :class:`Model` objects (a fine-tuning job expands into its base
model, every checkpoint and the final model). Two kinds of model exist:

* :class:`LocalModel` scores a whole list of examples in-process (scikit-learn, a predictions file).
* :class:`RequestModel` makes one request per example to an API. It only says how to build a request,
  send it and parse the response; the runner's engine owns concurrency, caching, retries and batching,
  so every HTTP provider gets them for free. An endpoint that takes many inputs per call (embeddings) says
  how to merge requests and split the answer (:meth:`RequestModel.grouping`); each example's response is
  still cached on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, PydanticUndefinedAnnotation, PydanticUserError, ValidationError

from .errors import InputError, UsageError
from .examples import Example, Prediction
from .runscope import SetupCalls as SetupCalls  # what a run tells its models: part of the contract, from here
from .runscope import estimating as estimating
from .runscope import estimating_scope as estimating_scope
from .runscope import output_dir as output_dir
from .runscope import output_dir_scope as output_dir_scope
from .runscope import setup_calls as setup_calls
from .runscope import setup_calls_scope as setup_calls_scope


class ExampleSet(Protocol):
    """One of the suite's data files, loaded (a :class:`harness.suite.datasets.Dataset`)."""

    @property
    def path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...
    @property
    def examples(self) -> tuple[Example, ...]: ...


class SuiteView(Protocol):
    """What a provider may read of the suite it resolves models for. The runner passes the
    :class:`harness.suite.Suite` itself; this says which of its parts belong to the contract."""

    @property
    def path(self) -> Path:
        """The suite.yaml file (for error messages)."""
    @property
    def root(self) -> Path:
        """The suite folder: relative paths in suite.yaml are relative to it."""
    @property
    def name(self) -> str: ...
    @property
    def labels(self) -> tuple[str, ...]:
        """The ordered label set (what a model outputs, without the leading space)."""
    @property
    def positive(self) -> str | None: ...
    @property
    def train(self) -> ExampleSet | None:
        """The training split (None when the suite names none); loaded on first use."""
    @property
    def heldout(self) -> ExampleSet:
        """The held-out split; loaded on first use."""
    @property
    def display(self) -> Mapping[str, str]:
        """Each label's display name (its name when suite.yaml gives none)."""
    @property
    def descriptions(self) -> Mapping[str, str]:
        """The labels that have a ``description`` in suite.yaml: label → its text (zero-shot classifiers)."""


class RequestRunner(Protocol):
    """What runs a :class:`RequestModel`'s requests: the run's :class:`harness.engine.Engine`, which owns
    concurrency, rate limits, retries, the cache and batching (the contract does not import it)."""

    async def run_requests(self, model: RequestModel, examples: Sequence[Example]) -> list[Prediction]: ...

    def notice(self, text: str) -> None:
        """Tell the user something about the run once (printed and recorded in results.json)."""


class Options(BaseModel):
    """Base for provider options: unknown keys are an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # validators are built when first used


@dataclass(frozen=True)
class ModelSpec:
    """``NAME=PROVIDER:ARGUMENT`` plus options, from the suite or the command line."""

    name: str
    provider: str
    argument: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    origin: str = ""  # "suite.yaml:12" or "--model", for error messages
    #: The folder a relative path in ``argument`` (or in a path option) is relative to: the suite folder for a
    #: model named in suite.yaml; None (the current directory) for one given on the command line.
    relative_to: Path | None = None

    @property
    def spec(self) -> str:
        return f"{self.provider}:{self.argument}" if self.argument else self.provider


@dataclass
class Resolved:
    """What a provider makes of one spec: models to score plus run artifacts (e.g. training curves)."""

    models: list[Model]
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

    def prepare(self) -> None:
        """Set-up that may ask the model's server something free (a tokenize endpoint, say). A run calls it once
        for every model after all of its local checks passed (the suite, the data, the options, the output
        folder) and before anything is scored or estimated, so bad input never costs a request. Raise
        :class:`harness.errors.UsageError` to stop the run (exit 2). The default does nothing."""

    async def predict(self, examples: Sequence[Example], engine: RequestRunner) -> list[Prediction]:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release clients and connections."""


class LocalModel(Model):
    """A model that scores examples in-process; :meth:`predict_all` runs in a worker thread."""

    def predict_all(self, examples: Sequence[Example]) -> list[Prediction]:
        raise NotImplementedError

    async def predict(self, examples: Sequence[Example], engine: RequestRunner) -> list[Prediction]:
        return await asyncio.to_thread(self.predict_all, examples)


@dataclass(frozen=True)
class Grouping:
    """How many examples' requests a :class:`RequestModel` may merge into one (:meth:`RequestModel.grouping`)."""

    max_items: int  # requests merged into one (>= 1); OpenAI's /v1/embeddings takes up to 2,048 inputs
    max_tokens: int | None = None  # their summed prompt tokens (estimate_tokens) per merged request; None: any
    batch_max_items: int | None = None  # items across one Batch API job (OpenAI /v1/embeddings: 50,000); None: any

    def __post_init__(self) -> None:
        if self.max_items < 1:
            raise ValueError("Grouping.max_items must be at least 1")


class RequestModel(Model):
    """A model reached through one API request per example.

    Subclasses implement :meth:`build_request` (a deterministic JSON body), :meth:`send` (one async call
    returning the JSON response; raise :class:`harness.errors.ExampleFailure` for a per-example failure,
    :class:`harness.errors.Retryable` for a transient one, :class:`harness.errors.ProviderError` to stop the
    run) and :meth:`parse` (response → :class:`Prediction`). ``endpoint`` and :meth:`cache_identity`
    identify the target for the response cache and batch submission.

    An endpoint that takes many inputs per call implements :meth:`grouping`, :meth:`combine` and :meth:`split`:
    requests are still built, cached and parsed one per example, and merged only to be sent.
    """

    endpoint: ClassVar[str] = ""

    def build_request(self, example: Example) -> dict[str, Any]:
        raise NotImplementedError

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, example: Example, request: dict[str, Any], response: dict[str, Any]) -> Prediction:
        raise NotImplementedError

    def cache_identity(self) -> dict[str, Any]:
        """What, besides the request body, determines the response (provider, base URL, endpoint).

        Never include an API key: the identity is hashed into the durable cache key.
        """
        return {"provider": self.provider, "endpoint": self.endpoint}

    # --- optional capabilities, used by the engine when present -------------------------------------

    def usage(self, response: dict[str, Any]) -> dict[str, int] | None:
        """Token usage of one response: ``{"prompt_tokens": N, "completion_tokens": M}`` (None if unknown)."""
        return None

    def estimate_tokens(self, request: dict[str, Any]) -> tuple[int, int] | None:
        """(prompt tokens, max completion tokens) of a request, from the tokenizer, without calling the API.
        Used by ``--dry-run`` cost estimates; None when the provider cannot tell."""
        return None

    def pricing_key(self) -> str | None:
        """The model id to look up in the price table (``gpt-4o-mini``, ``ft:gpt-4o-mini:...``)."""
        return None

    def rate_limits(self) -> tuple[float | None, float | None]:
        """(requests per minute, tokens per minute) this model should stay under; None = unlimited."""
        return (None, None)

    def batch_client(self) -> BatchClient | None:
        """A :class:`BatchClient` when the endpoint supports batch submission (OpenAI Batch API)."""
        return None

    def grouping(self) -> Grouping | None:
        """Several examples per request (an embeddings endpoint embeds a list of inputs per call); None, the
        default: one request per example. When set, the engine builds, screens and looks up one request per
        example as usual (:meth:`build_request`: each example's response is cached under its own request, so
        it is fetched once per distinct request, across runs and suites), packs the ones not cached, in order,
        into merged requests within these limits (:meth:`combine`), sends those (or submits them as Batch API
        lines), and splits each answer back into one response per example (:meth:`split`), which it caches,
        books and parses like any other. A merged request that fails with
        :class:`~harness.errors.ExampleFailure` is halved and the halves are sent again, so one bad input fails
        only its own example."""
        return None

    def combine(self, requests: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """One request body doing the work of ``requests`` (per-example bodies from :meth:`build_request`,
        in order). Needed when :meth:`grouping` is set."""
        raise NotImplementedError

    def split(self, requests: Sequence[dict[str, Any]], response: dict[str, Any]) -> list[dict[str, Any] | str]:
        """The response to ``combine(requests)`` as one item per request, in order: a dict is that request's
        own response (as if it had been sent alone: it is cached under it and passed to :meth:`parse`); a str
        fails that example alone with this reason, caching nothing (a vector that is not finite, say). Raise
        :class:`~harness.errors.ExampleFailure` to fail them all, :class:`~harness.errors.ProviderError` to
        stop the model. Needed when :meth:`grouping` is set."""
        raise NotImplementedError

    def planned_examples(self, examples: Sequence[Example]) -> Sequence[Example]:
        """Every example this model will send a request for when it scores ``examples``, for ``--dry-run``'s
        count and cost. The default is ``examples``; a model that also embeds its training split or its
        labels' texts lists those too."""
        return examples

    async def predict(self, examples: Sequence[Example], engine: RequestRunner) -> list[Prediction]:
        return await engine.run_requests(self, examples)


class BatchClient:
    """Submits many requests as one asynchronous batch job (e.g. the OpenAI Batch API).

    Lines are ``{"custom_id": ..., "body": request}``; results map custom_id to either
    ``{"response": body}`` or ``{"error": "reason"}`` (plus ``"refused": True`` when the server refused the
    line for its content, HTTP 400: a line of merged requests is then halved and submitted again).
    """

    async def submit(self, lines: Sequence[dict[str, Any]]) -> str:
        """Upload and start a batch; return its id (stored so an interrupted run resumes polling)."""
        raise NotImplementedError

    async def status(self, batch_id: str) -> str:
        """One of ``validating``, ``in_progress``, ``finalizing``, ``completed``, ``failed``, ``expired``,
        ``cancelling``, ``cancelled``. Raise :class:`~harness.errors.BatchNotFound` for an id the server does
        not know."""
        raise NotImplementedError

    async def results(self, batch_id: str) -> dict[str, dict[str, Any]]:
        """Download the output and error files of a finished batch, keyed by custom_id."""
        raise NotImplementedError

    async def errors(self, batch_id: str) -> list[str]:
        """Why a batch ended ``failed``, ``expired`` or ``cancelled``, in the server's words, one line each (the
        OpenAI batch's ``errors.data``: ``token_limit_exceeded: Enqueued token limit reached …``, an input line
        that did not validate …); called after :meth:`status` reported the end. Default: none known."""
        return []


class TextTokenizer(Protocol):
    """A model's tokenizer, as far as the data checks need it (``harness validate``). A provider may also give
    it a ``decode(ids) -> str`` method: findings then show token texts, not only ids."""

    @property
    def name(self) -> str:
        """The tokenizer's name in findings (``o200k_base``)."""
    def encode(self, text: str) -> Sequence[int]:
        """Token ids of ``text``, special-token text counting as ordinary text."""


#: How a provider scores labels (:attr:`ModelFacts.scoring`).
LabelScoring = Literal["first-token", "full"]


@dataclass(frozen=True)
class ModelFacts:
    """What a provider knows about the model a spec names *without contacting it* (no key, no request, no
    download): what the data checks (``harness validate``, and ``harness run`` before it sends anything) need
    to check labels and lengths against the model. Every field may be unknown."""

    model: str = ""  # the model the facts are about, for messages (``gpt-4o-mini``)
    tokenizer: TextTokenizer | None = None  # its tokenizer, when known offline
    context_window: int | None = None  # prompt + output tokens one request may hold
    output_tokens: int = 1  # tokens after the prompt a request needs: the generated token(s), plus the longest
    # label's tokens where labels are scored whole after the prompt
    chat: bool = False  # True: the model reads chat messages and writes a label without a leading space;
    # False: it reads the completion-style prompt and writes the label after a space, as trained
    scoring: LabelScoring = "first-token"  # how the provider scores labels: "first-token" — a label's
    # probability is read from its first token, so two labels whose first tokens are the same cannot be told
    # apart (the provider refuses them) and a multi-token label counts by its first token; "full" — every label
    # is scored by its whole token sequence (OpenAI providers' option scoring: full, the hf providers), so only
    # whole spellings must differ and multi-token labels are scored whole
    prompt_tokens: Callable[[Example], int] | None = None  # tokens of the request for one example
    prompt_tokens_bound: Callable[[Example], int] | None = None  # optional: a cheap upper bound of the same
    # (no tokenizer); the length check counts exactly only the examples whose bound does not fit
    labels_scored: bool = True  # False: the model never writes or scores the labels' tokens (an embeddings
    # baseline), so the labels' tokenization is not checked; only lengths are
    window_name: str = "context window"  # what the limit is called in findings
    too_long_stops: bool = True  # False: a text too long fails alone before it is sent (a warning, not an error)


class Provider:
    """A named factory of models. Plugins register instances with ``register_providers``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    argument_help: ClassVar[str] = ""
    options_model: ClassVar[type[Options]] = Options
    #: False when :meth:`resolve` may call the model's server (to look a fine-tuning job up, to ask a tokenize
    #: endpoint). A run resolves such providers last, once every local check passed (the suite, the data, the
    #: other models' files, options, prices, the output folder), so bad input never costs a request.
    resolves_offline: ClassVar[bool] = True

    def check_options_model(self) -> None:
        """Build the options model's validator now (it is built when first used: ``defer_build``); a model pydantic
        cannot build is the plugin's error, named."""
        try:
            self.options_model.model_rebuild()
        except (PydanticUserError, PydanticUndefinedAnnotation) as exc:
            raise UsageError(f"provider {self.name!r}: its options model {self.options_model.__name__} cannot be "
                             f"built: {str(exc).splitlines()[0]}") from None

    def parse_options(self, spec: ModelSpec) -> Options:
        self.check_options_model()
        try:
            return self.options_model(**dict(spec.options))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err.get("loc", ()))
            raise InputError(f"{err.get('msg', 'invalid option')} (provider {self.name})",
                             file=spec.origin or None, field=f"models.{spec.name}.{loc}") from None

    def resolve(self, spec: ModelSpec, suite: SuiteView) -> Resolved:
        raise NotImplementedError

    def model_facts(self, spec: ModelSpec, suite: SuiteView) -> ModelFacts | None:
        """Optional: the tokenizer and context window of the model ``spec`` names, known without a key or a
        request (:class:`ModelFacts`), for the data checks. None (the default): the provider cannot tell, and
        token checks are skipped for this model."""
        return None
