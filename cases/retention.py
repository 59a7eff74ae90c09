"""Retention, legal hold and disposal of resolved cases.

Each record kind has a retention period in whole years counted from the case's
resolution (``cases.resolved_at``):

``raw-messages``     the archived ``.eml`` files, the ledger's subject and sender, and the copies
                     left in the mailbox's processed folder (removed by the caller's ``remove_mail``)
``documents``        received forms and the documents and messages sent (files, rows, outbox bytes)
``auditor-records``  the records for auditors (``case --pdf``, document kind ``case-record``)
``case``             the case itself: its events, parties, outbox rows and every kind above

A case under an active legal hold, or not yet resolved, is never touched. Disposal
of one case is one transaction: the rows go, a ``Disposal`` row per kind remains
(so nothing is disposed of twice), the case's audit payloads are erased when the
whole case goes (their digests keep the chain verifiable, see ``audit``), and one
``retention-disposal`` audit entry says what went, when and under which rule.
Archived files are removed after the commit, and only when no remaining row still
refers to them (the archive is content-addressed and shared between cases).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select, update

from resdesk.cases.models import (
    AuditEntry,
    Case,
    Disposal,
    Document,
    Event,
    LegalHold,
    Message,
    Outbound,
    Party,
    RESOLVED,
)
from resdesk.cases.store import SYSTEM_ACTOR, Store, Tx
from resdesk.errors import UsageError

RAW_MESSAGES, DOCUMENTS, AUDITOR_RECORDS, CASE = "raw-messages", "documents", "auditor-records", "case"
RECORD_KINDS = (RAW_MESSAGES, DOCUMENTS, AUDITOR_RECORDS, CASE)
AUDITOR_RECORD_KIND = "case-record"


@dataclass(frozen=True)
class RetentionPolicy:
    """Years each record kind is kept after resolution, and the setting each comes from."""

    years: dict[str, int]
    settings: dict[str, str] = field(default_factory=dict)

    def rule(self, kind: str, resolved_at: datetime) -> str:
        name = self.settings.get(kind, kind)
        return (f"{name} = {self.years[kind]} years from resolution on {resolved_at:%Y-%m-%d}: "
                f"kept until {kept_until(resolved_at, self.years[kind]):%Y-%m-%d}")


def kept_until(resolved_at: datetime, years: int) -> datetime:
    """``resolved_at`` plus whole years (29 February falls back to the 28th)."""
    try:
        return resolved_at.replace(year=resolved_at.year + years)
    except ValueError:
        return resolved_at.replace(year=resolved_at.year + years, day=28)


@dataclass
class DueDisposal:
    """One record kind of one case that is past its period: what would go, and why."""

    case_ref: str
    kind: str
    rule: str
    count: int

    def as_json(self) -> dict:
        return {"case": self.case_ref, "kind": self.kind, "rule": self.rule, "count": self.count}


@dataclass
class RetentionReport:
    due: list[DueDisposal] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    files_removed: int = 0
    mailbox_copies_removed: int = 0
    applied: bool = False

    def as_json(self) -> dict:
        return {"applied": self.applied, "due": [d.as_json() for d in self.due], "held": self.held,
                "files_removed": self.files_removed, "mailbox_copies_removed": self.mailbox_copies_removed}


# -- legal holds ----------------------------------------------------------------------------------


def active_holds(tx: Tx, ref: str) -> list[LegalHold]:
    return list(tx.session.execute(
        select(LegalHold).where(LegalHold.case_ref == ref, LegalHold.released_at.is_(None))
    ).scalars())


def place_hold(tx: Tx, ref: str, reason: str, *, actor: str, at: datetime) -> LegalHold:
    """Put a legal hold on case ``ref`` (``UnknownCase`` if none); audited with its reason."""
    case = tx.require_case(ref)
    if not reason.strip():
        raise UsageError("A legal hold needs a reason (--hold REASON).")
    hold = LegalHold(case_ref=case.ref, reason=reason.strip(), placed_by=actor, placed_at=at)
    tx.session.add(hold)
    tx.session.flush()
    tx.audit(actor, "legal-hold-placed", case.ref, {"reason": hold.reason}, at=at)
    return hold


def release_hold(tx: Tx, ref: str, reason: str, *, actor: str, at: datetime) -> int:
    """Release every active legal hold on case ``ref``; ``UsageError`` when there is none."""
    case = tx.require_case(ref)
    holds = active_holds(tx, case.ref)
    if not holds:
        raise UsageError(f"Case {case.ref} has no legal hold to release.")
    for hold in holds:
        hold.released_at, hold.release_reason = at, reason.strip()
    tx.session.flush()
    tx.audit(actor, "legal-hold-released", case.ref, {"reason": reason.strip(), "holds": len(holds)}, at=at)
    return len(holds)


# -- planning ------------------------------------------------------------------------------------


def _counts(tx: Tx, case: Case) -> dict[str, int]:
    messages = tx.session.execute(
        select(Message.id).where(Message.case_id == case.id, Message.archive_path.is_not(None))
    ).all()
    documents = [d.kind for d in case.documents]
    return {
        RAW_MESSAGES: len(messages),
        DOCUMENTS: sum(1 for kind in documents if kind != AUDITOR_RECORD_KIND),
        AUDITOR_RECORDS: sum(1 for kind in documents if kind == AUDITOR_RECORD_KIND),
        CASE: 1,
    }


def _due_for(tx: Tx, case: Case, policy: RetentionPolicy, now: datetime) -> list[DueDisposal]:
    done = set(tx.session.execute(select(Disposal.kind).where(Disposal.case_ref == case.ref)).scalars())
    counts = _counts(tx, case)
    due = []
    for kind in RECORD_KINDS:
        if kind in done or now < kept_until(case.resolved_at, policy.years[kind]):
            continue
        if counts[kind] or kind == CASE:
            due.append(DueDisposal(case.ref, kind, policy.rule(kind, case.resolved_at), counts[kind]))
    return due


def plan_retention(store: Store, policy: RetentionPolicy, now: datetime) -> RetentionReport:
    """What ``apply_retention`` would dispose of at ``now``, and which cases a hold keeps."""
    report = RetentionReport()
    with store.transaction() as tx:
        for case in _resolved_cases(tx):
            due = _due_for(tx, case, policy, now)
            if due and active_holds(tx, case.ref):
                report.held.append(case.ref)
            else:
                report.due.extend(due)
    return report


def _resolved_cases(tx: Tx) -> list[Case]:
    return list(tx.session.execute(
        select(Case).where(Case.status == RESOLVED, Case.resolved_at.is_not(None)).order_by(Case.id)
    ).scalars())


# -- disposal ------------------------------------------------------------------------------------


def apply_retention(
    store: Store, policy: RetentionPolicy, now: datetime, *,
    remove_mail: Callable[[dict[str, str | None]], int] | None = None, actor: str = SYSTEM_ACTOR,
) -> RetentionReport:
    """Dispose of every record kind past its period on cases not held, one transaction per case.

    ``remove_mail({sha256: message_id})`` deletes the raw messages' copies from the processed
    folder and returns how many it removed; it is called after each case's commit."""
    report = plan_retention(store, policy, now)
    report.applied = True
    by_case: dict[str, list[DueDisposal]] = {}
    for due in report.due:
        by_case.setdefault(due.case_ref, []).append(due)
    for ref, dues in by_case.items():
        with store.transaction() as tx:
            if active_holds(tx, ref):  # placed since the plan was made
                report.held.append(ref)
                continue
            copies, paths = _dispose_case(tx, tx.require_case(ref), {d.kind for d in dues}, now)
            for due in dues:
                tx.session.add(Disposal(case_ref=ref, kind=due.kind, rule=due.rule, count=due.count, at=now))
            tx.audit(actor, "retention-disposal", ref, {
                "disposed": {d.kind: {"count": d.count, "rule": d.rule} for d in dues},
                "mailbox_copies": len(copies),
            }, at=now)
            tx.session.flush()
            orphans = [p for p in paths if not _still_referenced(tx, p)]
        report.files_removed += _unlink(orphans)
        if copies and remove_mail is not None:
            report.mailbox_copies_removed += remove_mail(copies)
    report.due = [d for d in report.due if d.case_ref not in report.held]
    return report


