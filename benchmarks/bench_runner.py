"""``harness run`` as users run it, against a local OpenAI-protocol server with a fixed latency.

    python benchmarks/bench_runner.py                 # n = 1,000 (and 5,000 cached), 50 ms latency, 32 in flight
    python benchmarks/bench_runner.py --rounds 5      # more interleaved rounds (median reported)
    python benchmarks/bench_runner.py --cached-n 0    # skip the cached re-run measurement

Everything is measured in one run, against the same server (``tests/engine/fault_server.py``, an asyncio server
in its own process, so it is not the bottleneck of the client being measured), on a binary suite with the
default metrics (every statistic on):

* **bare loop** (the baseline): a Python script of ``AsyncOpenAI`` + ``asyncio.Semaphore(concurrency)`` and
  nothing else, run as a subprocess like the CLI: its wall time (interpreter start, ``import openai``, the
  requests) and, beside it, the time of its request loop alone (imports and start-up excluded);
* **harness CLI**: ``harness run SUITE --out OUT --cache FRESH`` as a subprocess (cold imports, cold cache),
  with the report and with ``--no-report``;
* **in process**: ``harness.runner.run`` with the imports already warm and no report (the figure this
  benchmark printed before: the request loop and the results, without start-up);
* **cached re-run** (``--cached-n``, default 5,000): the same CLI run twice with the report, the second from the
  response cache: it must send 0 requests;
* **start-up**: ``harness --help``;
* **how harness is installed**: from site-packages or a source tree, and whether its modules start from cached
  bytecode (an editable install where ``PYTHONDONTWRITEBYTECODE`` is set compiles them at every start).

Bare loop and CLI runs alternate for ``--rounds`` rounds (default 3) and medians are compared, so load from other
processes on the machine affects both sides alike. Prints the ratios against the targets (issue 14):

* bare loop wall time / CLI wall time >= 0.9, with the report and without (also printed against the bare
  loop's request loop alone, the stricter figure);
* cached re-run wall time <= 15% of the cold run's (n = 5,000, report on), 0 requests sent;
* ``harness --help`` < 0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "engine" / "fault_server.py"
LABELS = ("billing", "shipping")  # two of the server's labels: a binary suite
KEY = "sk-bench-not-a-real-key-0000000000"
HARNESS = str(Path(sys.executable).with_name("harness"))


def text(i: int) -> str:
    return f"Ticket {i}: a question about {LABELS[i % 2]} from customer {i * 7919 % 1000}."


def body(i: int) -> dict:
    """The request harness's openai provider sends for example ``i`` (chat, one token, top-20 logprobs)."""
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text(i)}], "temperature": 0,
            "max_completion_tokens": 1, "logprobs": True, "top_logprobs": 20}


def requests_seen(base_url: str) -> int:
    with urllib.request.urlopen(base_url + "/stats") as resp:
        return int(json.loads(resp.read())["requests"])


async def bare_loop(base_url: str, n: int, concurrency: int) -> float:
    """The baseline: every request through ``AsyncOpenAI`` under a semaphore; seconds of the loop."""
    from openai import AsyncOpenAI

    async with AsyncOpenAI(base_url=base_url, api_key=KEY, max_retries=0) as client:
        sem = asyncio.Semaphore(concurrency)
        results = []

        async def one(i: int) -> None:
            async with sem:
                results.append(await client.chat.completions.create(**body(i)))

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - t0


