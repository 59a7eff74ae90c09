"""``resdesk verify REF | --all | --record FILE``: is a case's audit trail and archive intact?"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "verify", help="check a case's audit entries and archived files",
        description="Recompute one case's audit entries and archived files' SHA-256 (or every case's, with "
        "--all), or check a record PDF's embedded entries, against the case file unless --offline. Exit "
        "status 1 names the first entry or file that does not match.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("ref", metavar="REF", nargs="?", help="the case reference")
    which.add_argument("--all", action="store_true", help="every case in the case file")
    which.add_argument("--record", metavar="PDF", help="a case record PDF written by Resolution Desk")
    parser.add_argument("--offline", action="store_true", help="with --record: check the PDF by itself")
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from resdesk.cases.verify import verify_all, verify_case
    from resdesk.errors import UsageError
    from resdesk.output import print_json
    from resdesk.render.recordcheck import check_record
    from resdesk.settings import load_settings
    from resdesk.wiring import open_store_for

    store = None if (args.record and args.offline) else open_store_for(load_settings(args.config))
    try:
        if args.record:
            try:
                pdf = Path(args.record).read_bytes()
            except OSError as exc:
                raise UsageError(f"The record {args.record} cannot be read ({exc.strerror}).") from None
            results = [check_record(pdf, store)]
        elif args.all:
            results = verify_all(store)
        else:
            results = [verify_case(store, args.ref)]
    finally:
        if store is not None:
            store.close()
    if args.json:
        print_json([r.as_dict() for r in results])
    else:
        for result in results:
            print(result.sentence())
    return 0 if all(r.intact for r in results) else 1
