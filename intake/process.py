"""Recording one inbound message into the case file: the watcher's processor.

For a claimed message: read it, classify it, check its sender, read any filled
templates it carries, find its case (or open one), and record what it says —
all in one transaction that also completes the ledger claim, so a kill at any
instant leaves either nothing or everything. Refused mail is quarantined with a
reason a person can act on; mail that is not protocol mail is left where it is.

Every recorded message adds an event ``message-recorded`` on its case, whose
detail is what the outbox needs to acknowledge it: ``ledger_id``,
``classification``, ``stage``, ``outcome``, ``sender``, ``sender_name``,
``subject``, ``message_id``, ``references``, ``forms`` (kind and file name),
``acknowledge`` (False for automatic mail) and ``sha256``. Forms read add
``form-read`` events with their fields. Nothing here sends mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime

from cases.models import DONE, IGNORED, QUARANTINED, Case
from cases.lookup import StoreKnownCases
from cases.store import Store, Tx
from cases.timeline import FORM_READ, MESSAGE_RECORDED, normalise_outcome, outcome_from_text
from intake.classify import Classification, classify
from intake.correlate import correlate
from intake.ledger import Claim, Ledger
from intake.message import InboundMessage, parse_message
from intake.senders import check_sender
from intake.sources.base import FetchedMessage
from intake.watch import Filing
from protocols import Protocol, to_local
from resdesk.errors import FormError, IntakeError

ACTOR = "resdesk-intake"
_CHILD_PROTECTION_LEVELS = {"child-protection", "child-in-care"}


@dataclass(frozen=True)
class IntakePolicy:
    """What the partnership decided about its inbox (from the settings)."""

    our_addresses: frozenset[str]
    allowed_sender_domains: tuple[str, ...] = ()
    authserv_id: str | None = None
    max_bytes: int = 25 * 1024 * 1024


@dataclass
class _Reading:
    """What was read from a message before anything is written."""

    message: InboundMessage
    classification: Classification
    when: datetime
    forms: list[tuple[str | None, object]] = field(default_factory=list)  # (file name, FormRecord)


class Refused(Exception):
    """A message must be quarantined, for ``reason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def message_time(raw: bytes, received: datetime) -> datetime:
    """The message's Date, local; the time it was received when the Date is missing or implausible."""
    try:
        value = BytesHeaderParser().parsebytes(raw).get("Date")
        stated = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        stated = None
    if stated is None or stated.tzinfo is None or stated > received + timedelta(days=1):
        return to_local(received)
    return to_local(stated)


