"""``embeddings:MODEL`` / ``azure-embeddings:DEPLOYMENT``: vectors from an OpenAI-protocol ``/v1/embeddings``
endpoint (OpenAI, Azure OpenAI, vLLM, llama.cpp, Ollama, …), through the harness engine.

Each text is one request to the engine (``{"model", "input": text}``, plus ``dimensions`` when set), so each
text's vector is cached on its own — once per text, model and server, across runs and suites — while the texts
not cached yet travel many to a request (:meth:`EmbeddingsModel.grouping`: up to ``max_inputs`` texts and
``max_request_tokens`` tokens; on OpenAI 2,048 and 300,000) or as Batch API lines (50,000 inputs a batch).
:meth:`EmbeddingsModel.predict` embeds the label texts, the training split and the examples scored in one
engine call (one progress line, one batch), then fits or loads the classifier (:mod:`.baseline`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from harness import jsonio
from harness.errors import ExampleFailure, ProviderError
from harness.examples import Example, Prediction
from harness.providers import Grouping, ModelSpec, RequestModel, SuiteView

from .._openai_api.connection import Connection, map_api_error, strict_validation, validate_response
from .._openai_api.endpoint import OpenAIEndpoint
from .baseline import Baseline, TextPlan
from .options import ServerOptions
from .tokens import Tokens, apportion
from .vectors import Matrix, encode, response_vectors

if TYPE_CHECKING:  # pragma: no cover
    from harness.providers import RequestRunner

#: OpenAI's limits for /v1/embeddings: inputs per request, tokens summed per request, inputs per Batch API job.
OPENAI_MAX_INPUTS = 2048
OPENAI_MAX_REQUEST_TOKENS = 300_000
OPENAI_BATCH_INPUTS = 50_000
#: Texts per request on other servers (a local server embeds them in one pass: keep requests short).
OTHER_MAX_INPUTS = 256


class EmbeddingsModel(OpenAIEndpoint, RequestModel):
    endpoint = "/v1/embeddings"
    path = "/embeddings"

    def __init__(self, name: str, spec: ModelSpec, *, model_id: str, options: ServerOptions,
                 connection: Connection, suite: SuiteView) -> None:
        super().__init__(name, spec)
        self.model_id = model_id
        self.options = options
        self.connection = connection
        self.official = connection.kind == "azure" or connection.is_openai_platform()
        self.tokens = Tokens(options.tokenizer, model_id, options.max_input_tokens)
        self.baseline = Baseline(name, options, suite, {"api": "embeddings", **self.cache_identity(),
                                                         "model": model_id, "dimensions": options.dimensions})
        self._client: Any = None
        self._strict = strict_validation()
        self._dims: int | None = options.dimensions  # every vector's dimension, once the first is seen
        self._matrix: Matrix | None = None
        self._engine: RequestRunner | None = None

    @property
    def what(self) -> str:
        if self.connection.kind == "azure":
            return f"Azure deployment {self.model_id!r}"
        return f"embedding model {self.model_id!r}"

    # --- capabilities ----------------------------------------------------------------------------------

    @cached_property
    def limits(self) -> Grouping:
        opts = self.options
        return Grouping(max_items=opts.max_inputs or (OPENAI_MAX_INPUTS if self.official else OTHER_MAX_INPUTS),
                        max_tokens=opts.max_request_tokens or (OPENAI_MAX_REQUEST_TOKENS if self.official else None),
                        batch_max_items=OPENAI_BATCH_INPUTS if self.official else None)

    def grouping(self) -> Grouping:
        return self.limits

    def cache_identity(self) -> dict[str, Any]:
        # the server and its endpoint, not the provider name: any model reaching it shares its cached vectors
        return {"provider": self.connection.kind, "endpoint": self.endpoint, **self.connection.identity()}

    def usage(self, response: dict[str, Any]) -> dict[str, int] | None:
        usage = response.get("usage")
        if not isinstance(usage, dict):
            return None
        n = usage.get("prompt_tokens")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:  # missing, or not a count: unknown, not made up
            return None
        return {"prompt_tokens": n, "completion_tokens": 0}

    def estimate_tokens(self, request: dict[str, Any]) -> tuple[int, int] | None:
        inputs = request.get("input")
        texts = inputs if isinstance(inputs, list) else [inputs]
        counts = [self.tokens.count(t) for t in texts if isinstance(t, str)]
        return None if any(c is None for c in counts) else (sum(c for c in counts if c is not None), 0)


    # --- requests ---------------------------------------------------------------------------------------

    def build_request(self, example: Example) -> dict[str, Any]:
        text = example.text
        if text == "":
            raise ExampleFailure("the text is empty, and embeddings endpoints refuse an empty input")
        self.tokens.check(text)
        body: dict[str, Any] = {"model": self.model_id, "input": text}
        if self.options.dimensions is not None:
            body["dimensions"] = self.options.dimensions
        return body

    def combine(self, requests: Sequence[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model_id, "input": [r["input"] for r in requests],
                                "encoding_format": self.options.encoding_format}
        if self.options.dimensions is not None:
            body["dimensions"] = self.options.dimensions
        return body

    def split(self, requests: Sequence[dict[str, Any]], response: dict[str, Any]) -> list[dict[str, Any] | str]:
        vectors = response_vectors(response, len(requests), self.what)
        dims = sorted({len(v) for v in vectors if not isinstance(v, str)})
        if len(dims) > 1:
            raise ProviderError(f"{self.what} returned vectors of {' and '.join(map(str, dims))} dimensions in one "
                                "response: embeddings of one model must all have the same dimension")
        if dims:
            self._check_dims(dims[0])
        counted = self.usage(response)
        shares = apportion(counted["prompt_tokens"], [self.tokens.weight(r["input"]) for r in requests]) \
            if counted else None
        model = response.get("model") if isinstance(response.get("model"), str) else self.model_id
        out: list[dict[str, Any] | str] = []
        for i, vec in enumerate(vectors):
            if isinstance(vec, str):
                out.append(vec)
                continue
            one: dict[str, Any] = {"object": "list", "model": model,
                                   "data": [{"object": "embedding", "index": 0, "embedding": encode(vec)}]}
            if shares is not None:
                one["usage"] = {"prompt_tokens": shares[i], "total_tokens": shares[i]}
            out.append(one)
        return out

    def _check_dims(self, n: int) -> None:
        if self.options.dimensions is not None and n != self.options.dimensions:
            raise ProviderError(f"{self.what} returned {n}-dimensional vectors, asked for {self.options.dimensions} "
                                "(the option dimensions): this server or model ignores it")
        if self._dims is None:
            self._dims = n
        elif n != self._dims:
            raise ProviderError(f"{self.what} returned vectors of {n} and of {self._dims} dimensions: embeddings of "
                                "one model must all have the same dimension")

    def parse(self, example: Example, request: dict[str, Any], response: dict[str, Any]) -> Prediction:
        (vec,) = response_vectors(response, 1, self.what)
        if isinstance(vec, str):
            raise ExampleFailure(vec)
        if self._matrix is None:
            raise ProviderError(f"{self.what}: a vector arrived outside predict() (a provider bug)")
        self._matrix.put(int(example.id), vec)
        return Prediction(example.id, output="")

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.new_client()
        return self._client

    def new_client(self) -> Any:
        """A fresh async SDK client for this model's server (max_retries=0: the engine retries)."""
        return self.connection.async_client()

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        import httpx2
        import openai

        try:
            raw = await self.client.post(self.path, body=request, cast_to=httpx2.Response,
                                         options=self.connection.post_options())
            data = jsonio.loads(raw.content)
            if self._strict and isinstance(data, dict):  # tests: the body must parse as the SDK's type
                validate_response(_response_type(), raw, _as_floats(data))
        except (openai.OpenAIError, httpx2.HTTPError, ValueError) as exc:
            raise map_api_error(exc, self.connection, self.what, logprobs=False,
                                not_found="check the embedding model id (or the Azure deployment name)") from None
        if not isinstance(data, dict):
            raise map_api_error(ValueError("not a JSON object"), self.connection, self.what, logprobs=False)
        return data

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    # --- the baseline -------------------------------------------------------------------------------------

    def planned_examples(self, examples: Sequence[Example]) -> Sequence[Example]:
        return self.baseline.plan(examples, fit=True).examples()

    async def predict(self, examples: Sequence[Example], engine: RequestRunner) -> list[Prediction]:
        self._engine = engine
        plan: TextPlan = self.baseline.plan(examples, fit=True)  # the label and training vectors: always (cached)
        self._matrix = matrix = Matrix(len(plan.texts), self.what, self._dims)
        async with _fetching(self._vectors_key()):  # another model on the same vectors: after it, from the cache
            rows = await engine.run_requests(self, plan.examples())
        failed = {i: p.error for i, p in enumerate(rows) if p.error is not None}
        self.baseline.zero_vectors(matrix, plan, failed)
        found = await asyncio.to_thread(self.baseline.saved_for, matrix, plan, failed)
        if found is not None:
            self.baseline.use(found[0])
        else:
            await asyncio.to_thread(self.baseline.fit, matrix, plan, failed)
        for note in self.baseline.notes:
            engine.notice(f"{self.name}: {note}")
        return await asyncio.to_thread(self.baseline.predict, examples, matrix, plan, failed)

    def _vectors_key(self) -> str:
        return jsonio.dumps({**self.cache_identity(), "model": self.model_id, "dimensions": self.options.dimensions},
                           sort_keys=True)

    def describe(self) -> dict[str, Any]:
        g = self.limits
        out: dict[str, Any] = {"model": self.model_id, "api": "embeddings", **self.connection.describe(),
                               "dimensions": self._dims, "max_inputs": g.max_items,
                               "max_request_tokens": g.max_tokens, "encoding_format": self.options.encoding_format,
                               "tokenizer": self.tokens.name}
        if self._matrix is not None:
            out["vectors"] = {"rows": self._matrix.n, "dtype": "float32", "bytes": self._matrix.nbytes}
        out.update(self.baseline.describe())
        return out


