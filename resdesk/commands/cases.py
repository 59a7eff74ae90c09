"""``resdesk cases`` (every case with its stage and due time) and ``resdesk case REF`` (one timeline)."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    listing = subparsers.add_parser(
        "cases",
        help="cases with their stage and due time",
        description="Every case in the case file with its stage, status, when the stage is due "
        "under the protocol, and whether it is overdue.",
    )
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--open", action="store_true", help="only cases not yet resolved")
    which.add_argument("--overdue", action="store_true", help="only cases whose stage is overdue")
    which.add_argument("--needs-review", action="store_true",
                       help="only cases on the review list (an unreadable outcome, mail from someone not on the case, ...)")
    listing.add_argument("--now", metavar="WHEN", help="evaluate the clock as at this time (default: now)")
    listing.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    listing.add_argument("--limit", type=_positive, metavar="N", help="show at most N cases")
    listing.add_argument("--after", metavar="REF", help="start after this case (the last one a previous page showed)")
    listing.add_argument("--json", action="store_true", help="print one JSON document (written as it is read)")
    listing.set_defaults(handler=run_list)

    one = subparsers.add_parser(
        "case",
        help="one case's timeline",
        description="One case's timeline: its events, the messages received with their SHA-256, "
        "the documents generated, and each stage's clock.",
    )
    one.add_argument("ref", metavar="REF", help="the case reference, e.g. OLD-2026-0007")
    one.add_argument("--now", metavar="WHEN", help="evaluate the clock as at this time (default: now)")
    one.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    one.add_argument("--json", action="store_true", help="print one JSON document")
    one.add_argument("--pdf", metavar="FILE", help="write the case's record for auditors as PDF/A")
    hold = one.add_mutually_exclusive_group()
    hold.add_argument("--hold", metavar="REASON", help="put the case under a legal hold: retention disposes of nothing of it")
    hold.add_argument("--release-hold", metavar="REASON", help="release the case's legal hold")
    one.add_argument("--set", metavar="NAME=VALUE", action="append", default=[], dest="set_facts",
                     help="set or correct a case fact (repeatable), e.g. case_start=2026-11-23 or threshold-dispute=yes")
    one.add_argument("--clear", metavar="NAME", action="append", default=[], dest="clear_facts",
                     help="clear a case fact (repeatable)")
    one.add_argument("--by", metavar="NAME", help="who sets or clears the facts (required with --set/--clear)")
    one.add_argument("--reason", metavar="TEXT", help="why (required with --set/--clear)")
    one.set_defaults(handler=run_case)


def _context(args: argparse.Namespace):
    """Settings, the protocol registry, the case file, the clock's calendar and ``now``."""
    from datetime import datetime, timezone

    from resdesk.cases import open_store
    from resdesk.protocols import parse_when
    from resdesk.commands.deadline import calendar_for
    from resdesk.commands.protocols import registry_for

    registry, settings = registry_for(args)
    store = open_store(settings.storage.database, settings.storage.archive)
    now = parse_when(args.now, what="--now time") if args.now else datetime.now(timezone.utc)
    return settings, registry, store, (lambda protocol: calendar_for(protocol, settings)), now


def _when(text: str | None) -> str:
    if not text:
        return "-"
    from resdesk.protocols import to_local
    from datetime import datetime

    return f"{to_local(datetime.fromisoformat(text)):%a %d %b %Y %H:%M}"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--limit takes a whole number of cases, 1 or more, not {text!r}")
    return value


def run_list(args: argparse.Namespace) -> int:
    from resdesk.cases import iter_case_summaries
    from resdesk.output import print_json_stream, print_table

    _, registry, store, calendar, now = _context(args)
    try:
        rows = iter_case_summaries(store, registry, now, calendar, after=args.after, open_only=args.open,
                                   overdue_only=args.overdue, limit=args.limit, needs_review_only=args.needs_review)
        if args.json:
            print_json_stream(rows)
            return 0
        rows = list(rows)
    finally:
        store.close()
    if not rows:
        print("No cases.")
        return 0
    print_table(
        ["REF", "PROTOCOL", "STAGE", "STATUS", "STARTED", "DUE", "OVERDUE", "MESSAGES"],
        [
            [
                r["ref"], r["protocol"], "-" if r["stage"] is None else str(r["stage"]), r["status"],
                _when(r["stage_started"]), _when(r["stage_due"]) if r["stage_due"] else (r["basis"] or "-"),
                "yes" if r["overdue"] else "", str(r["messages"]),
            ]
            for r in rows
        ],
    )
    if args.limit is not None and len(rows) == args.limit:
        print(f"\nNext page: resdesk cases --limit {args.limit} --after {rows[-1]['ref']}")
    return 0


