"""Plugins behaving badly, and the README's plugin example behaving well (issue 10, item 15): two plugins
registering one metric name fail only the runs that use it and are reported by ``harness plugins``; a metric
that warns on every bootstrap resample does not flood stderr; the README example imports scikit-learn only
when it computes; plugins installed in the environment do not reach the tests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from harness_testkit import HARNESS_SCRIPT, read_jsonl, toy_pairs

from harness.plugins import ALLOW_ENV, load_registry

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_PLUGIN = re.search(r"```python\n(# my_harness_metrics\.py\n.*?)```", README, re.S).group(1)  # type: ignore[union-attr]


def _metric_plugin(name: str, metric: str, body: str = "return 0.5", header: str = "") -> str:
    return f'''
{header}
from harness import hookimpl
from harness.metrics import Metric

class M(Metric):
    name = {metric!r}
    title = "A metric of {name}"
    def compute(self, data):
        {body}

@hookimpl
def register_metrics(register):
    register(M())
'''


def _install(site: Path, dist: str, module: str, source: str) -> None:
    """A plugin package laid out as a wheel install leaves it: the module and a .dist-info with the entry point."""
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[harness]\n{dist} = {module}\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


@pytest.fixture
def clashing_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two installed plugins that both register ``balanced_accuracy``."""
    site = tmp_path / "site"
    site.mkdir()
    _install(site, "first-metrics", "first_metrics", _metric_plugin("first", "balanced_accuracy"))
    _install(site, "second-metrics", "second_metrics", _metric_plugin("second", "balanced_accuracy"))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    return site


def test_a_clash_fails_only_the_runs_that_use_the_name(clashing_plugins, harness_cli, tmp_path) -> None:
    ok = harness_cli("run", "baseball-hockey", "--only", "--model", "a=demo:base", "--metric", "accuracy",
                     "--out", tmp_path / "ok", "--no-report", "--bootstrap", "20")
    assert ok.code == 0, ok.err
    bad = harness_cli("run", "baseball-hockey", "--only", "--model", "a=demo:base", "--metric", "balanced_accuracy",
                      "--out", tmp_path / "bad", "--no-report")
    assert bad.code == 2
    [line] = bad.err.strip().splitlines()
    assert "'balanced_accuracy' is registered by 2 plugins (first-metrics, second-metrics)" in line
    assert not (tmp_path / "bad").exists()


def test_a_clash_in_the_default_metric_set_is_left_out_with_a_notice(clashing_plugins, harness_cli,
                                                                     make_suite, tmp_path) -> None:
    suite = make_suite(models={"m": "demo:base"}, train=toy_pairs(60, seed=3))  # no metrics: every registered one
    res = harness_cli("run", suite, "--out", tmp_path / "o", "--no-report", "--bootstrap", "20")
    assert res.code == 0, res.err
    results = json.loads((tmp_path / "o" / "results.json").read_text())
    names = [m["name"] for m in results["metrics"]]
    assert "accuracy" in names and "balanced_accuracy" not in names
    assert any("balanced_accuracy" in n and "left out" in n for n in results["engine"]["notices"])


def test_harness_plugins_reports_the_clash(clashing_plugins, harness_cli) -> None:
    table = harness_cli("plugins")
    assert table.code == 0
    assert "balanced_accuracy (clash)" in table.out
    assert "warning: metric 'balanced_accuracy' is registered by 2 plugins (first-metrics, second-metrics)" in \
        " ".join(table.err.split())
    listing = json.loads(harness_cli("plugins", "--json").out)
    clashing = {p["name"]: p.get("clashes") for p in listing if p.get("clashes")}
    assert clashing == {"first-metrics": ["balanced_accuracy"], "second-metrics": ["balanced_accuracy"]}


def test_a_provider_clash_fails_only_models_of_that_provider(tmp_path, monkeypatch, harness_cli) -> None:
    site = tmp_path / "site"
    site.mkdir()
    source = '''
from harness import hookimpl
from harness.providers import Provider

class P(Provider):
    name = "demo"

@hookimpl
def register_providers(register):
    register(P())
'''
    _install(site, "fake-demo", "fake_demo", source)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    assert load_registry().provider_clashes == {"demo": ["harness_plugins.providers.demo", "fake-demo"]}
    res = harness_cli("run", "baseball-hockey", "--only", "--model", "a=demo:base", "--out", tmp_path / "o")
    assert res.code == 2 and "provider 'demo' is registered by 2 plugins" in res.err
    path = tmp_path / "p.jsonl"
    path.write_text("")
    res = harness_cli("run", "baseball-hockey", "--only", "--model", f"p=predictions:{path}", "--out",
                      tmp_path / "o2", "--no-report", "--max-failed", "100%", "--bootstrap", "0")
    assert res.code == 0, res.err


def test_installed_plugins_do_not_reach_the_tests(tmp_path, monkeypatch, harness_cli) -> None:
    """tests/conftest.py loads no entry-point plugin: one installed in the environment (here, one that breaks on
    import, and one registering `accuracy` again) cannot fail or change the tests."""
    site = tmp_path / "site"
    site.mkdir()
    _install(site, "broken-plugin", "broken_plugin", "raise RuntimeError('this plugin is broken')\n")
    _install(site, "accuracy-again", "accuracy_again", _metric_plugin("again", "accuracy"))
    monkeypatch.syspath_prepend(str(site))  # the environment variable is left as the test suite set it
    registry = load_registry()
    assert not registry.metric_clashes and "broken-plugin" not in {p.plugin for p in registry.plugins}
    res = harness_cli("run", "baseball-hockey", "--only", "--model", "a=demo:base", "--metric", "accuracy",
                      "--out", tmp_path / "o", "--no-report", "--bootstrap", "20")
    assert res.code == 0, res.err


