"""The server's own tokenizer, through its tokenize endpoint: vLLM and llama.cpp's server (``POST /tokenize``,
beside ``/v1``) and llama-cpp-python (``POST /extras/tokenize``).

One request body serves both ``/tokenize`` dialects: vLLM reads ``prompt`` and ``add_special_tokens``, llama.cpp
reads ``content``, ``add_special`` and ``with_pieces`` (then each token comes back as ``{"id", "piece"}``, the
piece a string or, for a partial UTF-8 character, a list of bytes). A token's text comes from its piece, else
from the server's ``/detokenize`` (vLLM: ``prompt``, llama.cpp: ``content``, llama-cpp-python: ``text``) — the
same function the server uses to print tokens in its logprobs, so label matching compares like with like.
Used at resolve time only (a few requests per label), with the synchronous SDK client: its base URL, key and
error types.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from harness.errors import ProviderError

from .._openai_api.connection import Connection, map_api_error
from .labels import FirstTokenFromIds

#: (tokenize path, detokenize path), tried in this order.
ENDPOINTS = (("/tokenize", "/detokenize"), ("/extras/tokenize", "/extras/detokenize"))
#: Answers that mean "no such endpoint here" (a 400/422 from a server that validates bodies strictly, too).
ABSENT = (400, 404, 405, 422, 501)
PROBE_TIMEOUT = 30.0  # seconds per tokenize request


def server_root(base_url: str) -> str:
    """``http://host:8000/v1`` → ``http://host:8000`` (tokenize endpoints live beside the OpenAI routes)."""
    parts = urlsplit(base_url.rstrip("/"))
    path = parts.path[:-3] if parts.path.endswith("/v1") else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


#: Ends the reason of an endpoint that answered "not here" (kept in the memo; a network failure is not).
_ABSENT_MARK = " (no such endpoint)"


