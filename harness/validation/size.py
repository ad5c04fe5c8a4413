"""Size and balance: examples per class, and whether the held-out set is large enough to detect an accuracy
difference of the size the suite cares about (``validate.mde``) in a paired comparison."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..stats.samplesize import paired_mde, paired_sample_size
from .findings import INFO, WARNING, Finding, finding
from .rows import Split

CHECK = "size"


def _counts(split: Split, labels: Sequence[str]) -> Counter[str]:
    c: Counter[str] = Counter(r.label for r in split.usable if r.label in labels)
    return c


def check_size(held: Split, train: Split | None, labels: Sequence[str], settings: Any) -> list[Finding]:
    out: list[Finding] = []
    counts = _counts(held, labels)
    n = sum(counts.values())
    per_class = ", ".join(f"{lab} {counts[lab]}" for lab in labels)
    extra = ""
    if train is not None:
        tc = _counts(train, labels)
        extra = f" (training: {', '.join(f'{lab} {tc[lab]}' for lab in labels)})"
    out.append(finding("class-counts", INFO, CHECK, f"held-out examples per class: {per_class}{extra}", count=n,
                       items=tuple(f"{lab}={counts[lab]}" for lab in labels), file=str(held.path)))
    if n == 0:
        return out
    absent = [lab for lab in labels if counts[lab] == 0]
    if absent:
        out.append(finding("class-missing", WARNING, CHECK, f"labels with no held-out example: {', '.join(absent)} "
                           "(their recall and per-class scores are not available)", count=len(absent),
                           items=tuple(absent), file=str(held.path)))
    small = [lab for lab in labels if 0 < counts[lab] < settings.min_per_class]
    if small:
        out.append(finding("class-small", WARNING, CHECK, f"labels with fewer than {settings.min_per_class} held-out "
                           f"examples (validate.min_per_class): {', '.join(f'{lab} {counts[lab]}' for lab in small)}"
                           " — their per-class scores are very uncertain", count=len(small), items=tuple(small),
                           file=str(held.path)))
    out.append(power_finding(n, settings, str(held.path)))
    return out


def power_finding(n: int, settings: Any, file: str | None = None) -> Finding:
    """Whether ``n`` paired examples detect ``settings.mde`` (a warning when not, with the size needed)."""
    mde, psi, power, alpha = settings.mde, settings.discordance, settings.power, settings.alpha
    assumed = (f"{power:.0%} power, alpha {alpha:g}, models disagreeing on {psi:.0%} of examples as "
               "validate.discordance assumes")
    detectable = paired_mde(n, psi, power, alpha)
    if mde > psi:
        return finding("mde-unreachable", WARNING, CHECK, f"validate.mde ({mde:g}) is larger than "
                       f"validate.discordance ({psi:g}): two models can differ only where they disagree",
                       count=n, file=file)
    needed = paired_sample_size(mde, psi, power, alpha)
    shown = ("no accuracy difference at all" if detectable is None
             else f"accuracy differences of {detectable * 100:.1f} points or more")
    if detectable is None or detectable > mde:
        return finding("too-small", WARNING, CHECK, f"the held-out set ({n:,} examples) detects {shown} "
                       f"({assumed}); the suite cares about {mde * 100:.1f} points (validate.mde): about "
                       f"{needed:,} examples are needed", count=n, file=file,
                       hint=f"label about {needed - n:,} more held-out examples, or run `harness plan`")
    return finding("size", INFO, CHECK, f"the held-out set ({n:,} examples) detects accuracy differences of "
                   f"{detectable * 100:.1f} points or more ({assumed}); validate.mde is {mde * 100:.1f} points",
                   count=n, file=file)