def test_the_readme_plugin_example_imports_scikit_learn_only_when_it_computes(tmp_path) -> None:
    plugin = tmp_path / "my_harness_metrics.py"
    plugin.write_text(README_PLUGIN, encoding="utf-8")
    code = (f"from harness.plugins import load_registry\nr = load_registry([{str(plugin)!r}], entry_points=False)\n"
            "import sys\nassert 'balanced_accuracy' in r.metrics\nprint('sklearn' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_the_readme_plugin_example_does_not_flood_stderr(tmp_path, make_suite) -> None:
    """With failed outputs (y_pred -1) and the bootstrap, the old example printed 1,001 UserWarnings."""
    plugin = tmp_path / "my_harness_metrics.py"
    plugin.write_text(README_PLUGIN, encoding="utf-8")
    suite = make_suite(ids=[f"e{i}" for i in range(40)], models={"m": "demo:base"}, train=None)
    preds = tmp_path / "preds.jsonl"
    gold = {r["id"]: r["completion"].strip() for r in read_jsonl(suite / "heldout.jsonl")}
    preds.write_text("".join(json.dumps({"id": i, "label": g if n % 3 else "neither"}) + "\n"
                             for n, (i, g) in enumerate(gold.items())))
    # a process of its own: pytest would capture the warnings that the harness script prints
    res = subprocess.run([str(HARNESS_SCRIPT), "run", str(suite), "--only", "--model", f"p=predictions:{preds}",
                          "--plugin", str(plugin), "--metric", "balanced_accuracy", "--metric", "accuracy",
                          "--out", str(tmp_path / "o"), "--no-report", "--bootstrap", "300"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Warning" not in res.stderr, res.stderr[:2000]
    value = json.loads((tmp_path / "o" / "results.json").read_text())["models"][0]["metrics"]
    assert value["balanced_accuracy"]["value"] == pytest.approx(value["accuracy"]["value"], abs=0.05)


def test_a_metric_that_warns_on_every_resample_is_reported_once(tmp_path, make_suite) -> None:
    plugin = tmp_path / "noisy.py"
    plugin.write_text(_metric_plugin("noisy", "noisy", header="import warnings",
                                     body="warnings.warn('noisy metric says hello', UserWarning)\n"
                                          "        return float((data.y_true == data.y_pred).mean())"))
    suite = make_suite(models={"m": "demo:base"}, train=toy_pairs(60, seed=3))
    res = subprocess.run([str(HARNESS_SCRIPT), "run", str(suite), "--plugin", str(plugin), "--metric", "noisy",
                          "--out", str(tmp_path / "o"), "--no-report", "--bootstrap", "200"], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    said = [line for line in res.stderr.splitlines() if "noisy metric says hello" in line]
    assert 1 <= len(said) <= 2, res.stderr[:3000]  # once for the metric, once (with its count) for the statistics
    notices = json.loads((tmp_path / "o" / "results.json").read_text())["engine"]["notices"]
    assert any("noisy metric says hello" in n and "times)" in n for n in notices)


def test_an_options_model_pydantic_cannot_build_is_the_plugins_error_named(tmp_path, harness_cli) -> None:
    # options models build their validators when first used (start-up, issue 14): `harness plugins` still
    # checks every one, and a run that uses the provider gets the same one-line error, not an internal error
    plugin = tmp_path / "badopts_plugin.py"
    plugin.write_text('''
from harness import hookimpl
from harness.providers import Options, Provider

class Thing:
    pass

class BadOptions(Options):
    thing: Thing = None

class BadProvider(Provider):
    name = "badopts"
    options_model = BadOptions

    def resolve(self, spec, suite):
        self.parse_options(spec)
        raise AssertionError("not reached")

@hookimpl
def register_providers(register):
    register(BadProvider())
''')
    res = harness_cli("plugins", "--plugin", plugin)
    assert res.code == 2
    assert "provider 'badopts': its options model BadOptions cannot be built" in res.err
    assert "Traceback" not in res.err
    res = harness_cli("run", "baseball-hockey", "--only", "--model", "b=badopts:x", "--plugin", plugin, "--out",
                      tmp_path / "o", "--no-report")
    assert res.code == 2 and "provider 'badopts': its options model BadOptions cannot be built" in res.err


def test_an_options_model_with_an_undefined_annotation_is_the_plugins_error_named() -> None:
    from harness.errors import UsageError
    from harness.providers import ModelSpec, Options, Provider

    class Opts(Options):
        other: Later | None = None  # type: ignore[name-defined]  # noqa: F821  (never defined)

    class P(Provider):
        name = "fwd"
        options_model = Opts

    with pytest.raises(UsageError, match="provider 'fwd': its options model Opts cannot be built: name 'Later'"):
        P().parse_options(ModelSpec(name="m", provider="fwd"))
