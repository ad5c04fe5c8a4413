"""Where and how to reach an OpenAI(-compatible) or Azure OpenAI endpoint: SDK clients, keys, error mapping.

The ``openai`` SDK is imported lazily (loading the plugin must stay cheap). Clients are built with
``max_retries=0``: the harness engine owns retries, so SDK errors are mapped to
:class:`harness.errors.Retryable` (transient), :class:`harness.errors.ExampleFailure` (this example only) or
:class:`harness.errors.ProviderError` (stop this model). The API key lives only in a private attribute and is
scrubbed from every message; ``describe()`` and ``identity()`` never contain it.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from harness.errors import ExampleFailure, ProviderError, Retryable
from harness.providers import estimating

#: Set to 1 to build SDK clients with ``_strict_response_validation=True`` (tests: a fake response that drifts
#: from the real API schema fails loudly instead of being accepted).
STRICT_ENV = "HARNESS_OPENAI_STRICT"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
AZURE_KEY_ENV = "AZURE_OPENAI_API_KEY"
AZURE_ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
AZURE_DEFAULT_API_VERSION = "2024-10-21"
AZURE_SCOPE = "https://cognitiveservices.azure.com/.default"
NO_KEY = "none"
#: Keys shorter than this are not scrubbed from messages: local servers are often given dummy keys (``x``,
#: ``EMPTY``), and replacing every ``x`` in a server's message with ``***`` would garble it, not protect a
#: secret. The engine's own scanner uses the same bound (``harness.engine.cache.MIN_SECRET_LEN``).
MIN_SECRET_LEN = 8
OPENAI_HOSTS = ("api.openai.com",)


def strict_validation() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes"}


def public_url(url: str | None) -> str | None:
    """A URL without user info, query or fragment (they may carry credentials)."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def read_key(api_key_env: str | None, default_env: str) -> tuple[str | None, str | None]:
    """(key, variable name). ``api_key_env: none`` → (None, None): send no key (a local server without auth)."""
    var = (api_key_env or default_env).strip()
    if var.lower() == NO_KEY:
        return None, None
    key = os.environ.get(var, "").strip()
    if not key and estimating():  # --dry-run sends nothing: the real run checks the key
        return None, var
    if not key:
        hint = (" (or name another variable with the model option api_key_env; a local server without auth "
                "can use api_key_env: none)")
        raise ProviderError(f"no API key: set the environment variable {var}{hint}")
    return key, var


