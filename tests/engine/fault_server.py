"""A fault-injecting fake of the OpenAI API on 127.0.0.1 (stdlib only, asyncio, one background thread).

It speaks the chat-completions wire format and a small Batch API (files upload/content, batches
create/retrieve). Faults are decided per (prompt, attempt) from a seed, so a run is reproducible whatever
the order requests arrive in: on a prompt's first attempt 429 (with ``retry-after-ms``) with probability
``p429``; on every attempt 500 with ``p500``, a stall past the client's timeout with ``pstall`` and a
truncated JSON body with ``ptrunc``. Prompts containing ``POISON`` always get a 500; prompts containing
``REJECT`` get a 400. Every chat request is counted per (model, prompt) (``requests``), and successful ones
too (``ok``). ``latency`` delays every answer (the benchmark uses 50 ms).

Also used by ``benchmarks/bench_runner.py`` (loaded by file path), so it imports nothing from the tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

LABELS = ("billing", "shipping", "technical", "account", "returns")


def _unit(*parts: Any) -> float:
    """A deterministic number in [0, 1) from its parts."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def prompt_of(body: dict[str, Any]) -> str:
    msgs = body.get("messages") or []
    for m in reversed(msgs):
        if m.get("role") == "user":
            c = m.get("content")
            return c if isinstance(c, str) else json.dumps(c)
    return str(body.get("prompt", ""))


def answer_label(prompt: str, labels: tuple[str, ...], seed: int) -> str:
    """The label mentioned in the prompt 80% of the time, another one otherwise."""
    mentioned = next((lab for lab in labels if lab in prompt), labels[0])
    if _unit(seed, "answer", prompt) < 0.8:
        return mentioned
    others = [lab for lab in labels if lab != mentioned]
    return others[int(_unit(seed, "other", prompt) * len(others))]


def chat_body(body: dict[str, Any], labels: tuple[str, ...], seed: int) -> dict[str, Any]:
    """A chat.completion object as the API returns it, with logprobs over the labels."""
    prompt = prompt_of(body)
    label = answer_label(prompt, labels, seed)
    k = int(body.get("top_logprobs") or 0)
    p_top = 0.55 + 0.4 * _unit(seed, "conf", prompt)
    rest = (1 - p_top) / max(1, len(labels) - 1)
    tops = [{"token": label, "logprob": math.log(p_top), "bytes": list(label.encode())}]
    tops += [{"token": lab, "logprob": math.log(rest), "bytes": list(lab.encode())} for lab in labels if lab != label]
    logprobs = None
    if body.get("logprobs"):
        logprobs = {"content": [dict(tops[0], top_logprobs=tops[:k])], "refusal": None}
    n_prompt = max(1, len(json.dumps(body.get("messages", ""))) // 4)
    return {
        "id": "chatcmpl-" + hashlib.sha1(prompt.encode()).hexdigest()[:24],
        "object": "chat.completion",
        "created": 1767225600,
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": label, "refusal": None,
                                              "annotations": []},
                     "logprobs": logprobs, "finish_reason": "length"}],
        "usage": {"prompt_tokens": n_prompt, "completion_tokens": 1, "total_tokens": n_prompt + 1},
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def _error(status: int, message: str, type_: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": None}}


@dataclass
class Faults:
    p429: float = 0.0
    p500: float = 0.0
    pstall: float = 0.0
    ptrunc: float = 0.0
    retry_after_ms: int = 20
    stall_seconds: float = 2.0


@dataclass
class BatchJob:
    id: str
    input_file_id: str
    endpoint: str
    polls: int = 0
    status: str = "validating"
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int = field(default_factory=lambda: int(time.time()))


class _Http(asyncio.Protocol):
    def __init__(self, server: FaultServer) -> None:
        self.server = server
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.calls["connections"] += 1

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buf[:head_end].decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0"))
            if len(self.buf) < head_end + 4 + n:
                return
            body = self.buf[head_end + 4:head_end + 4 + n]
            self.buf = self.buf[head_end + 4 + n:]
            method, path, _ = head[0].split(" ", 2)
            self.server._handle(self, method, path, headers, body)

    def respond(self, status: int, payload: bytes, extra: dict[str, str] | None = None,
                content_type: str = "application/json") -> None:
        if self.transport is None or self.transport.is_closing():
            return
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests",
                  500: "Internal Server Error"}.get(status, "OK")
        lines = [f"HTTP/1.1 {status} {reason}", f"content-type: {content_type}",
                 f"content-length: {len(payload)}", "x-request-id: req_fake"]
        lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)


