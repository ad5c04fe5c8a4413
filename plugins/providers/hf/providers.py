"""The providers ``hf:PATH`` and ``hf-checkpoints:RUN_DIR``.

Resolution checks everything that can be checked before a model is loaded: the folders' files, the extra's
libraries, the base model of an adapter or a sweep (local only), and the labels' spellings under the model's
own tokenizer (two labels with the same tokens cannot be scored apart). Models are loaded one at a time when
they are scored, and freed after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import InputError, UsageError
from harness.providers import ModelFacts, ModelSpec, Provider, Resolved

from .options import HFOptions
from .specs import NO_BASE, _field, _path, _spellings


def label_tokens(spec: ModelSpec, tokenizer: Any, spellings: dict[str, list[str]]) -> dict[str, list[list[str]]]:
    """Label → the tokens of each spelling (on its own), checked distinct between labels."""
    owner: dict[tuple[int, ...], str] = {}
    out: dict[str, list[list[str]]] = {}
    for label, forms in spellings.items():
        out[label] = []
        for form in forms:
            ids = tuple(tokenizer(form, add_special_tokens=False)["input_ids"])
            if not ids:
                raise UsageError(f"model {spec.name!r}: the label {label!r} has no tokens under its tokenizer")
            other = owner.setdefault(ids, label)
            if other != label:
                raise UsageError(f"model {spec.name!r}: labels {other!r} and {label!r} are the same tokens under "
                                 "the model's tokenizer: no score can tell them apart; rename one")
            out[label].append([tokenizer.decode([i]) for i in ids])
    return out


def build(spec: ModelSpec, name: str, path: Path, opts: HFOptions, suite: Any, info: dict[str, Any],
          base: Path | None = None) -> Any:
    """A checked :class:`HFModel` for the folder ``path`` (``base``: an adapter's base model folder)."""
    from .loading import find_base, inspect_folder, load_tokenizer, pick_device, require_backend
    from .model import HFModel

    field = _field(spec)
    folder = inspect_folder(path, field)
    require_backend(peft=folder.is_adapter)
    device = pick_device(opts.device)  # an unavailable device is an error before anything is scored
    if folder.is_adapter and base is None:
        ref = opts.base if opts.base and opts.base != NO_BASE else folder.base_ref
        if not ref:
            raise InputError("this adapter names no base model (base_model_name_or_path): set the option base to "
                             "the base model's folder", file=path, field=field)
        base = find_base(ref, path) or (find_base(ref, suite.root) if getattr(suite, "root", None) else None)
        if base is None:
            raise InputError(f"the adapter's base model {ref!r} is not available locally (nothing is downloaded "
                             "at run time): set the option base to its folder", file=path, field=field)
    tok_folder = folder.path if folder.has_tokenizer or base is None else base
    tokenizer = load_tokenizer(tok_folder, field)
    if opts.chat and not getattr(tokenizer, "chat_template", None):
        raise InputError("option chat: true, but the tokenizer has no chat template (set chat: false to use the "
                         "completion-style prompt)", file=tok_folder, field=field)
    spellings = _spellings(spec, tuple(suite.labels), opts)
    tokens = label_tokens(spec, tokenizer, spellings)
    model = HFModel(name, spec, folder=folder, base=base if folder.is_adapter else None, options=opts,
                    labels=suite.labels, spellings=spellings, tokenizer=tokenizer, field=field,
                    info={**info, "label_tokens": tokens})
    model.device = device
    return model


class HFProvider(Provider):
    name = "hf"
    description = ("A local causal language model (transformers; a PEFT/LoRA adapter on its base model) scored by "
                   "exact label probabilities over its whole vocabulary, or whole-label log-likelihoods. "
                   "Needs the hf extra.")
    argument_help = "PATH to a model folder (config.json, weights, tokenizer) or an adapter folder"
    options_model = HFOptions

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        opts = self.parse_options(spec)
        if not spec.argument.strip():
            raise UsageError(f"{spec.origin}: model {spec.name!r}: hf needs a model folder, e.g. hf:./my-model")
        path = _path(spec)
        return Resolved([build(spec, spec.name, path, opts, suite, {})])

    def model_facts(self, spec: ModelSpec, suite: Any) -> ModelFacts | None:
        """The folder's own tokenizer, context window (config.json) and chat template, offline (hf/facts.py)."""
        from .facts import hf_facts

        opts = self.parse_options(spec)
        if not spec.argument.strip():
            raise UsageError(f"{spec.origin}: model {spec.name!r}: hf needs a model folder, e.g. hf:./my-model")
        return hf_facts(spec, opts, suite, _path(spec))


class HFCheckpointsProvider(Provider):
    name = "hf-checkpoints"
    description = ("A transformers Trainer run folder: expands into NAME/base, NAME/checkpoint-N for every "
                   "checkpoint and NAME/final, with the training curves of trainer_state.json. Needs the hf extra.")
    argument_help = "RUN_DIR (the Trainer's output_dir)"
    options_model = HFOptions

    def model_facts(self, spec: ModelSpec, suite: Any) -> ModelFacts | None:
        """The run's final model's (else last checkpoint's) tokenizer, window and chat template (hf/facts.py)."""
        from .facts import checkpoints_facts

        opts = self.parse_options(spec)
        if not spec.argument.strip():
            raise UsageError(f"{spec.origin}: model {spec.name!r}: hf-checkpoints needs a run folder")
        return checkpoints_facts(spec, opts, suite, _path(spec))

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        from .checkpoints import epoch_at, find_run, metrics_at, run_summary
        from .loading import find_base, inspect_folder

        opts = self.parse_options(spec)
        if not spec.argument.strip():
            raise UsageError(f"{spec.origin}: model {spec.name!r}: hf-checkpoints needs a run folder")
        field = _field(spec)
        run = find_run(_path(spec), field)
        folders = [run.final] if run.final is not None else []
        folders += [c for _, c in run.checkpoints]
        inspected = [inspect_folder(f, field) for f in folders]

        base: Path | None = None
        notes = list(run.notes)
        if opts.base == NO_BASE:
            notes.append("no base model (option base: none)")
        else:
            ref = opts.base or next((f.base_ref for f in inspected if f.base_ref), None)
            if ref is None:
                notes.append("the run names no base model (no base_model_name_or_path or _name_or_path): set the "
                              "option base to score it too")
            else:
                base = find_base(ref, run.path) or find_base(ref, getattr(suite, "root", None) or run.path)
                if base is None:
                    raise InputError(f"the run's base model {ref!r} is not available locally (nothing is "
                                     "downloaded at run time): set the option base to its folder, or base: none",
                                     file=run.path, field=field)
        adapter_base = base
        if adapter_base is None and any(f.is_adapter for f in inspected):
            ref = next((f.base_ref for f in inspected if f.base_ref), None)
            adapter_base = find_base(ref, run.path) if ref else None

        models: list[Any] = []
        checkpoints: list[dict[str, Any]] = []
        base_name = None
        if base is not None:
            base_name = f"{spec.name}/base"
            models.append(build(spec, base_name, base, opts, suite, {"role": "base"}))
        for step, folder in run.checkpoints:
            name = f"{spec.name}/checkpoint-{step}"
            models.append(build(spec, name, folder, opts, suite, {"role": "checkpoint", "step": step},
                                base=adapter_base if inspect_folder(folder, field).is_adapter else None))
            checkpoints.append({"model": name, "step": step, "epoch": epoch_at(run.curves, step),
                                "metrics": metrics_at(run.curves, step), "path": str(folder)})
        if run.final is not None:
            step = (run.state or {}).get("global_step")
            step = step if isinstance(step, int) else (run.checkpoints[-1][0] if run.checkpoints else None)
            name = f"{spec.name}/final"
            models.append(build(spec, name, run.final, opts, suite, {"role": "finetuned", "step": step},
                                base=adapter_base if inspect_folder(run.final, field).is_adapter else None))
            checkpoints.append({"model": name, "step": step, "epoch": epoch_at(run.curves, step),
                                "metrics": metrics_at(run.curves, step) if step is not None else {},
                                "path": str(run.final)})
        else:
            notes.append("the run folder holds no final model (trainer.save_model() was not called): checkpoints "
                         "only")
        training: dict[str, Any] = {"source": spec.spec, "kind": "hf-checkpoints", "base_model": base_name,
                                    "run": run_summary(run), "checkpoints": checkpoints, "curves": run.curves}
        if notes:
            training["notes"] = notes
        return Resolved(models, training)
