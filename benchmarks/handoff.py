"""Human handoff: escalation to the console and relay latency, with 20 conversations in handoff at once.

Starts the real stack (action server, handoff service, Rasa server, web app) on free
ports and drives it the way people use it, all from this one process and all timed
client-side with ``time.monotonic()``:

* 20 citizens on the web chat's socket.io channel (polling transport, see
  /work/shared/ENVIRONMENT.md), each in a thread of python-socketio's client;
* one agent logged in to the console's JSON API, with its Server-Sent Events stream
  (``GET /api/console/events``) read in a thread, as the browser does.

Phases (issue: "Time from escalation to the handoff appearing in a console, and relay
latency both ways (p50/p95) with 20 conversations in handoff at once. Target: appears
within 1 s; relay p95 <= 500 ms."):

1. Baseline in the same run: every citizen says "hello", one at a time, then all at once;
   time to the bot's first reply (the plain bot on this machine, right now).
2. Escalation: the 20 citizens ask for a person, staggered over 2 s; time to the console's
   ``handoff`` event for that conversation and to the citizen's "You are number N" message.
3. The agent claims all 20.
4. + 5. At the same time for about 20 s: every citizen sends 10 messages at random intervals
   (0.5-3 s) and the agent replies 10 times to every conversation (from 4 threads, same
   intervals). Citizen -> agent: emit to the SSE ``message`` event with that text.
   Agent -> citizen: start of the reply POST to the text on the citizen's ``bot_uttered``.
   Every message must arrive exactly once and the bot must say nothing else meanwhile.
6. The agent resolves all 20; time to the citizen's "You're back with the virtual assistant".
7. A second group of 20 citizens says "hello" at once (baseline again), then all ask for a
   person in one burst (escalation under a burst), are claimed and resolved.

A warm-up conversation runs the whole path once before anything is measured.
Results: benchmarks/results/handoff.{json,md}; the servers' logs stay in
benchmarks/results/work/handoff-var/logs/ for a look at where the time goes.
Exits 1 if a message was lost or duplicated, the bot spoke during a handoff or a
request failed; 2 if the run could not finish. Missed latency targets are reported, not fatal.

    .venv/bin/python -m benchmarks.handoff [--conversations 20] [--messages 10]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import socketio

from benchmarks.latency import percentile, rss_mb
from stack.processes import Stack, free_port
from stack.settings import ROOT, StackSettings

RESULTS = ROOT / "benchmarks" / "results"
VAR = RESULTS / "work" / "handoff-var"

ESCALATE = "I want to talk to a person"
QUEUED = "in the queue"  # utter_handoff_queued: "... You are number {position} in the queue. ..."
SAVED = "Your request is saved"  # utter_handoff_saved: the service could not be reached
HANDED_BACK = "You're back with the virtual assistant"
AGENT_USERNAME = "bench-ana"
AGENT_NAME = "Ana"
AGENT_PASSWORD = "bench correct horse battery staple"
AGENT_THREADS = 4
INTERVAL = (0.5, 3.0)  # seconds between one conversation's messages, uniform
STAGGER_SECONDS = 2.0
TARGET_APPEAR_MS = 1000.0
TARGET_RELAY_P95_MS = 500.0
REPLY_TIMEOUT = 60.0  # the longest we wait for any one thing before calling it lost


class BenchError(Exception):
    """The benchmark could not go on (a server is down, a login failed, a request was refused)."""


# Recording -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Seen:
    """Something received: when (monotonic and wall clock) and what."""

    mono: float
    wall: float
    kind: str
    data: dict[str, Any]


class Log:
    """Everything one receiver got, in order, with a condition to wait on (never forever)."""

    def __init__(self) -> None:
        self.items: list[Seen] = []
        self._cond = threading.Condition()

    def add(self, kind: str, data: dict[str, Any]) -> None:
        seen = Seen(time.monotonic(), time.time(), kind, data)
        with self._cond:
            self.items.append(seen)
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.items)

    def since(self, mark: int) -> list[Seen]:
        with self._cond:
            return self.items[mark:]

    def wait(self, done: Callable[[list[Seen]], bool], timeout: float) -> bool:
        """Wait until ``done(items)``; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done(self.items):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 1.0))
            return True

    def wait_after(self, mark: int, match: Callable[[Seen], bool], timeout: float) -> bool:
        """Wait until something received after ``mark`` matches; False after ``timeout`` seconds."""
        return self.wait(lambda items: any(match(s) for s in items[mark:]), timeout)

    def settle(self, quiet: float, limit: float = 15.0) -> None:
        """Wait until nothing has arrived for ``quiet`` seconds (at most ``limit``)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            count = self.mark()
            time.sleep(quiet)
            if self.mark() == count:
                return


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far, in seconds (from /proc)."""
    total = 0.0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class CpuMeter:
    """How busy each server (and this process, the clients) was between two moments, in cores."""

    def __init__(self, stack: Stack | None) -> None:
        self.stack = stack
        self._start: tuple[float, dict[str, float]] | None = None

    def _snapshot(self) -> dict[str, float]:
        seen = {"benchmark clients (this process)": time.process_time()}
        for server in self.stack.servers if self.stack else []:
            if server.process is not None:
                seen[server.name] = cpu_seconds(server.process.pid)
        return seen

    def start(self) -> None:
        self._start = (time.monotonic(), self._snapshot())

    def stop(self) -> dict[str, float]:
        if self._start is None:
            return {}
        began, before = self._start
        seconds = max(1e-6, time.monotonic() - began)
        after = self._snapshot()
        return {name: round((after[name] - before.get(name, 0.0)) / seconds, 2) for name in after}