class FaultServer:
    """``with FaultServer(faults=Faults(p429=0.3), seed=1) as srv: srv.base_url`` → ``http://127.0.0.1:PORT/v1``."""

    def __init__(self, faults: Faults | None = None, seed: int = 0, latency: float = 0.0,
                 labels: tuple[str, ...] = LABELS, batch_polls: int = 2) -> None:
        self.faults = faults or Faults()
        self.seed = seed
        self.latency = latency
        self.labels = labels
        self.batch_polls = batch_polls  # retrieve calls before a batch completes
        self.hold_batches = False  # keep batches in_progress until released
        self.requests: Counter[tuple[str, str]] = Counter()  # chat requests per (model, prompt), every attempt
        self.ok: Counter[tuple[str, str]] = Counter()  # successful chat responses per (model, prompt)
        self.calls: Counter[str] = Counter()  # per route: "chat", "files.create", "batches.create"...
        self.auth_headers: set[str] = set()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, BatchJob] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FaultServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="fault-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        srv = loop.run_until_complete(loop.create_server(lambda: _Http(self), "127.0.0.1", 0, backlog=1024))
        self.port = srv.sockets[0].getsockname()[1]
        self._stopped = loop.create_future()
        self._ready.set()
        loop.run_until_complete(self._stopped)
        srv.close()
        loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: self._stopped.done() or self._stopped.set_result(None))
        if self._thread is not None:
            self._thread.join(5)

    def total_requests(self) -> int:
        return sum(self.requests.values())

    # --- routing ------------------------------------------------------------------------------------

    def _later(self, delay: float, fn: Any, *args: Any) -> None:
        assert self._loop is not None
        if delay > 0:
            self._loop.call_later(delay, fn, *args)
        else:
            fn(*args)

    def _handle(self, conn: _Http, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        if "authorization" in headers:
            self.auth_headers.add(headers["authorization"])
        path = path.split("?", 1)[0]
        if path.startswith("/v1"):
            path = path[3:]
        try:
            if method == "POST" and path == "/chat/completions":
                return self._chat(conn, json.loads(body))
            if method == "POST" and path == "/files":
                return self._upload(conn, headers, body)
            if method == "GET" and path.startswith("/files/") and path.endswith("/content"):
                return self._file_content(conn, path.split("/")[2])
            if method == "POST" and path == "/batches":
                return self._batch_create(conn, json.loads(body))
            if method == "GET" and path.startswith("/batches/"):
                return self._batch_retrieve(conn, path.split("/")[2])
            if method == "GET" and path == "/stats":  # not OpenAI: lets another process read the counters
                return conn.respond(200, json.dumps({"requests": self.total_requests(), "ok": sum(self.ok.values()),
                                                     "calls": dict(self.calls)}).encode())
        except Exception as exc:  # a bug in the fake: say so loudly
            return conn.respond(500, json.dumps(_error(500, f"fake server bug: {exc!r}", "server_error")).encode())
        conn.respond(404, json.dumps(_error(404, f"no route {method} {path}", "invalid_request_error")).encode())

    def _chat(self, conn: _Http, body: dict[str, Any]) -> None:
        prompt = prompt_of(body)
        key = (str(body.get("model", "")), prompt)
        self.requests[key] += 1
        self.calls["chat"] += 1
        attempt = self.requests[key]
        f = self.faults
        if "POISON" in prompt:
            return self._later(self.latency, conn.respond, 500,
                               json.dumps(_error(500, "poisoned", "server_error")).encode())
        if "REJECT" in prompt:
            return self._later(self.latency, conn.respond, 400,
                               json.dumps(_error(400, "rejected by the fake", "invalid_request_error")).encode())
        if attempt == 1 and _unit(self.seed, "429", *key) < f.p429:
            return conn.respond(429, json.dumps(_error(429, "Rate limit reached", "requests")).encode(),
                                {"retry-after-ms": str(f.retry_after_ms), "retry-after": "1"})
        r = _unit(self.seed, "fault", *key, attempt)
        if r < f.p500:
            return self._later(self.latency, conn.respond, 500,
                               json.dumps(_error(500, "The server had an error", "server_error")).encode())
        if r < f.p500 + f.pstall:
            return self._later(f.stall_seconds, conn.respond, 500, b"{}")
        payload = json.dumps(chat_body(body, self.labels, self.seed)).encode()
        if r < f.p500 + f.pstall + f.ptrunc:
            return self._later(self.latency, conn.respond, 200, payload[: len(payload) // 2])
        self.ok[key] += 1
        self._later(self.latency, conn.respond, 200, payload)

    # --- files and batches --------------------------------------------------------------------------

    def _new_file(self, content: bytes, purpose: str, filename: str) -> dict[str, Any]:
        fid = f"file-{len(self.files) + 1:06d}"
        self.files[fid] = content
        return {"id": fid, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                "filename": filename, "purpose": purpose, "status": "processed"}

    def _upload(self, conn: _Http, headers: dict[str, str], body: bytes) -> None:
        self.calls["files.create"] += 1
        boundary = headers["content-type"].split("boundary=", 1)[1].strip('"').encode()
        fields: dict[str, bytes] = {}
        for part in body.split(b"--" + boundary):
            if b"\r\n\r\n" not in part:
                continue
            head, _, content = part.partition(b"\r\n\r\n")
            name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
            fields[name] = content[:-2] if content.endswith(b"\r\n") else content
        obj = self._new_file(fields["file"], fields.get("purpose", b"batch").decode(), "batch.jsonl")
        conn.respond(200, json.dumps(obj).encode())

    def _file_content(self, conn: _Http, fid: str) -> None:
        self.calls["files.content"] += 1
        if fid not in self.files:
            return conn.respond(404, json.dumps(_error(404, "no such file", "invalid_request_error")).encode())
        conn.respond(200, self.files[fid], content_type="application/octet-stream")

    def _batch_json(self, job: BatchJob) -> dict[str, Any]:
        return {"id": job.id, "object": "batch", "endpoint": job.endpoint, "input_file_id": job.input_file_id,
                "completion_window": "24h", "status": job.status, "created_at": job.created_at,
                "output_file_id": job.output_file_id, "error_file_id": job.error_file_id,
                "request_counts": {"total": 0, "completed": 0, "failed": 0}}

    def _batch_create(self, conn: _Http, body: dict[str, Any]) -> None:
        self.calls["batches.create"] += 1
        job = BatchJob(id=f"batch_{len(self.batches) + 1:06d}", input_file_id=body["input_file_id"],
                       endpoint=body["endpoint"])
        self.batches[job.id] = job
        conn.respond(200, json.dumps(self._batch_json(job)).encode())

    def _batch_retrieve(self, conn: _Http, bid: str) -> None:
        self.calls["batches.retrieve"] += 1
        job = self.batches.get(bid)
        if job is None:
            return conn.respond(404, json.dumps(_error(404, "no such batch", "invalid_request_error")).encode())
        job.polls += 1
        if job.status in ("validating", "in_progress"):
            job.status = "in_progress"
            if job.polls >= self.batch_polls and not self.hold_batches:
                self._finish(job)
        conn.respond(200, json.dumps(self._batch_json(job)).encode())

    def _finish(self, job: BatchJob) -> None:
        out, err = [], []
        for n, line in enumerate(self.files[job.input_file_id].decode().splitlines()):
            if not line.strip():
                continue
            item = json.loads(line)
            prompt = prompt_of(item["body"])
            self.calls["batch.line"] += 1
            rid = f"batch_req_{n}"
            if "POISON" in prompt or "REJECT" in prompt:
                err.append({"id": rid, "custom_id": item["custom_id"],
                            "response": {"status_code": 400, "request_id": rid,
                                         "body": _error(400, "rejected by the fake", "invalid_request_error")},
                            "error": None})
                continue
            out.append({"id": rid, "custom_id": item["custom_id"], "error": None,
                        "response": {"status_code": 200, "request_id": rid,
                                     "body": chat_body(item["body"], self.labels, self.seed)}})
        out.reverse()  # output order is arbitrary: callers must join on custom_id
        jsonl = lambda rows: "".join(json.dumps(r) + "\n" for r in rows).encode()  # noqa: E731
        job.output_file_id = self._new_file(jsonl(out), "batch_output", "output.jsonl")["id"] if out else None
        job.error_file_id = self._new_file(jsonl(err), "batch_output", "errors.jsonl")["id"] if err else None
        job.status = "completed"


def main() -> None:
    """``python fault_server.py --latency 0.05``: serve until killed; prints the port on the first line."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    srv = FaultServer(seed=args.seed, latency=args.latency)
    srv.start()
    print(srv.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
