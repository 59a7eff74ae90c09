"""``resdesk retention --dry-run | --apply``: dispose of what is past its retention period.

Periods come from the ``[retention]`` settings, per record kind, counted from each case's
resolution; a case under a legal hold (``resdesk case REF --hold REASON``) is left whole.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "retention",
        help="list (--dry-run) or dispose of (--apply) what is past its retention period",
        description="Dispose of the raw messages, documents, auditor records and whole cases whose retention "
        "period, counted from the case's resolution, has passed, unless the case is under a legal hold. Each "
        "disposed case keeps one audit entry saying what went, when and under which rule.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="list what would be disposed of; change nothing")
    mode.add_argument("--apply", action="store_true", help="dispose of it")
    parser.add_argument("--now", metavar="WHEN", help="judge the periods as at this time (default: now)")
    parser.add_argument("--config", metavar="FILE", help="settings file (default resdesk.toml)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(handler=run)


def policy_for(settings):
    """The retention policy the ``[retention]`` settings describe."""
    from resdesk.cases.retention import AUDITOR_RECORDS, CASE, DOCUMENTS, RAW_MESSAGES, RetentionPolicy

    names = {CASE: "cases_years", RAW_MESSAGES: "raw_messages_years", DOCUMENTS: "documents_years",
             AUDITOR_RECORDS: "auditor_records_years"}
    return RetentionPolicy(
        years={kind: getattr(settings.retention, name) for kind, name in names.items()},
        settings={kind: f"retention.{name}" for kind, name in names.items()},
    )


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from resdesk.cases.retention import apply_retention, plan_retention
    from resdesk.output import print_json
    from resdesk.protocols import parse_when
    from resdesk.settings import load_settings
    from resdesk.wiring import open_store_for

    settings = load_settings(args.config)
    now = parse_when(args.now, what="--now time") if args.now else datetime.now(timezone.utc)
    store = open_store_for(settings)
    mail = _MailCopies(settings)
    try:
        policy = policy_for(settings)
        if args.apply:
            report = apply_retention(store, policy, now, remove_mail=mail.remove, actor="resdesk retention")
        else:
            report = plan_retention(store, policy, now)
    finally:
        mail.close()
        store.close()
    if args.json:
        print_json(report.as_json())
        return 0
    verb = "Disposed of" if report.applied else "Would dispose of"
    for due in report.due:
        print(f"{verb} {due.case_ref} {due.kind} ({due.count}): {due.rule}")
    for ref in report.held:
        print(f"Kept {ref}: under a legal hold.")
    if not report.due and not report.held:
        print("Nothing is past its retention period.")
    if report.applied:
        print(f"Removed {report.files_removed} archived file(s) and {report.mailbox_copies_removed} "
              f"mailbox cop{'y' if report.mailbox_copies_removed == 1 else 'ies'}.")
    return 0


class _MailCopies:
    """Removes disposed messages' copies from the processed folder, connecting only when needed."""

    def __init__(self, settings):
        self.settings = settings
        self.source = None

    def remove(self, copies: dict[str, str | None]) -> int:
        from resdesk.intake.sources import connect_source

        if self.source is None:
            self.source = connect_source(self.settings.mailbox)
        return self.source.remove_copies(self.settings.mailbox.processed_folder, copies)

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
