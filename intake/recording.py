"""Recording what a message says on its case, inside the watcher's unit of work.

``CaseRecorder.record(tx, case, reading, ledger_id, sha256, path)`` adds the
message's parties (sender, To and Cc, with their agency by domain), the facts it
states (typed lines, form fields), its forms (as documents and ``form-read``
events, with the child's details), the stage it reports (a stage summary, a stage
3 notification, or a template the protocol requires from a later stage) and the
``message-recorded`` event the outbox acknowledges from; ``open_case`` opens the
case a first message starts. Nothing here commits: the caller's unit of work does,
with the ledger claim's completion.
"""

from __future__ import annotations

from email.utils import parseaddr

from sqlalchemy import select

from resdesk.cases.facts import facts_of, record_fact
from resdesk.cases.models import QUARANTINED, Case, Message
from resdesk.cases.store import Tx
from resdesk.cases.timeline import (
    FORM_READ, MESSAGE_RECORDED, STAGE_SUMMARY, normalise_outcome, outcome_from_text,
)
from resdesk.errors import ResdeskError
from resdesk.forms import age_on
from resdesk.intake.classify import Classification
from resdesk.intake.facts import Mention, agency_of
from resdesk.intake.message import InboundMessage
from resdesk.intake.reading import IntakePolicy, Reading
from resdesk.protocols import Protocol
from resdesk.protocols.facts import ESTIMATED, definition

__all__ = ["ACTOR", "CaseRecorder", "list_identifier", "person_name", "received_kind"]

ACTOR = "resdesk-intake"
# A date of birth further back than this is kept but flagged: support for care leavers runs to 25
# (Children and Social Work Act 2017, s.3), so an older "child" is most likely a mistyped year.
OLDEST_CHILD_AGE = 25
NAME_CHARS = 200  # a party's name as the case file keeps it (parties.name)


def person_name(name: str | None) -> str | None:
    """A display name as kept and written back: at most ``NAME_CHARS`` characters, a longer one cut
    and marked with an ellipsis (a 40,000-character "name" is no one's, and would take the
    acknowledgement's layout minutes)."""
    if not name:
        return None
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1].rstrip() + "\u2026"


def received_kind(form) -> str:
    """The document kind a received form is filed under (``received-stage-summary``, …)."""
    return f"received-{form.kind}"


def list_identifier(list_id: str | None) -> str | None:
    """The identifier of a List-Id header (RFC 2919 §2: an optional phrase, then the identifier in
    angle brackets), lower case; None when there is none."""
    if not list_id:
        return None
    inside = list_id.rpartition("<")[2].partition(">")[0] if "<" in list_id else list_id
    return inside.strip().lower() or None