class IntakeProcessor:
    """Turns claimed messages into case-file records under one partnership's protocol."""

    def __init__(self, store: Store, ledger: Ledger, protocol: Protocol, policy: IntakePolicy, *, clock=None):
        self.store = store
        self.ledger = ledger
        self.protocol = protocol
        self.policy = policy
        self._now = clock or (lambda: datetime.now(timezone.utc))

    # -- the watcher's interface -------------------------------------------------------------

    def quarantine(self, fetched: FetchedMessage | None, claim: Claim, reason: str) -> Filing:
        archive_path = None
        if fetched is not None and fetched.raw is not None:
            _, path = self.store.archive_message(fetched.raw)
            archive_path = str(path)
        with self.store.transaction() as tx:
            self.ledger.complete(tx, claim, QUARANTINED, reason, archive_path=archive_path)
        return Filing(QUARANTINED, reason)

    def process(self, fetched: FetchedMessage, claim: Claim) -> Filing:
        if fetched.raw is None:
            return self.quarantine(
                fetched, claim,
                f"the message is {fetched.size:,} bytes, over the {self.policy.max_bytes:,}-byte limit "
                "(mailbox.max_message_bytes); it was not downloaded — ask the sender to send smaller attachments",
            )
        try:
            reading = self._read(fetched.raw)
        except Refused as refused:
            return self.quarantine(fetched, claim, refused.reason)
        kind = reading.classification.kind
        if kind == "not-protocol":
            with self.store.transaction() as tx:
                self.ledger.complete(tx, claim, IGNORED, f"not protocol mail: {reading.classification.reason}")
            return Filing(IGNORED, reading.classification.reason)
        sha256, path = self.store.archive_message(fetched.raw)
        with self.store.transaction() as tx:
            known = StoreKnownCases(tx)
            form_fields = reading.forms[0][1].fields if reading.forms else None
            correlation = correlate(reading.message, known, form_fields)
            if correlation.case is None and kind in ("reply", "automatic"):
                reason = (
                    f"automatic mail on no known case ({reading.classification.reason})"
                    if kind == "automatic"
                    else "a reply on no known case"
                )
                self.ledger.complete(tx, claim, IGNORED if kind == "reply" else DONE, reason, archive_path=str(path))
                return Filing(IGNORED if kind == "reply" else DONE, reason)
            case = tx.require_case(correlation.case) if correlation.case else self._open_case(tx, reading)
            self._record(tx, case, reading, claim, sha256, str(path))
            self.ledger.complete(tx, claim, DONE, None, case.id, archive_path=str(path))
            return Filing(DONE)

    # -- reading (no writes) -----------------------------------------------------------------

    def _read(self, raw: bytes) -> _Reading:
        try:
            message = parse_message(raw, max_bytes=self.policy.max_bytes)
        except IntakeError as exc:
            raise Refused(f"the message cannot be read: {exc}") from None
        classification = classify(message, set(self.policy.our_addresses))
        when = message_time(raw, self._now())
        reading = _Reading(message, classification, when)
        if classification.kind in ("automatic", "not-protocol"):
            return reading
        if message.defects:
            raise Refused(
                "the message is malformed ("
                + "; ".join(dict.fromkeys(message.defects))
                + "), so what it carries cannot be trusted to be complete; ask the sender to send it again"
            )
        verdict = check_sender(message, list(self.policy.allowed_sender_domains), self.policy.authserv_id)
        if not verdict.ok:
            raise Refused("the sender is not trusted: " + "; ".join(verdict.flags))
        templates = set(classification.templates)
        for attachment in message.attachments:
            if attachment.filename not in templates:
                continue
            try:
                from forms import read_form

                reading.forms.append((attachment.filename, read_form(attachment.data, attachment.filename)))
            except FormError as exc:
                raise Refused(f"the attachment {exc}") from None
        if not reading.forms:
            try:
                from forms import read_email_text

                typed = read_email_text(message.body_text, source="the message body")
            except FormError as exc:
                raise Refused(f"the form typed into the message cannot be read: {exc}") from None
            if typed is not None:
                reading.forms.append((None, typed))
        return reading

    # -- recording (inside the transaction) ----------------------------------------------------

    def _open_case(self, tx: Tx, reading: _Reading) -> Case:
        return tx.create_case(self.protocol, reading.when, actor=ACTOR)

    def _record(self, tx: Tx, case: Case, reading: _Reading, claim: Claim, sha256: str, path: str) -> None:
        message, classification, when = reading.message, reading.classification, reading.when
        sender = message.sender
        if sender is not None and classification.kind != "automatic":
            tx.add_party(case, name=sender.name or None, email=sender.address)
        stage, outcome = classification.stage, None
        for filename, form in reading.forms:
            self._record_form(tx, case, form, filename, when, message.message_id, claim.ledger_id)
            if form.kind == "stage-summary":
                stage = stage if stage is not None else form.record.stage
                outcome = outcome or normalise_outcome(form.record.outcome)
        carries_summary = classification.kind == "stage-summary" or any(f.kind == "stage-summary" for _, f in reading.forms)
        if carries_summary and stage is not None:
            outcome = outcome or outcome_from_text(message.body_text)
            tx.record_stage_summary(
                case, self.protocol, stage, outcome, when, message_id=message.message_id, ledger_id=claim.ledger_id
            )
        elif classification.kind == "stage-3-notification":
            tx.record_stage_notification(
                case, self.protocol, 3, when, message_id=message.message_id, ledger_id=claim.ledger_id
            )
        else:
            self._enter_stage_a_form_belongs_to(tx, case, reading, claim)
        tx.add_event(
            case, MESSAGE_RECORDED, when, stage=case.stage, variant=case.stage_variant,
            message_id=message.message_id, ledger_id=claim.ledger_id,
            detail={
                "ledger_id": claim.ledger_id,
                "classification": classification.kind,
                "why": classification.reason,
                "stage": stage,
                "outcome": outcome,
                "sender": sender.address if sender else None,
                "sender_name": sender.name if sender else None,
                "subject": message.subject,
                "message_id": message.message_id,
                "references": list(message.references),
                "forms": [{"kind": f.kind, "filename": name} for name, f in reading.forms],
                "acknowledge": classification.kind != "automatic",
                "sha256": sha256,
                "archive": path,
            },
        )

    def _record_form(self, tx: Tx, case: Case, form, filename: str | None, when: datetime, message_id, ledger_id) -> None:
        fields = form.fields
        tx.add_event(
            case, FORM_READ, when, stage=case.stage, message_id=message_id, ledger_id=ledger_id,
            detail={"kind": form.kind, "filename": filename, "fields": fields},
        )
        levels = {fields.get("current_level_of_need"), fields.get("perceived_level_of_need")}
        tx.update_case_details(
            case,
            child_identifier=fields.get("child_identifier"),
            child_name=fields.get("child_name"),
            child_dob=getattr(form.record, "child_dob", None),
            child_protection_plan_or_looked_after=True if levels & _CHILD_PROTECTION_LEVELS else None,
            actor=ACTOR,
        )
        raised_by = fields.get("raised_by_name")
        contact = fields.get("raised_by_email") or fields.get("raised_by_contact")
        if raised_by and contact and "@" in str(contact):
            tx.add_party(
                case, name=raised_by, email=str(contact).strip(),
                agency=fields.get("raised_by_agency") or fields.get("raised_by_role_agency"),
                role=fields.get("raised_by_role"),
            )

    def _enter_stage_a_form_belongs_to(self, tx: Tx, case: Case, reading: _Reading, claim: Claim) -> None:
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
                    message_id=reading.message.message_id, ledger_id=claim.ledger_id,
                )
