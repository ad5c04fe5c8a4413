"""The providers: ``openai:``, ``openai-completions:``, ``azure:`` and ``openai-job:``.

Resolution checks everything that can be checked before the first request: the key is set (its variable is
named in the error, the key itself never), the labels' first tokens are distinct under the model's tokenizer,
``logit_bias`` has a tokenizer to compute token ids with.
"""

from __future__ import annotations

import functools
from typing import Any

from harness.errors import ProviderError, UsageError
from harness.providers import ModelFacts, ModelSpec, Provider, Resolved

from .._openai_api.connection import Connection, map_api_error
from ..label_scoring import SpellingClash, label_spellings
from .labels import LabelCollision, LabelMatcher
from .models import AzureChatModel, ChatModel, CompletionsModel, OpenAIModel
from .options import AzureOptions, ChatOptions, CommonOptions, CompletionsOptions, JobOptions
from .vocab import TokenizerChoice, choose_tokenizer

#: What to do when labels share a first token (printed in errors).
FULL_HINT = ("score whole labels with the option scoring: full (legacy completions with echo, or vLLM), or the "
             "local hf provider")


def _where(spec: ModelSpec) -> str:
    return f"{spec.origin}: model {spec.name!r}" if spec.origin else f"model {spec.name!r}"


def _check_scoring(spec: ModelSpec, options: CommonOptions) -> None:
    """Options that contradict each other, refused while the model is resolved (nothing asked of a server)."""
    if getattr(options, "scoring", "first-token") == "full" and options.logit_bias:
        raise UsageError(f"{_where(spec)}: logit_bias restricts the first token, which full-label scoring does "
                         "not read: use one or the other")


def label_matcher(spec: ModelSpec, labels: tuple[str, ...], options: CommonOptions, model_id: str,
                  conn: Connection | None) -> tuple[LabelMatcher, TokenizerChoice]:
    """The tokenizer (the server's, a local file, or from the model name; checked against the server) and a
    matcher whose labels' first tokens differ (with full-label scoring, only whole spellings must differ).
    Called by the model's ``prepare()``: a compatible server's tokenize endpoint may be asked."""
    full = getattr(options, "scoring", "first-token") == "full"
    _check_scoring(spec, options)
    root = spec.relative_to  # the suite folder for a model of suite.yaml, None (the current folder) for --model
    choice = choose_tokenizer(options.tokenizer, model_id, conn, labels, options.case_insensitive, root,
                              _where(spec))
    tokenizer = choice.tokenizer
    if options.logit_bias and tokenizer is None:
        raise UsageError(f"{_where(spec)}: logit_bias needs the model's tokenizer to find the labels' token "
                         f"ids, and none is known for {model_id!r}: set the option tokenizer to the model's "
                         "tokenizer.json or folder (OpenAI models: o200k_base or cl100k_base)")
    try:
        label_spellings(labels, options.case_insensitive)
        matcher = LabelMatcher(labels, None if full else tokenizer, options.case_insensitive)
    except SpellingClash as exc:
        a, b = exc.labels
        raise UsageError(f"{_where(spec)}: labels {a!r} and {b!r} are both spelled {exc.spelling!r} (case is "
                         "ignored), so no score can tell them apart; rename one or drop case_insensitive") from None
    except LabelCollision as exc:
        a, b = exc.labels
        raise UsageError(f"{_where(spec)}: labels {a!r} and {b!r} begin with the same token {exc.token!r} "
                         f"({tokenizer.name if tokenizer else 'text'}), so one-token probabilities cannot tell "
                         f"them apart; {FULL_HINT}, or rename one so the labels start differently") from None
    return matcher, choice


def openai_connection(options: Any) -> Connection:
    """OpenAI or an OpenAI-compatible server (``base_url`` / $OPENAI_BASE_URL)."""
    return Connection.openai(options.base_url, options.api_key_env, options.timeout)


def _model_id(spec: ModelSpec, what: str) -> str:
    if not spec.argument.strip():
        raise UsageError(f"{_where(spec)}: {spec.provider} needs {what}, e.g. {spec.provider}:gpt-4o-mini")
    return spec.argument.strip()


class OpenAIChatProvider(Provider):
    name = "openai"
    description = ("OpenAI Chat Completions (and fine-tunes ft:…; any OpenAI-compatible server via base_url or "
                   "$OPENAI_BASE_URL): label probabilities from the first token's top logprobs.")
    argument_help = "MODEL, e.g. gpt-4o-mini or ft:gpt-4o-mini-2024-07-18:org::abc123"
    options_model = ChatOptions
    model_class: type[OpenAIModel] = ChatModel

    def connection(self, options: Any) -> Connection:
        return openai_connection(options)

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        options = self.parse_options(spec)
        model_id = _model_id(spec, "a model id")
        conn = self.connection(options)
        labels = tuple(suite.labels)
        _check_scoring(spec, options)
        cls = self.model_class
        if getattr(options, "scoring", "first-token") == "full":
            from .fullmodels import ChatFullModel, CompletionsFullModel

            cls = CompletionsFullModel if issubclass(cls, CompletionsModel) else ChatFullModel
        return Resolved([cls(spec.name, spec, model_id=model_id, options=options, connection=conn,
                             setup=lambda: label_matcher(spec, labels, options, model_id, conn))])

    def model_facts(self, spec: ModelSpec, suite: Any) -> ModelFacts | None:
        from .facts import openai_model_facts

        return openai_model_facts(_model_id(spec, "a model id"), self.parse_options(spec),
                                  chat=not issubclass(self.model_class, CompletionsModel), labels=tuple(suite.labels),
                                  root=spec.relative_to, where=_where(spec))


