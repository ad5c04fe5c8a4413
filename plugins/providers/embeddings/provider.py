"""The providers: ``embeddings:MODEL``, ``azure-embeddings:DEPLOYMENT`` and ``embeddings-lsa[:DIMS]``.

Resolving checks, before anything is sent, what the classifier needs of the suite: ``classifier: logistic``
(and LSA, which is fitted on it) needs a training split with examples of two labels or more. Nothing here asks a
server anything (``resolves_offline``); an API key is read (its variable named in errors, never the key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from harness.errors import InputError, UsageError
from harness.providers import ModelFacts, ModelSpec, Provider, Resolved, SuiteView

from .._openai_api.connection import Connection
from .options import DEFAULT_DIMS, AzureEmbeddingsOptions, BaselineOptions, EmbeddingsOptions, LsaOptions

if TYPE_CHECKING:  # the models load when a model is resolved: registering the plugin stays cheap
    from .tokens import Tokens


def check_suite(spec: ModelSpec, suite: SuiteView, options: BaselineOptions, needs_train: bool = False) -> None:
    """The training split the classifier (or the embedder) is fitted on: present, with two labels or more."""
    train = suite.train
    field = f"models.{spec.name}.provider" if needs_train else f"models.{spec.name}.options.classifier"
    why = "LSA is fitted on it" if needs_train else "classifier: logistic is fitted on it"
    if train is None and (needs_train or options.classifier == "logistic"):
        hint = "" if needs_train else " (or use classifier: zero-shot, which needs none)"
        raise InputError(f"model {spec.name!r} needs the suite's training split ({why}), and the suite names none: "
                         f"add data.train{hint}", file=spec.origin or str(suite.path), field=field)
    if train is not None and options.classifier == "logistic":
        seen = sorted({ex.label for ex in train.examples})
        if len(seen) < 2:
            raise InputError(f"model {spec.name!r}: the training split has examples of {len(seen)} label(s) "
                             f"({', '.join(seen) or 'none'}); logistic regression needs two or more",
                             file=str(train.path), field=field)


class _Encoding:
    """An embedding model's offline tokenizer as the data checks see it."""

    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens
        self.name = tokens.name or ""

    def encode(self, text: str) -> list[int]:
        return list(self.tokens.encoding.encode_ordinary(text))

    def decode(self, ids: list[int]) -> str:
        return str(self.tokens.encoding.decode(ids))


def embedding_facts(spec: ModelSpec, suite: SuiteView, options: Any, model_id: str) -> ModelFacts:
    """What ``harness validate`` checks before a run: the training split the classifier needs (an error), and
    each text against the tokens one input may have (OpenAI's text-embedding models: cl100k_base, 8,192)."""
    from .tokens import Tokens

    check_suite(spec, suite, options)
    tokens = Tokens(options.tokenizer, model_id, options.max_input_tokens)
    if tokens.name is None:
        return ModelFacts(model=model_id, labels_scored=False)
    use_prompt = options.input == "prompt"

    def count(ex: Any) -> int:
        return int(tokens.count(ex.prompt if use_prompt else ex.text) or 0)

    def bound(ex: Any) -> int:
        return len((ex.prompt if use_prompt else ex.text).encode("utf-8", "surrogatepass"))

    return ModelFacts(model=model_id, tokenizer=_Encoding(tokens), context_window=tokens.max_input, output_tokens=0,
                      prompt_tokens=count, prompt_tokens_bound=bound, labels_scored=False,
                      window_name="limit of tokens per input", too_long_stops=False)


def _model_id(spec: ModelSpec, what: str, example: str) -> str:
    if not spec.argument.strip():
        raise UsageError(f"{spec.origin or '--model'}: model {spec.name!r}: {spec.provider} needs {what}, e.g. "
                         f"{spec.provider}:{example}")
    return spec.argument.strip()


class _ServerEmbeddingsProvider(Provider):
    """An embedding model behind an endpoint: what the argument names, and how to connect, differ by kind."""

    argument_what: ClassVar[str] = ""
    argument_example: ClassVar[str] = ""

    def connection(self, opts: Any) -> Connection:
        raise NotImplementedError

    def model_facts(self, spec: ModelSpec, suite: Any) -> ModelFacts | None:
        return embedding_facts(spec, suite, self.parse_options(spec),
                               _model_id(spec, self.argument_what, self.argument_example))

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        from .remote import EmbeddingsModel

        opts = self.parse_options(spec)
        assert isinstance(opts, self.options_model)
        model_id = _model_id(spec, self.argument_what, self.argument_example)
        check_suite(spec, suite, opts)
        return Resolved([EmbeddingsModel(spec.name, spec, model_id=model_id, options=opts,
                                         connection=self.connection(opts), suite=suite)])


class EmbeddingsProvider(_ServerEmbeddingsProvider):
    name = "embeddings"
    description = ("Embeddings baseline: an OpenAI-compatible /v1/embeddings model (OpenAI, vLLM, llama.cpp, Ollama) "
                   "+ logistic regression on the training split, or zero-shot by label similarity.")
    argument_help = "MODEL id, e.g. text-embedding-3-small"
    options_model = EmbeddingsOptions
    argument_what, argument_example = "an embedding model id", "text-embedding-3-small"

    def connection(self, opts: Any) -> Connection:
        return Connection.openai(opts.base_url, opts.api_key_env, opts.timeout)


class AzureEmbeddingsProvider(_ServerEmbeddingsProvider):
    name = "azure-embeddings"
    description = "Embeddings baseline on an Azure OpenAI embeddings deployment (see the embeddings provider)."
    argument_help = "DEPLOYMENT name"
    options_model = AzureEmbeddingsOptions
    argument_what, argument_example = "a deployment name", "my-embedding-deployment"

    def connection(self, opts: Any) -> Connection:
        return Connection.azure(opts.endpoint, opts.api_version, opts.api_key_env, opts.auth, opts.timeout)


class LsaProvider(Provider):
    name = "embeddings-lsa"
    description = ("Embeddings baseline with a local stand-in for an embedding model: LSA (TF-IDF + truncated SVD) "
                   "fitted on the training split; no download, no network.")
    argument_help = f"DIMS (optional, default {DEFAULT_DIMS})"
    options_model = LsaOptions

    def model_facts(self, spec: ModelSpec, suite: Any) -> ModelFacts | None:
        opts = self.parse_options(spec)
        assert isinstance(opts, LsaOptions)
        check_suite(spec, suite, opts, needs_train=True)  # an error for harness validate too
        return None  # no tokenizer and no length limit: nothing else to check

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        from .lsa import LsaModel

        opts = self.parse_options(spec)
        assert isinstance(opts, LsaOptions)
        dims = DEFAULT_DIMS
        if spec.argument.strip():
            try:
                dims = int(spec.argument.strip())
            except ValueError:
                dims = 0
            if dims < 1:
                raise UsageError(f"{spec.origin or '--model'}: model {spec.name!r}: embeddings-lsa takes a number "
                                 f"of dimensions, e.g. embeddings-lsa:{DEFAULT_DIMS}, not {spec.argument!r}")
        check_suite(spec, suite, opts, needs_train=True)
        return Resolved([LsaModel(spec.name, spec, opts, suite, dims)])
