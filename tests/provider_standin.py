"""A provider's API stood in on 127.0.0.1: a real HTTP server that records requests and answers from a dict.

    with ProviderStandIn({"/bot123:abc/sendMessage": Canned(json={"ok": True})}) as standin:
        ... standin.url ...        # http://127.0.0.1:<free port>
        standin.requests           # every request, in order

A path missing from the dict gets ``default`` (404 unless given). ``responses`` may
be changed while the server runs.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response


@dataclass
class Canned:
    """One answer: JSON, or raw bytes with a content type."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        if self.json is not None:
            return Response(json.dumps(self.json), self.status, self.headers, "application/json")
        return Response(self.body, self.status, self.headers, self.content_type)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ProviderStandIn:
    """Runs with uvicorn in a background thread; use as a context manager."""

    def __init__(self, responses: dict[str, Canned] | None = None, default: Canned | None = None) -> None:
        self.responses: dict[str, Canned] = dict(responses or {})
        self.default = default or Canned(status=404, json={"detail": "not stood in"})
        self.requests: list[Recorded] = []
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        async def record(path: str, request: Request) -> Response:
            self.requests.append(Recorded(request.method, "/" + path, dict(request.query_params),
                                          dict(request.headers), await request.body()))
            return self.responses.get("/" + path, self.default).response()

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off",
                                ws="none")  # the websockets Rasa pins breaks uvicorn's auto-detection
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def __enter__(self) -> ProviderStandIn:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the stand-in server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
