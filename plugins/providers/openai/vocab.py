"""Which tokenizer a model's labels are matched with, chosen and checked before any scoring request.

The ``tokenizer`` option:

* ``auto`` (default) — on an OpenAI-compatible server (a ``base_url`` other than api.openai.com), the server's
  own tokenizer through its tokenize endpoint when it has one (vLLM, llama.cpp, llama-cpp-python); otherwise
  the OpenAI encoding of the model name (``o200k_base``, ``cl100k_base``); otherwise none (text matching);
* ``server`` — the server's tokenize endpoint, an error when it has none;
* ``o200k_base`` / ``cl100k_base`` — a bundled OpenAI encoding;
* a path — a ``tokenizer.json`` or a model folder holding one (the model's own tokenizer, read locally);
* ``none`` — text matching.

A tokenizer that is not the server's own is checked against the server: where the server can tokenize, the
labels' token ids must agree (else the option is refused, exit 2); where it cannot, every token the server
returns must belong to the tokenizer's vocabulary (else the model is stopped, exit 3) — a wrong vocabulary
would silently drop probability mass and make ``logit_bias`` boost unrelated tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import UsageError

from .._openai_api.connection import Connection
from ..label_scoring import variants
from .tokenizers import OPENAI_ENCODINGS, encoding_name_for_model, get_tokenizer

AUTO, NONE, SERVER = "auto", "none", "server"


@dataclass
class TokenizerChoice:
    tokenizer: Any | None  # Tokenizer | LocalTokenizer | ServerTokenizer | None
    source: str  # "server" | "local" | "tiktoken" | "none"
    note: str | None = None  # why this one (recorded in results.json)
    check_vocab: bool = False  # check the server's returned tokens against the tokenizer's vocabulary


def is_compatible_server(conn: Connection | None) -> bool:
    """An OpenAI-compatible server other than api.openai.com (Azure is OpenAI's own vocabulary)."""
    return conn is not None and conn.kind == "openai" and not conn.is_openai_platform()


def _local(setting: str, root: Path | None, where: str) -> Any:
    from .local_tokenizer import LocalTokenizer, TokenizerUnavailable

    path = Path(setting).expanduser()
    if not path.is_absolute() and root is not None:  # a path in suite.yaml is relative to the suite folder
        path = root / path
    try:
        return LocalTokenizer(path)
    except TokenizerUnavailable as exc:
        raise UsageError(f"{where}: option tokenizer: {exc}") from None


def _server(conn: Connection | None, model_id: str) -> tuple[Any | None, str]:
    """(the server's tokenizer or None, why not)."""
    if not is_compatible_server(conn):
        return None, "api.openai.com and Azure have no tokenize endpoint"
    from .server_tokenizer import NoTokenizeEndpoint, discover

    try:
        return discover(conn, model_id), ""  # type: ignore[arg-type]
    except NoTokenizeEndpoint as exc:
        return None, str(exc)


def compare_with_server(tokenizer: Any, server: Any, labels: Sequence[str], case_insensitive: bool,
                        where: str) -> None:
    """Refuse a tokenizer whose ids for the labels differ from the server's (a different vocabulary)."""
    probes = [v for lab in labels for v in variants(lab, case_insensitive)] + ["The quick brown fox, 2024!"]
    for text in probes:
        mine, theirs = tokenizer.encode(text), server.encode(text)
        if mine != theirs:
            raise UsageError(f"{where}: the tokenizer {tokenizer.name} does not match the server's vocabulary: "
                             f"{text!r} is {mine[:8]} under it but {theirs[:8]} on the server; leave the option "
                             "tokenizer at auto (or set it to server) to use the server's own")


def choose_tokenizer(setting: str, model_id: str, conn: Connection | None, labels: Sequence[str],
                     case_insensitive: bool, root: Path | None, where: str) -> TokenizerChoice:
    """The tokenizer for ``setting`` (see the module docstring), checked against the server where it can be."""
    if setting == NONE:
        return TokenizerChoice(None, "none", "tokenizer: none — labels matched by text")
    if setting == SERVER:
        server, why = _server(conn, model_id)
        if server is None:
            raise UsageError(f"{where}: option tokenizer: server, but the server has no tokenize endpoint ({why}); "
                             "set it to the model's tokenizer.json or folder instead")
        return TokenizerChoice(server, "server", "the server's own tokenizer")
    if setting == AUTO:
        why = ""
        if is_compatible_server(conn):
            server, why = _server(conn, model_id)
            if server is not None:
                return TokenizerChoice(server, "server", "the server's own tokenizer (tokenize endpoint)")
        offline = why.startswith("--offline")
        name = encoding_name_for_model(model_id)
        if name is None:
            return TokenizerChoice(None, "none", ("--offline: the server's tokenize endpoint is not asked; "
                                                  if offline else "") +
                                   "no tokenizer known for this model and the server offers none: "
                                   "labels matched by text (set the option tokenizer to the model's "
                                   "tokenizer.json or folder for exact matching)")
        tok = get_tokenizer(name)
        note = ("--offline: the server's tokenize endpoint is not asked; " if offline else "") + \
            f"{name}, from the model name"
        if is_compatible_server(conn):
            return TokenizerChoice(tok, "tiktoken", note + " (checked against the tokens the server returns)",
                                   check_vocab=True)
        return TokenizerChoice(tok, "tiktoken", note)
    tok = get_tokenizer(setting) if setting in OPENAI_ENCODINGS else _local(setting, root, where)
    source = "tiktoken" if setting in OPENAI_ENCODINGS else "local"
    if not is_compatible_server(conn):
        return TokenizerChoice(tok, source, "set by the option tokenizer")
    server, _ = _server(conn, model_id)
    if server is not None:
        compare_with_server(tok, server, labels, case_insensitive, where)
        return TokenizerChoice(tok, source, "set by the option tokenizer; agrees with the server's tokenize endpoint")
    return TokenizerChoice(tok, source, "set by the option tokenizer (checked against the tokens the server "
                           "returns)", check_vocab=True)
