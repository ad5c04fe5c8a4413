"""Options of the ``hf`` and ``hf-checkpoints`` providers (suite ``options:`` or ``--option NAME.KEY=VALUE``)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from harness.providers import Options

_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


class HFOptions(Options):
    device: str = Field("auto", description="auto (cuda when available, else cpu) | cpu | cuda | cuda:N | mps")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="weights' dtype: auto = float32 on the CPU, the checkpoint's own on a GPU")
    batch_size: int = Field(8, ge=1, le=4096, description="sequences per forward pass (left-padded)")
    chat: bool | None = Field(None, description="format the example's messages with the tokenizer's chat template "
                              "(default: when the tokenizer has one); false = the completion-style prompt")
    chat_template_kwargs: dict[str, Any] = Field(default_factory=dict, description="extra variables for the chat "
                                                 "template, e.g. {enable_thinking: false}")
    case_insensitive: bool = Field(False, description="score the labels' lower/upper/capitalised forms too")
    base: str | None = Field(None, description="the base model's folder: for a PEFT adapter, and the base of a "
                             "checkpoint sweep (none: no base model in the sweep)")

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        value = value.strip().lower()
        if not _DEVICE.fullmatch(value):
            raise ValueError("device must be auto, cpu, cuda, cuda:N or mps")
        return value