class OpenAICompletionsProvider(OpenAIChatProvider):
    name = "openai-completions"
    description = ("OpenAI legacy Completions (babbage-002, davinci-002 and their fine-tunes; compatible "
                   "servers' /v1/completions): the example's prompt, top logprobs of the first token.")
    argument_help = "MODEL, e.g. babbage-002 or ft:babbage-002:org::abc123"
    options_model = CompletionsOptions
    model_class = CompletionsModel


class AzureProvider(OpenAIChatProvider):
    name = "azure"
    description = ("Azure OpenAI Chat Completions on a deployment (key in $AZURE_OPENAI_API_KEY or Entra ID "
                   "via azure-identity; endpoint from $AZURE_OPENAI_ENDPOINT or the option endpoint).")
    argument_help = "DEPLOYMENT name"
    options_model = AzureOptions
    model_class = AzureChatModel

    def connection(self, options: Any) -> Connection:
        return Connection.azure(options.endpoint, options.api_version, options.api_key_env, options.auth,
                                options.timeout)


class OpenAIJobProvider(Provider):
    name = "openai-job"
    description = ("An OpenAI fine-tuning job: expands into NAME/base, NAME/ckpt-step-N for every checkpoint "
                   "and NAME/final, scored through Chat Completions, with the job's training curves.")
    argument_help = "JOB id (ftjob-…)"
    options_model = JobOptions
    resolves_offline = False  # the job is looked up to list its checkpoints

    def model_facts(self, spec: ModelSpec, suite: Any) -> ModelFacts | None:
        """The job's base model is known only by asking the API: offline, the tokenizer and window come from
        the options ``tokenizer`` and ``context_window`` alone."""
        from .facts import openai_model_facts

        return openai_model_facts(spec.argument.strip(), self.parse_options(spec), chat=True,
                                  labels=tuple(suite.labels), root=spec.relative_to, where=_where(spec))

    def resolve(self, spec: ModelSpec, suite: Any) -> Resolved:
        import openai

        from .jobs import RUNNING, checkpoint_metrics, job_summary, read_job

        options = self.parse_options(spec)
        job_id = spec.argument.strip()
        if not job_id.startswith("ftjob-"):
            raise UsageError(f"{_where(spec)}: openai-job takes a fine-tuning job id (ftjob-…), got {job_id!r}")
        conn = openai_connection(options)
        what = f"fine-tuning job {job_id}"
        try:
            with conn.sync_client() as client:
                snap = read_job(client, job_id, **conn.request_options())
        except (openai.OpenAIError, ValueError) as exc:
            err = map_api_error(exc, conn, what, not_found=f"check the job id and that {conn.key_var or 'the key'} "
                                "belongs to the organization that ran it")
            reason = getattr(err, "reason", None) or str(err)
            raise ProviderError(reason) from None

        job = snap.job
        if job.status in ("failed", "cancelled"):
            detail = f": {job.error.message}" if job.error is not None else ""
            raise ProviderError(f"{what} {job.status}{detail}; there is no fine-tuned model to score")
        running = job.status in RUNNING
        if running and not snap.checkpoints:
            raise ProviderError(f"{what} is {job.status} and has no checkpoints yet; run again once it has "
                                "checkpoints or has succeeded")
        if not running and not job.fine_tuned_model:
            raise ProviderError(f"{what} is {job.status} but names no fine_tuned_model")

        labels = tuple(suite.labels)
        _check_scoring(spec, options)
        setup = functools.cache(lambda: label_matcher(spec, labels, options, job.model, conn))  # once per job
        cls = ChatModel
        if options.scoring == "full":
            from .fullmodels import ChatFullModel as cls  # type: ignore[assignment]

        def model(name: str, model_id: str, info: dict[str, Any]) -> ChatModel:
            return cls(name, spec, model_id=model_id, options=options, connection=conn, setup=setup,
                       info={"job": job_id, **info})

        base_name = f"{spec.name}/base"
        models = [model(base_name, job.model, {"role": "base"})]
        checkpoints: list[dict[str, Any]] = []
        for ckpt in snap.checkpoints:
            name = f"{spec.name}/ckpt-step-{ckpt.step_number}"
            models.append(model(name, ckpt.fine_tuned_model_checkpoint,
                                {"role": "checkpoint", "step": ckpt.step_number}))
            checkpoints.append({"model": name, "step": ckpt.step_number, "metrics": checkpoint_metrics(ckpt),
                                "openai_model": ckpt.fine_tuned_model_checkpoint})
        notes = list(snap.notes)
        if running:
            notes.insert(0, f"job is {job.status}: scored the {len(snap.checkpoints)} checkpoint(s) that exist; "
                            "no final model yet")
        else:
            steps = list(snap.curves.get("step", [])) + [c.step_number for c in snap.checkpoints]
            final_step = max(steps) if steps else None
            name = f"{spec.name}/final"
            models.append(model(name, job.fine_tuned_model, {"role": "finetuned", "step": final_step}))
            last = snap.checkpoints[-1] if snap.checkpoints else None
            metrics = checkpoint_metrics(last) if last is not None and last.step_number == final_step else {}
            checkpoints.append({"model": name, "step": final_step, "metrics": metrics,
                                "openai_model": job.fine_tuned_model})
        training: dict[str, Any] = {"source": spec.spec, "kind": "openai-job", "job": job_summary(job),
                                    "base_model": base_name, "checkpoints": checkpoints, "curves": snap.curves}
        if notes:
            training["notes"] = notes
        return Resolved(models, training)
