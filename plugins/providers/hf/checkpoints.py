"""A transformers Trainer run folder: its ``checkpoint-N`` folders, its final model and its training curves.

The Trainer writes ``checkpoint-N/`` every ``save_steps`` (each with a ``trainer_state.json`` whose
``log_history`` holds the logs up to step N) and, after ``trainer.save_model()``, the final model in the run
folder itself (``trainer.save_state()`` adds the final ``trainer_state.json`` there). Curves are read from the
most advanced ``trainer_state.json``: training logs (``loss``, ``learning_rate``, ``grad_norm``, TRL's
``mean_token_accuracy``) and evaluation logs (``eval_loss``, ``eval_accuracy``, any ``eval_*`` metric) become
columns of one table by step (``train_loss``, ``valid_loss``, ``valid_accuracy``...), as for OpenAI jobs.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import InputError

from .loading import is_model_folder

CHECKPOINT = re.compile(r"checkpoint-(\d+)")
STATE = "trainer_state.json"
#: Log keys renamed to the curve names OpenAI jobs use; other eval_* keys become valid_*.
RENAME = {"loss": "train_loss", "mean_token_accuracy": "train_mean_token_accuracy", "eval_loss": "valid_loss"}
KEEP_TRAIN = ("loss", "mean_token_accuracy", "learning_rate", "grad_norm")
SKIP_EVAL = ("eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "eval_num_tokens")


@dataclass
class Run:
    path: Path
    checkpoints: list[tuple[int, Path]]  # (step, folder), in step order
    final: Path | None  # the run folder itself, when it holds a model
    state: dict[str, Any] | None = None
    state_path: Path | None = None
    curves: dict[str, list[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def find_run(path: Path, field_name: str) -> Run:
    if not path.is_dir():
        raise InputError("no such run folder (hf-checkpoints takes a Trainer output folder)", file=path,
                         field=field_name)
    ckpts = []
    for child in path.iterdir():
        m = CHECKPOINT.fullmatch(child.name)
        if m and child.is_dir():
            ckpts.append((int(m.group(1)), child))
    ckpts.sort()
    final = path if is_model_folder(path) else None
    if not ckpts and final is None:
        raise InputError("no checkpoint-N folders and no final model (config.json or adapter_config.json) in this "
                         "run folder", file=path, field=field_name)
    run = Run(path, ckpts, final)
    states = [(path / STATE)] + [c / STATE for _, c in reversed(ckpts)]
    best_step = -1
    for candidate in states:
        if not candidate.is_file():
            continue
        try:
            state = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            run.notes.append(f"{candidate} is not readable JSON ({type(exc).__name__}): skipped")
            continue
        step = state.get("global_step") if isinstance(state, dict) else None
        if isinstance(step, int) and step > best_step:
            best_step, run.state, run.state_path = step, state, candidate
    if run.state is None:
        run.notes.append("no trainer_state.json: no training curves")
    else:
        run.curves = curves(run.state.get("log_history") or [])
    return run


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def curves(log_history: list[Any]) -> dict[str, list[Any]]:
    """``log_history`` → ``{"step": [...], "epoch": [...], "train_loss": [...], "valid_loss": [...], ...}``: one
    row per logged step, None where a column has no value at that step."""
    rows: dict[int, dict[str, float]] = {}
    for entry in log_history:
        if not isinstance(entry, dict) or "train_runtime" in entry or not isinstance(entry.get("step"), int):
            continue  # the end-of-training summary, or not a log line
        row = rows.setdefault(entry["step"], {})
        epoch = _number(entry.get("epoch"))
        if epoch is not None:
            row["epoch"] = epoch
        for key, value in entry.items():
            num = _number(value)
            if num is None:
                continue
            if key in KEEP_TRAIN:
                row[RENAME.get(key, key)] = num
            elif key.startswith("eval_") and key not in SKIP_EVAL:
                row[RENAME.get(key, "valid_" + key[len("eval_"):])] = num
    if not rows:
        return {}
    steps = sorted(rows)
    columns: list[str] = []
    for s in steps:
        for key in rows[s]:
            if key not in columns:
                columns.append(key)
    out: dict[str, list[Any]] = {"step": steps}
    for key in sorted(columns, key=lambda k: (k != "epoch", k)):
        out[key] = [rows[s].get(key) for s in steps]
    return out


def metrics_at(curve: dict[str, list[Any]], step: int) -> dict[str, float]:
    """The values logged at ``step`` (e.g. the checkpoint's eval loss), for the report's checkpoint table."""
    steps = curve.get("step") or []
    if step not in steps:
        return {}
    i = steps.index(step)
    return {k: v[i] for k, v in curve.items() if k not in ("step", "epoch") and v[i] is not None}


def epoch_at(curve: dict[str, list[Any]], step: int | None) -> float | None:
    steps = curve.get("step") or []
    if step is None or step not in steps or "epoch" not in curve:
        return None
    return curve["epoch"][steps.index(step)]


def run_summary(run: Run) -> dict[str, Any]:
    out: dict[str, Any] = {"path": str(run.path), "checkpoints": len(run.checkpoints),
                           "final_model": run.final is not None}
    if run.state is not None:
        out["trainer_state"] = str(run.state_path)
        for key in ("global_step", "epoch", "max_steps", "num_train_epochs", "train_batch_size",
                    "best_metric", "best_model_checkpoint"):
            if run.state.get(key) is not None:
                out[key] = run.state[key]
    return out
