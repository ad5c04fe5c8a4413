"""Plugin discovery and listing: built-ins, a third-party package found through its entry point, the
HARNESS_LOAD_PLUGINS allow-list, and ``--plugin FILE.py``.

The example package (tests/example_plugin) is installed for real into a temporary directory — its own
files plus a ``.dist-info`` with ``entry_points.txt`` generated from its pyproject.toml — and that directory
is put on sys.path (PYTHONPATH for subprocesses). Discovery then goes through ``importlib.metadata`` exactly
as for a pip-installed plugin, without touching the shared virtualenv.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from harness_testkit import EXAMPLE_PLUGIN_SRC, HARNESS_SCRIPT, read_jsonl
from sklearn.metrics import balanced_accuracy_score

import harness
from harness.plugins import ALLOW_ENV, DEFAULT_PLUGINS, ENTRY_POINT_GROUP, load_registry

BUILTIN_METRICS = {"accuracy", "precision", "recall", "fbeta", "f1_macro", "f1_weighted",
                   "auroc", "auprc", "log_loss", "brier", "ece"}
BUILTIN_PROVIDERS = {"demo", "demo-job", "sklearn", "predictions"}
EXAMPLE = tomllib.loads((EXAMPLE_PLUGIN_SRC / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def install_example_plugin(target: Path) -> Path:
    """Install tests/example_plugin into ``target`` the way a wheel install lays it out."""
    name, version = EXAMPLE["name"], EXAMPLE["version"]
    package = "harness_example_plugin"
    shutil.copytree(EXAMPLE_PLUGIN_SRC / package, target / package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = target / f"{name.replace('-', '_')}-{version}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {EXAMPLE['description']}\n",
        encoding="utf-8")
    eps = []
    for group, entries in EXAMPLE["entry-points"].items():
        eps.append(f"[{group}]")
        eps.extend(f"{k} = {v}" for k, v in entries.items())
    (dist / "entry_points.txt").write_text("\n".join(eps) + "\n", encoding="utf-8")
    (dist / "top_level.txt").write_text(package + "\n", encoding="utf-8")
    (dist / "INSTALLER").write_text("harness-tests\n", encoding="utf-8")
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    (dist / "RECORD").write_text("".join(f"{f},,\n" for f in files) + f"{dist.name}/RECORD,,\n", encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def example_plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_example_plugin(tmp_path_factory.mktemp("example-plugin-site"))


@pytest.fixture
def example_plugin(example_plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example plugin is installed (for this test only); no allow-list is set."""
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    monkeypatch.syspath_prepend(str(example_plugin_site))
    return example_plugin_site


def _entry(listing: list[dict], name: str) -> dict:
    found = [p for p in listing if p["name"] == name]
    assert found, f"plugin {name!r} not listed: {[p['name'] for p in listing]}"
    return found[0]


# --- built-ins -----------------------------------------------------------------------------------


def test_plugins_json_lists_builtins_with_version_and_registrations(harness_cli, monkeypatch):
    monkeypatch.setenv(ALLOW_ENV, "")  # only the built-ins, whatever the environment has installed
    res = harness_cli("plugins", "--json")
    assert res.code == 0, res.err
    listing = json.loads(res.out)
    for mod in DEFAULT_PLUGINS:
        entry = _entry(listing, mod)
        assert entry["version"] == harness.__version__
        assert entry["source"] == "builtin"
    metrics = {m for p in listing for m in p["metrics"]}
    providers = {p_ for p in listing for p_ in p["providers"]}
    assert BUILTIN_METRICS <= metrics
    assert BUILTIN_PROVIDERS <= providers
    assert set(_entry(listing, "harness_plugins.metrics.probabilistic")["metrics"]) == \
        {"auroc", "auprc", "log_loss", "brier", "ece"}
    assert set(_entry(listing, "harness_plugins.providers.demo")["providers"]) == {"demo", "demo-job"}


