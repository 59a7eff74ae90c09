"""``resdesk demo``: the embedded default, run end to end on ``samples/``."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="process the sample inboxes end to end into a local folder",
        description="Process every sample partnership inbox (samples/maildir) end to end: record and file "
        "each message into a SQLite case file, write the acknowledgements, notices and auditor records, and "
        "show the cases and the quarantine. Running it again finds nothing new and sends nothing twice.",
    )
    parser.add_argument("--out", metavar="DIR", default="var/demo", help="working folder (default var/demo)")
    parser.add_argument("--now", metavar="WHEN", help="run as at this time (default 2026-12-04T12:00, after the samples)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import logging
    from pathlib import Path

    from resdesk.cases.views import case_summaries
    from resdesk.protocols import default_registry
    from resdesk.demo import demo_now, quarantined, run_demo, summary_json
    from resdesk.output import print_json, print_table
    from resdesk.progress import ProgressBar

    logging.basicConfig(level=logging.WARNING, format="resdesk: %(message)s")
    out = Path(args.out)
    now = demo_now(args.now)
    result = run_demo(out, now, progress_for=None if args.json else lambda pid: ProgressBar(f"{pid:<16}"))

    from resdesk.cases import open_store

    store = open_store(f"sqlite:///{out / 'resdesk.sqlite3'}", out / "archive")
    try:
        cases = case_summaries(store, default_registry(), now)
    finally:
        store.close()
    if args.json:
        print_json(summary_json(result, cases))
        return 0

    print()
    for protocol_id, filed in result.drained.items():
        counts = ", ".join(f"{n} {state}" for state, n in filed.items() if n) or "nothing new"
        print(f"{protocol_id:<16} {counts}")
    print(f"\nCases as at {now:%a %d %b %Y %H:%M}:\n")
    print_table(
        ["CASE", "PROTOCOL", "STAGE", "STATUS", "DUE", "OVERDUE", "MESSAGES"],
        [
            [
                c["ref"], c["protocol"], "-" if c["stage"] is None else str(c["stage"]), c["status"],
                _due(c), "yes" if c["overdue"] else "no", str(c["messages"]),
            ]
            for c in cases
        ],
    )
    held = quarantined(out)
    print(f"\nQuarantine ({len(held)}), nothing deleted — each with the reason a person can act on:")
    for item in held:
        print(f"  {item['mailbox']:<16} {item['subject'][:60]!r}\n      {item['reason']}")
    print(f"\nIn {out}/:")
    print(f"  outbox/     {len(list((out / 'outbox').glob('*.eml')))} messages sent this run and before "
          f"(acknowledgements, notices, reminders) as .eml")
    print(f"  documents/  the PDF and Word documents they carry, by case")
    print(f"  records/    {len(result.records)} auditor records (PDF/A-3, case JSON embedded)")
    print(f"  maildir/    each inbox, with Resdesk/Processed and Resdesk/Quarantine folders")
    print(f"  resdesk.sqlite3, archive/  the case file and every message and document by SHA-256")
    print(f"\nThis run sent {result.sent} message(s). To look around the case file:")
    database = f"RESDESK_STORAGE__DATABASE=sqlite:///{out / 'resdesk.sqlite3'} RESDESK_STORAGE__ARCHIVE={out / 'archive'}"
    print(f"  {database} .venv/bin/resdesk cases --now {now:%Y-%m-%dT%H:%M}")
    print(f"  {database} .venv/bin/resdesk case OLD-2026-0002 --now {now:%Y-%m-%dT%H:%M}")
    print("To browse it in the workspace (http://127.0.0.1:8080/):")
    print(f"  .venv/bin/resdesk users add YOUR-NAME --role admin --config {out}/resdesk.toml")
    print(f"  .venv/bin/resdesk serve --config {out}/resdesk.toml")
    return 0


def _due(case: dict) -> str:
    if case["status"] == "resolved":
        return "resolved"
    if case["stage_due"] is None:
        return "no fixed timescale" if case["stage"] is not None else "-"
    from resdesk.protocols import parse_when

    return f"{parse_when(case['stage_due']):%a %d %b %H:%M}"
