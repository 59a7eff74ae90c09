"""The outbox at work: plan every case, write each new message to the store, then send it.

One tick (``run_tick``) does, in order:

1. takes the ``outbox-sender`` lease, so one process sends at a time;
2. recovers what a process that died mid-send left behind (``render.sending``):
   a message that may have been accepted becomes ``unconfirmed``, with an alert;
3. plans the cases due by now (``outbox.due``), or after a drain only the cases it
   touched, and, for each key the outbox does not yet hold, renders its documents
   (on every core, ``outbox.pool``), files them on the case with ``Tx.add_document``
   (so they are in the audit chain), archives the raw message and writes the row
   with its deterministic Message-ID — all before anything is sent;
4. sends the due rows over SMTP, at most ``rate_per_recipient_per_hour`` to one
   recipient in any hour (counted from the store, so it holds across restarts);
   a temporary failure is retried later with backoff, a permanent one gives up
   with an alert; a stage notice the case has moved past since it was queued is
   superseded instead of sent.

What a crash mid-send leaves, and how it is recovered, is ``render.sending``'s to tell.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.exc import IntegrityError

from . import queue
from resdesk.cases.models import Alert, Case, Message, Outbound
from resdesk.cases.store import Store
from resdesk.cases.tokens import case_token_key, check_code
from resdesk.protocols import Protocol, Registry, WorkingCalendar
from resdesk.errors import ResdeskError

from .assemble import Assembled, assemble
from .pool import assemble_all
from .message import OutboundMail, build_message, envelope_recipients
from .bounced import owed_bounce_notices
from .refusals import owed_refusals
from .due import next_due
from .plan import CaseSnapshot, Planned, snapshot_of, plan_case
from .sending import (
    CONNECTING,
    FAILED,
    SENDING,
    UNCONFIRMED,
    MailSender,
    recover_interrupted,
    release_lease,
    row_summary,
    send_due,
    take_lease,
)
from .smtp import SmtpSender
from .smtp_phased import PhasedSmtpSender

__all__ = [
    "CONNECTING",
    "SENDING",
    "UNCONFIRMED",
    "FAILED",
    "MailSender",
    "TickReport",
    "calendar_from_settings",
    "default_sender",
    "plan_all",
    "touched_since",
    "enqueue_planned",
    "enqueue_assembled",
    "enqueue_mail",
    "run_tick",
]


@dataclass
class TickReport:
    """What one tick did; ``as_json()`` is what ``resdesk tick --json`` prints."""

    now: datetime
    queued: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    deferred: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    unconfirmed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    superseded: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    sender_busy: bool = False
    sending_disabled: bool = False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        return data


def default_sender(settings) -> MailSender:
    """The pickup folder when the settings name one, else the SMTP server."""
    if getattr(settings.smtp, "pickup_folder", None):
        from .pickup import FolderSender

        return FolderSender(settings.smtp.pickup_folder)
    return PhasedSmtpSender(SmtpSender.from_settings(settings.smtp, getattr(settings, "mailbox", None)))


def calendar_from_settings(protocol: Protocol, settings) -> WorkingCalendar:
    """The protocol's nation's working days, less the partnership's closure days (settings)."""
    return WorkingCalendar(protocol.nation, settings.partnership.extra_closure_days)


# -- planning and queueing --------------------------------------------------------------------


PLAN_PAGE = 500  # cases planned per query, their events and parties loaded in bulk