def run_bare(base_url: str, n: int, concurrency: int) -> tuple[float, float]:
    """(wall seconds, loop seconds) of the bare loop run as its own Python process."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child-bare", base_url, str(n), str(concurrency)],
                         check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, float(out.strip().splitlines()[-1])


def write_suite(root: Path, n: int, base_url: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with (root / "heldout.jsonl").open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"ex{i}", "prompt": text(i), "completion": " " + LABELS[i % 2]}) + "\n")
    (root / "suite.yaml").write_text(
        "name: bench\n"
        "data: {heldout: heldout.jsonl, format: openai-jsonl}\n"
        f"labels: [{', '.join(LABELS)}]\n"
        f"positive: {LABELS[1]}\n"
        "prompt: {separator: ''}\n"
        "models:\n"
        "  base:\n"
        "    provider: openai\n"
        "    argument: gpt-4o-mini\n"
        f"    options: {{base_url: \"{base_url}\", api_key_env: BENCH_API_KEY, tokenizer: none}}\n")
    return root


def run_cli(suite: Path, out: Path, cache: Path, concurrency: int, report: bool) -> float:
    """Wall seconds of ``harness run`` as a subprocess."""
    cmd = [HARNESS, "run", str(suite), "--out", str(out), "--cache", str(cache), "--concurrency", str(concurrency),
           "--progress", "off", "--quiet"] + ([] if report else ["--no-report"])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"harness run failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    if report and not (out / "report.html").is_file():
        raise SystemExit("harness run wrote no report.html")
    return wall


def run_in_process(suite_dir: Path, out: Path, cache: Path, concurrency: int) -> float:
    from harness.engine import EngineOptions
    from harness.plugins import load_registry
    from harness.runner import RunOptions, run
    from harness.suite import load_suite

    registry = load_registry(entry_points=False)
    t0 = time.perf_counter()
    run(load_suite(suite_dir), registry, RunOptions(out_dir=out, engine=EngineOptions(
        concurrency=concurrency, cache_path=cache, progress="off")))
    return time.perf_counter() - t0


def startup(repeats: int) -> float:
    """Median wall seconds of ``harness --help``."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([HARNESS, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bytecode_note() -> str:
    """Where the benchmarked harness is installed and whether its modules start from cached bytecode (an editable
    install under PYTHONDONTWRITEBYTECODE=1 compiles ~180 modules at every start, ~0.15 s of each CLI run)."""
    probe = ("import importlib.util, os, sys; s = importlib.util.find_spec('harness.cli.main'); "
             "c = s.cached; print(s.origin); print(bool(c and os.path.exists(c) and "
             "os.path.getmtime(c) >= os.path.getmtime(s.origin))); print(bool(sys.flags.dont_write_bytecode))")
    origin, cached, no_write = subprocess.run([sys.executable, "-P", "-c", probe], check=True, capture_output=True,
                                              text=True).stdout.split("\n")[:3]
    where = "site-packages" if "site-packages" in origin else "the source tree (editable install)"
    state = ("bytecode cached" if cached == "True" else
             "no cached bytecode: compiled at every start (PYTHONDONTWRITEBYTECODE is set)" if no_write == "True"
             else "no cached bytecode yet: the first run writes it")
    return f"harness from {where}: {state}"


def ok(good: bool) -> str:
    return "ok" if good else "MISSED"


