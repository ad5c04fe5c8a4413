"""The hf provider's tests need PyTorch and the hf extra (transformers, tokenizers); without them they skip with
a message. CI installs both (.ci/run: torch==2.13.0, the CPU build, then '.[hf,peft]')."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tinylm, importable from every test file here

MISSING = [m for m in ("torch", "transformers", "tokenizers") if importlib.util.find_spec(m) is None]
SKIP = ("the hf extra is not installed (missing " + ", ".join(MISSING) + "): pip install torch==2.13.0 (CPU build) "
        "and pip install -e '.[hf]' to run these tests")


#: Tests that run without the extra (they check what a user without it sees).
WITHOUT_EXTRA = "test_hf_without_extra.py"


def pytest_collection_modifyitems(config, items):
    if not MISSING:
        return
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if path.parent == here and path.name != WITHOUT_EXTRA:
            item.add_marker(pytest.mark.skip(reason=SKIP))


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """(tokenizer, base model, folder of the saved base model, folder of a chat model)."""
    import tinylm

    root = tmp_path_factory.mktemp("tinylm")
    tok = tinylm.make_tokenizer()
    base = tinylm.make_model(len(tok))
    folder = tinylm.save(base, tok, root / "base")
    chat = tinylm.save(tinylm.nudge(tinylm.make_model(len(tok)), 99), tok, root / "chat", chat=True)
    return tok, base, folder, chat


@pytest.fixture(scope="session")
def run_dir(tiny, tmp_path_factory):
    import tinylm

    tok, base, _, _ = tiny
    return tinylm.make_run(tmp_path_factory.mktemp("trainer"), tok, base, steps=(2, 4, 10))