def plan_all(
    store: Store, settings, registry: Registry, now: datetime,
    calendar_for: Callable[[Protocol], WorkingCalendar] | None = None,
    case_ids: Iterable[int] | None = None,
) -> tuple[list[Planned], list[dict[str, Any]]]:
    """Every message owed by the cases due by ``now`` (or by the cases ``case_ids`` names) whose key
    the outbox does not hold yet; notices the case moved past come among the skipped, marked
    ``superseded`` (``run_tick`` records them in the outbox, never sent).

    Without ``case_ids`` only the cases whose ``next_due`` is at or before ``now`` are read (one
    indexed query): those changed since they were planned, and those whose next reminder, deadline
    or alert has come (``outbox.due``). Each case planned gets its ``next_due`` anew: ``now`` while
    it still owes something the outbox does not hold (a notice its rule skips, a condition not met
    or automatic mail, is not owed; one owed but with no usable address is), else the moment it
    can next be owed anything (None: never again unless it changes). Cases are read ``PLAN_PAGE`` at a time with their events,
    parties and facts in bulk queries and let go once planned, so time and memory grow with the
    cases planned, not with the case file.
    """
    calendar_for = calendar_for or (lambda protocol: calendar_from_settings(protocol, settings))
    own = [settings.smtp.sender, settings.mailbox.username]
    planned: list[Planned] = []
    skipped: list[dict[str, Any]] = []
    with store.transaction() as tx:
        if case_ids is None:
            wanted = list(tx.session.execute(
                select(Case.id).where(Case.next_due <= now).order_by(Case.id)).scalars())
        else:
            wanted = sorted(set(case_ids))
        for cases in _pages(tx, wanted):
            known = set(tx.session.execute(select(Outbound.idempotency_key).where(
                Outbound.case_id.in_([case.id for case in cases]))).scalars())
            due: list[dict[str, Any]] = []
            for case in cases:
                owes = True
                try:
                    protocol = registry.get(case.protocol)
                    calendar = calendar_for(protocol)
                    snapshot: CaseSnapshot = snapshot_of(case)
                    plan = plan_case(
                        snapshot, protocol, calendar, now,
                        business_unit=settings.partnership.business_unit, own_addresses=own,
                        contacts=settings.partnership.contacts,
                        review_every_working_days=settings.partnership.review_every_working_days,
                    )
                except ResdeskError as exc:
                    skipped.append({"key": f"case:{case.ref}", "reason": str(exc)})
                except ValueError as exc:  # a view the case's values cannot fill
                    skipped.append({"key": f"case:{case.ref}", "reason": f"could not plan: {exc}"})
                else:
                    new = [p for p in plan.planned if p.key not in known]
                    new_skipped = [s for s in plan.skipped if s.key not in known]
                    new_superseded = [s for s in plan.superseded if s.key not in known]
                    planned.extend(new)
                    skipped.extend(
                        {"key": s.key, "case": case.ref, "reason": s.reason, "unsendable": s.unsendable}
                        for s in new_skipped
                    )
                    skipped.extend(
                        {"key": s.key, "case": case.ref, "reason": s.reason, "superseded": True,
                         "recipient": s.recipient, "subject": s.title}
                        for s in new_superseded
                    )
                    # A notice skipped by its rule (a condition not met, automatic mail) is not owed:
                    # only one owed but unsendable keeps the case due, as the superseded until recorded.
                    owes = bool(new or any(s.unsendable for s in new_skipped) or new_superseded)
                due.append({"b_id": case.id, "b_seen": case.updated_at,
                            "b_due": now if owes else next_due(snapshot, protocol, calendar, now)})
            _store_next_due(tx, due)
            tx.session.expunge_all()
    return planned, skipped


def _store_next_due(tx, due: list[dict[str, Any]]) -> None:
    """Write each planned case's ``next_due``, unless the case changed since it was read (then it
    stays due at once: ``cases.due``); ``updated_at`` is kept as it was."""
    if not due:
        return
    cases = Case.__table__
    tx.session.execute(
        cases.update().where(cases.c.id == bindparam("b_id"), cases.c.updated_at == bindparam("b_seen"))
        .values(next_due=bindparam("b_due"), updated_at=bindparam("b_seen")),
        due,
    )


def _pages(tx, wanted: list[int]) -> Iterator[list[Case]]:
    """The cases ``wanted`` in id order, ``PLAN_PAGE`` at a time, events, parties and facts loaded."""
    for start in range(0, len(wanted), PLAN_PAGE):
        chunk = wanted[start:start + PLAN_PAGE]
        cases = list(tx.session.execute(
            select(Case).where(Case.id.in_(chunk)).order_by(Case.id)
            .options(selectinload(Case.events), selectinload(Case.parties), selectinload(Case.facts))
        ).scalars())
        if cases:
            yield cases


def touched_since(store: Store, since: datetime) -> list[int]:
    """The cases a message completed at or after ``since`` was recorded on (what a drain touched)."""
    with store.transaction() as tx:
        return list(tx.session.execute(
            select(Message.case_id).where(Message.completed_at >= since, Message.case_id.is_not(None)).distinct()
        ).scalars())


def enqueue_planned(store: Store, planned: Planned, settings) -> tuple[Outbound, bool]:
    """Render ``planned``, then in one unit of work file its documents and write its outbox row."""
    return enqueue_assembled(store, planned, assemble(planned, settings.smtp.sender))


def enqueue_assembled(store: Store, planned: Planned, assembled: Assembled) -> tuple[Outbound, bool]:
    """In one unit of work, file ``planned``'s rendered documents and write its outbox row
    (the existing row if another process wrote the same key first)."""
    mail = with_check_code(store, assembled.mail)
    message, raw = build_message(mail)
    recipients = envelope_recipients(mail)
    _, eml_path = store.archive_message(raw)
    try:
        with store.transaction() as tx:
            existing = queue.by_key(tx, planned.key)
            if existing is not None:
                return existing, False
            case = tx.case_by_ref(planned.case_ref)
            for document in assembled.documents:
                tx.add_document(case, planned.document, document.filename, document.media_type, document.content)
            return queue.enqueue(
                tx,
                idempotency_key=planned.key,
                message_id=str(message["Message-ID"]),
                kind=planned.kind,
                recipients=recipients,
                subject=str(message["Subject"]),
                raw=raw,
                path=str(eml_path),
                case=case,
            )
    except IntegrityError:
        # Another process wrote the same key first (its documents are filed, ours rolled back).
        with store.transaction() as tx:
            return queue.by_key(tx, planned.key), False


def with_check_code(store: Store, mail: OutboundMail) -> OutboundMail:
    """``mail`` with its case token's check code (``cases.tokens``), so the subject carries
    ``[OLD-2026-0007-K3F9QZ]``; mail on no case is returned as it is."""
    if not mail.case_ref or mail.case_code:
        return mail
    return mail.model_copy(update={"case_code": check_code(case_token_key(store), mail.case_ref)})