def _memo_key(url: str, model_id: str, body: dict[str, Any]) -> str:
    import hashlib
    import json

    text = json.dumps([url, model_id, body], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _memo_read(path: Any) -> dict[str, Any]:
    """The kept answers of tokenize endpoints (a damaged or missing file: none)."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _memo_write(path: Any, key: str, entry: dict[str, Any]) -> None:
    """Keep one answer (atomically; a folder that cannot be written: nothing kept)."""
    import json
    import os
    import tempfile

    data = _memo_read(path)
    data[key] = entry
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        pass


def _absent(reason: Any) -> Any:
    raise NoTokenizeEndpoint(str(reason))


class NoTokenizeEndpoint(Exception):
    """The server answers no tokenize endpoint (the message lists what was tried)."""


class ServerTokenizer(FirstTokenFromIds):
    """Label matching and ``logit_bias`` on the server's own vocabulary."""

    kind = "server"
    counts_offline = False  # every encode is a request: --dry-run estimates do not use it
    #: a server may print a token with or without the leading space its detokenizer drops (SentencePiece)
    space_prefixed_pieces = True

    def __init__(self, connection: Connection, model_id: str, root: str, paths: tuple[str, str],
                 flavour: str) -> None:
        self.connection = connection
        self.model_id = model_id
        self.root = root
        self.tokenize_path, self.detokenize_path = paths
        self.flavour = flavour
        self.name = f"server ({flavour}, {root}{self.tokenize_path})"
        self._prefix: list[int] = []
        self._pieces: dict[int, bytes] = {}

    # --- HTTP ---------------------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        """The server's answer, or the one an earlier run kept (:func:`harness.providers.setup_calls`)."""
        from harness.providers import setup_calls

        calls = setup_calls()
        key = _memo_key(self.root + path, self.model_id, body)
        if not calls.refresh and calls.memo is not None:
            known = _memo_read(calls.memo).get(key)
            if known is not None:  # asked before, by this or an earlier run: not asked again
                return known["answer"] if "answer" in known else _absent(known["absent"])
        if calls.offline:  # --offline sends nothing: the model falls back to what it knows offline
            raise NoTokenizeEndpoint("--offline: the server's tokenize endpoint is not asked")
        try:
            answer = self._send(path, body)
        except NoTokenizeEndpoint as exc:
            if calls.memo is not None and str(exc).endswith(_ABSENT_MARK):
                _memo_write(calls.memo, key, {"absent": str(exc)})
            raise
        if calls.memo is not None:
            _memo_write(calls.memo, key, {"answer": answer})
        return answer

    def _send(self, path: str, body: dict[str, Any]) -> Any:
        import httpx2
        import openai

        from harness import jsonio
        from harness.errors import Retryable

        what = f"the tokenize endpoint of {self.root}"
        timeout = min(self.connection.timeout or PROBE_TIMEOUT, PROBE_TIMEOUT)
        try:
            with self.connection.sync_client() as client:
                raw = client.post(self.root + path, body=body, cast_to=httpx2.Response,
                                  options={**self.connection.post_options(), "timeout": timeout})
                return jsonio.loads(raw.content)
        except (openai.OpenAIError, httpx2.HTTPError, ValueError) as exc:
            if isinstance(exc, openai.APIStatusError) and exc.status_code in ABSENT:
                raise NoTokenizeEndpoint(f"{self.root}{path}: HTTP {exc.status_code}{_ABSENT_MARK}") from None
            err = map_api_error(exc, self.connection, what)
            if isinstance(err, Retryable):  # unreachable, timed out, 5xx: no tokenizer from this server now
                raise NoTokenizeEndpoint(err.reason) from None
            raise err if isinstance(err, ProviderError) else ProviderError(getattr(err, "reason", str(err))) \
                from None

    def _tokenize_body(self, text: str) -> dict[str, Any]:
        if self.tokenize_path.startswith("/extras"):
            return {"model": self.model_id, "input": text}
        vllm = {"model": self.model_id, "prompt": text, "add_special_tokens": False}
        llama = {"content": text, "add_special": False, "with_pieces": True}
        if self.flavour == "vLLM":
            return vllm
        if self.flavour == "llama.cpp":
            return llama
        return {**vllm, **llama}  # until the dialect is known: each server ignores the other's fields

    def _raw_encode(self, text: str) -> list[int]:
        data = self._post(self.tokenize_path, self._tokenize_body(text))
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list):
            raise ProviderError(f"{self.root}{self.tokenize_path} answered without a list of tokens")
        ids: list[int] = []
        for tok in tokens:
            if isinstance(tok, dict):  # llama.cpp with_pieces: {"id": 123, "piece": " False" | [195]}
                tid = int(tok["id"])
                piece = tok.get("piece")
                if isinstance(piece, str):
                    self._pieces[tid] = piece.encode("utf-8")
                elif isinstance(piece, list):
                    self._pieces[tid] = bytes(int(b) & 0xFF for b in piece)
                ids.append(tid)
            else:
                ids.append(int(tok))
        return ids

    # --- the tokenizer interface --------------------------------------------------------------------

    def probe(self) -> None:
        """Learn what llama-cpp-python's endpoint puts before every text (BOS), so it is skipped."""
        if not self.tokenize_path.startswith("/extras"):
            return  # vLLM and llama.cpp add nothing when asked not to
        try:
            self._prefix = self._raw_encode("")
        except (NoTokenizeEndpoint, ProviderError):
            self._prefix = []

    def encode(self, text: str) -> list[int]:
        ids = self._raw_encode(text)
        n = len(self._prefix)
        return ids[n:] if n and ids[:n] == self._prefix else ids

    def token_bytes(self, token_id: int) -> bytes:
        if token_id not in self._pieces:
            data = self._post(self.detokenize_path, {"model": self.model_id, "tokens": [token_id]})
            text = next((data[k] for k in ("content", "prompt", "text") if isinstance(data, dict)
                         and isinstance(data.get(k), str)), None)
            if text is None:
                raise ProviderError(f"{self.root}{self.detokenize_path} answered without the token's text")
            self._pieces[token_id] = text.encode("utf-8")
        return self._pieces[token_id]

    def vocab(self) -> None:
        return None  # the server's own: nothing to check

    def count_chat(self, messages: Any) -> int:  # pragma: no cover - counts_offline is False
        raise NotImplementedError


def discover(connection: Connection, model_id: str) -> ServerTokenizer:
    """The server's tokenizer, from the first tokenize endpoint that answers; raises
    :class:`NoTokenizeEndpoint` when none does (and :class:`ProviderError` when the server fails otherwise)."""
    if not connection.base_url:
        raise NoTokenizeEndpoint("api.openai.com has no tokenize endpoint")
    root = server_root(connection.base_url)
    tried = []
    for paths in ENDPOINTS:
        tok = ServerTokenizer(connection, model_id, root, paths, "llama-cpp-python" if "extras" in paths[0]
                              else "vLLM or llama.cpp")
        try:
            data = tok._post(paths[0], tok._tokenize_body("Hello"))
        except NoTokenizeEndpoint as exc:
            tried.append(str(exc))
            continue
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list) or not tokens:
            tried.append(f"{root}{paths[0]}: no token list in the answer")
            continue
        if not paths[0].startswith("/extras"):
            tok.flavour = "llama.cpp" if isinstance(tokens[0], dict) or "max_model_len" not in data else "vLLM"
            tok.name = f"server ({tok.flavour}, {root}{paths[0]})"
        tok.probe()
        return tok
    raise NoTokenizeEndpoint("; ".join(tried))
