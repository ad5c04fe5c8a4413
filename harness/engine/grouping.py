"""Several examples per request, for a model whose endpoint takes a list of inputs
(:meth:`harness.providers.RequestModel.grouping`; an embeddings endpoint).

Everything before sending stays per example: one :class:`~harness.engine.lanes.Job` per distinct request, its
cache key, the cache lookup and the screening for keys. :func:`pack` then merges the jobs left to send, in order,
into merged jobs within the model's limits (inputs per request, summed prompt tokens per request); a merged job
keeps its members. When a merged job's response arrives, :func:`expand` splits it into one response per member
(the model's :meth:`~harness.providers.RequestModel.split`), and each member's response is cached under the
member's own key and parsed like any other, so a text's response is fetched once per distinct request. A merged
job that fails with :class:`~harness.errors.ExampleFailure` is halved (:func:`halve`) and the halves are sent
again: one bad input fails only its own example.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ProviderError
from .cache import canonical_json, request_key
from .lanes import Job, Part, estimate_tokens

if TYPE_CHECKING:  # pragma: no cover
    from ..providers import Grouping, RequestModel

def merged(model: RequestModel, identity_json: str, members: Sequence[Job]) -> Job:
    """One job sending ``members``' requests as one (its key names it in a batch; it is never cached)."""
    request = model.combine([m.request for m in members])
    body_json = canonical_json(request)
    job = Job(request_key(identity_json, model.endpoint, body_json), request, body_json)
    job.members = list(members)
    job.slots = [slot for m in members for slot in m.slots]
    if all(m.tokens is not None for m in members):
        job.tokens = (sum(m.tokens[0] for m in members if m.tokens), sum(m.tokens[1] for m in members if m.tokens))
        job.guessed = any(m.guessed for m in members)
    return job


def _groups(model: RequestModel, jobs: Iterable[Job], grouping: Grouping) -> Iterator[list[Job]]:
    group: list[Job] = []
    tokens = 0
    for job in jobs:
        size = estimate_tokens(model, job)[0] if grouping.max_tokens is not None else 0
        if group and (len(group) >= grouping.max_items or
                      (grouping.max_tokens is not None and tokens + size > grouping.max_tokens)):
            yield group
            group, tokens = [], 0
        group.append(job)
        tokens += size
    if group:
        yield group


def pack(model: RequestModel, identity_json: str, jobs: dict[str, Job]) -> dict[str, Job]:
    """``jobs`` merged within the model's :class:`~harness.providers.Grouping` (unchanged without one). A
    request over ``max_tokens`` on its own is sent alone (the server says whether it fits)."""
    grouping = model.grouping()
    if grouping is None or not jobs:
        return jobs
    out: dict[str, Job] = {}
    for group in _groups(model, jobs.values(), grouping):
        job = merged(model, identity_json, group)
        out[job.key] = job
    return out


def halve(model: RequestModel, identity_json: str, job: Job) -> list[Job]:
    """A merged job of several members as two merged jobs (to find the member a server refuses)."""
    members = job.members or []
    mid = len(members) // 2
    return [merged(model, identity_json, part) for part in (members[:mid], members[mid:])]


def items(job: Job) -> int:
    """How many requests a job carries (a Batch API job's limit counts them)."""
    return len(job.members) if job.members is not None else 1


def expand(model: RequestModel, job: Job, response: dict[str, Any]) -> list[Part]:
    """A job's response as its members' responses (a job that is not merged: itself). Raises what the model's
    ``split`` raises (ExampleFailure: the whole job failed; ProviderError: stop the model)."""
    members = job.members
    if members is None:
        return [(job, response, None)]
    parts = model.split([m.request for m in members], response)
    if not isinstance(parts, list) or len(parts) != len(members):
        got = len(parts) if isinstance(parts, list) else type(parts).__name__
        raise ProviderError(f"model {model.name}: split() returned {got} items for {len(members)} requests "
                            "(a provider bug)")
    out: list[Part] = []
    for member, part in zip(members, parts):
        if isinstance(part, dict):
            out.append((member, part, None))
        else:
            out.append((member, None, str(part)))
    return out
