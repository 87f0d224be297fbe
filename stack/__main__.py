"""``python -m stack run|train``: the embedded default on one machine."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from retrieval.index import MANIFEST
from retrieval.settings import get_faq_settings
from stack.processes import Stack, StackError
from stack.settings import StackSettings
from stack.train import train


def _run(settings: StackSettings) -> int:
    stack = Stack(settings)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    faq_index = get_faq_settings().index_dir / MANIFEST
    if not faq_index.exists():
        print(f"Note: no FAQ index at {faq_index}; general questions get an apology until `make faq` builds it.")
    print("Starting the action server, the handoff service, the Rasa server and the web app (Rasa takes ~40 s)...",
          flush=True)
    try:
        stack.start()
    except StackError as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 1
    print(
        "\nReady.\n"
        f"  Web chat:       {settings.web_url()}/\n"
        f"  Agent console:  {settings.handoff_url()}/console/  (create an account: make agent)\n"
        f"  Rasa REST:      {settings.rasa_public_url()}/webhooks/rest/webhook\n"
        f"  Action server:  http://{settings.host}:{settings.action_port}/health\n"
        f"  Logs:           {settings.var_dir / 'logs'}\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    try:
        while not stopping:
            stack.check()
            time.sleep(1.0)
    except StackError as exc:
        print(f"Stopping: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    print("\nStopping...", flush=True)
    stack.stop()
    print("Stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start all servers until Ctrl-C")
    train_parser = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    train_parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    settings = StackSettings()
    if args.command == "train":
        train(settings, force=args.force)
        return 0
    return _run(settings)


if __name__ == "__main__":
    sys.exit(main())