def run_case(args: argparse.Namespace) -> int:
    from resdesk.output import print_json
    from resdesk.web.casefile import case_document

    settings, registry, store, calendar, now = _context(args)
    try:
        if args.hold is not None or args.release_hold is not None:
            _hold(store, args, now)
        if args.set_facts or args.clear_facts:
            _change_facts(store, args)
        document = case_document(store, args.ref, registry, now, calendar)
        if args.pdf:
            _write_record(store, document, args.pdf, settings)
    finally:
        store.close()
    if args.json:
        print_json(document)
        return 0
    _print_timeline(document)
    return 0


def _hold(store, args: argparse.Namespace, now) -> None:
    """Place or release a legal hold, audited under the signed-in user's name."""
    import getpass
    import sys

    from resdesk.cases.retention import place_hold, release_hold

    actor = f"user:{getpass.getuser()}"
    with store.transaction() as tx:
        if args.hold is not None:
            place_hold(tx, args.ref, args.hold, actor=actor, at=now)
            print(f"Case {args.ref.upper()} is under a legal hold.", file=sys.stderr)
        else:
            release_hold(tx, args.ref, args.release_hold, actor=actor, at=now)
            print(f"The legal hold on case {args.ref.upper()} is released.", file=sys.stderr)
def _change_facts(store, args: argparse.Namespace) -> None:
    """Every --set and --clear in one unit of work: all of them, or none if one is refused."""
    from resdesk.cases import clear_fact, set_fact
    from resdesk.errors import UsageError

    if not (args.by and args.by.strip()) or not (args.reason and args.reason.strip()):
        raise UsageError("Say who changes the case facts and why: --by NAME --reason TEXT.")
    with store.transaction() as tx:
        case = tx.require_case(args.ref)
        for item in args.set_facts:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise UsageError(f"--set takes NAME=VALUE, not '{item}'.")
            set_fact(tx, case, name.strip(), value.strip(), by=args.by.strip(), reason=args.reason.strip())
        for name in args.clear_facts:
            clear_fact(tx, case, name, by=args.by.strip(), reason=args.reason.strip())


def _write_record(store, document, path: str, settings) -> None:
    """The auditors' record as PDF/A, written by the render package when it ships one."""
    from resdesk.errors import RenderError

    try:
        from resdesk.render.record import write_case_record
    except ModuleNotFoundError as exc:
        if exc.name not in ("render.record", "render"):
            raise
        raise RenderError("This build cannot write case records as PDF (render.record is missing).") from None
    write_case_record(store, document, path, settings)


def _print_timeline(d: dict) -> None:
    print(f"{d['ref']}  ({d['protocol']})  status: {d['status']}")
    if d.get("review_reason"):
        print(f"  needs review: {d['review_reason']}")
    child = d["child"]
    if any(child.values()):
        print(f"  child: {child['name'] or '-'}  born {child['dob'] or '-'}  id {child['identifier'] or '-'}")
    print(f"  next: {d['next_action']}")
    if d.get("facts"):
        print("\nFacts")
        for name, fact in d["facts"].items():
            how = "estimated" if fact["estimated"] else f"{fact['source']}, by {fact['set_by']}"
            print(f"  {name:<40} {fact['value']}  ({how})")
    if d.get("needs_facts"):
        print(f"  needs: {', '.join(d['needs_facts'])}")
    print("\nStages")
    for t in d["clock"]:
        label = f"{t['stage']}" + (f" ({t['variant']})" if t["variant"] else "")
        due = _when(t["due"]) if t["due"] else t["basis"]
        started = _when(t["started"]) + (" (estimated)" if t.get("estimated") else "")
        print(f"  {label:<6} {t['name'][:40]:<40} started {started}  due {due}  {t['status']}")
        for deadline in t.get("deadlines") or []:
            done = f" (done {_when(deadline['done'])})" if deadline.get("done") else ""
            print(f"         {deadline['what'][:60]}: due {_when(deadline['due'])} ({deadline['basis']})  "
                  f"{deadline['status']}{done}")
    print("\nEvents")
    for e in d["events"]:
        stage = f" stage {e['stage']}" if e["stage"] is not None else ""
        print(f"  {_when(e['at'])}  {e['kind']}{stage}")
    print("\nMessages")
    for m in d["messages"]:
        print(f"  {_when(m['received_at'])}  {m['state']:<11} {m['sha256'] or '-'}  {m['subject'] or ''}")
    print("\nSent")
    for o in d["outbound"]:
        print(f"  {_when(o['sent_at'] or o['created_at'])}  {o['state']:<8} {o['kind']:<16} {', '.join(o['recipients'])}")
        if o["state"] == "superseded" and o.get("reason"):
            print(f"      {o['reason']}")
    print("\nDocuments")
    for doc in d["documents"]:
        print(f"  {_when(doc['created_at'])}  {doc['kind']:<20} {doc['sha256']}  {doc['filename']}")
