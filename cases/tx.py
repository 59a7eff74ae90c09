"""One unit of work on the case file (``Tx``): what opens, finds and changes cases inside
``Store.transaction()``, and the errors it raises.

New rows go around the unit of work: a new case and its parties, facts and documents by one prepared
INSERT each, at once (``cases.rows``), its events and audit entries held and written together before
anything reads them (``cases.pending``); changes wait for the session's next flush (``Tx``'s docstring
says which).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from resdesk.cases import audit as audit_chain
from resdesk.cases import pending, references, rows
from resdesk.cases.facts import clock_inputs, facts_of
from resdesk.cases.models import (
    PLAN_AT_ONCE, Alert, Case, Document, Event, Message, Party, utcnow,
)
from resdesk.cases.timeline import (
    CaseState,
    Transition,
    after_stage_notification,
    after_stage_summary,
)
from resdesk.protocols import Protocol, to_local
from resdesk.errors import StoreError

if TYPE_CHECKING:
    from resdesk.cases.store import Store

SYSTEM_ACTOR = "resdesk"


class UnknownCase(StoreError):
    """No case has the reference a person asked for."""

    exit_status = 2

    def __init__(self, ref: str):
        self.ref = ref
        super().__init__(f"There is no case {ref} in the case file.")


_CASES = Case.__table__
_WRITE_CASE = insert(_CASES)
_WRITE_EVENT = insert(Event.__table__)
_MARK_CASE = (update(_CASES).where(_CASES.c.id == bindparam("case_key"))
              .values(next_due=bindparam("set_next_due"), updated_at=bindparam("set_updated_at")))
_MARKED = "resdesk.cases-marked"
_BY_REF = "resdesk.cases-by-ref"

T = TypeVar("T")


class Tx:
    """One unit of work on the case file; ``session`` is the SQLAlchemy session beneath.

    New rows go around the unit of work: a new case (``create_case``) and its new parties, facts and
    documents (``insert_row``) by one prepared INSERT each, at once, so each has its ``id`` and the
    flush has nothing of them to sort out; events (``add_event``) and audit entries (``audit``), never
    changed once written, are held and written together, one executemany per table, before any
    statement the session runs, before a savepoint and at commit (``cases.pending``), so whatever the
    transaction reads finds them. What its methods change (a party's details, a fact's value, a case's
    stage and status) is written with the session's next flush — before a query that may depend on
    it, at the latest at commit."""

    def __init__(self, store: "Store", session: Session):
        self.store = store
        self.session = session

    # -- cases -------------------------------------------------------------------------------

    def next_reference(self, prefix: str, year: int) -> str:
        """The next case reference for a prefix and year, e.g. ``OLD-2026-0007`` (``cases.references``)."""
        return references.next_reference(self.session, prefix, year)

    def create_case(
        self,
        protocol: Protocol,
        at: datetime,
        *,
        child_identifier: str | None = None,
        child_name: str | None = None,
        child_dob: date | None = None,
        actor: str = SYSTEM_ACTOR,
    ) -> Case:
        """Open a case under ``protocol`` with the next reference of its prefix for ``at``'s year.

        The case row is written at once by one prepared INSERT (not a flush of everything the
        transaction has pending), so its ``id`` is there for the caller; a new case has no parties, facts,
        documents or events yet, so those lists start empty rather than being read back."""
        ref = self.next_reference(protocol.reference_prefix, to_local(at).year)
        written = self.session.connection().execute(_WRITE_CASE, {
            "ref": ref, "protocol": protocol.id, "status": "open", "opened_at": at,
            "child_identifier": child_identifier, "child_name": child_name, "child_dob": child_dob,
        })
        case = rows.as_loaded(self.session, Case, written)
        for name in ("parties", "facts", "documents", "events"):
            set_committed_value(case, name, [])
        self._known_by_ref()[ref] = case
        self._marked().add(case.id)  # due at once already: PLAN_AT_ONCE is its first next_due
        self.audit(actor, "case-opened", case.ref, {"protocol": protocol.id, "at": at.isoformat()})
        return case

    def insert_row(self, model: type[T], case: Case | None, collection: str, values: dict[str, Any]) -> T:
        """A new row of ``model`` on ``case``, written at once and put in its ``collection`` as if read
        back (``cases.rows.insert_row``, which says when it is left to the next flush instead)."""
        return rows.insert_row(self.session, model, case, collection, values)

    def case_by_ref(self, ref: str) -> Case | None:
        """The case with reference ``ref`` (``OLD-2026-0007``, any letter case), or None.

        Without writing out what the unit of work has pending first: a case's row is written when it
        is opened (``create_case``) and a reference never changes, so the pending changes cannot alter
        the answer; a case this unit of work opened or found already is answered from memory while it
        is in the session (retention's disposal deletes a case and takes it out of the session)."""
        ref = ref.strip().upper()
        known = self._known_by_ref()
        case = known.get(ref)
        if case is not None and case in self.session:
            return case
        with self.session.no_autoflush:
            case = self.session.execute(select(Case).where(Case.ref == ref)).scalar_one_or_none()
        if case is not None:
            known[ref] = case
        return case

    def case_by_id(self, case_id: int) -> Case | None:
        return self.session.get(Case, case_id)

    def require_case(self, ref: str) -> Case:
        case = self.case_by_ref(ref)
        if case is None:
            raise UnknownCase(ref)
        return case

    def all_cases(self) -> list[Case]:
        return list(self.session.execute(select(Case).order_by(Case.id)).scalars())

    def update_case_details(
        self,
        case: Case,
        *,
        child_identifier: str | None = None,
        child_name: str | None = None,
        child_dob: date | None = None,
        actor: str = SYSTEM_ACTOR,
    ) -> dict[str, Any]:
        """Fill in what a form says about the child; return what changed.

        Details already recorded are kept (a differing value is left for a
        person, not overwritten). Conditions, the area of disagreement and the
        agencies are case facts (``cases.facts``).
        """
        changed: dict[str, Any] = {}
        for name, value in (
            ("child_identifier", child_identifier), ("child_name", child_name), ("child_dob", child_dob),
        ):
            if value is not None and getattr(case, name) is None:
                setattr(case, name, value)
                changed[name] = value.isoformat() if isinstance(value, date) else value
        if changed:
            case.updated_at = utcnow()
            self.audit(actor, "case-details-updated", case.ref, changed)
        return changed

    def add_party(
        self,
        case: Case,
        *,
        name: str | None = None,
        email: str | None = None,
        agency: str | None = None,
        role: str | None = None,
    ) -> Party:
        """Add someone involved in the case; the same email address is added once."""
        if email:
            with self.session.no_autoflush:  # parties added but not yet written are in the list too
                parties = list(case.parties)
            for party in parties:
                if party.email and party.email.lower() == email.lower():
                    party.name = party.name or name
                    party.agency = party.agency or agency
                    party.role = party.role or role
                    return party
        return self.insert_row(Party, case, "parties", {"name": name, "email": email, "agency": agency, "role": role})

    def add_event(
        self,
        case: Case,
        kind: str,
        at: datetime,
        *,
        stage: int | None = None,
        variant: str | None = None,
        detail: dict[str, Any] | None = None,
        message_id: str | None = None,
        ledger_id: int | None = None,
    ) -> None:
        """Record an event on ``case`` (times timezone-aware; ``stage`` a protocol stage number).

        The row is held and written with the transaction's other events by one executemany before
        anything reads them (``cases.pending``), not through the unit of work: a case's events are
        never changed once recorded, and a backlog of mail records thousands. The case is marked for planning (``cases.due``), and its loaded
        ``events`` list is let go so the next read of it has the new one (read events back as
        ``Event``: none is built here)."""
        row = {
            "case_id": case.id, "kind": kind, "at": at, "stage": stage, "variant": variant,
            "detail": detail or {}, "message_id": message_id, "ledger_id": ledger_id, "recorded_at": utcnow(),
        }
        pending.hold(self.session, _WRITE_EVENT, row)
        self._mark_for_planning(case)
        if "events" in case.__dict__:
            self.session.expire(case, ["events"])

    def _mark_for_planning(self, case: Case) -> None:
        """Plan ``case`` again at the next tick (``cases.due``), in the database at once: an event
        written around the unit of work is not seen by its ``before_flush`` hook. Once per case per
        (innermost) transaction; a case opened in it is due at once already."""
        marked = self._marked()
        if case.id in marked:
            return
        now = utcnow()
        self.session.connection().execute(
            _MARK_CASE, {"case_key": case.id, "set_next_due": PLAN_AT_ONCE, "set_updated_at": now})
        set_committed_value(case, "next_due", PLAN_AT_ONCE)
        set_committed_value(case, "updated_at", now)
        marked.add(case.id)

    def _known_by_ref(self) -> dict[str, Case]:
        """Cases this (innermost) transaction opened or found, by reference."""
        return pending.kept_for_transaction(self.session, _BY_REF, dict)

    def _marked(self) -> set[int]:
        """Ids of the cases marked for planning in the innermost transaction."""
        return pending.kept_for_transaction(self.session, _MARKED, set)

    def state_of(self, case: Case) -> CaseState:
        return CaseState(
            status=case.status,
            stage=case.stage,
            variant=case.stage_variant,
            stage_started=case.stage_started,
            resolved_at=case.resolved_at,
            review_reason=case.review_reason,
        )

    def apply(
        self,
        case: Case,
        transition: Transition,
        *,
        message_id: str | None = None,
        ledger_id: int | None = None,
        actor: str = SYSTEM_ACTOR,
    ) -> Transition:
        """Write a transition's events and new state onto the case, with an audit entry."""
        for new in transition.events:
            self.add_event(
                case, new.kind, new.at, stage=new.stage, variant=new.variant, detail=dict(new.detail),
                message_id=message_id, ledger_id=ledger_id,
            )
        state = transition.state
        case.status = state.status
        case.stage = state.stage
        case.stage_variant = state.variant
        case.stage_started = state.stage_started
        case.resolved_at = state.resolved_at
        case.review_reason = state.review_reason
        case.updated_at = utcnow()
        if transition.events:
            self.audit(
                actor,
                "stage-state-changed",
                case.ref,
                {
                    "status": state.status,
                    "stage": state.stage,
                    "variant": state.variant,
                    "events": [  # NewEvent's fields, in order (the entry's JSON copies the detail)
                        {"kind": e.kind, "at": e.at.isoformat(), "stage": e.stage, "variant": e.variant,
                         "detail": e.detail} for e in transition.events
                    ],
                    "message_id": message_id,
                },
            )
        return transition

    def record_stage_summary(
        self,
        case: Case,
        protocol: Protocol,
        stage: int,
        outcome: str | None,
        at: datetime,
        *,
        message_id: str | None = None,
        ledger_id: int | None = None,
    ) -> Transition:
        """A written stage summary arrived: record it and move the case as its outcome says."""
        self.add_event(
            case, "stage-summary", at, stage=stage, detail={"outcome": outcome},
            message_id=message_id, ledger_id=ledger_id,
        )
        with self.session.no_autoflush:  # facts set but not yet written are in the list too
            conditions = clock_inputs(facts_of(case)).conditions
        transition = after_stage_summary(protocol, self.state_of(case), stage, outcome, at, conditions)
        return self.apply(case, transition, message_id=message_id, ledger_id=ledger_id)

    def record_stage_notification(
        self,
        case: Case,
        protocol: Protocol,
        stage: int,
        at: datetime,
        *,
        message_id: str | None = None,
        ledger_id: int | None = None,
    ) -> Transition:
        """A notification that the case is progressing to ``stage`` arrived (Oldham stage 3)."""
        transition = after_stage_notification(protocol, self.state_of(case), stage, at)
        return self.apply(case, transition, message_id=message_id, ledger_id=ledger_id)

    def flag_for_review(self, case: Case, reason: str, at: datetime, *, message_id: str | None = None,
                        ledger_id: int | None = None) -> None:
        """Ask a person to look at the case, saying why (``ledger_id``: the received message it is about)."""
        self.add_event(case, "needs-review", at, stage=case.stage, detail={"reason": reason}, message_id=message_id,
                       ledger_id=ledger_id)
        if case.status != "resolved":
            case.status = "needs-review"
        case.review_reason = reason
        self.audit(SYSTEM_ACTOR, "needs-review", case.ref, {"reason": reason})

    # -- documents, audit, alerts ------------------------------------------------------------

    def add_document(
        self,
        case: Case | None,
        kind: str,
        filename: str,
        media_type: str,
        content: bytes,
        *,
        actor: str = SYSTEM_ACTOR,
    ) -> Document:
        """Archive a document under its SHA-256 and file it on the case, with an audit entry.

        The file is written before the row: if the transaction rolls back, an unreferenced
        content-addressed file remains, which is harmless; a row never points at nothing.
        """
        digest, path = self.store.archive.put_document(content, filename)
        document = self.insert_row(Document, case, "documents", {
            "kind": kind, "filename": filename, "media_type": media_type, "sha256": digest, "size": len(content),
            "path": str(path),
        })
        self.audit(
            actor, "document-archived", case.ref if case else None,
            {"kind": kind, "filename": filename, "media_type": media_type, "sha256": digest, "size": len(content)},
        )
        return document

    def audit(
        self, actor: str, action: str, case_ref: str | None = None, payload: dict[str, Any] | None = None,
        *, at: datetime | None = None,
    ) -> audit_chain.Link:
        """Append an entry to the hash-chained audit log (``cases.audit.append``); returns its place."""
        return audit_chain.append(
            self.session, at=at or utcnow(), actor=actor, action=action, case_ref=case_ref, payload=payload or {}
        )

    def raise_alert(self, kind: str, detail: dict[str, Any], *, at: datetime | None = None) -> Alert:
        alert = Alert(kind=kind, detail=detail, at=at or utcnow())
        self.session.add(alert)
        self.session.flush()
        self.audit(SYSTEM_ACTOR, f"alert:{kind}", None, detail)
        return alert

    def forget_loaded(self, model: type, key: int) -> None:
        """Expire a row's loaded object, if this transaction holds one, after a statement changed the
        row behind the session's back; its next read comes from the database."""
        loaded = self.session.identity_map.get(identity_key(model, key))
        if loaded is not None:
            self.session.expire(loaded)

    def messages_for(self, case: Case) -> list[Message]:
        return list(
            self.session.execute(select(Message).where(Message.case_id == case.id).order_by(Message.id)).scalars()
        )
