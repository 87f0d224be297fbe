"""REST latency and throughput of our stack against a plain ``rasa init`` bot, in the same run.

For each bot: 1 conversation, then 20 concurrent conversations, each sending
its script of messages one after another (waiting for each reply). Reports
p50/p95/p99/max latency, messages per second, errors, and the resident memory
of every server process. Results: benchmarks/results/latency.{json,md}.

    .venv/bin/python -m benchmarks.latency [--messages-per-conversation 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

from stack.processes import Server, Stack, base_env, free_port
from stack.settings import ROOT, StackSettings

RESULTS = ROOT / "benchmarks" / "results"
WORK = RESULTS / "work"

# A citizen's conversation: forms, custom actions, database writes and reads.
OUR_SCRIPT = [
    "hi",
    "is there a power outage in 94110",
    "how do I renew my driver's license",
    "/skip",
    "there's a pothole on my street",
    "120 Main Street",
    "deep hole, about a foot wide",
    "/skip",
    "/affirm",
    "thanks",
    "what can you do",
    "my power is out",
    "Lakeside",
    "/deny",
    "bye",
]
# The moodbot that `rasa init` creates understands these.
BASELINE_SCRIPT = [
    "hi",
    "I am sad",
    "yes",
    "great",
    "bye",
    "hello there",
    "not good",
    "no",
    "are you a bot?",
    "I'm happy",
    "good morning",
    "very sad",
    "yes it did",
    "perfect",
    "goodbye",
]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


@dataclass
class LoadResult:
    bot: str
    concurrency: int
    messages: int
    errors: int
    empty_replies: int
    seconds: float
    messages_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def conversation(
    client: httpx.AsyncClient, url: str, script: list[str], count: int, latencies: list[float]
) -> tuple[int, int]:
    """Send ``count`` messages; returns (failed requests, requests answered with no message)."""
    sender = "bench-" + uuid.uuid4().hex
    errors = empty = 0
    for i in range(count):
        text = script[i % len(script)]
        start = time.perf_counter()
        try:
            response = await client.post(url, json={"sender": sender, "message": text})
            replies = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            replies = None
        latencies.append(time.perf_counter() - start)
        if not isinstance(replies, list):
            errors += 1
        elif not replies:
            empty += 1
    return errors, empty


async def load(bot: str, url: str, script: list[str], concurrency: int, per_conversation: int) -> LoadResult:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency + 5)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        # Warm up: first messages load lazily initialised parts.
        await conversation(client, url, script, len(script), [])
        start = time.perf_counter()
        outcomes = await asyncio.gather(
            *(conversation(client, url, script, per_conversation, latencies) for _ in range(concurrency))
        )
        seconds = time.perf_counter() - start
    ms = [1000 * x for x in latencies]
    return LoadResult(
        bot=bot,
        concurrency=concurrency,
        messages=len(ms),
        errors=sum(e for e, _ in outcomes),
        empty_replies=sum(n for _, n in outcomes),
        seconds=round(seconds, 2),
        messages_per_second=round(len(ms) / seconds, 1),
        p50_ms=round(statistics.median(ms), 1),
        p95_ms=round(percentile(ms, 95), 1),
        p99_ms=round(percentile(ms, 99), 1),
        max_ms=round(max(ms), 1),
    )


def run_loads(bot: str, url: str, script: list[str], per_conversation: int) -> list[LoadResult]:
    results = []
    for concurrency in (1, 20):
        count = per_conversation * (3 if concurrency == 1 else 1)
        result = asyncio.run(load(bot, url, script, concurrency, count))
        print(f"  {bot}, {concurrency} concurrent: p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, "
              f"{result.messages_per_second} msg/s, {result.errors} errors, {result.empty_replies} empty",
              flush=True)
        results.append(result)
    return results


def baseline_project(settings: StackSettings) -> Path:
    """A plain `rasa init` project with its trained model (built once, kept in the work folder)."""
    project = WORK / "rasa_init"
    if not list((project / "models").glob("*.tar.gz")):
        shutil.rmtree(project, ignore_errors=True)
        project.mkdir(parents=True)
        print("Creating and training a plain `rasa init` bot (about 2 minutes)...", flush=True)
        rasa = str(Path(sys.executable).parent / "rasa")
        with (WORK / "rasa_init_train.log").open("wb") as log:
            subprocess.run([rasa, "init", "--no-prompt", "--init-dir", str(project)],
                           cwd=project, env=base_env(settings), check=True, stdout=log, stderr=log)
    return project


def start_baseline(settings: StackSettings, project: Path) -> Server:
    port = free_port()
    model = sorted((project / "models").glob("*.tar.gz"))[-1]
    server = Server(
        name="plain rasa init",
        command=[str(Path(sys.executable).parent / "rasa"), "run", "--model", str(model),
                 "--port", str(port), "--interface", "127.0.0.1"],
        health_url=f"http://127.0.0.1:{port}/",
        env=base_env(settings),
        log_path=WORK / "rasa_init.log",
        cwd=project,  # its own endpoints.yml and credentials.yml
    )
    server.start()
    deadline = time.monotonic() + 240
    while not server.healthy():
        if not server.running() or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"baseline did not start:\n{server.log_tail()}")
        time.sleep(0.5)
    return server


def write_results(results: list[LoadResult], memory: dict[str, float]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "results": [asdict(r) for r in results],
        "rss_mb": memory,
        "note": "load generator runs on the same 2-core machine as the servers",
    }
    (RESULTS / "latency.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        "# REST latency: our stack vs a plain `rasa init` bot (same run)",
        "",
        f"{payload['date']}, {os.cpu_count()} cores; each conversation sends its messages one after another.",
        "",
        "| bot | concurrent conversations | messages | errors | empty replies | p50 ms | p95 ms | p99 ms "
        "| max ms | msg/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(f"| {r.bot} | {r.concurrency} | {r.messages} | {r.errors} | {r.empty_replies} | {r.p50_ms} | "
                     f"{r.p95_ms} | "
                     f"{r.p99_ms} | {r.max_ms} | {r.messages_per_second} |")
    lines += ["", "Resident memory after the runs (MB):", "", "| process | RSS MB |", "| --- | --- |"]
    lines += [f"| {name} | {mb} |" for name, mb in memory.items()]
    lines += [
        "",
        "Errors: failed requests. Empty replies: answered with no message (every message of our script",
        "expects an answer; the `rasa init` moodbot has no answer for some of its script's turns).",
        "Target (issue 2): p95 under 1 s at 20 concurrent conversations, no errors.",
    ]
    (RESULTS / "latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency")
    parser.add_argument("--messages-per-conversation", type=int, default=30)
    parser.add_argument("--skip-baseline", action="store_true", help="only our stack (quick checks)")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    var = WORK / f"var-{uuid.uuid4().hex[:8]}"
    settings = StackSettings(
        var_dir=var, rasa_port=free_port(), action_port=free_port(), web_port=free_port(),
        database_url="", rasa_api_token="bench-" + uuid.uuid4().hex,
    )
    results: list[LoadResult] = []
    memory: dict[str, float] = {}

    try:
        print("Starting our stack...", flush=True)
        with Stack(settings) as stack:
            url = f"{settings.rasa_public_url()}/webhooks/rest/webhook"
            results += run_loads("citybot", url, OUR_SCRIPT, args.messages_per_conversation)
            for server in stack.servers:
                assert server.process is not None
                memory[f"citybot {server.name}"] = rss_mb(server.process.pid)
        if not args.skip_baseline:
            project = baseline_project(settings)
            print("Starting the plain rasa init bot...", flush=True)
            baseline = start_baseline(settings, project)
            try:
                url = baseline.health_url.rstrip("/") + "/webhooks/rest/webhook"
                results += run_loads("plain rasa init", url, BASELINE_SCRIPT, args.messages_per_conversation)
                assert baseline.process is not None
                memory["plain rasa init: Rasa server"] = rss_mb(baseline.process.pid)
            finally:
                baseline.stop()
    finally:
        shutil.rmtree(var, ignore_errors=True)
    write_results(results, memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