def main() -> None:
    ap = argparse.ArgumentParser(description="harness run as users run it, beside a bare async loop")
    ap.add_argument("--n", type=int, default=1000, help="examples (requests) per run (default 1000)")
    ap.add_argument("--cached-n", type=int, default=5000, help="examples of the cached re-run (default 5000; 0: skip)")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.05, help="server latency in seconds (default 0.05)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median reported; default 3)")
    args = ap.parse_args()
    os.environ["BENCH_API_KEY"] = KEY
    os.environ["HARNESS_PROGRESS"] = "off"
    n, c = args.n, args.concurrency

    server = subprocess.Popen([sys.executable, str(SERVER), "--latency", str(args.latency)], stdout=subprocess.PIPE,
                              text=True)
    tmp = tempfile.TemporaryDirectory()
    tmpdir = Path(tmp.name)
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        base_url = f"http://127.0.0.1:{port}/v1"
        print(f"server: {base_url}, latency {args.latency * 1000:.0f} ms; n = {n}, {c} in flight; "
              f"ideal {c / args.latency:.0f} req/s")
        t_help = startup(5)
        print(f"harness --help: {t_help:.3f} s (median of 5)")
        print(bytecode_note())
        run_bare(base_url, min(200, n), c)  # warm-up: the OS file cache, the server's connections
        suite = write_suite(tmpdir / "suite", n, base_url)
        bare_wall, bare_loop_s, cli_report, cli_plain = [], [], [], []
        for r in range(args.rounds):  # interleaved, so a busy machine slows every side alike
            w, loop = run_bare(base_url, n, c)
            before = requests_seen(base_url)
            t_rep = run_cli(suite, tmpdir / f"out-r{r}", tmpdir / f"cache-r{r}.sqlite3", c, report=True)
            sent = requests_seen(base_url) - before
            t_plain = run_cli(suite, tmpdir / f"out-p{r}", tmpdir / f"cache-p{r}.sqlite3", c, report=False)
            bare_wall.append(w)
            bare_loop_s.append(loop)
            cli_report.append(t_rep)
            cli_plain.append(t_plain)
            print(f"  round {r + 1}: bare loop {w:.2f} s ({loop:.2f} s requesting); harness run {t_rep:.2f} s "
                  f"({sent} requests), --no-report {t_plain:.2f} s", flush=True)
        t_inproc = run_in_process(suite, tmpdir / "out-inproc", tmpdir / "cache-inproc.sqlite3", c)

        cached = None
        if args.cached_n:
            big = write_suite(tmpdir / "suite-cached", args.cached_n, base_url)
            cache = tmpdir / "cache-big.sqlite3"
            t_cold = run_cli(big, tmpdir / "out-big-cold", cache, c, report=True)
            before = requests_seen(base_url)
            warm = [run_cli(big, tmpdir / f"out-big-warm{i}", cache, c, report=True) for i in range(3)]
            sent_warm = requests_seen(base_url) - before
            cached = (t_cold, statistics.median(warm), sent_warm)
            print(f"  n = {args.cached_n}: cold {t_cold:.2f} s; cached re-runs "
                  f"{', '.join(f'{w:.2f}' for w in warm)} s ({sent_warm} requests)", flush=True)
    finally:
        server.terminate()
        server.wait(5)
        tmp.cleanup()

    med = statistics.median
    bw, bl, cr, cp = med(bare_wall), med(bare_loop_s), med(cli_report), med(cli_plain)
    print()
    print(f"bare loop, a script           : {n / bw:7.1f} ex/s  ({bw:.2f} s wall; its request loop {bl:.2f} s, "
          f"{n / bl:.1f} req/s)")
    print(f"harness run (CLI), report     : {n / cr:7.1f} ex/s  ({cr:.2f} s wall)")
    print(f"harness run (CLI), --no-report: {n / cp:7.1f} ex/s  ({cp:.2f} s wall)")
    print(f"harness in process, warm      : {n / t_inproc:7.1f} ex/s  ({t_inproc:.2f} s, no start-up, no report)")
    print()
    print(f"bare / harness run, report    = {bw / cr:6.3f}  (target >= 0.9) {ok(bw / cr >= 0.9)}; "
          f"against its request loop alone {bl / cr:.3f}")
    print(f"bare / harness run, no report = {bw / cp:6.3f}  (target >= 0.9) {ok(bw / cp >= 0.9)}; "
          f"against its request loop alone {bl / cp:.3f}")
    if cached:
        t_cold, t_warm, sent_warm = cached
        print(f"cached / cold wall time       = {t_warm / t_cold:6.3f}  (n = {args.cached_n}, report on; target "
              f"<= 0.15, 0 requests: {sent_warm} sent) {ok(t_warm / t_cold <= 0.15 and sent_warm == 0)}")
    print(f"harness --help                = {t_help:6.3f} s (target < 0.5 s) {ok(t_help < 0.5)}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child-bare"]:
        url, count, conc = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(asyncio.run(bare_loop(url, count, conc)))
    else:
        main()
