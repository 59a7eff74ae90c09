"""``resdesk alerts [ack KEY]``: failed or unconfirmed sends, bounces and mailbox resets."""

from __future__ import annotations

import argparse
import getpass


def register(subparsers) -> None:
    parser = subparsers.add_parser("alerts", help="open alerts, and acknowledging one",
                                   description="What needs a person's attention until acknowledged.")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    ack = actions.add_parser("ack", help="acknowledge an alert by its key")
    ack.add_argument("key", metavar="KEY")
    ack.add_argument("--reason", required=True, help="what was done about it")
    ack.add_argument("--as", dest="actor", default=None, help="who acknowledges (default cli:<login name>)")
    for sub in (parser, ack):
        sub.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from resdesk.output import print_json, print_table
    from resdesk.outbox.alerts import acknowledge, open_alerts
    from resdesk.settings import load_settings
    from resdesk.wiring import open_store_for

    store = open_store_for(load_settings(args.config))
    try:
        with store.transaction() as tx:
            if args.action == "ack":
                acknowledge(tx, args.key, datetime.now(timezone.utc),
                            actor=args.actor or f"cli:{getpass.getuser()}", reason=args.reason)
                print(f"resdesk: alert {args.key} acknowledged.")
                return 0
            rows = open_alerts(tx)
    finally:
        store.close()
    if args.json:
        print_json(rows)
    else:
        print_table(["KEY", "WHEN", "CASE", "WHAT"],
                    [[r["key"], r["at"].isoformat(timespec="minutes"), r["case_ref"] or "-", r["title"]] for r in rows])
    return 0
