"""The outbox at work: plan every case, write each new message to the store, then send it.

One tick (``run_tick``) does, in order:

1. takes the ``outbox-sender`` lease, so one process sends at a time;
2. turns every row left in ``sending`` by a process that died into
   ``unconfirmed``, with an alert for a person (see below);
3. plans every case (``render.plan``) and, for each key the outbox does not yet
   hold, renders its documents, files them on the case with ``Tx.add_document``
   (so they are in the audit chain), archives the raw message and writes the row
   with its deterministic Message-ID — all before anything is sent;
4. sends the due rows over SMTP, at most ``rate_per_recipient_per_hour`` to one
   recipient in any hour (counted from the store, so it holds across restarts);
   a temporary failure is retried later with backoff, a permanent one gives up
   with an alert.

**A crash between the SMTP server's acceptance and our commit.** Each row is
marked ``sending`` and committed immediately before its SMTP transaction. A row
found in ``sending`` when the lease is next taken belonged to a process that
died mid-send: the server may or may not have accepted it. It is never resent
automatically — it becomes ``unconfirmed`` with an alert ("the SMTP server may
have accepted <Message-ID>; check before resending") — so a notice is never sent
twice and never silently forgotten. SMTP gives no way to ask a server whether it
accepted a message, so a person's check is the honest answer; because the
Message-ID is fixed, a resend a person chooses to make is recognisable as the
same message by the recipient's mail system.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Protocol as TypingProtocol, Sequence

from sqlalchemy import select, update

from cases import outbox
from cases.models import PENDING, Case, Lease, Outbound, utcnow
from cases.store import Store, Tx
from cases.timeline import NOTICE_SENT
from protocols import Protocol, Registry, WorkingCalendar
from resdesk.errors import ResdeskError

from .assemble import assemble
from .outbox import build_message, envelope_recipients, parse_one_address
from .plan import CaseFacts, Planned, facts_from_case, plan_case
from .smtp import PermanentSendFailure, TemporarySendFailure

__all__ = [
    "SENDING",
    "UNCONFIRMED",
    "FAILED",
    "LEASE",
    "MAX_ATTEMPTS",
    "MailSender",
    "TickReport",
    "calendar_from_settings",
    "default_sender",
    "recover_interrupted",
    "plan_all",
    "enqueue_planned",
    "send_due",
    "run_tick",
]

SENDING, UNCONFIRMED, FAILED = "sending", "unconfirmed", outbox.FAILED
LEASE = "outbox-sender"
LEASE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 12
_HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class MailSender(TypingProtocol):
    def send(self, raw: bytes, *, mail_from: str, recipients: Sequence[str], message_id: str) -> None: ...


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
    from .smtp import SmtpSender

    return SmtpSender.from_settings(settings.smtp)


def calendar_from_settings(protocol: Protocol, settings) -> WorkingCalendar:
    """The protocol's nation's working days less the partnership's closure days."""
    closures = []
    for text in settings.partnership.extra_closure_days:
        try:
            closures.append(date.fromisoformat(text))
        except ValueError:
            continue  # the settings check reports a bad closure day; here it is simply not a closure
    return WorkingCalendar(protocol.nation, closures)


# -- the sender lease -------------------------------------------------------------------------


