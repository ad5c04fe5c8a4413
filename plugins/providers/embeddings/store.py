"""The fitted classifier, saved beside the run's results (skops) so that a rerun needs no refit.

``OUT/classifiers/<model name>-<hash>.skops`` holds the classifier (and, for ``embeddings-lsa``, the fitted TF-IDF
+ SVD embedder) with a *fingerprint*: the sha256 of everything the fit depends on — the embedding model and its
server, the classifier and its options, the labels and their texts, every training text and label, and (for a
server's vectors) the label and training vectors. A rerun whose fingerprint matches loads it instead of fitting;
any difference, a file skops cannot read with the types it trusts, or one that fails the checks of
:func:`.classify.check_fitted`, means a refit that replaces the file.
Writing is atomic (a temporary file, then a rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from harness.jsonio import json_safe

from .classify import Fitted

FORMAT = "harness-embeddings-classifier"
VERSION = 1
FOLDER = "classifiers"


def fingerprint(parts: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``parts`` (settings, texts, labels)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def texts_digest(pairs: Any) -> str:
    """sha256 over (text, label) pairs, in order (the training split as the classifier sees it)."""
    h = hashlib.sha256()
    for text, label in pairs:
        for part in (text, label):
            data = part.encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
    return h.hexdigest()


def vectors_digest(blocks: Any) -> str:
    """sha256 over float32 matrices (their shapes and values, in order): the vectors a classifier was fitted on."""
    import numpy as np

    h = hashlib.sha256()
    for block in blocks:
        arr = np.ascontiguousarray(block, dtype="<f4")
        h.update(repr(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def file_name(model_name: str) -> str:
    """A file name for a model's classifier: its name's safe characters (model names may hold ``/`` or
    anything else) and a hash of the name, so two names never share a file."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_name).strip("._-")[:80] or "model"
    digest = hashlib.sha256(model_name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{safe}-{digest}.skops"


def classifier_path(out_dir: Path, model_name: str) -> Path:
    return Path(out_dir) / FOLDER / file_name(model_name)


def save(path: Path, fitted: Fitted, print_: str, embedder: Any = None) -> None:
    import skops.io as sio

    obj = {"format": FORMAT, "version": VERSION, "fingerprint": print_, "kind": fitted.kind,
           "classes": list(fitted.classes), "estimator": fitted.estimator, "label_vectors": fitted.label_vectors,
           "temperature": fitted.temperature, "info": json.dumps(json_safe(fitted.info)), "embedder": embedder}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".skops", dir=path.parent)
    os.close(fd)
    try:
        sio.dump(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(path: Path, print_: str) -> tuple[Fitted, Any] | str | None:
    """The saved classifier (and embedder) when its fingerprint is ``print_``; None when there is no file; else
    why the file cannot be used (another fit's, unreadable, or holding types skops does not trust)."""
    if not path.is_file():
        return None
    import skops.io as sio

    try:
        if sio.get_untrusted_types(file=path):
            return "it holds types skops does not trust"
        obj = sio.load(path)
    except Exception as exc:  # a damaged or foreign file: refit
        return f"skops cannot read it ({type(exc).__name__})"
    if not isinstance(obj, dict) or obj.get("format") != FORMAT or obj.get("version") != VERSION:
        return "it is not a classifier saved by this version of harness"
    if obj.get("fingerprint") != print_:
        return "it was fitted on other data or settings"
    try:
        info = json.loads(obj["info"])
        fitted = Fitted(obj["kind"], list(obj["classes"]), estimator=obj.get("estimator"),
                        label_vectors=obj.get("label_vectors"), temperature=obj.get("temperature"), info=info)
    except (KeyError, TypeError, ValueError) as exc:
        return f"it is incomplete ({type(exc).__name__})"
    return fitted, obj.get("embedder")
