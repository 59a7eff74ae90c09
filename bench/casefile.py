"""A large case file for the benchmarks, built through the case file's own API.

``seed(url, archive, count, owed_acknowledgements=...)`` writes ``count`` Oldham
cases, each opened by a stage 1 summary from its own practitioner (a ledger row,
the ``message-recorded`` event the processor writes, the stage events) and
resolved at stage 1, so none is owed a reminder. The first goes through the case
file's API; the rest are bulk copies of its rows, so seeding 10,000 takes seconds. Then it plans the whole file
once and writes every planned message to the outbox as already sent — a case
file in its steady state — except, for the first ``owed_acknowledgements``
cases, their acknowledgement, which a tick then owes.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

OWN = "Escalations <escalations@partnership.example>"
BUSINESS_UNIT = "business.unit@partnership.example"


def settings_for(url: str, archive: str, **smtp):
    from resdesk.settings import Settings

    return Settings.model_validate({
        "partnership": {"protocol": "oldham", "business_unit": BUSINESS_UNIT},
        "smtp": {"sender": OWN, **smtp},
        "storage": {"database": url, "archive": archive},
    })


def _record(tx, case, n: int, at: datetime, oldham) -> None:
    from resdesk.cases import Message

    sender = f"practitioner{n}@agency{n % 13}.example"
    tx.add_party(case, name=f"Practitioner {n}", email=sender, agency=f"Agency {n % 13}", role="Lead")
    message_id = f"<seed-{n}@agency.example>"
    ledger = Message(account="bench", folder="INBOX", uidvalidity="1", uid=str(n), sha256="0" * 64,
                     message_id=message_id, subject="Stage 1 Summary", sender=sender, state="done",
                     case_id=case.id, received_at=at, completed_at=at)
    tx.session.add(ledger)
    tx.session.flush()
    tx.add_event(case, "message-recorded", at, stage=1, message_id=message_id, ledger_id=ledger.id,
                 detail={"ledger_id": ledger.id, "classification": "stage-summary", "stage": 1,
                         "outcome": "resolved", "sender": sender, "sender_name": f"Practitioner {n}",
                         "subject": "Stage 1 Summary", "message_id": message_id, "references": [],
                         "forms": [], "acknowledge": True, "sha256": "0" * 64})
    tx.record_stage_summary(case, oldham, 1, "resolved", at, message_id=message_id, ledger_id=ledger.id)


def _copy(store, first_id: int, count: int, at: datetime, oldham) -> None:
    """Cases 1..count-1 as copies of the first, in bulk inserts (their audit entries are left out:
    planning never reads them)."""
    from resdesk.cases import Case, Event, Message, Party

    def columns(row, table) -> dict:
        return {c.key: getattr(row, c.key) for c in table.__mapper__.column_attrs if c.key != "id"}

    with store.transaction() as tx:
        case = tx.session.get(Case, first_id)
        template = columns(case, Case)
        party = columns(case.parties[0], Party)
        ledger = columns(tx.session.get(Message, case.events[0].ledger_id), Message)
        events = [columns(e, Event) for e in case.events]
    for start in range(1, count, 2000):
        numbers = range(start, min(count, start + 2000))
        with store.transaction() as tx:
            tx.session.execute(insert(Case), [
                {**template, "id": first_id + n, "ref": f"OLD-{at:%Y}-{n + 1:05d}", "child_name": f"Child {n}"}
                for n in numbers])
            tx.session.execute(insert(Party), [
                {**party, "case_id": first_id + n, "name": f"Practitioner {n}",
                 "email": f"practitioner{n}@agency{n % 13}.example"} for n in numbers])
            tx.session.execute(insert(Message), [
                {**ledger, "id": 1_000_000 + n, "uid": str(n), "case_id": first_id + n,
                 "message_id": f"<seed-{n}@agency.example>", "sender": f"practitioner{n}@agency{n % 13}.example"}
                for n in numbers])
            rows = []
            for n in numbers:
                for event in events:
                    row = {**event, "case_id": first_id + n}
                    if row["ledger_id"] is not None:
                        row["ledger_id"] = 1_000_000 + n
                        row["message_id"] = f"<seed-{n}@agency.example>"
                    if row["kind"] == "message-recorded":
                        row["detail"] = {**row["detail"], "ledger_id": 1_000_000 + n,
                                         "sender": f"practitioner{n}@agency{n % 13}.example",
                                         "sender_name": f"Practitioner {n}", "message_id": f"<seed-{n}@agency.example>"}
                    rows.append(row)
            tx.session.execute(insert(Event), rows)


def seed(url: str, archive: str, count: int, *, owed_acknowledgements: int = 0, now: datetime | None = None) -> None:
    from resdesk.cases import Case, Outbound, open_store
    from resdesk.outbox.dispatch import plan_all
    from resdesk.protocols import default_registry

    now = now or datetime.now(timezone.utc)
    registry = default_registry()
    oldham = registry.get("oldham")
    store = open_store(url, archive)
    try:
        opened = now - timedelta(days=3)
        with store.transaction() as tx:  # the first case through the API: the others copy its rows
            case = tx.create_case(oldham, opened, child_name="Child 0")
            _record(tx, case, 0, opened, oldham)
            first_id = case.id
        _copy(store, first_id, count, opened, oldham)
        with store.transaction() as tx:
            owed = set(tx.session.execute(select(Case.ref).order_by(Case.id).limit(owed_acknowledgements)).scalars())
        planned, _ = plan_all(store, settings_for(url, archive), registry, now)
        with store.transaction() as tx:
            # Each row on its case, as the outbox writes it: planning a page of cases reads the keys it
            # already holds by case.
            case_ids = dict(tx.session.execute(select(Case.ref, Case.id)).all())
            tx.session.add_all(
                Outbound(idempotency_key=p.key, message_id=f"<seeded-{i}@partnership.example>", kind=p.kind,
                         recipients=[p.recipient], subject="seeded", state="sent", attempts=1,
                         sent_at=now - timedelta(hours=2), case_id=case_ids[p.case_ref])
                for i, p in enumerate(planned) if not (p.kind == "acknowledgement" and p.case_ref in owed)
            )
    finally:
        store.close()

