"""Every finding code the checks emit is known (for `validate.ignore`) and documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

from harness.validation import CODES

ROOT = Path(__file__).resolve().parents[2]


def _emitted() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "harness" / "validation").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'(?:finding|problems\.add)\(\s*"([a-z0-9-]+)"', text))
        codes |= set(re.findall(r'\("([a-z-]+)", rep\.', text))  # the leak findings' loop
    return codes


def test_every_emitted_code_is_known():
    emitted = _emitted()
    assert len(emitted) > 30
    assert emitted - CODES == set()
    assert CODES - emitted == set()


def test_every_code_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(code for code in CODES if f"`{code}`" not in readme)
    assert not missing, f"README's 'Validating data' table does not name: {missing}"
