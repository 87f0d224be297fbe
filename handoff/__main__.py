"""``python -m handoff``: accounts for the agent console, and the packet's published schema.

    python -m handoff create-user ana --role admin          # asks for the password twice
    echo "$PASSWORD" | python -m handoff create-user bo --password-stdin
    python -m handoff users
    python -m handoff schema > docs/handoff-packet.schema.json
"""

from __future__ import annotations

import argparse
import getpass
import sys

from handoff.accounts import ROLES, Accounts
from handoff.errors import HandoffError
from handoff.packet import json_schema
from handoff.settings import get_settings
from open311.store import make_engine


def _accounts() -> Accounts:
    settings = get_settings()
    return Accounts(make_engine(settings.database_url), settings.session_hours)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise SystemExit("The passwords differ.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handoff")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-user", help="create an agent or admin account")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, default="agent")
    create.add_argument("--name", help="the name citizens see next to this agent's replies")
    create.add_argument("--team")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("users", help="list the accounts")
    sub.add_parser("schema", help="print the context packet's JSON schema")
    args = parser.parse_args(argv)
    try:
        if args.command == "schema":
            sys.stdout.write(json_schema())
        elif args.command == "users":
            for account in _accounts().list():
                print(f"{account.username}\t{account.role}\t{account.team or '-'}\t{account.display_name}")
        else:
            account = _accounts().create(args.username, _password(args.password_stdin), args.role, args.name,
                                         args.team)
            print(f"Created {account.role} {account.username}.")
    except HandoffError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