def left(deadline: float) -> float:
    """Seconds until ``deadline`` (a shared one, so that N waits cannot add up to N timeouts)."""
    return max(0.05, deadline - time.monotonic())


def anything(_: Seen) -> bool:
    return True


def saying(*parts: str) -> Callable[[Seen], bool]:
    """A received bot message whose text contains one of ``parts``."""
    return lambda seen: any(part in str(seen.data.get("text", "")) for part in parts)


def ending(text: str) -> Callable[[Seen], bool]:
    return lambda seen: str(seen.data.get("text", "")).endswith(text)


def stats(values: list[float]) -> dict[str, Any]:
    """Milliseconds: count, p50, p95, max, mean."""
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None, "mean_ms": None}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "max_ms": round(max(values), 1),
        "mean_ms": round(sum(values) / len(values), 1),
    }


def iso_seconds(value: str) -> float:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


# Clients ---------------------------------------------------------------------------------------

class Citizen:
    """The web chat: a socket.io client on the polling transport, every ``bot_uttered`` recorded."""

    def __init__(self, url: str, number: int) -> None:
        self.number = number
        self.log = Log()
        self._sessions = Log()
        # handle_sigint=False: the client's own SIGINT handler would block in disconnect()
        self.client = socketio.Client(reconnection=False, handle_sigint=False)
        self.client.on("bot_uttered", lambda data: self.log.add("bot_uttered", data if isinstance(data, dict) else {}))
        self.client.on("session_confirm", lambda sid: self._sessions.add("session", {"id": sid}))
        self.client.connect(url, transports=["polling"], socketio_path="socket.io", wait_timeout=30)
        self.client.emit("session_request", {"session_id": None})
        if not self._sessions.wait(lambda items: bool(items), timeout=30):
            raise BenchError(f"citizen {number} got no session from the socket.io channel")
        self.session: str = self._sessions.items[0].data["id"]

    def say(self, text: str) -> tuple[float, float]:
        """Emit a message; (monotonic, wall clock) just before the emit."""
        mono, wall = time.monotonic(), time.time()
        self.client.emit("user_uttered", {"message": text, "session_id": self.session})
        return mono, wall

    def first_reply(self, mark: int, contains: str = "") -> Seen | None:
        return next((s for s in self.log.since(mark) if contains in str(s.data.get("text", ""))), None)

    def close(self) -> None:
        """Disconnect without waiting: a polling client's disconnect() waits for the open long-poll
        request to come back, which the server only answers at its next ping (up to 25 s)."""
        try:
            self.client.eio.disconnect(abort=True)
        except Exception:  # already gone; nothing to clean up
            pass


def create_account(settings: StackSettings) -> None:
    """`python -m handoff create-user`, the IT team's command, against the stack's handoff database."""
    env = {**os.environ, "CITYBOT_HANDOFF_DATABASE_URL": settings.handoff_database_url}
    done = subprocess.run(
        [sys.executable, "-m", "handoff", "create-user", AGENT_USERNAME, "--role", "agent", "--name", AGENT_NAME,
         "--password-stdin"],
        cwd=ROOT, env=env, input=AGENT_PASSWORD + "\n", capture_output=True, text=True, timeout=120,
    )
    if done.returncode != 0 and "taken" not in done.stderr:
        raise BenchError(f"could not create the agent account: {done.stderr[-2000:]}")


class Console:
    """The agent's browser: logged in to the console's JSON API (cookie + CSRF header)."""

    def __init__(self, settings: StackSettings) -> None:
        create_account(settings)
        self.base_url = settings.handoff_url()
        self.client = httpx.Client(base_url=self.base_url, timeout=REPLY_TIMEOUT)
        response = self.client.post("/console/login", json={"username": AGENT_USERNAME, "password": AGENT_PASSWORD})
        if response.status_code != 200:
            raise BenchError(f"console login failed: {response.status_code} {response.text[:300]}")
        page = self.client.get("/console/").text
        try:
            self.csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        except IndexError as exc:
            raise BenchError("the console page carries no CSRF token") from exc
        self.client.headers["X-CSRF-Token"] = self.csrf

    def tab(self) -> httpx.Client:
        """Another client with the same session (one per thread, like several browser tabs)."""
        client = httpx.Client(base_url=self.base_url, timeout=REPLY_TIMEOUT, cookies=self.client.cookies)
        client.headers["X-CSRF-Token"] = self.csrf
        return client

    def close(self) -> None:
        self.client.close()