def test_plugins_table_lists_builtins(harness_cli, monkeypatch):
    monkeypatch.setenv(ALLOW_ENV, "")
    res = harness_cli("plugins")
    assert res.code == 0, res.err
    for mod in DEFAULT_PLUGINS:
        assert mod in res.out
    assert harness.__version__ in res.out
    for name in BUILTIN_METRICS | BUILTIN_PROVIDERS:
        assert name in res.out


# --- a third-party package, found through its entry point ----------------------------------------


def test_example_plugin_is_discovered_through_its_entry_point(example_plugin):
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert "example" in eps and eps["example"].dist.name == EXAMPLE["name"]

    registry = load_registry()
    assert "balanced_accuracy" in registry.metrics
    assert registry.metric_plugin["balanced_accuracy"] == "example"
    entry = next(p for p in registry.plugins if p.plugin == "example")
    assert (entry.source, entry.version, entry.metrics) == ("entry point", EXAMPLE["version"],
                                                           ["balanced_accuracy"])


def test_example_plugin_in_plugins_output(example_plugin, harness_cli):
    listing = json.loads(harness_cli("plugins", "--json").out)
    entry = _entry(listing, "example")
    assert entry == {"name": "example", "version": EXAMPLE["version"], "source": "entry point",
                     "metrics": ["balanced_accuracy"], "providers": []}

    table = harness_cli("plugins")
    assert table.code == 0
    row = next(line for line in table.out.splitlines() if "example" in line)
    assert EXAMPLE["version"] in row and "balanced_accuracy" in row and "entry point" in row