class CaseRecorder:
    """Records messages read under ``policy`` on cases under ``protocol``."""

    def __init__(self, protocol: Protocol, policy: IntakePolicy):
        self.protocol = protocol
        self.policy = policy


    def open_case(self, tx: Tx, reading: Reading) -> Case:
        case = tx.create_case(self.protocol, reading.when, actor=ACTOR)
        # Until a form, a typed line or a person says when, the case starts at its first message.
        record_fact(tx, case, "case_start", reading.when, source=ESTIMATED, by=ACTOR, at=reading.when,
                    detail={"from": "the first message received"})
        return case

    def _record_parties(self, tx: Tx, case: Case, message: InboundMessage, automatic: bool) -> None:
        """The sender and everyone copied (From, To, Cc) are parties, with their agency by domain;
        our own addresses, the business unit, and the mailing list the message came through (its
        address read from its List-Id, RFC 2919: ``eh-leads@lists.example`` is ``eh-leads.lists.example``)
        are not: the protocol's notices, reminders and overdue alerts go to parties, and a list is
        never written to."""
        if automatic:
            return
        ours = {a.lower() for a in self.policy.our_addresses}
        if self.policy.business_unit:
            ours.add(parseaddr(self.policy.business_unit)[1].lower())
        domains = dict(self.policy.agency_domains)
        mailing_list = list_identifier(message.list_id)
        for address in (message.sender, *message.to, *message.cc):
            if address is None or not address.address or address.address.lower() in ours:
                continue
            if mailing_list and address.address.lower().replace("@", ".", 1) == mailing_list:
                continue  # the list the message came through: no person, and never to be written to
            tx.add_party(case, name=person_name(address.name), email=address.address,
                         agency=agency_of(address.address, domains))

    def _record_facts(self, tx: Tx, case: Case, reading: Reading) -> None:
        """Facts the message states (typed lines, form fields) and the agencies on the case;
        a condition only mentioned in prose puts the case on the needs-review list, quoted."""
        readings, mentions = reading.stated_facts()
        for fact in readings:
            try:
                record_fact(tx, case, fact.name, fact.value, source=fact.source, by=ACTOR, at=reading.when,
                            detail=fact.detail)
            except ResdeskError:
                mentions.append(Mention(fact.name, str(fact.detail.get("line") or fact.detail)))
        held = facts_of(case)
        for mention in mentions:
            if mention.name in held:
                continue
            tx.flag_for_review(
                case,
                f"the message mentions '{mention.name}' without stating it: \u201c{mention.sentence}\u201d; "
                f"confirm with 'resdesk case {case.ref} --set {mention.name}={definition(mention.name).example}'"
                + (" (or no)" if definition(mention.name).kind == "flag" else ""),
                reading.when, message_id=reading.message.message_id,
            )
        agencies = {p.agency for p in case.parties if p.agency}
        for form in (f for _, f in reading.forms):
            agencies.update(a for a in (form.fields.get("raised_by_agency"), form.fields.get("agency")) if a)
        current = held.get("agencies")
        if agencies and (current is None or not agencies <= set(current.value)):
            record_fact(tx, case, "agencies", sorted(agencies | set(current.value if current else [])),
                        source="form" if reading.forms else "message", by=ACTOR, at=reading.when)

    def record(self, tx: Tx, case: Case, reading: Reading, ledger_id: int, sha256: str, path: str, *,
               documents_filed: bool = False) -> None:
        """Record what ``reading`` says on ``case`` (see the module's notes). ``documents_filed``: the
        message's files are on the case already (it was filed from someone not on the case, and a
        person has accepted it), so they are not filed again."""
        message, classification, when = reading.message, reading.classification, reading.when
        sender = message.sender
        self._record_parties(tx, case, message, classification.kind == "automatic")
        if classification.kind != "automatic":
            self._record_facts(tx, case, reading)
        stage, outcome = classification.stage, None
        for filename, form in reading.forms:
            self._record_form(tx, case, form, filename, reading, ledger_id, file_document=not documents_filed)
            if form.kind == "stage-summary":
                stage = stage if stage is not None else form.record.stage
                outcome = outcome or normalise_outcome(form.record.outcome)
        carries_summary = classification.kind == "stage-summary" or any(f.kind == "stage-summary" for _, f in reading.forms)
        if carries_summary and stage is not None and outcome is None and self._answers_a_summary(tx, case, stage, message):
            classification = Classification("reply", f"it answers the stage {stage} summary and states no outcome")
        elif carries_summary and stage is not None:
            outcome = outcome or outcome_from_text(message.new_text)
            tx.record_stage_summary(
                case, self.protocol, stage, outcome, when, message_id=message.message_id, ledger_id=ledger_id
            )
        elif classification.kind == "stage-3-notification":
            tx.record_stage_notification(
                case, self.protocol, 3, when, message_id=message.message_id, ledger_id=ledger_id
            )
        else:
            self._enter_stage_a_form_belongs_to(tx, case, reading, ledger_id)
        for attachment in [] if documents_filed else reading.kept:
            tx.add_document(case, "attachment", attachment.filename, attachment.content_type, attachment.data, actor=ACTOR)
        tx.add_event(
            case, MESSAGE_RECORDED, when, stage=case.stage, variant=case.stage_variant,
            message_id=message.message_id, ledger_id=ledger_id,
            detail={
                "ledger_id": ledger_id,
                "classification": classification.kind,
                "why": classification.reason,
                "stage": stage,
                "outcome": outcome,
                "sender": sender.address if sender else None,
                "sender_name": person_name(sender.name) if sender else None,
                "subject": message.subject,
                "message_id": message.message_id,
                "references": list(message.references),
                "forms": [{"kind": f.kind, "filename": name} for name, f in reading.forms],
                "acknowledge": classification.kind != "automatic" and classification.acknowledge,
                "flaws": list(dict.fromkeys(reading.flaws)),
                "sender_verification": reading.verification,
                "sha256": sha256,
                "archive": path,
            },
        )

    @staticmethod
    def quarantined_parent(tx: Tx, message: InboundMessage) -> str | None:
        """The subject of a quarantined message this one answers, if any."""
        if not message.thread_ids:
            return None
        row = tx.session.execute(
            select(Message).where(Message.message_id.in_(message.thread_ids), Message.state == QUARANTINED).limit(1)
        ).scalar_one_or_none()
        return None if row is None else repr(row.subject or row.message_id)

    @staticmethod
    def _answers_a_summary(tx: Tx, case: Case, stage: int, message: InboundMessage) -> bool:
        """A reply under the summary's subject ("RE: ... Stage 1 Summary", "Thanks, agreed") with no
        outcome of its own, on a case whose stage summary is already recorded, is a reply, not a summary."""
        if not message.thread_ids or outcome_from_text(message.new_text) is not None:
            return False
        return any(e.kind == STAGE_SUMMARY and e.stage == stage for e in case.events)

    def _record_form(self, tx: Tx, case: Case, form, filename: str | None, reading: Reading, ledger_id: int, *,
                     file_document: bool = True) -> None:
        fields = form.fields
        when, message_id = reading.when, reading.message.message_id
        if file_document and filename in reading.files:
            media_type, data = reading.files[filename]
            tx.add_document(case, received_kind(form), filename, media_type, data, actor=ACTOR)
        tx.add_event(
            case, FORM_READ, when, stage=case.stage, message_id=message_id, ledger_id=ledger_id,
            detail={"kind": form.kind, "filename": filename, "fields": fields},
        )
        tx.update_case_details(
            case,
            child_identifier=fields.get("child_identifier"),
            child_name=fields.get("child_name"),
            child_dob=getattr(form.record, "child_dob", None),
            actor=ACTOR,
        )
        born = getattr(form.record, "child_dob", None)
        if born is not None and age_on(born, when.date()) > OLDEST_CHILD_AGE:
            tx.flag_for_review(
                case, f"the form {filename or 'in the message'} gives a date of birth {age_on(born, when.date())} "
                f"years before the message, older than the {OLDEST_CHILD_AGE} a care leaver is supported to; "
                "check the date with the sender", when, message_id=message_id,
            )
        raised_by = fields.get("raised_by_name")
        contact = fields.get("raised_by_email") or fields.get("raised_by_contact")
        if raised_by and contact and "@" in str(contact):
            tx.add_party(
                case, name=person_name(str(raised_by)), email=str(contact).strip(),
                agency=fields.get("raised_by_agency") or fields.get("raised_by_role_agency"),
                role=fields.get("raised_by_role"),
            )

    def _enter_stage_a_form_belongs_to(self, tx: Tx, case: Case, reading: Reading, ledger_id: int) -> None:
        """A template the protocol requires from stage N (Oldham's Resolution Notice at stage 4,
        Sandwell's escalation template from stage 2) shows the case has reached stage N."""
        for _, form in reading.forms:
            stages = [s.number for s in self.protocol.stages if form.kind in s.forms]
            if not stages or form.kind == "stage-summary":
                continue
            first = min(stages)
            if case.stage is None or case.stage < first:
                tx.record_stage_notification(
                    case, self.protocol, first, reading.when,
                    message_id=reading.message.message_id, ledger_id=ledger_id,
                )
