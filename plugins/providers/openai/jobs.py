"""Reading an OpenAI fine-tuning job: status, checkpoints and the training curves of its result CSV.

Used by the ``openai-job:ftjob-…`` provider at resolve time (synchronous client). Curves come from the job's
result file (``step, train_loss, train_accuracy, valid_loss, valid_mean_token_accuracy, ...``; it may arrive
base64-encoded) or, while a job is still running and has no result file yet, from its metrics events.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from dataclasses import dataclass, field
from typing import Any

#: Result-CSV columns kept as curves, read by name (a missing column is simply absent).
CURVE_COLUMNS = ("train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy",
                 "train_mean_token_accuracy", "full_valid_loss", "full_valid_mean_token_accuracy")
MAX_EVENTS = 20_000
RUNNING = ("validating_files", "queued", "running")


@dataclass
class JobSnapshot:
    job: Any  # openai.types.fine_tuning.FineTuningJob
    checkpoints: list[Any]  # FineTuningJobCheckpoint, in step order
    curves: dict[str, list[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _looks_like_csv(text: str) -> bool:
    first = text.lstrip("\ufeff").lstrip().split("\n", 1)[0]
    return "step" in [c.strip() for c in first.split(",")]


def decode_result_file(raw: bytes) -> str | None:
    """The CSV text of a result file, base64-decoded when it does not start with a header; None if unreadable."""
    text = raw.decode("utf-8", errors="replace")
    if _looks_like_csv(text):
        return text.lstrip("\ufeff")
    try:
        decoded = base64.b64decode(b"".join(raw.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return decoded.lstrip("\ufeff") if _looks_like_csv(decoded) else None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_curves(text: str) -> dict[str, list[Any]]:
    """``{"step": [...], "<column>": [...]}`` for the known columns present; empty cells become None."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    columns = [c for c in CURVE_COLUMNS if c in header]
    curves: dict[str, list[Any]] = {"step": [], **{c: [] for c in columns}}
    for row in reader:
        step = _number(row.get("step"))
        if step is None:
            continue
        curves["step"].append(int(step))
        for c in columns:
            curves[c].append(_number(row.get(c)))
    return curves if curves["step"] else {}


def curves_from_events(events: list[Any]) -> dict[str, list[Any]]:
    """Curves from ``metrics`` events (``data: {step, train_loss, ...}``), for a job without a result file."""
    rows: dict[int, dict[str, Any]] = {}
    for event in events:
        data = getattr(event, "data", None)
        if getattr(event, "type", None) != "metrics" or not isinstance(data, dict) or "step" not in data:
            continue
        step = _number(data.get("step"))
        if step is not None:
            rows[int(step)] = data
    if not rows:
        return {}
    steps = sorted(rows)
    columns = [c for c in CURVE_COLUMNS if any(c in rows[s] for s in steps)]
    curves: dict[str, list[Any]] = {"step": steps}
    for c in columns:
        curves[c] = [_number(rows[s].get(c)) for s in steps]
    return curves


def read_job(client: Any, job_id: str, **opts: Any) -> JobSnapshot:
    """Job, checkpoints (every page, sorted by step) and curves. SDK errors propagate to the caller.
    ``opts`` are per-call SDK options (e.g. ``extra_headers``)."""
    job = client.fine_tuning.jobs.retrieve(job_id, **opts)
    checkpoints = sorted(client.fine_tuning.jobs.checkpoints.list(job_id, limit=100, **opts),
                         key=lambda c: c.step_number)
    snap = JobSnapshot(job=job, checkpoints=checkpoints)
    if job.result_files:
        content = client.files.content(job.result_files[0], **opts)
        text = decode_result_file(content.content)
        if text is None:
            snap.notes.append(f"result file {job.result_files[0]} is not a readable CSV: no training curves")
        else:
            snap.curves = parse_curves(text)
    if not snap.curves and job.status in RUNNING:
        events = []
        for event in client.fine_tuning.jobs.list_events(job_id, limit=100, **opts):
            events.append(event)
            if len(events) >= MAX_EVENTS:
                break
        snap.curves = curves_from_events(events)
        if snap.curves:
            snap.notes.append("training curves from the job's metrics events (no result file yet)")
    return snap


def job_summary(job: Any) -> dict[str, Any]:
    hyper = job.hyperparameters.model_dump(exclude_none=True) if job.hyperparameters is not None else {}
    method = getattr(job, "method", None)
    out: dict[str, Any] = {
        "id": job.id, "status": job.status, "model": job.model, "fine_tuned_model": job.fine_tuned_model,
        "hyperparameters": hyper, "trained_tokens": job.trained_tokens, "training_file": job.training_file,
        "validation_file": job.validation_file, "result_files": list(job.result_files or []),
        "seed": job.seed, "created_at": job.created_at, "finished_at": job.finished_at,
    }
    if method is not None:
        out["method"] = method.type
    if job.error is not None:
        out["error"] = {"code": job.error.code, "message": job.error.message}
    return out


def checkpoint_metrics(checkpoint: Any) -> dict[str, float]:
    metrics = checkpoint.metrics
    return metrics.model_dump(exclude_none=True) if metrics is not None else {}
