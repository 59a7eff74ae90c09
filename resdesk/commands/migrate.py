"""``resdesk migrate [--config FILE] [--check] [--json]``: bring the case file to this version's schema.

The service commands never migrate: they refuse a case file at an older schema and name this
command. A database with no tables at all is created at the newest schema by any command.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="upgrade the case file's schema (take a backup first)",
        description="Upgrade the case file to the schema this version of Resolution Desk uses. "
        "With --check, only report whether it is up to date (exit 1 when it is not).",
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--check", action="store_true", help="report the schema; change nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from resdesk.cases.engine import create_store_engine, current_revision, head_revision, upgrade_to_head
    from resdesk.output import print_json
    from resdesk.settings import load_settings

    settings = load_settings(args.config)
    engine = create_store_engine(settings.storage.database)
    try:
        before = current_revision(engine)
        head = head_revision()
        if not args.check and before != head:
            upgrade_to_head(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    report = {"database": engine.url.render_as_string(hide_password=True), "was": before, "now": after,
              "head": head, "up_to_date": after == head}
    if args.json:
        print_json(report)
    elif args.check:
        print(f"The case file is at schema {before or 'none'}; this version uses {head}"
              + ("." if before == head else ": run `resdesk migrate`."))
    elif before == head:
        print(f"The case file is already at schema {head}.")
    else:
        print(f"The case file was upgraded from schema {before or 'none'} to {after}.")
    return 0 if after == head else 1
