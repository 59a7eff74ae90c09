"""``resdesk act ACTION …``: the workspace's corrections to a case, for scripting.

Each action needs ``--reason`` and is recorded as done by ``--as NAME`` (default
``cli:<login name>``), exactly as the same action in the workspace is.
"""

from __future__ import annotations

import argparse
import getpass

ACTIONS = {
    "move-message": ("file a received message (ledger id) on another case", ["ledger_id:int", "to_ref"]),
    "accept-message": ("accept a message (ledger id) filed from someone not on its case: what it says is "
                       "recorded as a party's, and its sender becomes a party", ["ledger_id:int"]),
    "merge": ("fold a duplicate case into another", ["ref", "into_ref"]),
    "reopen": ("re-open a resolved case that escalated again", ["ref"]),
    "close": ("close a case as resolved", ["ref"]),
    "set-stage": ("correct a case's stage (it is entered now)", ["ref", "stage:int"]),
    "clear-review": ("clear a case's needs-review flag", ["ref"]),
    "note": ("add a note to a case (the note is the reason)", ["ref"]),
    "add-party": ("add someone to a case by e-mail address: their mail about it is then a party's",
                  ["ref", "email"]),
    "deadline-met": ("record a deadline kept outside the case file done (the MASH referral made, the outcome "
                     "letter sent)",
                     ["ref", "deadline"]),
    "withdraw-deadline-met": ("withdraw a deadline's record of done made in error: it reads as never recorded",
                              ["ref", "deadline"]),
    "resend": ("send an outbound message again at the next tick", ["message_id"]),
    "cancel": ("cancel an outbound message not yet sent", ["message_id"]),
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "act", help="correct a case: move or accept a message, merge, re-open, close, set stage, clear review, note, "
                    "add a party, record a deadline met or withdraw that record, resend, cancel",
        description="The business unit's corrections, each an audited event with who, when and why.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, (text, arguments) in ACTIONS.items():
        sub = actions.add_parser(name, help=text, description=text)
        for argument in arguments:
            dest, _, kind = argument.partition(":")
            sub.add_argument(dest, metavar=dest.upper(), type=int if kind == "int" else str)
        if name == "reopen":
            sub.add_argument("--stage", type=int, help="the stage that runs again (default: the last one)")
        if name == "deadline-met":
            sub.add_argument("--done", metavar="WHEN", help="when it was done, e.g. the letter's date (default: now)")
        if name == "add-party":
            sub.add_argument("--name", help="their name")
            sub.add_argument("--agency", help="their agency (e.g. Oldham Council Children's Social Care)")
            sub.add_argument("--role", help="their role (e.g. social worker, designated safeguarding lead)")
        sub.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
        sub.add_argument("--as", dest="actor", default=None, help="who acts (default cli:<login name>)")
        sub.add_argument("--now", metavar="WHEN", help="when the correction is made (default: now)")
        sub.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from resdesk.cases import corrections, record_deadline_met, withdraw_deadline_met
    from resdesk.commands.deadline import calendar_for
    from resdesk.outbox import corrections as outbound
    from resdesk.protocols import default_registry, parse_when
    from resdesk.settings import load_settings
    from resdesk.wiring import build_processor, open_store_for

    settings = load_settings(args.config)
    registry = default_registry(settings.partnership.protocols_dir)
    now = parse_when(args.now, what="--now time") if args.now else datetime.now(timezone.utc)
    who, why = args.actor or f"cli:{getpass.getuser()}", args.reason
    store = open_store_for(settings)

    if args.action == "accept-message":  # reads the archived copy again, in units of work of its own
        from resdesk.intake.accepting import accept

        try:
            accepted = accept(store, build_processor(settings, store), args.ledger_id, now, actor=who, reason=why)
        finally:
            store.close()
        stage = f" at stage {accepted.stage}" if accepted.stage is not None else ""
        print(f"resdesk: message {args.ledger_id} accepted by {who}: {accepted.case_ref} is now {accepted.status}{stage}.")
        return 0

    def protocol(tx):
        return registry.get(tx.require_case(args.ref).protocol)

    work = {
        "move-message": lambda tx: corrections.move_message(tx, args.ledger_id, args.to_ref, now, actor=who, reason=why),
        "merge": lambda tx: corrections.merge_cases(tx, args.ref, args.into_ref, now, actor=who, reason=why),
        "reopen": lambda tx: corrections.reopen_case(tx, protocol(tx), args.ref, now, actor=who, reason=why,
                                                     stage=args.stage),
        "close": lambda tx: corrections.close_case(tx, args.ref, now, actor=who, reason=why),
        "set-stage": lambda tx: corrections.set_stage(tx, protocol(tx), args.ref, args.stage, now, actor=who, reason=why),
        "clear-review": lambda tx: corrections.clear_review(tx, args.ref, now, actor=who, reason=why),
        "note": lambda tx: corrections.add_note(tx, args.ref, why, now, actor=who),
        "add-party": lambda tx: corrections.add_party(tx, args.ref, args.email, now, actor=who, reason=why,
                                                      name=args.name, agency=args.agency, role=args.role),
        "deadline-met": lambda tx: record_deadline_met(
            tx, registry, args.ref, args.deadline, now, actor=who, reason=why,
            calendar_for=lambda p: calendar_for(p, settings),
            done=parse_when(args.done, what="--done time") if args.done else None),
        "withdraw-deadline-met": lambda tx: withdraw_deadline_met(
            tx, registry, args.ref, args.deadline, now, actor=who, reason=why,
            calendar_for=lambda p: calendar_for(p, settings)),
        "resend": lambda tx: outbound.resend(tx, args.message_id, now, actor=who, reason=why),
        "cancel": lambda tx: outbound.cancel(tx, args.message_id, now, actor=who, reason=why),
    }[args.action]
    try:
        with store.transaction() as tx:
            work(tx)
    finally:
        store.close()
    print(f"resdesk: {args.action} done by {who}.")
    return 0