class EventStream:
    """The console's live stream (Server-Sent Events), read in a thread; every event recorded."""

    def __init__(self, console: Console) -> None:
        self.log = Log()
        self.error: str | None = None
        self._client = httpx.Client(base_url=console.base_url, cookies=console.client.cookies,
                                    timeout=httpx.Timeout(10, read=120))
        self._closing = False
        self._thread = threading.Thread(target=self._read, name="sse", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/api/console/events") as response:
                if response.status_code != 200:
                    self.error = f"the event stream answered {response.status_code}"
                    return
                kind = "message"
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        self.log.add(kind, json.loads(line[6:]))
        except (httpx.HTTPError, ValueError) as exc:
            if not self._closing:
                self.error = f"the event stream broke: {exc!r}"

    def close(self) -> None:
        self._closing = True
        self._client.close()


# Phases ----------------------------------------------------------------------------------------

class Bench:
    """The run's clients and what each phase measured."""

    def __init__(self, settings: StackSettings, conversations: int, messages: int, seed: int) -> None:
        self.settings = settings
        self.url = settings.rasa_public_url()
        self.n = conversations
        self.messages = messages
        self.random = random.Random(seed)
        self.run_id = uuid.uuid4().hex[:6]
        self.results: dict[str, Any] = {}
        self.problems: list[str] = []
        # Wall-clock moments of the relay phase, matched afterwards with the handoff service's event log:
        # citizen text -> (emit, Rasa's UserUttered, SSE arrival); agent text -> (POST start, citizen arrival).
        self.cpu = CpuMeter(None)  # set to the running stack by run()
        self.citizen_timeline: dict[str, tuple[float, float, float]] = {}
        self.agent_timeline: dict[str, tuple[float, float]] = {}
        self.console: Console | None = None
        self.stream: EventStream | None = None
        self.citizens: list[Citizen] = []
        self.references: dict[str, str] = {}  # session -> handoff reference

    # clients

    def open_console(self) -> None:
        self.console = Console(self.settings)
        self.stream = EventStream(self.console)
        time.sleep(0.5)  # the stream starts at the latest event; let it connect before anything happens
        if self.stream.error:
            raise BenchError(self.stream.error)

    def connect(self, count: int) -> list[Citizen]:
        """A new group of citizens (the previous ones stay connected, idle, until the end)."""
        group = [Citizen(self.url, i + 1) for i in range(count)]
        self.citizens += group
        return group

    def close(self) -> None:
        for citizen in self.citizens:
            citizen.close()
        if self.stream is not None:
            self.stream.close()
        if self.console is not None:
            self.console.close()

    @property
    def sse(self) -> EventStream:
        assert self.stream is not None
        return self.stream

    @property
    def agent(self) -> Console:
        assert self.console is not None
        return self.console

    def problem(self, text: str) -> None:
        print(f"  PROBLEM: {text}", flush=True)
        self.problems.append(text)

    # phase 1: the plain bot

    def hello_one_at_a_time(self, citizens: list[Citizen]) -> dict[str, Any]:
        latencies = []
        for citizen in citizens:
            mark = citizen.log.mark()
            start, _ = citizen.say("hello")
            if not citizen.log.wait_after(mark, anything, REPLY_TIMEOUT):
                self.problem(f"citizen {citizen.number} got no answer to hello")
                continue
            latencies.append(1000 * (citizen.log.since(mark)[0].mono - start))
            citizen.log.settle(0.8)  # the rest of the turn's messages, before the next citizen speaks
        return stats(latencies)

    def hello_all_at_once(self, citizens: list[Citizen]) -> dict[str, Any]:
        marks = [c.log.mark() for c in citizens]
        starts = [c.say("hello")[0] for c in citizens]
        latencies = []
        deadline = time.monotonic() + REPLY_TIMEOUT
        for citizen, mark, start in zip(citizens, marks, starts, strict=True):
            if not citizen.log.wait_after(mark, anything, left(deadline)):
                self.problem(f"citizen {citizen.number} got no answer to hello (all at once)")
                continue
            latencies.append(1000 * (citizen.log.since(mark)[0].mono - start))
        for citizen in citizens:
            citizen.log.settle(0.8)
        return stats(latencies)

    # phase 2 / 7: escalation

    def escalate(self, citizens: list[Citizen], spread: float) -> dict[str, Any]:
        """Every citizen asks for a person, evenly spread over ``spread`` seconds (0: one burst)."""
        sse_mark = self.sse.log.mark()
        marks = {c.session: c.log.mark() for c in citizens}
        sent: dict[str, tuple[float, float]] = {}
        self.cpu.start()
        begin = time.monotonic()
        for i, citizen in enumerate(citizens):
            if spread:
                delay = begin + spread * i / max(1, len(citizens) - 1) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            sent[citizen.session] = citizen.say(ESCALATE)
        sessions = set(sent)

        def all_appeared(items: list[Seen]) -> bool:
            seen = {s.data.get("conversation_id") for s in items[sse_mark:] if s.kind == "handoff"}
            return sessions <= seen

        self.sse.log.wait(all_appeared, REPLY_TIMEOUT)
        cpu = self.cpu.stop()
        for citizen in citizens:
            citizen.log.wait_after(marks[citizen.session], saying(QUEUED, SAVED), left(begin + REPLY_TIMEOUT))
        appear, queued, to_service, service_to_console = [], [], [], []
        created_per_conversation: dict[str, int] = {}
        for seen in self.sse.log.since(sse_mark):
            if seen.kind == "handoff" and seen.data.get("status") == "waiting":
                conversation = str(seen.data.get("conversation_id"))
                created_per_conversation[conversation] = created_per_conversation.get(conversation, 0) + 1
        for citizen in citizens:
            start_mono, start_wall = sent[citizen.session]
            event = next((s for s in self.sse.log.since(sse_mark)
                          if s.kind == "handoff" and s.data.get("conversation_id") == citizen.session), None)
            if event is None:
                self.problem(f"the handoff of citizen {citizen.number} never reached the console")
            else:
                self.references[citizen.session] = str(event.data["reference"])
                appear.append(1000 * (event.mono - start_mono))
                created = iso_seconds(str(event.data["created_at"]))
                to_service.append(1000 * (created - start_wall))
                service_to_console.append(1000 * (event.wall - created))
            reply = citizen.first_reply(marks[citizen.session], QUEUED)
            if reply is None:
                saved = citizen.first_reply(marks[citizen.session], SAVED)
                self.problem(f"citizen {citizen.number} was not told their place in the queue"
                             + (" (told the request was saved: the service was not reached)" if saved else ""))
            else:
                queued.append(1000 * (reply.mono - start_mono))
        duplicates = sum(1 for n in created_per_conversation.values() if n > 1)
        if duplicates:
            self.problem(f"{duplicates} conversations were queued more than once")
        for citizen in citizens:
            citizen.log.settle(0.5)
        return {
            "spread_seconds": spread,
            "cpu_cores_busy": cpu,
            "to_console": stats(appear),
            "to_queue_message": stats(queued),
            "within_1s": sum(1 for v in appear if v <= TARGET_APPEAR_MS),
            "total": len(citizens),
            "breakdown": {
                "emit_to_handoff_created_at": stats(to_service),
                "created_at_to_console_event": stats(service_to_console),
            },
        }

    # phase 3

    def claim_all(self, citizens: list[Citizen]) -> dict[str, Any]:
        latencies = []
        for citizen in citizens:
            reference = self.references.get(citizen.session)
            if reference is None:
                continue
            start = time.monotonic()
            response = self.agent.client.post(f"/api/console/handoffs/{reference}/claim")
            latencies.append(1000 * (time.monotonic() - start))
            if response.status_code != 200:
                self.problem(f"claiming {reference} answered {response.status_code}: {response.text[:200]}")
        return stats(latencies)

    # phases 4 + 5

    def relay(self, citizens: list[Citizen]) -> dict[str, Any]:
        """Citizens write and the agent replies at the same time, every conversation in handoff."""
        sse_mark = self.sse.log.mark()
        marks = {c.session: c.log.mark() for c in citizens}
        lock = threading.Lock()
        citizen_sent: dict[str, tuple[str, float, float]] = {}  # text -> (session, mono, wall)
        agent_sent: dict[str, tuple[str, float, float]] = {}  # text -> (session, mono, wall at POST start)
        post_ms: list[float] = []
        deliveries: dict[str, int] = {}
        failures: list[str] = []
        seeds = [self.random.randrange(1 << 30) for _ in range(len(citizens) + AGENT_THREADS)]
        begin = time.monotonic() + 0.2

        def citizen_writes(citizen: Citizen, seed: int) -> None:
            rng = random.Random(seed)
            at = begin
            for j in range(self.messages):
                at += rng.uniform(*INTERVAL)
                time.sleep(max(0.0, at - time.monotonic()))
                text = (f"Resident {citizen.number:02d} note {j + 1:02d} [{self.run_id}]: "
                        "the streetlight on my corner is still out")
                mono, wall = citizen.say(text)
                with lock:
                    citizen_sent[text] = (citizen.session, mono, wall)

        def agent_replies(owned: list[Citizen], seed: int) -> None:
            rng = random.Random(seed)
            plan = []
            for citizen in owned:
                at = begin
                for j in range(self.messages):
                    at += rng.uniform(*INTERVAL)
                    plan.append((at, citizen, j))
            plan.sort(key=lambda p: p[0])
            with self.agent.tab() as tab:
                for at, citizen, j in plan:
                    time.sleep(max(0.0, at - time.monotonic()))
                    reference = self.references[citizen.session]
                    text = f"Reply {j + 1:02d} to resident {citizen.number:02d} [{self.run_id}]: we are on it"
                    start, wall = time.monotonic(), time.time()
                    with lock:
                        agent_sent[text] = (citizen.session, start, wall)
                    try:
                        response = tab.post(f"/api/console/handoffs/{reference}/messages", json={"text": text})
                    except httpx.HTTPError as exc:
                        with lock:
                            failures.append(f"reply to {reference} failed: {exc!r}")
                        continue
                    elapsed = 1000 * (time.monotonic() - start)
                    with lock:
                        post_ms.append(elapsed)
                        if response.status_code != 200:
                            failures.append(f"reply to {reference} answered {response.status_code}: "
                                            f"{response.text[:200]}")
                        else:
                            delivery = str(response.json().get("delivery"))
                            deliveries[delivery] = deliveries.get(delivery, 0) + 1

        threads = [threading.Thread(target=citizen_writes, args=(c, seeds[i]), name=f"citizen-{c.number}",
                                    daemon=True) for i, c in enumerate(citizens)]
        with_reference = [c for c in citizens if c.session in self.references]
        threads += [threading.Thread(target=agent_replies, args=(with_reference[k::AGENT_THREADS],
                                                                 seeds[len(citizens) + k]),
                                     name=f"agent-{k}", daemon=True) for k in range(AGENT_THREADS)]
        self.cpu.start()
        for thread in threads:
            thread.start()
        writing_ends = time.monotonic() + self.messages * INTERVAL[1] + 2 * REPLY_TIMEOUT
        for thread in threads:
            thread.join(timeout=max(1.0, writing_ends - time.monotonic()))
            if thread.is_alive():
                self.problem(f"{thread.name} did not finish writing in time")
        wrote_for = time.monotonic() - begin
        cpu = self.cpu.stop()
        for failure in failures:
            self.problem(failure)

        # Wait for everything to arrive, then a little longer to catch anything arriving twice.
        by_session = {c.session: c for c in citizens}
        with lock:
            expected_citizen = dict(citizen_sent)
            expected_agent = dict(agent_sent)
        self.sse.log.wait(lambda items: set(expected_citizen) <= {
            s.data.get("text") for s in items[sse_mark:] if s.kind == "message" and s.data.get("sender") == "citizen"
        }, REPLY_TIMEOUT)
        deadline = time.monotonic() + REPLY_TIMEOUT
        for text, (session, _, _) in expected_agent.items():
            by_session[session].log.wait_after(marks[session], ending(text), left(deadline))
        time.sleep(3.0)

        # Citizen -> agent: one SSE message event per citizen text, on the right handoff.
        arrivals: dict[str, list[Seen]] = {}
        for seen in self.sse.log.since(sse_mark):
            if seen.kind == "message" and seen.data.get("sender") == "citizen":
                arrivals.setdefault(str(seen.data.get("text")), []).append(seen)
        to_agent, emit_to_rasa, rasa_to_console = [], [], []
        lost_in = dup_in = wrong_in = 0
        for text, (session, mono, wall) in expected_citizen.items():
            got = arrivals.get(text, [])
            if not got:
                lost_in += 1
                continue
            dup_in += len(got) > 1
            wrong_in += got[0].data.get("reference") != self.references.get(session)
            to_agent.append(1000 * (got[0].mono - mono))
            self.citizen_timeline[text] = (wall, iso_seconds(str(got[0].data["at"])), got[0].wall)
            at = iso_seconds(str(got[0].data["at"]))  # the UserUttered timestamp the Rasa server recorded
            emit_to_rasa.append(1000 * (at - wall))
            rasa_to_console.append(1000 * (got[0].wall - at))
        unexpected_in = sum(len(v) for t, v in arrivals.items() if t not in expected_citizen)

        # Agent -> citizen: one bot_uttered per reply, on the right citizen; nothing else from the bot.
        to_citizen = []
        lost_out = dup_out = 0
        other_bot = 0
        bot_total = 0
        for citizen in citizens:
            received = citizen.log.since(marks[citizen.session])
            bot_total += len(received)
            texts = [str(s.data.get("text", "")) for s in received]
            matched = [any(text.endswith(t) for t in expected_agent) for text in texts]
            other_bot += matched.count(False)
            for text, is_reply in zip(texts, matched, strict=True):
                if is_reply and not any(text.endswith(t) for t, (session, _, _) in expected_agent.items()
                                        if session == citizen.session):
                    self.problem(f"citizen {citizen.number} got a reply meant for someone else: {text[:80]}")
        for text, (session, start, wall) in expected_agent.items():
            citizen = by_session[session]
            got = [s for s in citizen.log.since(marks[session]) if str(s.data.get("text", "")).endswith(text)]
            if not got:
                lost_out += 1
                continue
            dup_out += len(got) > 1
            if not str(got[0].data.get("text", "")).startswith(f"{AGENT_NAME} (city team): "):
                self.problem(f"an agent reply arrived without the agent's name: {got[0].data.get('text')!r}")
            to_citizen.append(1000 * (got[0].mono - start))
            self.agent_timeline[text] = (wall, got[0].wall)

        for what, count in (("citizen messages never reached the console", lost_in),
                            ("citizen messages reached the console more than once", dup_in),
                            ("citizen messages reached the wrong handoff", wrong_in),
                            ("unexpected citizen messages reached the console", unexpected_in),
                            ("agent replies never reached the citizen", lost_out),
                            ("agent replies reached the citizen more than once", dup_out),
                            ("bot messages other than agent replies reached citizens in handoff", other_bot)):
            if count:
                self.problem(f"{count} {what}")
        return {
            "wrote_for_seconds": round(wrote_for, 1),
            "cpu_cores_busy": cpu,
            "citizen_to_agent": {
                **stats(to_agent), "sent": len(expected_citizen), "lost": lost_in, "duplicated": dup_in,
                "wrong_handoff": wrong_in, "unexpected": unexpected_in,
                "breakdown": {"emit_to_rasa_user_uttered": stats(emit_to_rasa),
                              "rasa_user_uttered_to_console_event": stats(rasa_to_console)},
            },
            "agent_to_citizen": {
                **stats(to_citizen), "sent": len(expected_agent), "lost": lost_out, "duplicated": dup_out,
                "post_round_trip": stats(post_ms), "delivery": deliveries,
            },
            "bot_silence": {"bot_uttered_total": bot_total, "bot_uttered_not_agent_replies": other_bot},
        }

    # phase 6 / 7

    def resolve_all(self, citizens: list[Citizen]) -> dict[str, Any]:
        marks = {c.session: c.log.mark() for c in citizens}
        starts: dict[str, float] = {}
        lock = threading.Lock()
        failures: list[str] = []

        def resolve(owned: list[Citizen]) -> None:
            with self.agent.tab() as tab:
                for citizen in owned:
                    reference = self.references[citizen.session]
                    start = time.monotonic()
                    with lock:
                        starts[citizen.session] = start
                    try:
                        response = tab.post(f"/api/console/handoffs/{reference}/resolve",
                                            json={"note": "benchmark"})
                    except httpx.HTTPError as exc:
                        with lock:
                            failures.append(f"resolving {reference} failed: {exc!r}")
                        continue
                    if response.status_code != 200 or response.json().get("status") != "resolved":
                        with lock:
                            failures.append(f"resolving {reference} answered {response.status_code}: "
                                            f"{response.text[:200]}")

        owned = [c for c in citizens if c.session in self.references]
        threads = [threading.Thread(target=resolve, args=(owned[k::AGENT_THREADS],), daemon=True)
                   for k in range(AGENT_THREADS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 2 * REPLY_TIMEOUT
        for thread in threads:
            thread.join(timeout=left(deadline))
        for failure in failures:
            self.problem(failure)
        deadline = time.monotonic() + REPLY_TIMEOUT
        for citizen in owned:
            citizen.log.wait_after(marks[citizen.session], saying(HANDED_BACK), left(deadline))
        time.sleep(1.0)
        latencies = []
        lost = dup = 0
        for citizen in owned:
            got = [s for s in citizen.log.since(marks[citizen.session]) if HANDED_BACK in str(s.data.get("text", ""))]
            if not got or citizen.session not in starts:
                lost += 1
                continue
            dup += len(got) > 1
            latencies.append(1000 * (got[0].mono - starts[citizen.session]))
        if lost:
            self.problem(f"{lost} citizens were never told they are back with the bot")
        if dup:
            self.problem(f"{dup} citizens were told more than once that they are back with the bot")
        return {**stats(latencies), "lost": lost, "duplicated": dup}

    # the warm-up

    def warm_up(self) -> None:
        """One conversation through the whole path, so lazily loaded parts load before measuring."""
        citizen = Citizen(self.url, 0)
        try:
            mark = citizen.log.mark()
            citizen.say("hello")
            citizen.log.wait(lambda items: len(items) > mark, REPLY_TIMEOUT)
            citizen.log.settle(0.8)
            sse_mark = self.sse.log.mark()
            citizen.say(ESCALATE)
            if not self.sse.log.wait(lambda items: any(
                    s.kind == "handoff" and s.data.get("conversation_id") == citizen.session
                    for s in items[sse_mark:]), REPLY_TIMEOUT):
                raise BenchError("the warm-up conversation's handoff never reached the console")
            event = next(s for s in self.sse.log.since(sse_mark)
                         if s.kind == "handoff" and s.data.get("conversation_id") == citizen.session)
            reference = str(event.data["reference"])
            citizen.log.settle(0.8)
            client = self.agent.client
            for path, body in (("claim", None), ("messages", {"text": "warm-up"})):
                response = client.post(f"/api/console/handoffs/{reference}/{path}", json=body)
                if response.status_code != 200:
                    raise BenchError(f"warm-up {path} answered {response.status_code}: {response.text[:300]}")
            citizen.say("warm-up message")
            self.sse.log.wait(lambda items: any(s.data.get("text") == "warm-up message" for s in items[sse_mark:]),
                              REPLY_TIMEOUT)
            mark = citizen.log.mark()
            client.post(f"/api/console/handoffs/{reference}/resolve", json=None)
            citizen.log.wait(lambda items: any(HANDED_BACK in str(s.data.get("text", "")) for s in items[mark:]),
                             REPLY_TIMEOUT)
        finally:
            citizen.close()


def server_timeline(bench: Bench, database: Path) -> dict[str, Any]:
    """Where the relay time goes, from the handoff service's event log (``handoff_events.at``, when each
    event was stored) matched with the client-side wall clock (same machine, same clock).

    Citizen -> agent: emit | Rasa's UserUttered (after NLU) | stored by the handoff service | SSE arrival.
    Agent -> citizen: POST start | stored as "pending" | stored as "sent" (Rasa's handoff channel
    answered) | arrival on the citizen's socket.
    """
    if not database.exists() or not (bench.citizen_timeline or bench.agent_timeline):
        return {}
    stored: dict[tuple[str, str], float] = {}
    sent: dict[str, float] = {}
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        for data, at in db.execute("SELECT data, at FROM handoff_events WHERE kind = 'message' ORDER BY id"):
            message = json.loads(data)
            moment = iso_seconds(str(at).replace(" ", "T"))
            key = (str(message.get("sender")), str(message.get("text")))
            stored.setdefault(key, moment)
            if message.get("sender") == "agent" and message.get("delivery") == "sent":
                sent.setdefault(str(message.get("text")), moment)
    uttered_to_stored, stored_to_sse = [], []
    for text, (_, uttered, arrived) in bench.citizen_timeline.items():
        if ("citizen", text) in stored:
            uttered_to_stored.append(1000 * (stored["citizen", text] - uttered))
            stored_to_sse.append(1000 * (arrived - stored["citizen", text]))
    post_to_stored, stored_to_sent, arrived_after_sent = [], [], []
    for text, (start, arrived) in bench.agent_timeline.items():
        if ("agent", text) in stored and text in sent:
            post_to_stored.append(1000 * (stored["agent", text] - start))
            stored_to_sent.append(1000 * (sent[text] - stored["agent", text]))
            arrived_after_sent.append(1000 * (arrived - sent[text]))
    return {
        "citizen_to_agent": {
            "rasa_user_uttered_to_stored_by_service": stats(uttered_to_stored),
            "stored_to_console_event": stats(stored_to_sse),
        },
        "agent_to_citizen": {
            "post_start_to_stored_pending": stats(post_to_stored),
            "pending_to_sent (Rasa handoff channel call)": stats(stored_to_sent),
            "citizen_arrival_minus_sent (negative: before)": stats(arrived_after_sent),
        },
    }


# Report ----------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform()}


def checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, label in (("escalation_staggered", "escalation appears in the console within 1 s (staggered)"),
                       ("escalation_burst", "escalation appears in the console within 1 s (burst)")):
        if key in results:
            r = results[key]
            rows.append({"check": label, "target": "every one <= 1000 ms",
                         "value": f"{r['within_1s']}/{r['total']} (max {r['to_console']['max_ms']} ms)",
                         "pass": r["within_1s"] == r["total"]})
    relay = results.get("relay")
    if relay:
        for key, label in (("citizen_to_agent", "relay citizen -> agent p95"),
                           ("agent_to_citizen", "relay agent -> citizen p95")):
            r = relay[key]
            rows.append({"check": label, "target": f"<= {TARGET_RELAY_P95_MS:.0f} ms", "value": f"{r['p95_ms']} ms",
                         "pass": r["p95_ms"] is not None and r["p95_ms"] <= TARGET_RELAY_P95_MS})
        ways = ("citizen_to_agent", "agent_to_citizen")
        ok = all(relay[k]["lost"] == 0 and relay[k]["duplicated"] == 0 for k in ways)
        rows.append({"check": "every relayed message delivered exactly once", "target": "0 lost, 0 duplicated",
                     "value": "; ".join(f"{k}: {relay[k]['lost']} lost, {relay[k]['duplicated']} duplicated"
                                        for k in ("citizen_to_agent", "agent_to_citizen")), "pass": ok})
        silent = relay["bot_silence"]["bot_uttered_not_agent_replies"]
        rows.append({"check": "the bot says nothing during the handoff", "target": "0 bot messages",
                     "value": str(silent), "pass": silent == 0})
    return rows


def row(name: str, s: dict[str, Any], note: str = "") -> str:
    return f"| {name} | {s['n']} | {s['p50_ms']} | {s['p95_ms']} | {s['max_ms']} | {note} |"


def markdown(payload: dict[str, Any]) -> str:
    r = payload["results"]
    cfg = payload["config"]
    m = payload["machine"]
    lines = [
        "# Human handoff: escalation to the console and relay latency",
        "",
        f"{payload['date']}, {m['cores']} cores ({m['cpu']}), Python {m['python']}; the whole stack and the "
        f"clients on the same machine. {cfg['conversations']} citizens on socket.io (polling), one agent on the "
        f"console API + SSE stream; run took {payload['runtime_seconds']} s.",
        "",
        "All times client-side (`time.monotonic()` in one process), in ms.",
        "",
        "| measurement | n | p50 | p95 | max | note |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    base = r.get("baseline", {})
    if "one_at_a_time" in base:
        lines.append(row("baseline: bot reply to \"hello\", one at a time", base["one_at_a_time"],
                         "first message of each conversation"))
    if "all_at_once" in base:
        lines.append(row(f"baseline: bot reply to \"hello\", {cfg['conversations']} at once", base["all_at_once"],
                         "second message of each conversation"))
    if "all_at_once_second_group" in base:
        lines.append(row("baseline: same, second group (before the burst)", base["all_at_once_second_group"],
                         "first message of each new conversation"))
    for key, label in (("escalation_staggered", f"escalation -> console `handoff` event, staggered over "
                                                f"{STAGGER_SECONDS:.0f} s"),
                       ("escalation_burst", "escalation -> console `handoff` event, burst")):
        if key in r:
            e = r[key]
            lines.append(row(label, e["to_console"], f"{e['within_1s']}/{e['total']} within 1 s (target: all)"))
            lines.append(row(label.replace("console `handoff` event", "citizen's \"You are number N\""),
                             e["to_queue_message"], ""))
            lines.append(row("  of which: emit -> handoff stored by the service (`created_at`)",
                             e["breakdown"]["emit_to_handoff_created_at"], "Rasa NLU + policies, action server"))
            lines.append(row("  of which: `created_at` -> console event", e["breakdown"]["created_at_to_console_event"],
                             "handoff service, SSE"))
    if "claim" in r:
        lines.append(row("claim POST round trip", r["claim"], ""))
    relay = r.get("relay")
    if relay:
        c2a, a2c = relay["citizen_to_agent"], relay["agent_to_citizen"]
        lines.append(row("relay citizen -> agent (emit -> SSE `message`)", c2a,
                         f"target p95 <= 500; {c2a['lost']} lost, {c2a['duplicated']} duplicated"))
        parts = c2a["breakdown"]
        lines.append(row("  of which: emit -> Rasa's UserUttered timestamp", parts["emit_to_rasa_user_uttered"],
                         "socket.io, Rasa until the message is in the tracker"))
        lines.append(row("  of which: UserUttered -> SSE event", parts["rasa_user_uttered_to_console_event"],
                         "Rasa's relay POST, handoff service, SSE"))
        lines.append(row("relay agent -> citizen (POST start -> `bot_uttered`)", a2c,
                         f"target p95 <= 500; {a2c['lost']} lost, {a2c['duplicated']} duplicated"))
        lines.append(row("  agent reply POST round trip", a2c["post_round_trip"], f"delivery: {a2c['delivery']}"))
        timeline = relay.get("server_timeline") or {}
        for way, steps in timeline.items():
            for step, s in steps.items():
                lines.append(row(f"  server timeline, {way.replace('_', ' ')}: {step.replace('_', ' ')}", s,
                                 "handoff service's event log"))
    for key, label in (("handback", "resolve -> citizen's \"You're back with the virtual assistant\""),
                       ("handback_burst_group", "same, burst group")):
        if key in r:
            lines.append(row(label, r[key], f"{r[key]['lost']} lost, {r[key]['duplicated']} duplicated"))
    if relay:
        silence = relay["bot_silence"]
        lines += ["", f"During the relay phase ({relay['wrote_for_seconds']} s, {cfg['messages']} messages each way "
                      f"per conversation, intervals uniform {INTERVAL[0]}-{INTERVAL[1]} s, agent replies from "
                      f"{AGENT_THREADS} threads at the same time as the citizens wrote) the citizens received "
                      f"{silence['bot_uttered_total']} `bot_uttered` events, "
                      f"{silence['bot_uttered_not_agent_replies']} of them not an agent's reply."]
        busy = relay.get("cpu_cores_busy") or {}
        if busy:
            lines += ["", "CPU busy while the citizens and the agent were writing (cores, 1.0 = one core): "
                      + ", ".join(f"{name} {value}" for name, value in busy.items()) + "."]
    burst = r.get("escalation_burst", {}).get("cpu_cores_busy")
    if burst:
        lines += ["", "CPU busy from the burst of escalations until the last reached the console (cores): "
                  + ", ".join(f"{name} {value}" for name, value in burst.items()) + "."]
    lines += ["", "| target | required | measured | result |", "| --- | --- | --- | --- |"]
    for check in payload["checks"]:
        lines.append(f"| {check['check']} | {check['target']} | {check['value']} | "
                     f"{'pass' if check['pass'] else '**FAIL**'} |")
    if payload["problems"]:
        lines += ["", "Problems:", ""] + [f"- {p}" for p in payload["problems"]]
    if payload.get("aborted"):
        lines += ["", f"**The run was aborted:** {payload['aborted']}"]
    if payload.get("rss_mb"):
        lines += ["", "Resident memory at the end (MB): "
                  + ", ".join(f"{k} {v}" for k, v in payload["rss_mb"].items()) + "."]
    lines += ["", "Baseline rows: the plain bot answering \"hello\" in this same run (20 clients on one 2-core "
                  "machine), for comparison with the handoff figures. A warm-up conversation ran the whole path "
                  "once before measuring."]
    return "\n".join(lines) + "\n"


def write(payload: dict[str, Any]) -> str:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "handoff.json").write_text(json.dumps(payload, indent=2) + "\n")
    text = markdown(payload)
    (RESULTS / "handoff.md").write_text(text)
    return text


# Main ------------------------------------------------------------------------------------------

def run(bench: Bench, stack: Stack) -> None:
    results = bench.results
    bench.cpu = CpuMeter(stack)

    def step(name: str) -> None:
        stack.check()
        if bench.stream is not None and bench.stream.error:
            raise BenchError(bench.stream.error)
        print(f"[{time.strftime('%H:%M:%S')}] {name}", flush=True)

    step("warm-up conversation")
    bench.open_console()
    bench.warm_up()

    step(f"connecting {bench.n} citizens")
    citizens = bench.connect(bench.n)
    base: dict[str, Any] = {}
    results["baseline"] = base
    step("baseline: hello, one at a time")
    base["one_at_a_time"] = bench.hello_one_at_a_time(citizens)
    step("baseline: hello, all at once")
    base["all_at_once"] = bench.hello_all_at_once(citizens)
    print(f"  {base}", flush=True)

    step(f"escalation, staggered over {STAGGER_SECONDS} s")
    results["escalation_staggered"] = bench.escalate(citizens, STAGGER_SECONDS)
    print(f"  {results['escalation_staggered']}", flush=True)
    step("claiming")
    results["claim"] = bench.claim_all(citizens)
    step("relay both ways")
    results["relay"] = bench.relay(citizens)
    print(f"  {json.dumps(results['relay'])}", flush=True)
    step("resolving")
    results["handback"] = bench.resolve_all(citizens)
    print(f"  {results['handback']}", flush=True)

    step(f"second group of {bench.n} citizens: hello all at once, then a burst of escalations")
    citizens = bench.connect(bench.n)
    base["all_at_once_second_group"] = bench.hello_all_at_once(citizens)
    results["escalation_burst"] = bench.escalate(citizens, 0.0)
    print(f"  {results['escalation_burst']}", flush=True)
    bench.claim_all(citizens)
    results["handback_burst_group"] = bench.resolve_all(citizens)
    stack.check()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.handoff")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10, help="messages each way per conversation")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args(argv)
    started = time.monotonic()
    # an aborted polling request when a citizen disconnects without waiting is expected, not news
    logging.getLogger("engineio.client").addFilter(lambda record: "packet queue is empty" not in record.getMessage())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `timeout`, CI: still stop the servers
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    settings = StackSettings(
        var_dir=VAR, rasa_port=free_port(), action_port=free_port(), web_port=free_port(),
        handoff_port=free_port(), database_url="", rasa_api_token="bench-" + uuid.uuid4().hex,
        handoff_token="bench-handoff-" + uuid.uuid4().hex,
    )
    bench = Bench(settings, args.conversations, args.messages, args.seed)
    aborted: str | None = None
    memory: dict[str, float] = {}
    stack = Stack(settings)
    try:
        print("Starting the stack...", flush=True)
        stack.start()
        run(bench, stack)
        for server in stack.servers:
            if server.process is not None:
                memory[server.name] = rss_mb(server.process.pid)
    except Exception as exc:  # report what was measured, then fail
        aborted = f"{type(exc).__name__}: {exc}"
        print(f"ABORTED: {aborted}", file=sys.stderr, flush=True)
    finally:
        bench.close()
        stack.stop()
    if "relay" in bench.results:
        try:
            bench.results["relay"]["server_timeline"] = server_timeline(bench, VAR / "handoff.db")
        except (sqlite3.Error, ValueError) as exc:
            print(f"could not read the handoff service's event log: {exc}", file=sys.stderr)
    payload = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {"conversations": args.conversations, "messages": args.messages, "interval_seconds": INTERVAL,
                   "stagger_seconds": STAGGER_SECONDS, "agent_threads": AGENT_THREADS, "seed": args.seed,
                   "transport": "socket.io polling; console JSON API + SSE"},
        "targets": {"appears_in_console_ms": TARGET_APPEAR_MS, "relay_p95_ms": TARGET_RELAY_P95_MS},
        "results": bench.results,
        "checks": checks(bench.results),
        "problems": bench.problems,
        "aborted": aborted,
        "rss_mb": memory,
        "logs": str(VAR.relative_to(ROOT) / "logs"),
        "runtime_seconds": round(time.monotonic() - started, 1),
    }
    print(write(payload))
    print(f"Servers' logs: {VAR / 'logs'}")
    if aborted:
        return 2
    return 1 if bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
