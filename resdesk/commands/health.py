"""``resdesk health [--config FILE] [--json]``: the service's health checks, exit 1 when one fails."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "health",
        help="check the case file, the watcher's lease, the outbox and the last mailbox contact",
        description="The checks behind /healthz: the case file answers at this version's schema, a watcher holds "
        "its lease, nothing waits too long in the outbox, and the mailbox was read recently. Exit 1 when one fails.",
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from resdesk.cases import open_store
    from resdesk.cases.engine import create_store_engine
    from resdesk.monitoring import health_report
    from resdesk.output import print_json
    from resdesk.settings import load_settings

    settings = load_settings(args.config)
    try:
        store = open_store(settings.storage.database, settings.storage.archive)
    except Exception:  # noqa: BLE001 - an unopenable case file is itself the failed check
        from resdesk.cases.store import Store
        from resdesk.cases.archive import Archive

        store = Store(create_store_engine(settings.storage.database), Archive(settings.storage.archive),
                      settings.storage.database)
    try:
        report = health_report(store, settings)
    finally:
        store.close()
    if args.json:
        print_json(report)
    else:
        for name, check in report["checks"].items():
            print(f"{'ok  ' if check['ok'] else 'FAIL'}  {name:<10} {check['detail']}")
    return 0 if report["ok"] else 1
