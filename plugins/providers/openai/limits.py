"""Servers that ignore the one-token limit (llama-cpp-python ignores ``max_completion_tokens`` and generates to
the end of the context): noticed from the usage, said once, and the model switches to ``max_tokens``."""

from __future__ import annotations

from typing import Any

#: Request fields that limit the output length, in the order they are looked for.
LIMIT_FIELDS = ("max_completion_tokens", "max_tokens")


def check_output_limit(model: Any, request: dict[str, Any], response: dict[str, Any]) -> None:
    """A server that generated more tokens than the request allows ignores that field (llama-cpp-python
    ignores max_completion_tokens and generates to the end of the context): say so once per field."""
    field = next((f for f in LIMIT_FIELDS if f in request), None)
    usage = model.usage(response)
    if field is None or usage is None or field in model._limit_warned:
        return
    asked = int(request[field] or 0)
    if not asked or usage["completion_tokens"] <= asked:
        return
    model._limit_warned.add(field)
    used = usage["completion_tokens"]
    if field == "max_completion_tokens":
        model._switch_limit = True
        model.notice(f"the server ignored max_completion_tokens: {asked} (a response used {used} completion "
                    "tokens, each one time and money); switching to max_tokens for the remaining requests "
                    "(set the option max_tokens_field: max_tokens to start with it)")
    else:
        also = " too" if "max_completion_tokens" in model._limit_warned else ""
        model.notice(f"the server ignored {field}: {asked}{also} (a response used {used} completion tokens): "
                    "every request generates until the server stops it; cap the output on the server "
                    "(e.g. llama.cpp --n-predict 1) to save time")