def test_example_plugin_found_by_the_console_script(example_plugin_site):
    """A fresh process (the installed ``harness`` script) sees the plugin through PYTHONPATH alone."""
    env = {k: v for k, v in os.environ.items() if k != ALLOW_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(example_plugin_site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([str(HARNESS_SCRIPT), "plugins", "--json"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert _entry(json.loads(proc.stdout), "example")["metrics"] == ["balanced_accuracy"]


def test_example_plugin_metric_in_results_and_report(example_plugin, harness_cli, tmp_path):
    out = tmp_path / "run"
    res = harness_cli("run", "baseball-hockey", "--model", "base=demo:base", "--model", "ft=demo:finetuned",
                      "--metric", "balanced_accuracy", "--metric", "accuracy", "--out", out)
    assert res.code == 0, res.err
    results = json.loads((out / "results.json").read_text())
    assert [m["name"] for m in results["metrics"]] == ["balanced_accuracy", "accuracy"]
    assert results["metrics"][0]["plugin"] == "example"
    assert results["metrics"][0]["title"] == "Balanced accuracy"

    rows = read_jsonl(out / "predictions.jsonl")
    for model in results["models"]:
        assert set(model["metrics"]) == {"balanced_accuracy", "accuracy"}
        mine = [r for r in rows if r["model"] == model["name"]]
        expected = balanced_accuracy_score([r["gold"] for r in mine], [r["pred"] for r in mine])
        assert model["metrics"]["balanced_accuracy"]["value"] == pytest.approx(expected)

    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Balanced accuracy" in html or "balanced_accuracy" in html


@pytest.mark.parametrize("allow, loaded", [("", False), ("someone-else", False), ("example", True),
                                           (" other , example ", True)])
def test_allow_list_env(example_plugin, monkeypatch, harness_cli, allow, loaded):
    monkeypatch.setenv(ALLOW_ENV, allow)
    assert ("balanced_accuracy" in load_registry().metrics) is loaded
    listing = json.loads(harness_cli("plugins", "--json").out)
    assert any(p["name"] == "example" for p in listing) is loaded
    # the built-ins are always there
    assert {p["name"] for p in listing} >= set(DEFAULT_PLUGINS)


def test_allow_list_empty_hides_the_metric_from_runs(example_plugin, monkeypatch, harness_cli, tmp_path):
    monkeypatch.setenv(ALLOW_ENV, "")
    res = harness_cli("run", "baseball-hockey", "--metric", "balanced_accuracy", "--out", tmp_path / "o",
                      "--no-report")
    assert res.code == 2
    assert "unknown metric 'balanced_accuracy'" in res.err


# --- --plugin FILE.py ----------------------------------------------------------------------------

LOCAL_PLUGIN = '''
"""A local plugin: a metric and a provider that always answers the same label."""
from harness import hookimpl
from harness.errors import UsageError
from harness.examples import Prediction
from harness.metrics import Metric
from harness.providers import LocalModel, Provider, Resolved

__version__ = "9.9"


class PositiveRate(Metric):
    name = "positive_rate"
    title = "Positive rate"

    def compute(self, data):
        return float((data.y_pred == data.positive).mean())


class ConstantModel(LocalModel):
    def __init__(self, name, spec, label, labels):
        super().__init__(name, spec)
        self.label, self.labels = label, labels

    def predict_all(self, examples):
        probs = {lab: 0.8 if lab == self.label else 0.2 / (len(self.labels) - 1) for lab in self.labels}
        return [Prediction(ex.id, label=self.label, probs=probs) for ex in examples]


class ConstantProvider(Provider):
    name = "constant"

    def resolve(self, spec, suite):
        if spec.argument not in suite.labels:
            raise UsageError(f"constant: {spec.argument!r} is not a label")
        return Resolved([ConstantModel(spec.name, spec, spec.argument, suite.labels)])


@hookimpl
def register_metrics(register):
    register(PositiveRate())


@hookimpl
def register_providers(register):
    register(ConstantProvider())
'''


@pytest.fixture
def local_plugin(tmp_path: Path) -> Path:
    path = tmp_path / "my_plugin.py"
    path.write_text(LOCAL_PLUGIN, encoding="utf-8")
    return path


def test_local_plugin_file_registers_metric_and_provider(local_plugin, make_suite, harness_cli, tmp_path):
    suite = make_suite()
    out = tmp_path / "out"
    res = harness_cli("run", suite, "--plugin", local_plugin, "--model", "c=constant:pos", "--only",
                      "--metric", "positive_rate", "--metric", "accuracy", "--out", out, "--no-report")
    assert res.code == 0, res.err
    results = json.loads((out / "results.json").read_text())
    (model,) = results["models"]
    assert model["name"] == "c" and model["provider"] == "constant"
    assert model["metrics"]["positive_rate"]["value"] == 1.0
    golds = [r["gold"] for r in read_jsonl(out / "predictions.jsonl")]
    assert model["metrics"]["accuracy"]["value"] == pytest.approx(golds.count("pos") / len(golds))


def test_local_plugin_listed(local_plugin, harness_cli):
    listing = json.loads(harness_cli("plugins", "--json", "--plugin", local_plugin).out)
    entry = next(p for p in listing if p["source"] == "local")
    assert entry["version"] == "9.9"
    assert entry["metrics"] == ["positive_rate"] and entry["providers"] == ["constant"]


def test_local_plugin_not_loaded_without_flag(make_suite, harness_cli, tmp_path):
    res = harness_cli("run", make_suite(), "--model", "c=constant:pos", "--only", "--out", tmp_path / "o")
    assert res.code == 2
    assert "unknown provider 'constant'" in res.err


def test_missing_local_plugin_file(harness_cli, tmp_path):
    res = harness_cli("plugins", "--plugin", tmp_path / "nope.py")
    assert res.code == 2
    assert "nope.py" in res.err and "Traceback" not in res.err


def test_broken_local_plugin_names_the_file(harness_cli, tmp_path):
    bad = tmp_path / "broken_plugin.py"
    bad.write_text("import does_not_exist_anywhere\n", encoding="utf-8")
    res = harness_cli("plugins", "--plugin", bad)
    assert res.code == 2
    assert "broken_plugin.py" in res.err and "does_not_exist_anywhere" in res.err

