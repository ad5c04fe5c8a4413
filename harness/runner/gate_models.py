"""Which models the gate compares: ``--candidate`` / ``--against``, else the rules' ``candidate`` / ``against``
(a suite ``gate:`` name a run made with ``--only`` does not have is left out with a note), else the defaults
(the one model that is not the reference; the run's baseline; with a stored baseline, the candidate's namesake)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..analysis.gate import CannotJudge
from ..errors import UsageError
from ..suite.paths import shown_path
from ..suite.rules import WrittenRules
from .gate_request import GateRequest, StoredRun


def _names(results: dict[str, Any]) -> list[str]:
    return [m.get("name") for m in results.get("models", []) if isinstance(m, dict)]


def _pick(name: str | None, names: Sequence[str], what: str, where: tuple[WrittenRules, str] | None,
          option: str) -> str | None:
    """``name`` when the ``what`` has a model so named (None stays None); else an error naming its origin."""
    if name is None or name in names:
        return name
    known = ", ".join(names)
    if where is not None:
        written, field = where
        raise written.error(f"no model named {name!r} in the {what} (models: {known})", field)
    raise UsageError(f"{option} {name!r}: no model named so in the {what} (models: {known})")


def _left_out(name: str | None, field: str, names: Sequence[str], request: GateRequest, run: dict[str, Any],
              notes: list[str]) -> str | None:
    """A suite's ``gate:`` setting naming a model a run made with ``--only`` does not have: that run did not
    run the suite's own models, so the setting is left out with a note (as ``harness run --only --gate`` does)
    and the gate chooses as without it. Anything else stays as written (checked by :func:`_pick`)."""
    if name is None or name in names or request.rules is not None or run.get("only") is not True:
        return name
    notes.append(f"the suite's gate: {field}: {name} is left out: the run was made with --only (just the --model "
                 f"models), and {name!r} is not among them")
    return None


def choose_models(request: GateRequest, written: WrittenRules, run: dict[str, Any],
                   stored: StoredRun | None, notes: list[str]) -> tuple[str, str]:
    """The candidate and the reference: ``--candidate`` / ``--against`` first, then the rules' ``candidate`` /
    ``against``, then the defaults. A suite's ``gate:`` setting that the command line overrides is not checked
    (the section serves every run of the suite); a ``--rules`` file's always is (it was written for this gate)."""
    sec = written.section
    run_names = _names(run)
    ref_names = _names(stored.results) if stored else run_names
    ref_what = f"stored baseline {stored.path}" if stored else "results"
    check_written = request.rules is not None
    cand = _pick(request.candidate, run_names, "results", None, "--candidate")
    if cand is None or check_written:
        written_cand = _left_out(sec.candidate, "candidate", run_names, request, run, notes)
        written_cand = _pick(written_cand, run_names, "results", (written, "candidate"), "candidate")
        cand = cand or written_cand
    against = _pick(request.against, ref_names, ref_what, None, "--against")
    if against is None or check_written:
        against_written = sec.against
        if stored is not None and request.baseline is not None and sec.baseline is None and against_written:
            # rules that name no stored baseline mean `against` in the same run (the suite's `gate:` section of
            # a fine-tune vs its base); a stored baseline given on the command line is compared model for model
            against_written = None
            if against is None:
                notes.append(f"the rules' against: {sec.against} names a model of the same run; against the "
                             f"stored baseline {shown_path(stored.path)} the reference is the model with the "
                             "candidate's name (give --against to choose another)")
        if stored is None:
            against_written = _left_out(against_written, "against", run_names, request, run, notes)
        against_written = _pick(against_written, ref_names, ref_what, (written, "against"), "against")
        against = against or against_written
    if stored is None:
        against = against or run.get("baseline")
        if against not in run_names:
            raise CannotJudge(f"the reference model {against!r} is not in the results")
        if cand is None:
            others = [n for n in run_names if n != against]
            if len(others) != 1:
                raise UsageError(f"which model is the candidate? give --candidate (models: {', '.join(run_names)})")
            cand = others[0]
        if cand == against:
            raise UsageError(f"the candidate and the reference are the same model ({cand!r})")
        return cand, against
    if cand is None:
        others = [n for n in run_names if n != run.get("baseline")]
        if len(run_names) == 1:
            cand = run_names[0]
        elif len(others) == 1:
            cand = others[0]
        else:
            raise UsageError(f"which model is the candidate? give --candidate (models: {', '.join(run_names)})")
    if against is None:
        if cand in ref_names:
            against = cand  # the same model as it was: the usual stored baseline
        elif len(ref_names) == 1:
            against = ref_names[0]
        else:
            raise UsageError(f"which model of the stored baseline is the reference? give --against "
                             f"(models: {', '.join(ref_names)})")
    return cand, against
