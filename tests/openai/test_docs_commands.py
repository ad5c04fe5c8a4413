"""Every command block of the README and docs/ runs as written (issue 10, item 14): a new user's first commands
must work. Each ``bash``/``sh`` block is run by bash in a fresh folder, against the fake OpenAI server (hosts
the examples name — an Azure resource, a local vLLM — are pointed at it), with ``harness`` on PATH and at
``.venv/bin/harness``. Only the install steps (``python3 -m venv``, ``pip install``) and the test command are
left out; what the examples take as given (``suites/my-suite``, ``models/base.skops``, ``preds/ft.jsonl``, a
rules file, earlier runs, local model folders: tests/openai/docs_given.py) is made first. Every command must exit
0 — except one that asks for a CUDA GPU on a machine without one: it must stop at once with the documented
one-line error (exit 2). Blocks with open models skip, saying why, where the hf extra is not installed."""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import docs_given
import pytest
import skops.io as sio
from fakes.openai_server import FakeOpenAI, checkpoint_body, job_body, result_csv
from openai_testkit import AZURE_KEY, KEY
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from harness.cli.main import main
from harness.suite import bundled_suites_dir, load_suite

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(bash|sh|shell|console)\n(.*?)^```", re.S | re.M)
SKIP_STEP = re.compile(r"^\s*(python3? -m venv|\S*pip install|\S*python -m pytest)")


def command_blocks() -> list[tuple[str, int, str]]:
    """(file, line, block) for every shell block of the README and docs/."""
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            out.append((doc.relative_to(ROOT).as_posix(), text[:m.start()].count("\n") + 1, m.group(2)))
    return out


def runnable(block: str) -> str:
    """The block without install steps and the test command (``a && b && c`` keeps the steps it can run)."""
    lines = []
    for line in block.replace("\\\n", " ").splitlines():
        steps = [s for s in line.split(" && ") if not SKIP_STEP.match(s)]
        if steps:
            lines.append(" && ".join(steps))
    return "\n".join(lines)


BLOCKS = command_blocks()


def test_the_docs_have_command_blocks() -> None:
    files = {f for f, _, _ in BLOCKS}
    assert {"README.md", "docs/openai.md", "docs/report.md"} <= files
    assert sum(b.count("harness run") for _, _, b in BLOCKS if "openai" in b) >= 7


@pytest.fixture(scope="module")
def hf_models(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The local model folders of the open-model examples (built once), or None without the hf extra."""
    if docs_given.HF_MISSING:
        return None
    return docs_given.build_hf_models(tmp_path_factory.mktemp("hf-models"),
                                      bundled_suites_dir() / "baseball-hockey")


@pytest.fixture
def workdir(tmp_path: Path, hf_models: Path | None) -> Path:
    """A folder with what the examples take as given."""
    work = tmp_path / "work"
    (work / ".venv").mkdir(parents=True)
    (work / ".venv" / "bin").symlink_to(BIN)
    bundled = bundled_suites_dir() / "baseball-hockey"
    suite_dir = docs_given.make_my_suite(work, bundled)
    suite = load_suite(suite_dir)
    train = [json.loads(line) for line in (suite_dir / "train.jsonl").read_text().splitlines() if line.strip()]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=200))
    model.fit([r["prompt"] for r in train], [r["completion"].strip() for r in train])
    (work / "models").mkdir()
    sio.dump(model, work / "models" / "base.skops")
    (work / "preds").mkdir()
    with (work / "preds" / "ft.jsonl").open("w") as fh:
        for i, ex in enumerate(suite.heldout.examples):
            p = 0.8 if (i % 4) else 0.3
            probs = {ex.label: p, next(lab for lab in suite.labels if lab != ex.label): 1 - p}
            fh.write(json.dumps({"id": ex.id, "label": max(probs, key=probs.get), "probs": probs}) + "\n")
    if hf_models is not None:
        docs_given.link_hf_models(hf_models, work)
    return work


def _serve_the_examples(fake: FakeOpenAI) -> None:
    fake.api_key = None  # one server for every example, a local one without a key included
    fake.default_top = [("base", math.log(0.6)), ("h", math.log(0.35)), ("The", math.log(0.05))]
    fake.azure_models["my-finetune-deployment"] = "gpt-4o-mini-2024-07-18"
    job = "ftjob-abc123"
    final = "ft:gpt-4o-mini-2024-07-18:my-org::abc123"
    curve = fake.add_file(result_csv([{"step": s, "train_loss": 1.0 / s, "train_accuracy": 0.5 + s / 100}
                                      for s in range(1, 31)]))
    fake.add_job(job_body(job, fine_tuned_model=final, result_files=[curve]),
                 checkpoints=[checkpoint_body(job, s, f"{final}:ckpt-step-{s}", {"train_loss": 1.0 / s})
                              for s in (10, 20)])


@pytest.mark.parametrize("where, line, block", BLOCKS, ids=[f"{f}:{n}" for f, n, _ in BLOCKS])
def test_every_documented_command_runs(fake: FakeOpenAI, workdir: Path, tmp_path: Path, monkeypatch, capsys,
                                       where, line, block) -> None:
    script = runnable(block)
    if "harness" not in script:
        pytest.skip("no harness command (install or test steps only)")
    _serve_the_examples(fake)
    script = (script.replace("https://my-resource.openai.azure.com", fake.azure_endpoint)
              .replace("http://localhost:8000/v1", fake.base_url))
    reason = docs_given.why_skip(script)
    if reason:
        pytest.skip(reason)
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "EDITOR": "true", "OPENAI_API_KEY": KEY,
           "AZURE_OPENAI_API_KEY": AZURE_KEY, "OPENAI_BASE_URL": fake.base_url,
           "HARNESS_CACHE_DIR": str(tmp_path / "cache"), "HARNESS_PROGRESS": "off"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(workdir)
    for argv in docs_given.earlier_runs(script):  # an earlier run the block reads is taken as given
        capsys.readouterr()
        assert main(argv) == 0, f"set-up {argv}: {capsys.readouterr().err[-3000:]}"
    for command in script.splitlines():
        argv = _harness_argv(command)
        if argv is None:  # shell: mkdir, cp "$(python -c …)", $EDITOR
            proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", command], capture_output=True, text=True,
                                  timeout=120, env=dict(os.environ))
            assert proc.returncode == 0, f"{where}:{line}: {command}\n{proc.stderr[-3000:]}"
            continue
        assigned, args = argv
        with monkeypatch.context() as m:
            for name, value in assigned.items():
                m.setenv(name, value)
            capsys.readouterr()
            code = main(args)  # in-process: the same code path as the script, without a start-up per command
            err = capsys.readouterr().err
        assert "Traceback" not in err
        if _needs_a_gpu_here(args):  # documented for a CUDA machine: elsewhere a one-line error before any work
            assert code == 2 and "no CUDA device is available" in err and len(err.strip().splitlines()) == 1, err
            continue
        assert code == 0, f"{where}:{line}: exit {code}: {command}\n{err[-3000:]}"


def _harness_argv(command: str) -> tuple[dict[str, str], list[str]] | None:
    """``[NAME=VALUE ...] harness ARGS`` → (environment, ARGS); None for anything else (run by bash)."""
    if any(c in command for c in "$|;><`") or "&&" in command:
        return None
    words = shlex.split(command, comments=True)
    assigned = {}
    while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        assigned[name] = value
    if not words or words[0] not in ("harness", ".venv/bin/harness"):
        return None
    return assigned, words[1:]


def _needs_a_gpu_here(args: list[str]) -> bool:
    """A command that sets a model's ``device`` to CUDA, on a machine without a CUDA device."""
    if not any(re.fullmatch(r"[\w/.-]+\.device=cuda(:\d+)?", a) for a in args):
        return False
    import torch

    return not torch.cuda.is_available()