def _dispose_case(tx: Tx, case: Case, kinds: set[str], now: datetime) -> tuple[dict[str, str | None], set[str]]:
    """Remove the rows of ``kinds`` (all of them for ``case``); return the mail copies and files to go."""
    if CASE in kinds:
        kinds = set(RECORD_KINDS)
    copies: dict[str, str | None] = {}
    paths: set[str] = set()
    if RAW_MESSAGES in kinds:
        for message in tx.session.execute(select(Message).where(Message.case_id == case.id)).scalars():
            if message.archive_path:
                paths.add(message.archive_path)
                if message.sha256:
                    copies[message.sha256] = message.message_id
            message.archive_path = message.subject = message.sender = None
    for document in list(case.documents):
        is_record = document.kind == AUDITOR_RECORD_KIND
        if (AUDITOR_RECORDS if is_record else DOCUMENTS) in kinds:
            paths.add(document.path)
            tx.session.delete(document)
    if DOCUMENTS in kinds:
        tx.session.execute(update(Outbound).where(Outbound.case_id == case.id).values(raw=None))
    if CASE in kinds:
        tx.session.flush()
        tx.session.execute(update(Message).where(Message.case_id == case.id).values(case_id=None))
        for table in (Event, Party, Outbound):
            tx.session.execute(delete(table).where(table.case_id == case.id))
        tx.session.execute(delete(Case).where(Case.id == case.id))
        tx.session.execute(
            update(AuditEntry).where(AuditEntry.case_ref == case.ref, AuditEntry.disposed_at.is_(None))
            .values(payload={}, disposed_at=now)
        )
        tx.session.expunge(case)
    tx.session.flush()
    return copies, paths


def _still_referenced(tx: Tx, path: str) -> bool:
    return tx.session.execute(
        select(Document.id).where(Document.path == path).union_all(
            select(Message.id).where(Message.archive_path == path)
        ).limit(1)
    ).first() is not None


def _unlink(paths: list[str]) -> int:
    removed = 0
    for path in paths:
        try:
            Path(path).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


__all__ = [
    "AUDITOR_RECORDS", "CASE", "DOCUMENTS", "RAW_MESSAGES", "RECORD_KINDS", "DueDisposal", "RetentionPolicy",
    "RetentionReport", "active_holds", "apply_retention", "kept_until", "place_hold", "plan_retention",
    "release_hold",
]