UNPREPARABLE = "outbound-unpreparable"


def alert_unpreparable(store: Store, entry: dict[str, Any], now: datetime) -> None:
    """Raise an alert that a message owed (``entry["key"]``) cannot be built — an address that
    mail cannot go to, a document that cannot be rendered — once per key, so a notice is never
    silently missing. Each later tick tries again; the alert stays until a person acts."""
    with store.transaction() as tx:
        raised = tx.session.execute(select(Alert.detail).where(Alert.kind == UNPREPARABLE)).scalars()
        if any(detail.get("key") == entry["key"] for detail in raised):
            return
        tx.raise_alert(UNPREPARABLE, dict(entry), at=now)


def _record_superseded(store: Store, entry: dict[str, Any]) -> None:
    with store.transaction() as tx:
        queue.record_superseded(
            tx, idempotency_key=entry["key"], case=tx.case_by_ref(entry["case"]),
            recipients=[parseaddr(entry["recipient"])[1] or entry["recipient"]], subject=entry["subject"], reason=entry["reason"],
        )


# The idempotency keys of the notices no case plans: a tick reads only these, not the whole outbox.
_NOTICE_KEYS = ("refused:", "quarantined:", "quarantine-digest:", "bounced:")


def _owed_notices(store: Store, settings, now: datetime) -> list[OutboundMail]:
    with store.transaction() as tx:
        known = set(tx.session.execute(select(Outbound.idempotency_key).where(
            or_(*(Outbound.idempotency_key.startswith(prefix, autoescape=True) for prefix in _NOTICE_KEYS))
        )).scalars())
        return owed_refusals(tx, settings, now, known) + owed_bounce_notices(tx, settings, now, known)


def enqueue_mail(store: Store, mail: OutboundMail) -> tuple[Outbound, bool]:
    """Write a message that carries no case documents (a refusal, a quarantine or bounce notice) to the
    outbox under its idempotency key; (row, True) if new."""
    mail = with_check_code(store, mail)
    message, raw = build_message(mail)
    _, eml_path = store.archive_message(raw)
    try:
        with store.transaction() as tx:
            return queue.enqueue(
                tx, idempotency_key=mail.idempotency_key, message_id=str(message["Message-ID"]), kind=mail.kind,
                recipients=envelope_recipients(mail), subject=str(message["Subject"]), raw=raw, path=str(eml_path),
                case=tx.case_by_ref(mail.case_ref) if mail.case_ref else None,
            )
    except IntegrityError:
        with store.transaction() as tx:
            return queue.by_key(tx, mail.idempotency_key), False


def run_tick(
    store: Store,
    settings,
    registry: Registry,
    now: datetime,
    sender: MailSender | None = None,
    *,
    calendar_for: Callable[[Protocol], WorkingCalendar] | None = None,
    case_ids: Iterable[int] | None = None,
) -> TickReport:
    """Plan the cases due by ``now`` (or only those ``case_ids`` names; ``plan_all``), queue what is
    owed, send what is due (for every case): each message exactly once.

    ``sender`` defaults to ``default_sender(settings)``. With ``smtp.enabled`` off,
    messages are planned and queued (written to the store) but nothing is sent;
    they go at the first tick after sending is turned on.
    """
    sender = sender or default_sender(settings)
    if isinstance(sender, SmtpSender):
        sender = PhasedSmtpSender(sender)
    report = TickReport(now=now)
    sending = getattr(settings.smtp, "enabled", True)
    report.sending_disabled = not sending
    holding = sending and take_lease(store)
    report.sender_busy = sending and not holding
    try:
        if holding:
            report.unconfirmed.extend(recover_interrupted(store, now))
        planned, skipped = plan_all(store, settings, registry, now, calendar_for, case_ids)
        for entry in [e for e in skipped if e.get("superseded")]:
            _record_superseded(store, entry)
            report.superseded.append({k: entry[k] for k in ("key", "case", "reason")})
        skipped = [e for e in skipped if not e.get("superseded")]
        report.skipped.extend(skipped)
        for entry in skipped:
            if entry.get("unsendable"):
                alert_unpreparable(store, {"key": entry["key"], "case": entry["case"], "error": entry["reason"]}, now)
        for item, assembled in assemble_all(planned, settings.smtp.sender):
            try:
                if isinstance(assembled, Exception):
                    raise assembled
                row, created = enqueue_assembled(store, item, assembled)
            except (ResdeskError, ValueError) as exc:
                entry = {"key": item.key, "case": item.case_ref, "error": str(exc)}
                report.errors.append(entry)
                alert_unpreparable(store, entry, now)
                continue
            if created:
                report.queued.append(row_summary(row, item.case_ref, description=item.description))
        for mail in _owed_notices(store, settings, now):
            row, created = enqueue_mail(store, mail)
            if created:
                report.queued.append(row_summary(row, None, description=f"{mail.kind}: {mail.subject}"))
        if holding:
            send_due(store, sender, settings, registry, now, report)
    finally:
        if holding:
            release_lease(store)
    return report
