"""A fake OpenAI API on a real loopback HTTP server (pytest-httpserver), speaking the wire format.

It drives the whole ``openai`` SDK path — URLs, headers, Azure URL rewriting, pagination, multipart uploads —
and answers with bodies shaped like the real API's (build SDK clients with ``_strict_response_validation=True``,
e.g. ``HARNESS_OPENAI_STRICT=1``, so a body that drifts from the API schema fails loudly).

Routes: ``POST /v1/chat/completions``, ``POST /v1/completions``, ``POST /v1/embeddings`` (:mod:`fakes.embeddings`),
``POST /openai/deployments/{deployment}/chat/completions|embeddings?api-version=…`` (Azure),
``GET /v1/fine_tuning/jobs/{id}`` (+ ``/checkpoints`` and ``/events``, cursor-paginated, newest first like the
API), ``POST /v1/files`` (multipart), ``GET /v1/files/{id}`` (+ ``/content``), ``POST /v1/batches``,
``GET /v1/batches/{id}``.

Compatible-server features, off by default: ``tokenize_dialect`` answers ``POST /tokenize`` + ``/detokenize``
like llama.cpp (``{"id", "piece"}`` tokens) or vLLM (ids, ``max_model_len``), or ``/extras/tokenize`` like
llama-cpp-python (BOS first), with the tokenizer in ``encode``/``decode_token`` (a greedy longest-match
vocabulary by default); legacy completions take a list of prompts and ``echo`` (every prompt token's logprob
from ``token_logprobs``, with ``text_offset``); chat takes vLLM's ``continue_final_message`` and
``prompt_logprobs``; ``ignore_max_completion_tokens`` makes the server generate ``runaway_tokens`` tokens unless
``max_tokens`` caps them (llama-cpp-python).

Usage::

    server = start_server()                      # HTTPServer on 127.0.0.1, random port, threaded
    fake = FakeOpenAI(server, api_key="sk-test") # installs the handlers (clears earlier ones)
    fake.script("prompt text", [("base", -0.1), ("h", -2.5)])
    fake.inject(503, times=2)                    # the next two matching requests fail (fault injection)
    OpenAI(base_url=fake.base_url, api_key="sk-test")

The body builders (``chat_completion_body`` …) are plain functions, reusable on their own.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from .embeddings import EmbeddingsEndpoint

CREATED = 1_730_000_000
TOKENIZE_PATHS = ("/tokenize", "/detokenize")
TopList = Sequence[tuple[str, float]]


# --- body builders --------------------------------------------------------------------------------

def _bytes(token: str) -> list[int]:
    return list(token.encode("utf-8"))


def usage_body(prompt_tokens: int, completion_tokens: int = 1) -> dict[str, Any]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


def chat_completion_body(model: str, top: TopList, *, generated: str | None = None, prompt_tokens: int = 20,
                         with_logprobs: bool = True, null_bytes: bool = False, request_id: int = 1
                         ) -> dict[str, Any]:
    """A ``chat.completion`` with one generated token and its top logprobs (``top`` sorted or not)."""
    ranked = sorted(top, key=lambda t: -t[1])
    gen = generated if generated is not None else ranked[0][0]
    gen_lp = dict(ranked).get(gen, min(lp for _, lp in ranked) - 1.0)

    def entry(tok: str, lp: float) -> dict[str, Any]:
        return {"token": tok, "logprob": lp, "bytes": None if null_bytes else _bytes(tok)}

    logprobs = None
    if with_logprobs:
        logprobs = {"content": [{**entry(gen, gen_lp), "top_logprobs": [entry(t, lp) for t, lp in ranked]}],
                    "refusal": None}
    return {"id": f"chatcmpl-fake{request_id:06d}", "object": "chat.completion", "created": CREATED,
            "model": model,
            "choices": [{"index": 0,
                         "message": {"role": "assistant", "content": gen, "refusal": None, "annotations": []},
                         "logprobs": logprobs, "finish_reason": "length"}],
            "usage": usage_body(prompt_tokens), "service_tier": "default", "system_fingerprint": "fp_fake0001"}


def completion_body(model: str, top: TopList, *, generated: str | None = None, prompt_len: int = 0,
                    prompt_tokens: int = 20, with_logprobs: bool = True, request_id: int = 1) -> dict[str, Any]:
    """A legacy ``text_completion`` with ``logprobs`` = {tokens, token_logprobs, top_logprobs, text_offset}."""
    ranked = sorted(top, key=lambda t: -t[1])
    gen = generated if generated is not None else ranked[0][0]
    table = dict(ranked)
    gen_lp = table.get(gen, min(table.values()) - 1.0)
    top_map = dict(ranked)
    top_map.setdefault(gen, gen_lp)  # the sampled token is always included (up to k+1 entries)
    logprobs = {"tokens": [gen], "token_logprobs": [gen_lp], "top_logprobs": [top_map],
                "text_offset": [prompt_len]} if with_logprobs else None
    return {"id": f"cmpl-fake{request_id:06d}", "object": "text_completion", "created": CREATED, "model": model,
            "choices": [{"index": 0, "text": gen, "logprobs": logprobs, "finish_reason": "length"}],
            "usage": usage_body(prompt_tokens), "system_fingerprint": None}


def error_body(message: str, type: str = "invalid_request_error", code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def job_body(job_id: str, *, model: str = "gpt-4o-mini-2024-07-18", status: str = "succeeded",
             fine_tuned_model: str | None = None, result_files: Sequence[str] = (), trained_tokens: int | None = 51234,
             n_epochs: int = 3, batch_size: int = 1, learning_rate_multiplier: float = 1.8,
             error: dict[str, Any] | None = None, seed: int = 42) -> dict[str, Any]:
    done = status in ("succeeded", "failed", "cancelled")
    return {"object": "fine_tuning.job", "id": job_id, "model": model, "created_at": CREATED,
            "finished_at": CREATED + 3600 if done else None, "fine_tuned_model": fine_tuned_model,
            "organization_id": "org-fake", "result_files": list(result_files), "status": status,
            "validation_file": "file-valid01", "training_file": "file-train01",
            "hyperparameters": {"n_epochs": n_epochs, "batch_size": batch_size,
                                "learning_rate_multiplier": learning_rate_multiplier},
            "trained_tokens": trained_tokens if status == "succeeded" else None, "error": error, "seed": seed,
            "estimated_finish": None if done else CREATED + 7200, "integrations": [], "metadata": None,
            "method": {"type": "supervised",
                       "supervised": {"hyperparameters": {"n_epochs": n_epochs, "batch_size": batch_size,
                                                          "learning_rate_multiplier": learning_rate_multiplier}}}}


def checkpoint_body(job_id: str, step: int, model_id: str, metrics: dict[str, float] | None = None,
                    ckpt_id: str | None = None) -> dict[str, Any]:
    return {"object": "fine_tuning.job.checkpoint", "id": ckpt_id or f"ftckpt_{job_id[-6:]}{step:05d}",
            "created_at": CREATED + step, "fine_tuned_model_checkpoint": model_id, "fine_tuning_job_id": job_id,
            "metrics": {"step": float(step), **(metrics or {})}, "step_number": step}


def event_body(event_id: str, message: str, *, type: str = "message", data: Any = None,
               created_at: int = CREATED, level: str = "info") -> dict[str, Any]:
    return {"object": "fine_tuning.job.event", "id": event_id, "created_at": created_at, "level": level,
            "message": message, "data": data, "type": type}


def file_body(file_id: str, filename: str, purpose: str, nbytes: int) -> dict[str, Any]:
    return {"object": "file", "id": file_id, "purpose": purpose, "filename": filename, "bytes": nbytes,
            "created_at": CREATED, "expires_at": None, "status": "processed", "status_details": None}


def batch_body(batch_id: str, *, input_file_id: str, endpoint: str, status: str = "validating",
               output_file_id: str | None = None, error_file_id: str | None = None,
               counts: tuple[int, int, int] = (0, 0, 0)) -> dict[str, Any]:
    total, completed, failed = counts
    return {"id": batch_id, "object": "batch", "endpoint": endpoint, "errors": None,
            "input_file_id": input_file_id, "completion_window": "24h", "status": status,
            "output_file_id": output_file_id, "error_file_id": error_file_id, "created_at": CREATED,
            "in_progress_at": None, "expires_at": CREATED + 86400, "finalizing_at": None,
            "completed_at": CREATED + 60 if status == "completed" else None, "failed_at": None,
            "expired_at": None, "cancelling_at": None, "cancelled_at": None,
            "request_counts": {"total": total, "completed": completed, "failed": failed}, "metadata": None}


def result_csv(rows: Sequence[dict[str, Any]],
               columns: Sequence[str] = ("step", "train_loss", "train_accuracy", "valid_loss",
                                         "valid_mean_token_accuracy")) -> str:
    """A fine-tuning result CSV (empty cells for missing values, as in the real file)."""
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join("" if row.get(c) is None else str(row[c]) for c in columns))
    return "\n".join(lines) + "\n"


def logprobs_of(probs: dict[str, float]) -> list[tuple[str, float]]:
    """``{token: probability}`` → ``[(token, logprob)]`` (handy for writing scripts by probability)."""
    return [(tok, math.log(p)) for tok, p in probs.items()]


# --- the server -----------------------------------------------------------------------------------

def start_server(threaded: bool = True) -> HTTPServer:
    """A started HTTPServer on 127.0.0.1 with a random free port (stop it with ``server.stop()``)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=threaded)
    server.start()
    return server


