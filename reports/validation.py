"""The data checks' findings (results.json ``data_checks``) as notices at the top of the report: what was wrong
with the data before the run — errors (when the run was forced with --allow-data-errors) and warnings."""

from __future__ import annotations

from typing import Any

SHOWN = 8


def validation_notices(results: dict[str, Any]) -> list[str]:
    v = results.get("data_checks")
    if not isinstance(v, dict):
        return []
    findings = [f for f in v.get("findings") or [] if isinstance(f, dict)]
    notices = []
    if v.get("overridden"):
        notices.append("The data checks found errors and the run was forced (--allow-data-errors): "
                       "these numbers may not mean what they seem.")
    for f in findings[:SHOWN]:
        rows = [r for r in f.get("rows") or [] if isinstance(r, int)]
        where = f" (rows {', '.join(map(str, rows[:10]))}{', …' if int(f.get('count') or 0) > 10 else ''})" \
            if rows else ""
        notices.append(f"Data check {f.get('severity', '')}: {f.get('message', '')}{where} [{f.get('code', '')}]")
    if len(findings) > SHOWN:
        notices.append(f"… and {len(findings) - SHOWN} more data-check findings in results.json (data_checks).")
    return notices
