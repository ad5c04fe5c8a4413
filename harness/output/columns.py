"""predictions.jsonl rows written from columns (:class:`harness.examples.PredictionColumns`), without a dict per
row: the same bytes :func:`harness.output.results.write_predictions` writes for the same predictions (keys
sorted, compact, orjson's numbers — numpy's float64 and Python's float print alike there), a chunk of rows at a
time, so a million rows never sit in memory as objects or as one string."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import orjson

from ..examples import PredictionColumns

CHUNK = 50_000
_STATUS = ('"ok"', '"invalid"', '"failed"')


def _enc(value: object) -> str:
    return orjson.dumps(value).decode("utf-8")


def _brace(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def column_lines(model: str, ids: Sequence[str], gold: Sequence[str], cols: PredictionColumns,
                 chunk: int = CHUNK) -> Iterator[str]:
    """predictions.jsonl lines (each ending with a newline, joined a chunk at a time) of one model's columns;
    ``ids`` and ``gold`` are the examples' ids and gold labels, in the columns' order."""
    model_enc = _enc(model)
    gold_enc = {g: _enc(g) for g in set(gold)}
    pred_enc = [_enc(lab) for lab in cols.labels]
    out_enc = [_enc(v) for v in cols.output_values]
    err_enc = [_enc(v) for v in cols.error_values]
    order = sorted(range(len(cols.labels)), key=lambda j: cols.labels[j])  # keys sorted, as sort_keys writes them
    probs_tpl = "{{" + ",".join(f"{_brace(_enc(cols.labels[j]))}:{{{n}}}" for n, j in enumerate(order)) + "}}"
    status = cols.statuses()
    has = cols.has_probs()
    for start in range(0, len(cols), chunk):
        stop = min(len(cols), start + chunk)
        probs_text: dict[int, str] = {}
        rows = np.flatnonzero(has[start:stop]) + start
        if len(rows) and cols.probs is not None:
            dumped = orjson.dumps(np.ascontiguousarray(cols.probs[rows][:, order]),
                                  option=orjson.OPT_SERIALIZE_NUMPY).decode("ascii")
            for r, values in zip(rows.tolist(), dumped[2:-2].split("],[")):
                probs_text[r] = probs_tpl.format(*values.split(","))
        errors, outputs = cols.error[start:stop].tolist(), cols.output[start:stop].tolist()
        labels, statuses = cols.label[start:stop].tolist(), status[start:stop].tolist()
        lines = []
        for i in range(start, stop):
            j = i - start
            head = f'"error":{err_enc[errors[j]]},' if errors[j] >= 0 else ""
            flags = cols.flags.get(i)
            if flags:
                head += f'"flags":{_enc(list(flags))},'
            o, lab = outputs[j], labels[j]
            lines.append(f'{{{head}"gold":{gold_enc[gold[i]]},"id":{_enc(ids[i])},"model":{model_enc},'
                         f'{f""""output":{out_enc[o]},""" if o >= 0 else ""}'
                         f'"pred":{pred_enc[lab] if lab >= 0 else "null"},"probs":{probs_text.get(i, "null")},'
                         f'"status":{_STATUS[statuses[j]]}}}\n')
        yield "".join(lines)
