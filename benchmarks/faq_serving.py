"""FAQ answer latency inside the real action server (target: p95 <= 30 ms).

Starts `python -m actions` on a free port with the environment `make run` gives it
(one thread per model call), waits until its FAQ model is warm, then posts
``action_answer_faq`` calls for the held-apart evaluation questions, the way the Rasa
server does: first one at a time, then from 4 concurrent clients. The time measured
is the whole webhook round trip on localhost, so it includes rasa-sdk's HTTP
handling, the embedding, the FAISS search and the gap-log write for unanswered
questions. Results: benchmarks/results/faq_serving.{json,md}.

    .venv/bin/python -m benchmarks.faq_serving [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.latency import percentile
from stack.processes import action_server, free_port
from stack.settings import ROOT, StackSettings

RESULTS = ROOT / "benchmarks" / "results"
EVAL_DIR = ROOT / "benchmarks" / "data" / "faq_eval"
CONCURRENCY = 4


def eval_questions() -> list[str]:
    questions: list[str] = []
    for path in sorted(EVAL_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item in data.get("questions") or []:
            questions.extend(item["asked"])
        questions.extend(data.get("unanswerable") or [])
    return questions


def webhook_call(question: str, domain: dict[str, Any], sender: str) -> dict[str, Any]:
    """The JSON the Rasa server posts to run ``action_answer_faq`` after a user message."""
    parse = {"text": question, "intent": {"name": "faq", "confidence": 0.9}, "entities": [], "intent_ranking": []}
    return {
        "next_action": "action_answer_faq",
        "sender_id": sender,
        "version": "3.6.2",
        "domain": domain,
        "tracker": {
            "sender_id": sender,
            "slots": {},
            "latest_message": parse,
            "events": [{"event": "user", "text": question, "parse_data": parse, "input_channel": "rest"}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    return {
        "calls": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "calls_per_s": round(len(latencies) / seconds, 1),
    }


async def measure(url: str, calls: list[dict[str, Any]], concurrency: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            call = queue.get_nowait()
            started = time.perf_counter()
            response = await http.post(url, json=call)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or not response.json().get("responses"):
                errors += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, errors


def run(rounds: int) -> dict[str, Any]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    questions = eval_questions()
    with tempfile.TemporaryDirectory() as work:
        settings = StackSettings(var_dir=Path(work), action_port=free_port(), database_url="")
        server = action_server(settings)
        server.start()
        try:
            deadline = time.monotonic() + 180
            while not server.healthy():
                if not server.running() or time.monotonic() > deadline:
                    raise RuntimeError(f"the action server did not start:\n{server.log_tail()}")
                time.sleep(0.5)
            url = f"http://{settings.host}:{settings.action_port}/webhook"
            warm = [webhook_call(q, domain, f"warm-{n}") for n, q in enumerate(questions[:20])]
            asyncio.run(measure(url, warm, 1))  # waits for the FAQ model to finish loading
            calls = [webhook_call(q, domain, f"bench-{n}") for n, q in enumerate(questions * rounds)]
            sequential, seconds, errors_1 = asyncio.run(measure(url, calls, 1))
            concurrent, seconds_c, errors_c = asyncio.run(measure(url, calls, CONCURRENCY))
        finally:
            server.stop()
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "questions": len(questions),
        "rounds": rounds,
        "sequential": {**summary(sequential, seconds), "errors": errors_1},
        f"concurrent_{CONCURRENCY}": {**summary(concurrent, seconds_c), "errors": errors_c},
        "target_p95_ms": 30,
    }


def write(results: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "faq_serving.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    rows = [
        f"| {name} | {r['calls']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} | "
        f"{r['calls_per_s']} | {r['errors']} |"
        for name, r in (("1 client", results["sequential"]),
                        (f"{CONCURRENCY} clients", results[f"concurrent_{CONCURRENCY}"]))
    ]
    text = "\n".join([
        "# FAQ answer latency in the action server",
        "",
        f"{results['date']}, {results['machine']['cpus']} CPUs, Python {results['machine']['python']}. "
        f"`action_answer_faq` webhook round trips on localhost for {results['questions']} held-apart questions "
        f"x {results['rounds']} rounds (embedding with the default embedder, FAISS search, gap-log write).",
        "",
        "| clients | calls | p50 ms | p95 ms | p99 ms | max ms | calls/s | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Target: p95 <= {results['target_p95_ms']} ms (one client at a time, as one conversation's turn).",
        "",
    ])
    (RESULTS / "faq_serving.md").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faq_serving", description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    results = run(args.rounds)
    write(results)
    print((RESULTS / "faq_serving.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
