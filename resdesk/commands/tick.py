"""``resdesk tick [--config FILE] [--now WHEN] [--json]``: send what the clock says is due.

Evaluates every case, queues each acknowledgement, stage-entry notice, reminder
and overdue alert it owes (once, however often it runs) and sends what is due.
``--delivered ID`` / ``--not-delivered ID`` settle a message left unconfirmed by a
crash mid-send, once a person has checked whether it arrived.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tick",
        help="evaluate every open case's clock; send due reminders, alerts and notices",
        description="Evaluate every case against its protocol's clock and send each due "
        "acknowledgement, stage-entry notice, reminder and overdue alert exactly once. "
        "Reminders and alerts are created in working hours (09:00-17:00 on working days) only.",
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--now", metavar="WHEN", help="run as at this time (default: now); without an offset, local time")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    settle = parser.add_mutually_exclusive_group()
    settle.add_argument(
        "--delivered", metavar="MESSAGE-ID",
        help="an unconfirmed message was checked and did arrive: record it as sent (then tick as usual)",
    )
    settle.add_argument(
        "--not-delivered", metavar="MESSAGE-ID",
        help="an unconfirmed message was checked and did not arrive: send it again at this tick",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from resdesk.commands.protocols import registry_for
    from resdesk.counting import share_counters

    registry, settings = registry_for(args)
    counters = share_counters(settings)  # before the outbox is imported: it makes the counters

    from resdesk.cases import open_store
    from resdesk.logs import configure_logging
    from resdesk.outbox.dispatch import run_tick
    from resdesk.output import print_json
    from resdesk.protocols import parse_when

    configure_logging(settings.service.log_format)
    now = parse_when(args.now, what="--now time") if args.now else datetime.now(timezone.utc)
    store = open_store(settings.storage.database, settings.storage.archive)
    try:
        if args.delivered or args.not_delivered:
            from resdesk.outbox.sending import settle_unconfirmed

            settle_unconfirmed(store, args.delivered or args.not_delivered, delivered=bool(args.delivered), now=now)
        report = run_tick(store, settings, registry, now)
    finally:
        store.close()
    if counters is not None:
        _fold_counters(counters)
    if args.json:
        print_json(report.as_json())
    else:
        _print(report)
    for error in report.errors:
        # The reason may quote a value from the case; it is in the alert and in --json, not here.
        print(f"resdesk: {error['key']} could not be prepared (see its alert, or --json).", file=sys.stderr)
    return 1 if report.errors or report.failed else 0


def _fold_counters(folder) -> None:
    """Fold the counter files of ended processes (``resdesk.counting.fold_ended``); a failure only warns:
    the tick's own work is done, and the files are summed as they are."""
    import logging

    from resdesk.counting import fold_ended

    try:
        fold_ended(folder)
    except (OSError, RuntimeError, ValueError) as exc:
        logging.getLogger("resdesk.tick").warning("The counters in %s could not be folded (%s).", folder, exc)


def _print(report) -> None:
    if report.sending_disabled:
        print("Sending is turned off (smtp.enabled = false); queued only.")
    if report.sender_busy:
        print("Another process is sending; queued only.")
    for title, rows in (
        ("Sent", report.sent),
        ("Waiting", report.deferred),
        ("Failed", report.failed),
        ("Unconfirmed (check before resending)", report.unconfirmed),
    ):
        if rows:
            print(f"{title}:")
            for row in rows:
                extra = f"  ({row['reason']})" if row.get("reason") else ""
                # No subject: it carries the inbound subject, which can name a child (--json has it).
                print(f"  {row['case'] or '-'}  {row['kind']:<15} {', '.join(row['recipients'])}{extra}")
    if not (report.sent or report.deferred or report.failed or report.unconfirmed):
        print("Nothing to send.")
