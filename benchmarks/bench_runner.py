"""Runner throughput against a local OpenAI-protocol server with a fixed latency.

    python benchmarks/bench_runner.py            # 5,000 requests, 50 ms latency, 32 in flight
    python benchmarks/bench_runner.py --n 1000   # quicker

Measured in one run, against the same server (an asyncio server in its own process, so it is not the
bottleneck of the client being measured):

* bare loop: ``AsyncOpenAI`` + ``asyncio.Semaphore(concurrency)``, nothing else (the target);
* sequential: the cookbook's one request at a time with the sync client, on a subsample, extrapolated;
* harness: ``harness.runner.run`` end to end (suite loading, requests through the engine with its cache,
  metrics, results files) with the real ``openai`` provider, cold cache;
* harness, cached: the same run again: it must send zero requests.

Like ``harness run --no-report``: the HTML report (rendered from results.json, the same work after a cold or a
cached run) is timed separately and printed, but is not part of the ratios.

Both sides are warmed up first (a short bare loop; a 50-example harness run with its own cache), so
one-time imports and connection set-up do not count as throughput. The bare loop and the harness run then
alternate for ``--rounds`` rounds (default 3) and the median ratio is reported, so load from other processes
on the machine affects both sides alike.

Prints the ratios against the targets: harness / bare >= 0.9; harness / sequential >= 0.9 x concurrency;
cached wall time <= 5% of the cold run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "engine" / "fault_server.py"
LABELS = ("billing", "shipping", "technical", "account", "returns")
KEY = "sk-bench-not-a-real-key-0000000000"


def body(i: int) -> dict:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text(i)}], "temperature": 0,
            "max_completion_tokens": 1, "logprobs": True, "top_logprobs": 20}


def text(i: int) -> str:
    return f"Ticket {i}: a question about {LABELS[i % 5]} from customer {i * 7919 % 1000}."


def stats(base_url: str) -> dict:
    with urllib.request.urlopen(base_url + "/stats") as resp:
        return json.loads(resp.read())


async def bare_loop(base_url: str, n: int, concurrency: int, offset: int) -> float:
    from openai import AsyncOpenAI

    async with AsyncOpenAI(base_url=base_url, api_key=KEY, max_retries=0) as client:
        sem = asyncio.Semaphore(concurrency)
        results = []

        async def one(i: int) -> None:
            async with sem:
                results.append(await client.chat.completions.create(**body(offset + i)))

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - t0


def sequential(base_url: str, n: int, offset: int) -> float:
    from openai import OpenAI

    with OpenAI(base_url=base_url, api_key=KEY, max_retries=0) as client:
        t0 = time.perf_counter()
        for i in range(n):
            client.chat.completions.create(**body(offset + i))
        return time.perf_counter() - t0


def write_suite(root: Path, n: int, base_url: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with (root / "heldout.jsonl").open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"ex{i}", "prompt": text(i), "completion": " " + LABELS[i % 5]}) + "\n")
    (root / "suite.yaml").write_text(
        "name: bench\n"
        "data: {heldout: heldout.jsonl, format: openai-jsonl}\n"
        f"labels: [{', '.join(LABELS)}]\n"
        "prompt: {separator: ''}\n"
        "metrics: [accuracy, log_loss]\n"
        "models:\n"
        "  base:\n"
        "    provider: openai\n"
        "    argument: gpt-4o-mini\n"
        f"    options: {{base_url: \"{base_url}\", api_key_env: BENCH_API_KEY, tokenizer: none}}\n")
    return root


def harness_run(suite_dir: Path, out: Path, cache: Path, concurrency: int) -> tuple[float, dict]:
    from harness.engine import EngineOptions
    from harness.plugins import load_registry
    from harness.runner import RunOptions, run
    from harness.suite import load_suite

    registry = load_registry(entry_points=False)
    t0 = time.perf_counter()
    suite = load_suite(suite_dir)
    outcome = run(suite, registry, RunOptions(out_dir=out, engine=EngineOptions(
        concurrency=concurrency, cache_path=cache, progress="off")))
    return time.perf_counter() - t0, outcome.results


def main() -> None:
    ap = argparse.ArgumentParser(description="harness runner throughput vs a bare async loop")
    ap.add_argument("--n", type=int, default=5000, help="requests per measurement (default 5000)")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--latency", type=float, default=0.05, help="server latency in seconds (default 0.05)")
    ap.add_argument("--sequential-n", type=int, default=100, help="subsample for the sequential loop")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved bare/harness rounds (median reported)")
    args = ap.parse_args()
    os.environ["BENCH_API_KEY"] = KEY
    os.environ.setdefault("HARNESS_PROGRESS", "off")

    proc = subprocess.Popen([sys.executable, str(SERVER), "--latency", str(args.latency)], stdout=subprocess.PIPE,
                            text=True)
    try:
        port = int(proc.stdout.readline())  # type: ignore[union-attr]
        base_url = f"http://127.0.0.1:{port}/v1"
        n, c = args.n, args.concurrency
        print(f"server: {base_url}, latency {args.latency * 1000:.0f} ms; {n} requests, {c} in flight")

        asyncio.run(bare_loop(base_url, min(200, n), c, offset=10_000_000))  # warm-up (imports, connections)
        seq_n = min(args.sequential_n, n)
        t_seq = sequential(base_url, seq_n, offset=30_000_000)
        bare_times, cold_times, ratios = [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            tmpdir = Path(tmp)
            # warm-up of the harness side too (imports of scikit-learn and scipy, first allocations), as the
            # bare loop's above: one-time interpreter costs are not throughput
            harness_run(write_suite(tmpdir / "warm", 50, base_url), tmpdir / "warm-out", tmpdir / "warm.sqlite3", c)
            suite = write_suite(tmpdir / "suite", n, base_url)
            for r in range(args.rounds):  # interleaved, so a busy machine slows both sides alike
                t_b = asyncio.run(bare_loop(base_url, n, c, offset=20_000_000 + r * n))
                cache = tmpdir / f"cache{r}.sqlite3"
                before = stats(base_url)["requests"]
                t_h, res = harness_run(suite, tmpdir / f"out{r}", cache, c)
                sent_cold = stats(base_url)["requests"] - before
                bare_times.append(t_b)
                cold_times.append(t_h)
                ratios.append(t_b / t_h)
                print(f"  round {r + 1}: bare {n / t_b:.1f} req/s, harness {n / t_h:.1f} req/s "
                      f"(ratio {t_b / t_h:.3f}; {sent_cold} requests sent)")
            before = stats(base_url)["requests"]
            t_warm, res_warm = harness_run(suite, tmpdir / "out-cached", cache, c)
            sent_warm = stats(base_url)["requests"] - before
            pred_cold = res["timings"]["predict_seconds"]
            pred_warm = res_warm["timings"]["predict_seconds"]
            failed = res["models"][0]["counts"]["failed"]
            from harness_reports import write_report

            t_r = time.perf_counter()
            write_report(tmpdir / "out-cached" / "results.json")
            t_report = time.perf_counter() - t_r
    finally:
        proc.terminate()
        proc.wait(5)

    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    t_bare, t_cold = median(bare_times), cold_times[-1]
    bare, seq, harness = n / t_bare, seq_n / t_seq, n / median(cold_times)
    ideal = c / args.latency
    print(f"bare AsyncOpenAI + semaphore : {bare:8.1f} req/s  ({t_bare:.2f} s; ideal {ideal:.0f} req/s)")
    print(f"sequential SDK loop          : {seq:8.1f} req/s  ({seq_n} requests in {t_seq:.2f} s; "
          f"{n} would take {n / seq:.0f} s)")
    print(f"harness run, cold cache      : {harness:8.1f} req/s  (median; last run {t_cold:.2f} s end to end, "
          f"{pred_cold:.2f} s requesting; {sent_cold} requests sent, {failed} failed)")
    print(f"harness run, cached          : {n / t_warm:8.0f} ex/s   ({t_warm:.2f} s end to end, "
          f"{pred_warm:.2f} s requesting; {sent_warm} requests sent)")
    print(f"HTML report (not in ratios)  : {t_report:8.2f} s")
    print()
    r1, r2, r3 = median(ratios), harness / seq, t_warm / t_cold
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    print(f"harness / bare loop     = {r1:6.3f}   (target >= 0.9; median of {len(ratios)} interleaved rounds) "
          f"{ok(r1 >= 0.9)}")
    print(f"harness / sequential    = {r2:6.1f}   (target >= {0.9 * c:.1f} = 0.9 x {c})   {ok(r2 >= 0.9 * c)}")
    print(f"cached / cold wall time = {r3:6.3f}   (target <= 0.05, 0 requests) {ok(r3 <= 0.05 and sent_warm == 0)}")


if __name__ == "__main__":
    main()