@dataclass
class Connection:
    """Everything needed to build a client, minus anything secret in its repr/describe."""

    kind: str  # "openai" | "azure"
    key_var: str | None
    base_url: str | None = None
    azure_endpoint: str | None = None
    api_version: str | None = None
    auth: str = "key"  # "key" | "entra" | "none"
    timeout: float | None = None  # None: the SDK's default (600 s, connect 5 s); the engine's --timeout is shorter
    _key: str | None = field(default=None, repr=False)
    _token_provider: Callable[[], Any] | None = field(default=None, repr=False)

    # --- construction -------------------------------------------------------------------------------

    @classmethod
    def openai(cls, base_url: str | None, api_key_env: str | None, timeout: float | None) -> Connection:
        url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        key, var = read_key(api_key_env, DEFAULT_KEY_ENV)
        return cls(kind="openai", key_var=var, base_url=url, auth="key" if key else "none", timeout=timeout,
                   _key=key)

    @classmethod
    def azure(cls, endpoint: str | None, api_version: str | None, api_key_env: str | None, auth: str,
              timeout: float | None) -> Connection:
        endpoint = endpoint or os.environ.get(AZURE_ENDPOINT_ENV) or None
        if not endpoint:
            raise ProviderError(f"no Azure OpenAI endpoint: set {AZURE_ENDPOINT_ENV} "
                                "(https://RESOURCE.openai.azure.com) or the model option endpoint")
        version = api_version or os.environ.get("OPENAI_API_VERSION") or AZURE_DEFAULT_API_VERSION
        var = (api_key_env or AZURE_KEY_ENV).strip()
        if auth == "auto":
            auth = "key" if os.environ.get(var, "").strip() else "entra"
        conn = cls(kind="azure", key_var=var if auth == "key" else None, azure_endpoint=endpoint,
                   api_version=version, auth=auth, timeout=timeout)
        if auth == "key":
            conn._key, _ = read_key(var, AZURE_KEY_ENV)
        elif not estimating():  # --dry-run signs in to nothing
            conn._token_provider = _entra_token_provider(var)
        return conn

    # --- what may be recorded ----------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        """``text`` on one line, without the key (a key too short to be a secret is left alone)."""
        if self._key and len(self._key) >= MIN_SECRET_LEN:
            text = text.replace(self._key, "***")
        return " ".join(text.split())

    def is_openai_platform(self) -> bool:
        if self.kind != "openai":
            return False
        return self.base_url is None or (urlsplit(self.base_url).hostname or "") in OPENAI_HOSTS

    def describe(self) -> dict[str, Any]:
        if self.kind == "azure":
            return {"endpoint": public_url(self.azure_endpoint), "api_version": self.api_version,
                    "auth": self.auth, "api_key_env": self.key_var}
        return {"base_url": public_url(self.base_url) or "https://api.openai.com/v1",
                "api_key_env": self.key_var}

    def identity(self) -> dict[str, Any]:
        """For the response cache: which server answers (never the key)."""
        if self.kind == "azure":
            return {"azure_endpoint": public_url(self.azure_endpoint), "api_version": self.api_version}
        return {"base_url": public_url(self.base_url) or "https://api.openai.com/v1"}

    def key_hint(self) -> str:
        if self.auth == "entra":
            return "check your Entra ID sign-in (az login) and the 'Cognitive Services OpenAI User' role"
        if self.key_var is None:
            return "the server wants an API key: name its environment variable with the option api_key_env"
        return f"check {self.key_var}"

    # --- clients ------------------------------------------------------------------------------------

    def request_options(self) -> dict[str, Any]:
        """Per-call SDK keyword arguments: without a key, the Authorization header is omitted explicitly
        (the SDK refuses to send a request with no credentials otherwise)."""
        if self.kind == "openai" and not self._key:
            import openai

            return {"extra_headers": {"Authorization": openai.omit}}
        return {}

    def post_options(self) -> dict[str, Any]:
        """The same, as ``RequestOptions`` for the SDK's ``client.post``."""
        headers = self.request_options().get("extra_headers")
        return {"headers": headers} if headers else {}

    def _kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"max_retries": 0, "_strict_response_validation": strict_validation()}
        if self.timeout is not None:
            kw["timeout"] = self.timeout
        if self.kind == "azure":
            kw.update(azure_endpoint=self.azure_endpoint, api_version=self.api_version)
            if self._key:
                kw["api_key"] = self._key
            else:
                kw["azure_ad_token_provider"] = self._token_provider
        else:
            kw.update(api_key=self._key or "", base_url=self.base_url, _enforce_credentials=bool(self._key))
        return kw

    def async_client(self) -> Any:
        """A fresh ``AsyncOpenAI`` / ``AsyncAzureOpenAI`` (close it: ``await client.close()``)."""
        import openai

        cls = openai.AsyncAzureOpenAI if self.kind == "azure" else openai.AsyncOpenAI
        return cls(**self._kwargs())

    def sync_client(self) -> Any:
        import openai

        cls = openai.AzureOpenAI if self.kind == "azure" else openai.OpenAI
        return cls(**self._kwargs())


def _entra_token_provider(key_var: str) -> Callable[[], Any]:
    try:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    except ImportError:
        raise ProviderError(f"Azure OpenAI: no key in {key_var} and azure-identity is not installed: "
                            f"set {key_var}, or pip install azure-identity for Entra ID sign-in") from None
    return get_bearer_token_provider(DefaultAzureCredential(), AZURE_SCOPE)


# --- errors -----------------------------------------------------------------------------------------

def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """The server's retry hint in seconds: ``retry-after-ms``, else ``retry-after`` (seconds or HTTP date)."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


def server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        msg = body["message"]
    elif isinstance(body, str) and body.strip():
        msg = body
    else:
        msg = getattr(exc, "message", None) or str(exc)
    msg = " ".join(str(msg).split())
    msg = msg if len(msg) <= 300 else msg[:297] + "..."
    return msg.rstrip(".") or "no message"


#: Request parameters whose rejection concerns one example's content rather than the request every example shares.
CONTENT_PARAMS = ("messages", "prompt", "input")
#: Error codes that mean the request's shape (shared by every example) is wrong.
SHAPE_CODES = {"unsupported_parameter", "unsupported_value", "invalid_type", "missing_required_parameter",
               "unknown_parameter", "model_not_found", "invalid_model"}


def _is_request_shape(code: str | None, param: Any) -> bool:
    """True when a 4xx names a parameter every request shares (``temperature``, ``max_tokens``, ``seed``...) or
    a code that means the request's shape is wrong: then every example would fail alike."""
    if code in SHAPE_CODES:
        return True
    return isinstance(param, str) and bool(param) and not param.startswith(CONTENT_PARAMS)


