"""``resdesk users add|list|disable|reset``: who may sign in to the workspace, with which role."""

from __future__ import annotations

import argparse
import getpass
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "users", help="workspace users and roles",
        description="Add, list, disable workspace users or reset a password. Roles: auditor (reads and "
        "downloads), business-unit (also acts on cases and the quarantine), admin (also manages users).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a user")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=("auditor", "business-unit", "admin"))
    reset = actions.add_parser("reset", help="give a user a new password (and enable them)")
    reset.add_argument("name", metavar="NAME")
    for sub in (add, reset):
        sub.add_argument("--password-stdin", action="store_true",
                         help="read the password from standard input (otherwise one is generated and printed once)")
    disable = actions.add_parser("disable", help="stop a user signing in")
    disable.add_argument("name", metavar="NAME")
    listing = actions.add_parser("list", help="every user with role and state")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    for sub in (add, reset, disable, listing):
        sub.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.set_defaults(handler=run)


def _password(args) -> tuple[str, bool]:
    """(password, generated?)"""
    from resdesk.cases.users import generate_password

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return generate_password(), True


def run(args: argparse.Namespace) -> int:
    from resdesk.cases import users
    from resdesk.output import print_json, print_table
    from resdesk.settings import load_settings
    from resdesk.wiring import open_store_for

    store = open_store_for(load_settings(args.config))
    actor = f"cli:{getpass.getuser()}"
    try:
        if args.action == "list":
            with store.transaction() as tx:
                rows = users.list_users(tx)
            if args.json:
                print_json(rows)
            else:
                print_table(["NAME", "ROLE", "STATE", "PASSWORD SET"],
                            [[r["name"], r["role"], "disabled" if r["disabled"] else "active", r["password_changed_at"]]
                             for r in rows])
            return 0
        if args.action == "disable":
            with store.transaction() as tx:
                users.disable_user(tx, args.name, actor=actor)
            print(f"{args.name} can no longer sign in.")
            return 0
        password, generated = _password(args)
        with store.transaction() as tx:
            if args.action == "add":
                users.add_user(tx, args.name, args.role, password, actor=actor)
            else:
                users.reset_password(tx, args.name, password, actor=actor)
        done = "added as " + args.role if args.action == "add" else "given a new password"
        print(f"{args.name} {done}." + (f" Password (shown only now): {password}" if generated else ""))
        return 0
    finally:
        store.close()
