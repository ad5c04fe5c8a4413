"""Request models for OpenAI Chat Completions, legacy Completions and Azure OpenAI (and compatible servers).

Request policy (OpenAI's fine-tuning classification guides): temperature 0, one output token, logprobs with
the largest top-k the endpoint allows, optional ``seed`` and optional ``logit_bias`` (+100 on the labels' first
tokens). The engine records each request body with its result, so bodies are deterministic and key-free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from harness import jsonio
from harness.errors import ExampleFailure, ProviderError
from harness.examples import Example, Prediction
from harness.providers import ModelSpec, RequestModel

from .._openai_api.connection import Connection, map_api_error, strict_validation, validate_response
from .._openai_api.endpoint import OpenAIEndpoint
from ..label_scoring import FIRST_TOKEN_TOP_K
from .labels import AmbiguousToken, LabelMatcher, TopToken, label_probabilities, token_bytes
from .limits import check_output_limit
from .options import AzureOptions, ChatOptions, CommonOptions, CompletionsOptions
from .vocab import TokenizerChoice

if TYPE_CHECKING:  # pragma: no cover
    from harness.providers import RequestRunner

#: Where to point a user whose labels cannot be told apart by one token without a tokenizer.
TOKENIZER_HINT = ("set the option tokenizer to the model's tokenizer.json or folder (or server, where the server has "
                  "a tokenize endpoint), score whole labels with scoring: full, or rename the labels")
_REPLACEMENT = "\ufffd".encode("utf-8")


#: What a model's label set-up makes (:meth:`OpenAIModel.prepare`).
_PREPARED = frozenset({"matcher", "tokenizer", "tokenizer_choice", "_bias", "spellings", "order"})


class OpenAIModel(OpenAIEndpoint, RequestModel):
    """Shared by the chat and completions models: client lifecycle, capabilities, label extraction."""

    api: ClassVar[str] = ""

    scoring: ClassVar[str] = FIRST_TOKEN_TOP_K

    def __init__(self, name: str, spec: ModelSpec, *, model_id: str, options: CommonOptions,
                 connection: Connection, matcher: LabelMatcher | None = None, tokenizer: Any = None,
                 info: dict[str, Any] | None = None,
                 setup: Callable[[], tuple[LabelMatcher, TokenizerChoice]] | None = None) -> None:
        """``matcher`` (and ``tokenizer``) now, or ``setup``, which :meth:`prepare` calls to make them (it may
        ask the server's tokenize endpoint, which a run does only once its local checks passed)."""
        super().__init__(name, spec)
        self.model_id = model_id
        self.options = options
        self.connection = connection
        self.info = dict(info or {})
        self._engine: RequestRunner | None = None
        self._notes: list[str] = []  # what changed during the run (recorded in describe())
        self._limit_warned: set[str] = set()
        self._vocab: frozenset[bytes] | None = None
        self._switch_limit = False  # the server ignored max_completion_tokens: send max_tokens instead
        self._client: Any = None
        self._strict = strict_validation()
        self._setup = setup
        if matcher is not None:
            self._configure(matcher, tokenizer)
        elif setup is None:
            raise TypeError("OpenAIModel needs a matcher or a setup")

    def prepare(self) -> None:
        if self._setup is not None:
            setup, self._setup = self._setup, None
            self._configure(*setup())

    def __getattr__(self, name: str) -> Any:
        """What :meth:`prepare` makes, asked for before a run prepared the model (a direct use): prepare now."""
        if name in _PREPARED and self.__dict__.get("_setup") is not None:
            self.prepare()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _configure(self, matcher: LabelMatcher, tokenizer: Any) -> None:
        """The labels' matcher and the tokenizer (a :class:`TokenizerChoice`, a tokenizer, or None)."""
        self.matcher = matcher
        choice = tokenizer if isinstance(tokenizer, TokenizerChoice) else \
            TokenizerChoice(tokenizer, getattr(tokenizer, "kind", "none") if tokenizer is not None else "none")
        self.tokenizer_choice = choice
        self.tokenizer = choice.tokenizer
        self._bias: dict[str, int] | None = None
        if self.options.logit_bias:
            if self.tokenizer is None:  # checked by the provider; kept here for direct construction
                raise ProviderError(f"{self.what}: logit_bias needs a tokenizer (set the option tokenizer)")
            self._bias = {str(i): 100 for i in sorted(matcher.first_token_ids)}

    # --- identity -----------------------------------------------------------------------------------

    @property
    def what(self) -> str:
        if self.connection.kind == "azure":
            return f"Azure deployment {self.model_id!r}"
        return f"model {self.model_id!r}"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model_id, "api": self.api, **self.connection.describe(),
                               "top_logprobs": self.options.top_logprobs,  # type: ignore[attr-defined]
                               "matching": self.matcher.mode, "tokenizer": self.matcher.tokenizer,
                               "case_insensitive": self.options.case_insensitive,
                               "logit_bias": self.options.logit_bias}
        out["scoring"] = self.scoring
        out["tokenizer_source"] = self.tokenizer_choice.source
        if self.tokenizer_choice.note:
            out["tokenizer_note"] = self.tokenizer_choice.note
        if self.matcher.first_tokens is not None:  # which returned tokens count for each label
            out["label_tokens"] = self.matcher.label_tokens()
        if self.options.seed is not None:
            out["seed"] = self.options.seed
        if self._notes:
            out["notes"] = list(self._notes)
        out.update(self.info)
        return out

    async def predict(self, examples: Sequence[Example], engine: RequestRunner) -> list[Prediction]:
        self._engine = engine  # for notices (a server that ignores the one-token limit)
        return await super().predict(examples, engine)

    def notice(self, text: str) -> None:
        """Tell the user once per run (the engine's notices end up in results.json) and record it."""
        self._notes.append(text)
        if self._engine is not None:
            self._engine.notice(f"{self.name}: {text}")

    def cache_identity(self) -> dict[str, Any]:
        # the API, not the provider name: openai-job:… checkpoints share cached responses with openai:ft:…
        return {"provider": self.connection.kind, "endpoint": self.endpoint, **self.connection.identity()}

    # --- clients ------------------------------------------------------------------------------------

    def new_client(self) -> Any:
        """A fresh async SDK client for this model's server (max_retries=0; the caller closes it)."""
        return self.connection.async_client()

    @property
    def client(self) -> Any:
        """This model's async SDK client, created on first use and closed by :meth:`aclose`."""
        if self._client is None:
            self._client = self.new_client()
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    # --- one request --------------------------------------------------------------------------------

    def _common_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.options.seed is not None:
            body["seed"] = self.options.seed
        if self._bias:
            body["logit_bias"] = dict(self._bias)
        return body

    path: ClassVar[str] = ""

    def response_type(self) -> Any:  # pragma: no cover - per API
        raise NotImplementedError

    async def _create(self, request: dict[str, Any]) -> Any:
        """POST the (already plain JSON) body through the SDK client — its base URL, auth headers, Azure
        deployment routing and error types — without re-transforming typed params (a quarter of the CPU)."""
        import httpx2

        return await self.client.post(self.path, body=request, cast_to=httpx2.Response,
                                      options=self.connection.post_options())

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        import httpx2
        import openai

        try:
            raw = await self._create(request)
            data = jsonio.loads(raw.content)  # our own parse() checks the fields it reads
            if self._strict:  # tests: validate the body against the SDK's response type, loudly
                self._validate(raw, data)
        except (openai.OpenAIError, httpx2.HTTPError, ValueError) as exc:
            raise map_api_error(exc, self.connection, self.what) from None
        if not isinstance(data, dict):
            raise map_api_error(ValueError("not a JSON object"), self.connection, self.what)
        self._check_limit(request, data)
        return data

    def _check_limit(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        check_output_limit(self, request, response)

    def _validate(self, raw: Any, data: Any) -> None:
        validate_response(self.response_type(), raw, data)

    def _first_choice(self, response: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The first choice and its logprobs object (an error when the server sent none)."""
        choices = response.get("choices") or []
        if not choices:
            raise ExampleFailure("the server returned no choices")
        logprobs = choices[0].get("logprobs")
        if not isinstance(logprobs, dict):
            raise self._no_logprobs()
        return choices[0], logprobs

    def _no_logprobs(self) -> ProviderError:
        info = self.connection.describe()
        where = info.get("base_url") or info.get("endpoint")
        return ProviderError(f"{self.what} at {where} returned no logprobs: this server or model does not "
                             "support them, and label probabilities need them (zeros are never substituted)")

    def _check_vocab(self, tokens: Sequence[TopToken]) -> None:
        """Stop when the server returns tokens the chosen tokenizer does not have: it is not the model's."""
        if not self.tokenizer_choice.check_vocab or self.tokenizer is None:
            return
        if self._vocab is None:
            self._vocab = self.tokenizer.vocab()
        vocab = self._vocab
        strange = []
        for tok in tokens:
            key = tok.key
            if not key.strip() or _REPLACEMENT in key or tok.token.startswith("bytes:"):
                continue  # a partial UTF-8 character, or whitespace printed differently: not evidence
            if key in vocab or b" " + key in vocab or (key.startswith(b" ") and key[1:] in vocab):
                continue
            strange.append(tok.token)
        if strange:
            raise ProviderError(f"{self.what} returned token(s) {', '.join(map(repr, strange[:3]))} that the "
                                f"tokenizer {self.tokenizer.name} does not have: it is not this model's tokenizer "
                                "and would drop probability mass; set the option tokenizer to the model's "
                                "tokenizer.json or folder (or server, or none for text matching)")

    def _prediction(self, example: Example, top: Sequence[TopToken], generated: TopToken) -> Prediction:
        if not top:
            raise ProviderError(f"{self.what} returned logprobs without top_logprobs; label probabilities "
                                "need the top-k alternatives")
        self._check_vocab([*top, generated])
        try:
            res = label_probabilities(top, generated, self.matcher)
        except AmbiguousToken as exc:
            raise ProviderError(f"{self.what}: the returned token {exc.token!r} is the beginning of labels "
                                f"{' and '.join(map(repr, exc.labels))}: text matching cannot tell them apart; "
                                f"{TOKENIZER_HINT}") from None
        if self._bias and res.generated_label is None:
            raise ProviderError(f"{self.what}: logit_bias put +100 on the labels' first tokens "
                                f"({self.matcher.tokenizer}), yet the model generated {res.generated!r}: the "
                                "tokenizer does not match the server's vocabulary (or the server ignores "
                                "logit_bias); set the option tokenizer to the model's own")
        extra: dict[str, Any] = {"off_label_mass": res.off_label_mass, "label_mass": res.label_mass,
                                 "top_logprobs": [[t.token, t.logprob] for t in top]}
        if res.outside_top_k:
            extra["labels_outside_top_k"] = list(res.outside_top_k)
            extra["outside_top_k_bound"] = res.bound
        return Prediction(example_id=example.id, label=res.label, probs=res.probs, output=res.generated,
                          flags=res.flags, extra=extra)

    def parse(self, example: Example, request: dict[str, Any], response: dict[str, Any]) -> Prediction:
        try:
            return self._parse(example, response)
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            raise ProviderError(f"{self.what}: unexpected response shape ({type(exc).__name__}: {exc})") from None

    def _parse(self, example: Example, response: dict[str, Any]) -> Prediction:  # pragma: no cover
        raise NotImplementedError

    # --- optional capabilities ----------------------------------------------------------------------

    def usage(self, response: dict[str, Any]) -> dict[str, int] | None:
        usage = response.get("usage")
        if not isinstance(usage, dict):
            return None
        try:
            return {"prompt_tokens": int(usage["prompt_tokens"]),
                    "completion_tokens": int(usage.get("completion_tokens") or 0)}
        except (KeyError, TypeError, ValueError):
            return None



class ChatModel(OpenAIModel):
    """``openai:MODEL`` — Chat Completions; reads the first generated token's top_logprobs."""

    api = "chat"
    endpoint = "/v1/chat/completions"
    path = "/chat/completions"
    options: ChatOptions | AzureOptions

    async def send(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._switch_limit and "max_completion_tokens" in request:
            # in place: the body recorded with the prediction is the one that was sent (the cache key stays
            # the one built, so a re-run finds this response)
            request["max_tokens"] = request.pop("max_completion_tokens")
        return await super().send(request)

    def build_request(self, example: Example) -> dict[str, Any]:
        if not example.messages:
            raise ExampleFailure("the example has no chat messages")
        body: dict[str, Any] = {"model": self.model_id,
                                "messages": [dict(m) for m in example.messages],
                                "temperature": 0,
                                self.options.max_tokens_field: 1,
                                "logprobs": True,
                                "top_logprobs": self.options.top_logprobs}
        body.update(self._common_body())
        return body

    def response_type(self) -> Any:
        from openai.types.chat import ChatCompletion

        return ChatCompletion

    def estimate_tokens(self, request: dict[str, Any]) -> tuple[int, int] | None:
        if self.tokenizer is None or not getattr(self.tokenizer, "counts_offline", False):
            return None
        return (self.tokenizer.count_chat(request.get("messages") or []),
                int(request.get(self.options.max_tokens_field) or 1))

    def _parse(self, example: Example, response: dict[str, Any]) -> Prediction:
        choice, logprobs = self._first_choice(response)
        positions = logprobs.get("content") or logprobs.get("refusal") or []
        if not positions:
            message = choice.get("message") or {}
            if not (message.get("content") or message.get("refusal")):
                raise ExampleFailure(f"the model generated no token (finish_reason={choice.get('finish_reason')})")
            raise self._no_logprobs()
        first = positions[0]
        top = [TopToken(t["token"], float(t["logprob"]), token_bytes(t["token"], t.get("bytes")))
               for t in first.get("top_logprobs") or []]
        generated = TopToken(first["token"], first.get("logprob"), token_bytes(first["token"], first.get("bytes")))
        return self._prediction(example, top, generated)


class CompletionsModel(OpenAIModel):
    """``openai-completions:MODEL`` — legacy Completions; the prompt is the example's completion-style prompt."""

    api = "completions"
    endpoint = "/v1/completions"
    path = "/completions"
    options: CompletionsOptions

    def build_request(self, example: Example) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model_id, "prompt": example.prompt, "temperature": 0,
                                "max_tokens": 1, "logprobs": self.options.top_logprobs}
        body.update(self._common_body())
        return body

    def response_type(self) -> Any:
        from openai.types import Completion

        return Completion

    def estimate_tokens(self, request: dict[str, Any]) -> tuple[int, int] | None:
        if self.tokenizer is None or not getattr(self.tokenizer, "counts_offline", False):
            return None
        return (len(self.tokenizer.encode(str(request.get("prompt", "")))), int(request.get("max_tokens") or 1))

    def _parse(self, example: Example, response: dict[str, Any]) -> Prediction:
        choice, logprobs = self._first_choice(response)
        tokens = logprobs.get("tokens") or []
        if not tokens:
            if not choice.get("text"):
                raise ExampleFailure(f"the model generated no token (finish_reason={choice.get('finish_reason')})")
            raise self._no_logprobs()
        tops = logprobs.get("top_logprobs") or []
        top_map = tops[0] if tops else None
        if not isinstance(top_map, dict):
            top_map = {}
        top = [TopToken(tok, float(lp)) for tok, lp in top_map.items()]
        token_lps = logprobs.get("token_logprobs") or []
        lp = token_lps[0] if token_lps and token_lps[0] is not None else top_map.get(tokens[0])
        generated = TopToken(tokens[0], None if lp is None else float(lp))
        return self._prediction(example, top, generated)


class AzureChatModel(ChatModel):
    """``azure:DEPLOYMENT`` — Chat Completions on an Azure OpenAI deployment."""

    options: AzureOptions

    def pricing_key(self) -> str | None:
        return self.options.pricing_model
