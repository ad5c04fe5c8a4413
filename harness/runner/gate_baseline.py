"""A stored baseline is compared with a run only when their numbers mean the same thing: the same held-out data
(sha256), the same labels, the same positive class and the same ``metric_options``. Anything else is exit 2
with one line saying what differs — never a comparison of precision of one class with precision of another.

The labels may be listed in another order (the gate reads both runs' predictions by label name); their set may
not differ. ``metric_options`` are compared whole: the core cannot know which option a metric reads, and an
option the two runs set differently (F-beta's ``beta``, the calibration error's ``ece_bins``, a plugin's
``average``) changes what that metric means."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError

_ABSENT = object()


def _suite(results: dict[str, Any]) -> dict[str, Any]:
    suite = results.get("suite")
    return suite if isinstance(suite, dict) else {}


def _labels(results: dict[str, Any]) -> list[Any]:
    return [lab.get("name") if isinstance(lab, dict) else lab for lab in _suite(results).get("labels") or []]


def _shown(value: Any) -> str:
    return "not set" if value is _ABSENT or value is None else repr(value)


def check_same_meaning(run: dict[str, Any], stored: dict[str, Any], run_path: Path, stored_path: Path) -> None:
    """Exit 2 (:class:`InputError` naming the stored baseline and the field) unless ``stored`` (a results.json)
    measures what ``run`` does."""
    a = (_suite(run).get("dataset") or {}).get("sha256")
    b = (_suite(stored).get("dataset") or {}).get("sha256")
    if not a or not b:
        raise InputError("cannot tell whether the held-out data are the same (no dataset sha256 in "
                         f"{run_path if not a else stored_path}): the gate never compares different data",
                         field="suite.dataset.sha256")
    if a != b:
        raise InputError(f"the datasets differ: the held-out file's sha256 is {a[:12]}… in {run_path} and "
                         f"{b[:12]}… in the stored baseline: the gate never compares results on different data",
                         file=stored_path, field="suite.dataset.sha256")
    la, lb = _labels(run), _labels(stored)
    if set(map(str, la)) != set(map(str, lb)) or len(la) != len(lb):
        only_run = [str(x) for x in la if x not in lb]
        only_stored = [str(x) for x in lb if x not in la]
        detail = "; ".join(part for part in (
            f"only in the run: {', '.join(only_run)}" if only_run else "",
            f"only in the stored baseline: {', '.join(only_stored)}" if only_stored else "") if part)
        raise InputError(f"the label sets differ ({', '.join(map(str, la))} vs {', '.join(map(str, lb))}"
                         f"{'; ' + detail if detail else ''}): the gate never compares metrics over different "
                         "labels", file=stored_path, field="suite.labels")
    pa, pb = _suite(run).get("positive"), _suite(stored).get("positive")
    if pa != pb:
        raise InputError(f"the positive class differs: {_shown(pa)} in {run_path}, {_shown(pb)} in the stored "
                         "baseline: precision, recall, F-beta and the binary AUROC and AUPRC would be of different "
                         "classes", file=stored_path, field="suite.positive")
    oa, ob = _suite(run).get("metric_options") or {}, _suite(stored).get("metric_options") or {}
    if not isinstance(oa, dict) or not isinstance(ob, dict):
        raise InputError("cannot read the metric_options of the run or the stored baseline", file=stored_path,
                         field="suite.metric_options")
    differ = [k for k in sorted({*oa, *ob}, key=str) if oa.get(k, _ABSENT) != ob.get(k, _ABSENT)]
    if differ:
        shown = ", ".join(f"{k}: {_shown(oa.get(k, _ABSENT))} in the run, {_shown(ob.get(k, _ABSENT))} in the "
                          "stored baseline" for k in differ)
        raise InputError(f"the metric options differ ({shown}): the metrics that read them mean different "
                         "things; score both with the same metric_options", file=stored_path,
                         field=f"suite.metric_options.{differ[0]}")