def _is_context_length(code: str | None, msg: str) -> bool:
    low = msg.lower()
    return (code == "context_length_exceeded" or "maximum context length" in low
            or ("context length" in low and ("exceed" in low or "maximum" in low)))


def _is_httpx_error(exc: BaseException) -> bool:
    try:
        import httpx2
    except ImportError:  # pragma: no cover - the SDK depends on it
        return False
    return isinstance(exc, httpx2.HTTPError)


def map_api_error(exc: BaseException, conn: Connection, what: str, *, not_found: str | None = None,
                  logprobs: bool = True) -> Exception:
    """An SDK exception → Retryable | ExampleFailure | ProviderError (one line, key scrubbed).

    ``what`` names the target ("model 'gpt-4o-mini'"); ``not_found`` replaces the default 404 hint;
    ``logprobs=False`` for an endpoint that asks for no logprobs (embeddings): no hints about them.
    """
    import openai

    msg = conn.scrub(server_message(exc))
    if isinstance(exc, openai.APITimeoutError):
        return Retryable(f"{what}: request timed out")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        detail = f" ({conn.scrub(str(cause))})" if cause else ""
        return Retryable(f"{what}: connection error{detail}")
    if isinstance(exc, openai.APIResponseValidationError):
        return ProviderError(f"{what}: the response does not match the OpenAI API schema: {msg}")
    if isinstance(exc, openai.APIStatusError):
        status, code = exc.status_code, exc.code
        headers = exc.response.headers if exc.response is not None else None
        if status == 429 and code == "insufficient_quota":
            return ProviderError(f"{what}: quota exceeded (429 insufficient_quota): {msg}; check billing")
        if status in (408, 409, 429) or status >= 500:
            return Retryable(f"{what}: HTTP {status}: {msg}", retry_after(headers), rate_limited=status == 429)
        if status == 401:
            return ProviderError(f"{what}: authentication failed (401): {msg}; {conn.key_hint()}")
        if status == 403 and not logprobs:
            return ProviderError(f"{what}: permission denied (403): {msg}; {conn.key_hint()} and its access to "
                                 "this model")
        if status == 403:
            if "logprob" in msg.lower():
                return ProviderError(f"{what} refuses logprobs (403): {msg}; reasoning models (o-series, gpt-5 "
                                     "family) return no token probabilities: score a chat model such as "
                                     "gpt-4o-mini or its fine-tunes")
            return ProviderError(f"{what}: permission denied (403): {msg}; reasoning models (o-series, gpt-5 "
                                 f"family) refuse logprobs; otherwise {conn.key_hint()} and its access to "
                                 "this model")
        if status == 404:
            hint = not_found or ("check the model id (fine-tunes look like ft:gpt-4o-mini-2024-07-18:org::id) "
                                 "and that the key's organization can use it")
            return ProviderError(f"{what} not found (404): {msg}; {hint}")
        if status == 400 and _is_context_length(code, msg):
            return ExampleFailure(f"prompt too long for the model's context window: {msg}")
        if status == 400 and code == "content_filter":
            return ExampleFailure(f"blocked by the content filter: {msg}")
        if logprobs and "logprob" in msg.lower():
            return ProviderError(f"{what}: the server rejected the request ({status}): {msg}; lower the option "
                                 "top_logprobs if the server allows fewer (e.g. vLLM --max-logprobs)")
        if status in (400, 413, 422) and not _is_request_shape(code, getattr(exc, "param", None)):
            # about this example's content (e.g. a prompt flagged by policy, code invalid_prompt): this example
            # only; a model that rejects every request is stopped by the engine after its first few
            return ExampleFailure(f"the server rejected this example's request ({status}"
                                  f"{' ' + code if code else ''}): {msg}")
        return ProviderError(f"{what}: the server rejected the request ({status}): {msg}")
    if isinstance(exc, openai.OpenAIError):
        return ProviderError(f"{what}: {msg}")
    if _is_httpx_error(exc):  # raised while reading a body (connection dropped, bad compression)
        return Retryable(f"{what}: connection error while reading the response ({type(exc).__name__})")
    if isinstance(exc, ValueError):  # json.JSONDecodeError: a truncated or non-JSON body
        return Retryable(f"{what}: undecodable JSON response (truncated?)")
    return ProviderError(f"{what}: {type(exc).__name__}: {conn.scrub(str(exc))}")


def validate_response(response_type: Any, raw: Any, data: Any) -> None:
    """Strict validation (tests): the body must parse as the SDK's response type, else the SDK's own error."""
    import openai
    import pydantic

    try:
        response_type.model_validate(data)
    except pydantic.ValidationError as exc:
        raise openai.APIResponseValidationError(response=raw, body=data,
                                                message=" ".join(str(exc).split())[:300]) from None