def _holder_is_dead(holder: str) -> bool:
    """True when the lease holder was a process on this host that no longer runs."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _take_lease(store: Store) -> bool:
    now = utcnow()
    with store.transaction() as tx:
        lease = tx.session.get(Lease, LEASE, with_for_update=True)
        if lease is None:
            tx.session.add(Lease(name=LEASE, holder=_HOLDER, expires_at=now + LEASE_TTL))
            return True
        if lease.holder != _HOLDER and lease.expires_at > now and not _holder_is_dead(lease.holder):
            return False
        lease.holder = _HOLDER
        lease.expires_at = now + LEASE_TTL
        return True


def _renew_lease(store: Store) -> None:
    with store.transaction() as tx:
        lease = tx.session.get(Lease, LEASE, with_for_update=True)
        if lease is not None and lease.holder == _HOLDER:
            lease.expires_at = utcnow() + LEASE_TTL


def _release_lease(store: Store) -> None:
    with store.transaction() as tx:
        lease = tx.session.get(Lease, LEASE)
        if lease is not None and lease.holder == _HOLDER:
            tx.session.delete(lease)


# -- recovery ---------------------------------------------------------------------------------


def _row(row: Outbound, case_ref: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "key": row.idempotency_key, "kind": row.kind, "message_id": row.message_id,
        "recipients": list(row.recipients), "subject": row.subject, "case": case_ref, **extra,
    }


def recover_interrupted(store: Store, now: datetime) -> list[dict[str, Any]]:
    """Rows left ``sending`` by a process that died become ``unconfirmed``, each with an alert.

    Call only while holding the sender lease: then no live process is sending them.
    """
    found: list[dict[str, Any]] = []
    with store.transaction() as tx:
        rows = tx.session.execute(select(Outbound).where(Outbound.state == SENDING).order_by(Outbound.id)).scalars()
        for row in rows:
            case = tx.case_by_id(row.case_id) if row.case_id is not None else None
            ref = case.ref if case else None
            row.state = UNCONFIRMED
            row.last_error = "interrupted between the SMTP transaction and recording its result"
            detail = _row(row, ref, message=(
                f"The SMTP server may have accepted {row.message_id}; check before resending "
                f"({row.kind} to {', '.join(row.recipients)}, case {ref or '-'})."
            ))
            tx.raise_alert("outbound-unconfirmed", detail, at=now)
            found.append(detail)
    return found


# -- planning and queueing --------------------------------------------------------------------


def plan_all(
    store: Store, settings, registry: Registry, now: datetime,
    calendar_for: Callable[[Protocol], WorkingCalendar] | None = None,
) -> tuple[list[Planned], list[dict[str, Any]]]:
    """Every message owed across the case file whose key the outbox does not hold yet."""
    calendar_for = calendar_for or (lambda protocol: calendar_from_settings(protocol, settings))
    own = [settings.smtp.sender, settings.mailbox.username]
    planned: list[Planned] = []
    skipped: list[dict[str, Any]] = []
    with store.transaction() as tx:
        known = set(tx.session.execute(select(Outbound.idempotency_key)).scalars())
        for case in tx.all_cases():
            try:
                protocol = registry.get(case.protocol)
            except ResdeskError as exc:
                skipped.append({"key": f"case:{case.ref}", "reason": str(exc)})
                continue
            facts: CaseFacts = facts_from_case(case)
            try:
                plan = plan_case(
                    facts, protocol, calendar_for(protocol), now,
                    business_unit=settings.partnership.business_unit, own_addresses=own,
                )
            except (ResdeskError, ValueError) as exc:  # a view the case's values cannot fill
                skipped.append({"key": f"case:{case.ref}", "reason": f"could not plan: {exc}"})
                continue
            planned.extend(p for p in plan.planned if p.key not in known)
            skipped.extend({"key": s.key, "reason": s.reason} for s in plan.skipped if s.key not in known)
    return planned, skipped


def enqueue_planned(store: Store, planned: Planned, settings) -> tuple[Outbound, bool]:
    """Render ``planned``, then in one unit of work file its documents and write its outbox row."""
    assembled = assemble(planned, settings.smtp.sender)
    message, raw = build_message(assembled.mail)
    recipients = envelope_recipients(assembled.mail)
    _, eml_path = store.archive_message(raw)
    with store.transaction() as tx:
        existing = outbox.by_key(tx, planned.key)
        if existing is not None:
            return existing, False
        case = tx.case_by_ref(planned.case_ref)
        for document in assembled.documents:
            tx.add_document(case, planned.document, document.filename, document.media_type, document.content)
        return outbox.enqueue(
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


# -- sending ----------------------------------------------------------------------------------


def _rate_limited(tx: Tx, row: Outbound, now: datetime, per_hour: int) -> datetime | None:
    """When ``row`` may go if a recipient had ``per_hour`` messages in the last hour, else None."""
    recent = outbox.sent_since(tx, now - timedelta(hours=1))
    wanted = {r.lower() for r in row.recipients}
    later: datetime | None = None
    for recipient in wanted:
        times = sorted(o.sent_at for o in recent if recipient in {x.lower() for x in o.recipients})
        if len(times) >= per_hour:
            free_at = times[len(times) - per_hour] + timedelta(hours=1)
            later = free_at if later is None else max(later, free_at)
    return later


def _claim(tx: Tx, row: Outbound) -> bool:
    """Mark ``row`` sending, if it is still pending (another sender may have taken it)."""
    result = tx.session.execute(
        update(Outbound).where(Outbound.id == row.id, Outbound.state == PENDING).values(state=SENDING)
    )
    return result.rowcount == 1


def _case_ref(tx: Tx, row: Outbound) -> str | None:
    case = tx.session.get(Case, row.case_id) if row.case_id is not None else None
    return case.ref if case else None


def _record_sent(tx: Tx, row: Outbound, now: datetime) -> str | None:
    row.state = PENDING  # mark_sent counts the attempt from the claimed row
    outbox.mark_sent(tx, row, at=now)
    case = tx.session.get(Case, row.case_id) if row.case_id is not None else None
    if case is not None:
        tx.add_event(case, NOTICE_SENT, now, stage=case.stage, message_id=row.message_id, detail={
            "kind": row.kind, "key": row.idempotency_key, "recipients": list(row.recipients), "subject": row.subject,
        })
    return case.ref if case else None


def send_due(store: Store, sender: MailSender, settings, now: datetime, report: TickReport) -> None:
    """Send every due row once; record each result in its own unit of work."""
    mail_from = parse_one_address(settings.smtp.sender).addr_spec
    per_hour = settings.smtp.rate_per_recipient_per_hour
    attempted: set[int] = set()
    while True:
        with store.transaction() as tx:
            rows = [r for r in outbox.due(tx, now) if r.id not in attempted]
            claimed: Outbound | None = None
            for row in rows:
                attempted.add(row.id)
                free_at = _rate_limited(tx, row, now, per_hour)
                if free_at is not None:
                    row.next_attempt_at = free_at
                    report.deferred.append(_row(row, _case_ref(tx, row), until=free_at.isoformat(),
                                                reason="per-recipient rate limit"))
                    continue
                if _claim(tx, row):
                    claimed = row
                    break
            if claimed is None:
                return
            ref = _case_ref(tx, claimed)
            raw, recipients, message_id = claimed.raw, list(claimed.recipients), claimed.message_id
        # Committed as "sending": from here until the result is recorded, a crash leaves it unconfirmed.
        _renew_lease(store)
        try:
            sender.send(raw, mail_from=mail_from, recipients=recipients, message_id=message_id)
        except TemporarySendFailure as failure:
            with store.transaction() as tx:
                row = tx.session.get(Outbound, claimed.id)
                row.state = PENDING
                give_up = row.attempts + 1 >= MAX_ATTEMPTS
                retry_at = None if give_up else now + outbox.backoff(row.attempts + 1)
                outbox.mark_failed(tx, row, failure.reason, retry_at=retry_at, now=now)
                entry = _row(row, ref, error=failure.reason, retry_at=retry_at.isoformat() if retry_at else None)
                if give_up:
                    tx.raise_alert("outbound-failed", entry, at=now)
                    report.failed.append(entry)
                else:
                    report.deferred.append({**entry, "reason": "temporary SMTP failure"})
            continue
        except PermanentSendFailure as failure:
            with store.transaction() as tx:
                row = tx.session.get(Outbound, claimed.id)
                row.state = PENDING
                outbox.mark_failed(tx, row, failure.reason, retry_at=None, now=now)
                entry = _row(row, ref, error=failure.reason)
                tx.raise_alert("outbound-failed", entry, at=now)
                report.failed.append(entry)
            continue
        with store.transaction() as tx:
            row = tx.session.get(Outbound, claimed.id)
            _record_sent(tx, row, now)
            report.sent.append(_row(row, ref))


def run_tick(
    store: Store,
    settings,
    registry: Registry,
    now: datetime,
    sender: MailSender | None = None,
    *,
    calendar_for: Callable[[Protocol], WorkingCalendar] | None = None,
) -> TickReport:
    """Plan every case, queue what is owed, send what is due: each message exactly once.

    ``sender`` defaults to ``default_sender(settings)``. With ``smtp.enabled`` off,
    messages are planned and queued (written to the store) but nothing is sent;
    they go at the first tick after sending is turned on.
    """
    sender = sender or default_sender(settings)
    report = TickReport(now=now)
    sending = getattr(settings.smtp, "enabled", True)
    report.sending_disabled = not sending
    holding = sending and _take_lease(store)
    report.sender_busy = sending and not holding
    try:
        if holding:
            report.unconfirmed.extend(recover_interrupted(store, now))
        planned, skipped = plan_all(store, settings, registry, now, calendar_for)
        report.skipped.extend(skipped)
        for item in planned:
            try:
                row, created = enqueue_planned(store, item, settings)
            except (ResdeskError, ValueError) as exc:
                report.errors.append({"key": item.key, "case": item.case_ref, "error": str(exc)})
                continue
            if created:
                report.queued.append(_row(row, item.case_ref, description=item.description))
        if holding:
            send_due(store, sender, settings, now, report)
    finally:
        if holding:
            _release_lease(store)
    return report
