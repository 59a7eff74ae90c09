"""``resdesk quarantine [list] | release ID | file ID REF | dismiss ID``: quarantined mail."""

from __future__ import annotations

import argparse
import getpass


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "quarantine", help="list, release, file or dismiss quarantined mail",
        description="Mail held back with the reason a person can act on, and the three decisions on it.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="what is held, and why")
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    release = actions.add_parser("release", help="process a held message again")
    release.add_argument("ledger_id", metavar="ID", type=int)
    release.add_argument("--trust", choices=("sender", "domain"), help="trust its sender or domain from now on")
    file = actions.add_parser("file", help="file a held message on a case as it is")
    file.add_argument("ledger_id", metavar="ID", type=int)
    file.add_argument("ref", metavar="REF")
    dismiss = actions.add_parser("dismiss", help="take a held message off the list")
    dismiss.add_argument("ledger_id", metavar="ID", type=int)
    for sub in (release, file, dismiss):
        sub.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
        sub.add_argument("--as", dest="actor", default=None, help="who decides (default cli:<login name>)")
    for sub in (parser, listing, release, file, dismiss):
        sub.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.set_defaults(handler=run, json=False)


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from resdesk.intake import quarantine as held
    from resdesk.output import print_json, print_table
    from resdesk.settings import load_settings
    from resdesk.wiring import build_processor, open_store_for

    settings = load_settings(args.config)
    store = open_store_for(settings)
    now = datetime.now(timezone.utc)
    who = getattr(args, "actor", None) or f"cli:{getpass.getuser()}"
    try:
        if args.action in (None, "list"):
            with store.transaction() as tx:
                rows = [{"id": m.id, "from": m.sender, "subject": m.subject, "reason": m.reason,
                         "received_at": m.received_at.isoformat() if m.received_at else None}
                        for m in held.quarantined(tx)]
            if args.json:
                print_json(rows)
            else:
                print_table(["ID", "FROM", "SUBJECT", "REASON"],
                            [[str(r["id"]), r["from"] or "-", (r["subject"] or "")[:50], r["reason"] or ""] for r in rows])
            return 0
        if args.action == "release":
            outcome = held.release(store, build_processor(settings, store), args.ledger_id, now, actor=who,
                                   reason=args.reason, trust=args.trust)
            print(f"resdesk: message {args.ledger_id} processed again: {outcome.state}"
                  + (f" on {outcome.case_ref}" if outcome.case_ref else "")
                  + (f" ({outcome.reason})" if outcome.reason else "") + ".")
            return 0 if outcome.state != "quarantined" else 1
        with store.transaction() as tx:
            if args.action == "file":
                held.file_on_case(tx, args.ledger_id, args.ref, now, actor=who, reason=args.reason)
            else:
                held.dismiss(tx, args.ledger_id, now, actor=who, reason=args.reason)
        print(f"resdesk: message {args.ledger_id} {'filed' if args.action == 'file' else 'dismissed'}.")
        return 0
    finally:
        store.close()