@dataclass
class Fault:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    times: int | None = 1  # None = forever
    path: str = ""  # substring of the request path; "" = any
    when: Callable[[dict[str, Any]], bool] | None = None  # on the JSON body


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    raw: bytes


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


class FakeOpenAI(EmbeddingsEndpoint):
    """Scripted OpenAI behaviour behind one catch-all handler on ``server``."""

    def __init__(self, server: HTTPServer, api_key: str | None = "sk-test", *, azure_key: str | None = None,
                 entra_token: str | None = None) -> None:
        self.server = server
        self.api_key = api_key
        self.azure_key = azure_key
        self.entra_token = entra_token
        self.lock = threading.Lock()
        self.scripts: dict[str, tuple[list[tuple[str, float]], str | None]] = {}
        self.default_top: list[tuple[str, float]] = [("yes", math.log(0.7)), ("no", math.log(0.3))]
        self.missing_models: set[str] = set()
        self.reasoning_models: set[str] = set()
        self.no_logprobs_models: set[str] = set()
        self.null_bytes = False  # compatible servers may send "bytes": null
        self.context_limit = 4000  # characters of prompt; longer → 400 context_length_exceeded
        self.max_top_logprobs = 20
        self.max_completion_logprobs = 5
        self.tokenize_dialect: str | None = None  # "llama.cpp" | "vllm" | "llama-cpp-python"
        self.vocab: list[str] = ["<s>", " baseball", " hockey", "baseball", "hockey", "base", "h", " ", "\n",
                                 "###", "The", " New", " York", "New", "York", "False", "France", "F", " F",
                                 " False", " France"]
        self.encode: Callable[[str], list[int]] = self._greedy_encode
        self.decode_token: Callable[[int], str] = self._greedy_decode
        self.token_logprobs: dict[str, float] = {}  # echoed / prompt-token logprobs by token text (default -2)
        self.ignore_max_completion_tokens = False
        self.runaway_tokens = 2000
        self.azure_models: dict[str, str] = {}  # deployment → model name in responses
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.checkpoints: dict[str, list[dict[str, Any]]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_polls = 1  # retrieves before a batch completes
        #: when set, batches end "failed" with these ``errors.data`` entries ({code, message, line, param}), as
        #: the API reports an input file that did not validate or an enqueued-token limit
        self.batch_errors: list[dict[str, Any]] | None = None
        self.max_page = 100  # the most items one list page returns, whatever `limit` asks
        self._polls: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._active = 0  # requests being handled (settle())
        self._last = time.monotonic()  # when the last request was handled
        self.init_embeddings()  # POST /v1/embeddings (fakes.embeddings)
        server.clear()
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    # --- configuration ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.server.url_for("/v1")

    @property
    def azure_endpoint(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def script(self, prompt: str, top: TopList, generated: str | None = None) -> None:
        """Answer requests whose prompt (completions) or last user message (chat) is ``prompt``."""
        self.scripts[prompt] = (list(top), generated)

    def inject(self, status: int, body: Any = None, *, headers: dict[str, str] | None = None,
               raw: bytes | None = None, times: int | None = 1, path: str = "",
               when: Callable[[dict[str, Any]], bool] | None = None) -> Fault:
        """The next ``times`` requests whose path contains ``path`` get this response instead."""
        fault = Fault(status, body, dict(headers or {}), raw, times, path, when)
        with self.lock:
            self.faults.append(fault)
        return fault

    def add_file(self, content: bytes | str, *, filename: str = "results.csv", purpose: str = "fine-tune-results",
                 file_id: str | None = None) -> str:
        data = content.encode("utf-8") if isinstance(content, str) else content
        fid = file_id or f"file-{next(self._ids):06d}"
        self.files[fid] = (file_body(fid, filename, purpose, len(data)), data)
        return fid

    def add_job(self, job: dict[str, Any], checkpoints: Sequence[dict[str, Any]] = (),
                events: Sequence[dict[str, Any]] = ()) -> None:
        self.jobs[job["id"]] = job
        # the API lists newest first
        self.checkpoints[job["id"]] = sorted(checkpoints, key=lambda c: -c["step_number"])
        self.events[job["id"]] = sorted(events, key=lambda e: -e["created_at"])

    def calls(self, path_part: str = "") -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if path_part in r.path]

    # --- dispatch ---------------------------------------------------------------------------------

    def settle(self, quiet: float = 0.1, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled and none arrived for ``quiet`` seconds (a request a client
        abandoned at the end of a run may still reach the server: without this it would be answered by, and
        consume the faults of, the next test's handler). True when settled within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                idle = self._active == 0 and time.monotonic() - self._last >= quiet
            if idle:
                return True
            time.sleep(0.02)
        return False

    def handle(self, request: Request) -> Response:
        with self.lock:
            self._active += 1
        try:
            return self._handle(request)
        finally:
            with self.lock:
                self._active -= 1
                self._last = time.monotonic()

    def _handle(self, request: Request) -> Response:
        raw = request.get_data()
        body: Any = None
        if request.mimetype == "application/json" and raw:
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                return _json(400, error_body("We could not parse the JSON body of your request."))
        rec = Recorded(request.method, request.path, dict(request.args), dict(request.headers), body, raw)
        with self.lock:
            self.requests.append(rec)
            fault = self._take_fault(request.path, body)
        if fault is not None:
            if fault.raw is not None:
                return Response(fault.raw, status=fault.status, headers=fault.headers,
                                content_type="application/json")
            payload = fault.body if fault.body is not None else error_body(
                "The server had an error while processing your request.", "server_error")
            return _json(fault.status, payload, fault.headers)
        return self.route(request, body)

    def _take_fault(self, path: str, body: Any) -> Fault | None:
        for fault in self.faults:
            if fault.path and fault.path not in path:
                continue
            if not fault.path and path.endswith(TOKENIZE_PATHS):  # a fault for "any request" means the API's
                continue
            if fault.when is not None and not (isinstance(body, dict) and fault.when(body)):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    def route(self, request: Request, body: Any) -> Response:
        path, method = request.path, request.method
        m = re.fullmatch(r"/openai/deployments/([^/]+)/(chat/completions|embeddings)", path)
        if m and method == "POST":
            return self._azure_chat(request, m.group(1), body, embeddings=m.group(2) == "embeddings")
        if path.endswith(TOKENIZE_PATHS) and method == "POST":
            return self._tokenize(path, body)
        if not path.startswith("/v1/"):
            return _json(404, error_body(f"Invalid URL ({method} {path})"))
        denied = self._check_bearer(request, self.api_key)
        if denied is not None:
            return denied
        if path == "/v1/chat/completions" and method == "POST":
            status, out = self.chat(body)
            return _json(status, out)
        if path == "/v1/completions" and method == "POST":
            status, out = self.completion(body)
            return _json(status, out)
        if path == "/v1/embeddings" and method == "POST":
            status, out = self.embeddings(body)
            return _json(status, out)
        if path == "/v1/files" and method == "POST":
            return self._upload(request)
        if path == "/v1/batches" and method == "POST":
            return self._create_batch(body)
        m = re.fullmatch(r"/v1/batches/([^/]+)", path)
        if m and method == "GET":
            return self._retrieve_batch(m.group(1))
        m = re.fullmatch(r"/v1/files/([^/]+)(/content)?", path)
        if m and method == "GET":
            return self._file(m.group(1), bool(m.group(2)))
        m = re.fullmatch(r"/v1/fine_tuning/jobs/([^/]+)(?:/(checkpoints|events))?", path)
        if m and method == "GET":
            return self._job(m.group(1), m.group(2), request.args)
        return _json(404, error_body(f"Invalid URL ({method} {path})"))

    def _check_bearer(self, request: Request, key: str | None) -> Response | None:
        if key is None:
            return None
        given = request.headers.get("Authorization", "")
        if given == f"Bearer {key}":
            return None
        shown = given.removeprefix("Bearer ")
        masked = (shown[:3] + "*" * max(0, len(shown) - 7) + shown[-4:]) if len(shown) > 8 else "***"
        return _json(401, error_body(f"Incorrect API key provided: {masked}. You can find your API key at "
                                     "https://platform.openai.com/account/api-keys.", code="invalid_api_key"))

    # --- inference --------------------------------------------------------------------------------

    def _top_for(self, prompt: str) -> tuple[list[tuple[str, float]], str | None]:
        return self.scripts.get(prompt, (self.default_top, None))

    def _model_error(self, model: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if model in self.missing_models:
            return 404, error_body(f"The model `{model}` does not exist or you do not have access to it.",
                                   code="model_not_found")
        if model in self.reasoning_models and body.get("logprobs"):
            return 403, error_body("You are not allowed to request logprobs from this model",
                                   type="invalid_request_error", param="logprobs")
        return None

    def chat(self, body: Any, *, model_name: str | None = None) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or "model" not in body:
            return 400, error_body("Missing required parameter: 'messages'.", param="messages")
        model = body["model"]
        err = self._model_error(model, body)
        if err:
            return err
        k = body.get("top_logprobs")
        if k is not None and not body.get("logprobs"):
            return 400, error_body("Invalid value for 'top_logprobs': 'logprobs' must be set to true.",
                                   param="top_logprobs")
        if k is not None and not 0 <= k <= self.max_top_logprobs:
            return 400, error_body(f"Invalid 'top_logprobs': integer above maximum value. Expected a value <= "
                                   f"{self.max_top_logprobs}, but got {k} instead.", param="top_logprobs",
                                   code="integer_above_max_value")
        text = "".join(str(m.get("content", "")) for m in body["messages"])
        if len(text) > self.context_limit:
            return 400, error_body("This model's maximum context length is 128000 tokens. However, your messages "
                                   "resulted in 131072 tokens. Please reduce the length of the messages.",
                                   param="messages", code="context_length_exceeded")
        users = [m for m in body["messages"] if m.get("role") == "user"]
        top, generated = self._top_for(str(users[-1]["content"]) if users else "")
        ranked = sorted(top, key=lambda t: -t[1])[: (k or 1)]
        with_lp = bool(body.get("logprobs")) and model not in self.no_logprobs_models
        out = chat_completion_body(model_name or model, ranked if with_lp else top, generated=generated,
                                   prompt_tokens=len(text) // 4 + 1, with_logprobs=with_lp,
                                   null_bytes=self.null_bytes, request_id=next(self._ids))
        if self.ignore_max_completion_tokens and "max_tokens" not in body:
            out["usage"] = usage_body(len(text) // 4 + 1, self.runaway_tokens)
        if body.get("prompt_logprobs") is not None:  # vLLM: logprobs of every prompt token
            out["prompt_logprobs"] = self._prompt_logprobs(self.render_chat(body))
        return 200, out

    def render_chat(self, body: dict[str, Any]) -> str:
        """A toy chat template; with ``continue_final_message`` the last (assistant) message is left open."""
        msgs = body["messages"]
        open_last = bool(body.get("continue_final_message"))
        parts = []
        for i, m in enumerate(msgs):
            last = i == len(msgs) - 1
            parts.append(f"<{m.get('role')}>\n{m.get('content', '')}" + ("" if open_last and last else "\n"))
        if body.get("add_generation_prompt", True) and not open_last:
            parts.append("<assistant>\n")
        return "".join(parts)

    def _prompt_logprobs(self, text: str) -> list[Any]:
        ids = self.encode(text)
        out: list[Any] = [None]
        for tid in ids[1:]:
            tok = self.decode_token(tid)
            out.append({str(tid): {"logprob": self.token_logprobs.get(tok, -2.0), "rank": 1, "decoded_token": tok}})
        return out

    # --- tokenizers -------------------------------------------------------------------------------

    def _greedy_encode(self, text: str) -> list[int]:
        ids, i = [], 0
        while i < len(text):
            best = max((j for j, v in enumerate(self.vocab) if v and text.startswith(v, i)),
                       key=lambda j: len(self.vocab[j]), default=None)
            if best is None:
                ids.append(1000 + ord(text[i]))
                i += 1
            else:
                ids.append(best)
                i += len(self.vocab[best])
        return ids

    def _greedy_decode(self, tid: int) -> str:
        return self.vocab[tid] if tid < 1000 else chr(tid - 1000)

    def _tokenize(self, path: str, body: Any) -> Response:
        dialect = self.tokenize_dialect
        extras = path.startswith("/extras/")
        if dialect is None or extras != (dialect == "llama-cpp-python") or not isinstance(body, dict):
            return _json(404, {"detail": "Not Found"})
        if path.endswith("/detokenize"):
            text = "".join(self.decode_token(int(t)) for t in body.get("tokens") or [])
            key = {"llama.cpp": "content", "vllm": "prompt"}.get(dialect, "text")
            return _json(200, {key: text})
        if dialect == "llama.cpp":
            ids = self.encode(str(body["content"]))
            if body.get("with_pieces"):
                return _json(200, {"tokens": [{"id": i, "piece": self.decode_token(i)} for i in ids]})
            return _json(200, {"tokens": ids})
        if dialect == "vllm":
            ids = self.encode(str(body["prompt"]))
            return _json(200, {"count": len(ids), "max_model_len": 8192, "tokens": ids, "token_strs": None})
        return _json(200, {"tokens": [0] + self.encode(str(body["input"]))})  # llama-cpp-python adds BOS

    def completion(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or "prompt" not in body or "model" not in body:
            return 400, error_body("Missing required parameter: 'prompt'.", param="prompt")
        model = body["model"]
        err = self._model_error(model, body)
        if err:
            return err
        k = body.get("logprobs")
        if k is not None and not 0 <= k <= self.max_completion_logprobs:
            return 400, error_body(f"Invalid value for 'logprobs': must be less than or equal to "
                                   f"{self.max_completion_logprobs}.", param="logprobs")
        prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
        if any(len(str(p)) > self.context_limit for p in prompts):
            return 400, error_body("This model's maximum context length is 16385 tokens, however you requested "
                                   "17000 tokens. Please reduce your prompt.", code="context_length_exceeded",
                                   param="prompt")
        with_lp = k is not None and model not in self.no_logprobs_models
        out: dict[str, Any] | None = None
        for index, p in enumerate(prompts):
            prompt = str(p)
            top, generated = self._top_for(prompt)
            ranked = sorted(top, key=lambda t: -t[1])[: (k or 1)]
            one = completion_body(model, ranked if with_lp else top, generated=generated, prompt_len=len(prompt),
                                  prompt_tokens=len(prompt) // 4 + 1, with_logprobs=with_lp,
                                  request_id=next(self._ids))
            choice = one["choices"][0]
            choice["index"] = index
            if body.get("echo"):
                self._echo(choice, prompt)
            if out is None:
                out = one
            else:
                out["choices"].append(choice)
                for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
                    out["usage"][key] += one["usage"][key]
        return 200, out  # type: ignore[return-value]

    def _echo(self, choice: dict[str, Any], prompt: str) -> None:
        """``echo``: the prompt's tokens (logprob of the first: null) before the generated one."""
        ids = self.encode(prompt)
        toks = [self.decode_token(i) for i in ids]
        offsets, pos = [], 0
        for tok in toks:
            offsets.append(pos)
            pos += len(tok)
        lps = [None] + [self.token_logprobs.get(t, -2.0) for t in toks[1:]]
        choice["text"] = prompt + choice["text"]
        lp = choice["logprobs"]
        if lp is not None:
            lp["tokens"] = toks + lp["tokens"]
            lp["token_logprobs"] = lps + lp["token_logprobs"]
            lp["top_logprobs"] = [None] + [{t: lps[i + 1]} for i, t in enumerate(toks[1:])] + lp["top_logprobs"]
            lp["text_offset"] = offsets + [len(prompt)]

    def _azure_chat(self, request: Request, deployment: str, body: Any, embeddings: bool = False) -> Response:
        if not request.args.get("api-version"):
            return _json(404, {"error": {"code": "404", "message": "Resource not found"}})
        key_ok = self.azure_key is not None and request.headers.get("api-key") == self.azure_key
        token_ok = self.entra_token is not None and \
            request.headers.get("Authorization") == f"Bearer {self.entra_token}"
        if not (key_ok or token_ok):
            return _json(401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key "
                                         "or wrong API endpoint. Make sure to provide a valid key for an active "
                                         "subscription and use a correct regional API endpoint for your "
                                         "resource."}})
        if deployment not in self.azure_models:
            return _json(404, {"error": {"code": "DeploymentNotFound", "message": "The API deployment for this "
                                         "resource does not exist. If you created the deployment within the "
                                         "last 5 minutes, please wait a moment and try again."}})
        if embeddings:
            return _json(*self.embeddings(body, model_name=self.azure_models[deployment]))
        status, out = self.chat(body, model_name=self.azure_models[deployment])
        if status == 200:
            out["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": {}}]
            out["choices"][0]["content_filter_results"] = {}
        return _json(status, out)

    # --- files, batches, jobs ---------------------------------------------------------------------

    def _upload(self, request: Request) -> Response:
        upload = request.files.get("file")
        purpose = request.form.get("purpose")
        if upload is None or not purpose:
            return _json(400, error_body("Missing file or purpose.", param="file"))
        data = upload.read()
        fid = self.add_file(data, filename=upload.filename or "upload.jsonl", purpose=purpose)
        return _json(200, self.files[fid][0])

    def _file(self, file_id: str, content: bool) -> Response:
        if file_id not in self.files:
            return _json(404, error_body(f"No such File object: {file_id}", param="id"))
        meta, data = self.files[file_id]
        if content:
            return Response(data, status=200, content_type="application/octet-stream")
        return _json(200, meta)

    def _create_batch(self, body: Any) -> Response:
        if not isinstance(body, dict) or body.get("input_file_id") not in self.files:
            return _json(400, error_body("Invalid input_file_id.", param="input_file_id"))
        if body.get("completion_window") != "24h":
            return _json(400, error_body("Invalid completion_window.", param="completion_window"))
        bid = f"batch_{next(self._ids):06d}"
        with self.lock:
            self.batches[bid] = batch_body(bid, input_file_id=body["input_file_id"], endpoint=body["endpoint"])
            self._polls[bid] = 0
        return _json(200, self.batches[bid])

    def _retrieve_batch(self, batch_id: str) -> Response:
        if batch_id not in self.batches:
            return _json(404, error_body(f"No batch found with id '{batch_id}'.", param="batch_id"))
        with self.lock:
            self._polls[batch_id] += 1
            batch = self.batches[batch_id]
            if batch["status"] not in ("completed", "failed"):
                batch["status"] = "in_progress"
                if self._polls[batch_id] > self.batch_polls:
                    if self.batch_errors is not None:
                        batch.update(status="failed", failed_at=int(time.time()),
                                     errors={"object": "list", "data": [
                                         {"code": None, "line": None, "message": None, "param": None, **e}
                                         for e in self.batch_errors]})
                    else:
                        self._run_batch(batch)
        return _json(200, self.batches[batch_id])

    def _run_batch(self, batch: dict[str, Any]) -> None:
        lines = self.files[batch["input_file_id"]][1].decode("utf-8").splitlines()
        ok, bad = [], []
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            req = json.loads(line)
            handler = {"/v1/chat/completions": self.chat, "/v1/embeddings": self.embeddings}.get(req["url"],
                                                                                               self.completion)
            status, out = handler(req["body"])
            row = {"id": f"batch_req_{i:04d}", "custom_id": req["custom_id"],
                   "response": {"status_code": status, "request_id": f"req_{i:04d}", "body": out}, "error": None}
            (ok if status == 200 else bad).append(json.dumps(row))
        ok.reverse()  # the output order is arbitrary: join on custom_id
        out_id = self.add_file("\n".join(ok) + "\n", filename="batch_output.jsonl", purpose="batch_output") \
            if ok else None
        err_id = self.add_file("\n".join(bad) + "\n", filename="batch_errors.jsonl", purpose="batch_output") \
            if bad else None
        batch.update(status="completed", output_file_id=out_id, error_file_id=err_id,
                     completed_at=int(time.time()),
                     request_counts={"total": len(ok) + len(bad), "completed": len(ok), "failed": len(bad)})

    def _job(self, job_id: str, sub: str | None, args: Any) -> Response:
        if job_id not in self.jobs:
            return _json(404, error_body(f"Could not find fine-tune: {job_id}", param="fine_tune_id",
                                         code="fine_tune_not_found"))
        if sub is None:
            return _json(200, self.jobs[job_id])
        items = self.checkpoints[job_id] if sub == "checkpoints" else self.events[job_id]
        limit = min(int(args.get("limit", 10 if sub == "checkpoints" else 20)), self.max_page)
        after = args.get("after")
        start = 0
        if after:
            ids = [it["id"] for it in items]
            start = ids.index(after) + 1 if after in ids else len(items)
        page = items[start:start + limit]
        out: dict[str, Any] = {"object": "list", "data": page, "has_more": start + limit < len(items)}
        if sub == "checkpoints":
            out["first_id"] = page[0]["id"] if page else None
            out["last_id"] = page[-1]["id"] if page else None
        return _json(200, out)


def b64(text: str) -> bytes:
    """Base64 of a text (a result CSV "reported to arrive base64-encoded")."""
    return base64.b64encode(text.encode("utf-8"))