#: One lock per event loop and vectors (server, model, dimensions): two models of a run on the same embedding model
#: (logistic and zero-shot, say) fetch one after the other, so the second finds every text in the response cache
#: instead of sending it again.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = weakref.WeakKeyDictionary()


def _fetching(key: str) -> asyncio.Lock:
    return _LOCKS.setdefault(asyncio.get_running_loop(), {}).setdefault(key, asyncio.Lock())


def _response_type() -> Any:
    from openai.types import CreateEmbeddingResponse

    return CreateEmbeddingResponse


def _as_floats(data: dict[str, Any]) -> dict[str, Any]:
    """The response with base64 vectors as lists of floats (the SDK's type declares lists; base64 is the same
    numbers, smaller), for strict validation only."""
    items = data.get("data")
    if not isinstance(items, list):
        return data
    out = []
    for item in items:
        vec = item.get("embedding") if isinstance(item, dict) else None
        if isinstance(vec, str):
            try:
                item = {**item, "embedding": np.frombuffer(_b64(vec), dtype="<f4").tolist()}
            except ValueError:
                pass
        elif isinstance(vec, list):  # null for a NaN (llama.cpp): a server's number all the same
            item = {**item, "embedding": [float("nan") if v is None else v for v in vec]}
        out.append(item)
    return {**data, "data": out}


def _b64(text: str) -> bytes:
    import base64

    return base64.b64decode(text)
