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
``acknowledge`` (False for automatic mail and for mail through a list), ``flaws`` (harmless
faults found and read past, each a sentence) and ``sha256``. Files that are not usable forms
are kept as ``attachment`` documents on the case; a quarantined message from a person records
whom to answer (``Message.answer_to``) for the outbox's refusal reply. Forms read add
``form-read`` events with their fields. Nothing here sends mail.

A message found on an existing case changes it only with authority over it (``intake.authority``:
a verified party, or someone the case's mail reached or a colleague at an agency on it with more
than a guessable reference); otherwise it is filed on the case as a ``message-not-on-case`` event,
changes nothing, is not acknowledged, and the case goes on the review list. Each message's sender
verification (``intake.senders``) is kept on its ledger row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from sqlalchemy import select

from resdesk.cases.lookup import StoreKnownCases
from resdesk.cases.models import DONE, IGNORED, QUARANTINED, Case, Message, Outbound, TrustedSender
from resdesk.cases.store import Store, Tx
from resdesk.cases.timeline import (
    FORM_READ, MESSAGE_NOT_ON_CASE, MESSAGE_RECORDED, STAGE_SUMMARY, normalise_outcome, outcome_from_text,
)
from resdesk.cases.tokens import case_token_key, code_matches
from resdesk.intake.authority import Authority, authority_over_case
from resdesk.intake.correlate import Correlation
from resdesk.forms import age_on, read_email_text, read_form
from resdesk.cases.facts import facts_of, record_fact
from resdesk.intake.bounces import mark_bounced
from resdesk.intake.sealed import sealed_reason
from resdesk.intake.classify import Classification, classify, no_automatic_reply
from resdesk.intake.facts import Mention, agency_of, read_facts
from resdesk.intake.correlate import correlate
from resdesk.intake.ledger import Claim, Ledger
from resdesk.intake.forwarded import carried_message
from resdesk.intake.headers import HeaderReader
from resdesk.intake.limits import InboundLimits, over_limit
from resdesk.intake.readers import ReaderPool
from resdesk.intake.message import Attachment, InboundMessage, parse_message
from resdesk.intake.senders import check_sender, domain_allowed
from resdesk.intake.sources.base import FetchedMessage
from resdesk.intake.watch import Filing
from resdesk.protocols import Protocol, to_local
from resdesk.protocols.facts import ESTIMATED, definition
from resdesk.errors import FormError, HostileFile, IntakeError, ResdeskError

ACTOR = "resdesk-intake"
# A date of birth further back than this is kept but flagged: support for care leavers runs to 25
# (Children and Social Work Act 2017, s.3), so an older "child" is most likely a mistyped year.
OLDEST_CHILD_AGE = 25


@dataclass(frozen=True)
class IntakePolicy:
    """What the partnership decided about its inbox (from the settings)."""

    our_addresses: frozenset[str]
    allowed_sender_domains: tuple[str, ...] = ()
    authserv_id: str | None = None
    max_bytes: int = 25 * 1024 * 1024
    agency_domains: tuple[tuple[str, str], ...] = ()  # (domain, agency name)
    business_unit: str | None = None  # where the business unit reads our notices (may be this inbox)
    limits: InboundLimits = InboundLimits()


@dataclass
class _Reading:
    """What was read from a message before anything is written."""

    message: InboundMessage
    classification: Classification
    when: datetime
    forms: list[tuple[str | None, object]] = field(default_factory=list)  # (file name, FormRecord)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # file name -> (media type, bytes)
    kept: list[Attachment] = field(default_factory=list)  # other files, kept as documents on the case
    flaws: list[str] = field(default_factory=list)  # harmless faults noted on the message
    verification: str | None = None  # intake.senders' verdict: verified, unverified, not-checked

    def __post_init__(self) -> None:
        self.flaws.extend(self.message.flaws)


def _typed_form(body: str):
    """The form typed into a body that the subject did not announce, if there is a valid one."""
    try:
        return read_email_text(body, source="the message body")
    except FormError:
        return None


@dataclass
class Prepared:
    """What ``IntakeProcessor.prepare`` made of a message before anything is written: its reading,
    or why it is refused, and its archived copy (sha256, path) where it is kept."""

    reading: _Reading | None = None
    refused: "Refused | None" = None
    archive: tuple[str, str] | None = None
    our_notice: bool = False  # our own notice to the business unit, in its inbox: left there


class Refused(Exception):
    """A message must be quarantined, for ``reason``; ``answerable`` False when its sender must not
    be answered (a sender not trusted). ``answer_to`` is filled in by the processor."""

    def __init__(self, reason: str, *, answerable: bool = True, fields: dict[str, str] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.answerable = answerable
        self.answer_to: str | None = None
        self.fields = dict(fields or {})  # what was refused: field name -> its value (only hashed in the audit)


NAME_CHARS = 200  # a party's name as the case file keeps it (parties.name)


def person_name(name: str | None) -> str | None:
    """A display name as kept and written back: at most ``NAME_CHARS`` characters, a longer one cut
    and marked with an ellipsis (a 40,000-character "name" is no one's, and would take the
    acknowledgement's layout minutes)."""
    if not name:
        return None
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1].rstrip() + "\u2026"


def message_time(raw: bytes | InboundMessage, received: datetime) -> datetime:
    """The message's Date, local; the time it was received when the Date is missing or implausible.
    ``raw`` is the message's bytes or, read once already, the ``InboundMessage`` read from them."""
    if isinstance(raw, InboundMessage):
        stated = raw.date
    else:
        stated = HeaderReader(BytesHeaderParser().parsebytes(raw), []).stated_date()
    if stated is None or stated.tzinfo is None or stated > received + timedelta(days=1):
        return to_local(received)
    return to_local(stated)


def sender_is_automatic(message: InboundMessage, our_addresses: set[str] = frozenset()) -> bool:
    """Whether a message must get no automatic reply (``classify.no_automatic_reply``)."""
    return no_automatic_reply(message, set(our_addresses)) is not None


class IntakeProcessor:
    """Turns claimed messages into case-file records under one partnership's protocol."""

    def __init__(self, store: Store, ledger: Ledger, protocol: Protocol, policy: IntakePolicy, *, clock=None,
                 readers: ReaderPool | None = None):
        self.store = store
        self.ledger = ledger
        self.protocol = protocol
        self.policy = policy
        self.readers = readers  # reads batches in a second process (the watcher's); None reads here
        self._now = clock or (lambda: datetime.now(timezone.utc))
        self._trusted: frozenset[str] | None = None  # the trusted senders, when given to ``read``

    def close(self) -> None:
        """Stop the reader process, if one was started."""
        if self.readers is not None:
            self.readers.close()

    # -- the watcher's interface -------------------------------------------------------------

    def quarantine(
        self, fetched: FetchedMessage | None, claim: Claim, reason: str, *, answer_to: str | None = None,
        refused: dict[str, str] | None = None,
    ) -> Filing:
        """Quarantine a claimed message, for ``reason``, in a unit of work of its own (its raw
        bytes, when downloaded, archived first)."""
        archive_path = None
        if fetched is not None and fetched.raw is not None:
            _, path = self.store.archive_message(fetched.raw)
            archive_path = str(path)
        with self.store.transaction() as tx:
            return self._quarantine_in(tx, claim, reason, archive_path, answer_to=answer_to, refused=refused)

    def _quarantine_in(
        self, tx: Tx, claim: Claim, reason: str, archive_path: str | None, *, answer_to: str | None = None,
        refused: dict[str, str] | None = None,
    ) -> Filing:
        row = self.ledger.complete(tx, claim, QUARANTINED, reason, archive_path=archive_path, refused=refused)
        row.answer_to = answer_to
        return Filing(QUARANTINED, reason)

    def process(self, fetched: FetchedMessage, claim: Claim, *, vouched_by: str | None = None) -> Filing:
        """File one claimed message in a unit of work of its own (``prepare``, then ``file``).
        ``vouched_by`` names the person who released it from quarantine: they vouch for it, so it may
        change the case it names whoever sent it (``intake.authority``)."""
        prepared = self.prepare(fetched)
        with self.store.transaction() as tx:
            return self.file(tx, fetched, claim, prepared, vouched_by=vouched_by)

    def prepare(self, fetched: FetchedMessage) -> Prepared:
        """Read a message and archive its raw bytes where it will be kept; nothing is written to the
        case file, so the watcher can read a batch and then record it in one unit of work. A message
        to be refused comes back with ``refused`` set, not raised; any other fault is raised."""
        if fetched.raw is None:
            return self._prepared(fetched, None)
        try:
            return self._prepared(fetched, self._read(fetched.raw))
        except Refused as refused:
            return self._prepared(fetched, refused)

    def prepare_many(self, fetched: list[FetchedMessage]) -> Iterator[Prepared | Exception]:
        """``prepare`` for each of a batch, in order, the reading done in the reader process when there
        is one (``intake.readers``); a message whose reading or archiving failed yields the exception."""
        downloaded = [item for item in fetched if item.raw is not None]
        trusted = self._trusted_senders() if self.policy.allowed_sender_domains else frozenset()
        readers = self.readers
        outcomes = (
            readers.read_all(self, [item.raw for item in downloaded], self._now(), trusted)
            if readers is not None else (self._read_or_fault(item.raw) for item in downloaded)
        )
        for item in fetched:
            try:
                yield self._prepared(item, None if item.raw is None else next(outcomes))
            except Exception as exc:  # noqa: BLE001 - this message's fault, for the watcher to handle alone
                yield exc

    def _read_or_fault(self, raw: bytes):
        try:
            return self._read(raw)
        except Exception as exc:  # noqa: BLE001 - Refused, or a fault, handed back in order
            return exc

    def read(self, raw: bytes, *, now: datetime | None = None, trusted: frozenset[str] | None = None) -> _Reading:
        """Read a message (parse, classify, check the sender, read its forms) without the case file:
        ``now`` (UTC) stands for the clock, ``trusted`` for the business unit's trusted senders. Raises
        ``Refused``. The reader process's entry point (``intake.readers``)."""
        previous = self._now, self._trusted
        if now is not None:
            self._now = lambda: now
        self._trusted = trusted
        try:
            return self._read(raw)
        finally:
            self._now, self._trusted = previous

    def _prepared(self, fetched: FetchedMessage, outcome: "_Reading | Exception | None") -> Prepared:
        """What ``prepare`` gives for a message read as ``outcome`` (None: it was not downloaded)."""
        if fetched.raw is None:
            return Prepared(refused=Refused(
                f"the message is {fetched.size:,} bytes, over the {self.policy.max_bytes:,}-byte limit "
                "(mailbox.max_message_bytes); it was not downloaded — ask the sender to send smaller attachments"
            ))
        if isinstance(outcome, Refused):
            return Prepared(refused=outcome, archive=self._archive(fetched.raw))
        if isinstance(outcome, Exception):
            raise outcome
        reading = outcome
        kind = reading.classification.kind
        if kind == "automatic" and self._is_our_notice_to_the_business_unit(reading.message):
            return Prepared(reading, our_notice=True)  # left in the inbox, not archived
        if kind == "not-protocol":
            return Prepared(reading)
        case_token_key(self.store)  # read (or made) once, in a unit of work of its own, before any batch's
        return Prepared(reading, archive=self._archive(fetched.raw))

    def _archive(self, raw: bytes) -> tuple[str, str]:
        sha256, path = self.store.archive_message(raw)
        return sha256, str(path)

    def file(self, tx: Tx, fetched: FetchedMessage, claim: Claim, prepared: Prepared, *,
             vouched_by: str | None = None) -> Filing:
        """Record a prepared message and complete its claim inside the caller's unit of work ``tx``
        (which may record other messages too). Raises only on a fault in the case file or a bug; the
        caller then rolls back and the claim is retried."""
        if prepared.refused is not None:
            refused = prepared.refused
            path = prepared.archive[1] if prepared.archive else None
            return self._quarantine_in(tx, claim, refused.reason, path, answer_to=refused.answer_to, refused=refused.fields)
        reading = prepared.reading
        kind = reading.classification.kind
        if prepared.our_notice:
            reason = "our own notice to the business unit, left in the inbox where it reads it"
            self.ledger.complete(tx, claim, IGNORED, reason)
            return Filing(IGNORED, reason)
        if kind == "not-protocol":
            self.ledger.complete(tx, claim, IGNORED, f"not protocol mail: {reading.classification.reason}")
            return Filing(IGNORED, reading.classification.reason)
        sha256, path = prepared.archive
        if reading.forms and kind == "filled-template" and all(f.kind == "summary-log" for _, f in reading.forms):
            return self._file_summary_log(tx, reading, claim, path)
        key = case_token_key(self.store)
        known = StoreKnownCases(tx, protocol=self.protocol.id)
        form_fields = reading.forms[0][1].fields if reading.forms else None
        correlation = correlate(reading.message, known, form_fields)
        if correlation.case is None and kind == "reply":
            held = self._quarantined_parent(tx, reading.message)
            if held is not None:
                reason = f"it answers a message held in quarantine ({held}); it is held beside it for a person"
                self.ledger.complete(tx, claim, QUARANTINED, reason, archive_path=path)
                return Filing(QUARANTINED, reason)
        if correlation.case is None and kind == "reply":  # left where it is, for a person
            self.ledger.complete(tx, claim, IGNORED, "a reply on no known case", archive_path=path)
            return Filing(IGNORED, "a reply on no known case")
        bounced = mark_bounced(tx, reading.message, reading.when) if kind == "automatic" else None
        if correlation.case is None and bounced is not None:
            correlation = replace(correlation, case=bounced)
        if correlation.case is None and kind == "automatic":  # filed, never answered
            reason = f"automatic mail on no known case ({reading.classification.reason})"
            self.ledger.complete(tx, claim, DONE, reason, archive_path=path)
            return Filing(DONE, reason)
        if correlation.case is not None and kind != "automatic" and vouched_by is None:
            case = tx.require_case(correlation.case)
            authority = self._authority(tx, case, reading, correlation, key)
            if not authority.may_change:
                return self._file_from_someone_not_on_the_case(tx, case, reading, claim, sha256, path, authority)
        if correlation.case:
            case = tx.require_case(correlation.case)
        else:
            case = self._open_case(tx, reading)
            if reading.verification == "unverified":
                tx.flag_for_review(
                    case, "the case was opened by a sender our mail server could not verify "
                    "(no DMARC or aligned SPF/DKIM pass); confirm it with the sender",
                    reading.when, message_id=reading.message.message_id,
                )
        self._record(tx, case, reading, claim, sha256, path)
        row = self.ledger.complete(tx, claim, DONE, None, case.id, archive_path=path)
        row.sender_verification = reading.verification
        return Filing(DONE)

    def _authority(self, tx: Tx, case: Case, reading: _Reading, correlation: Correlation, key: bytes) -> Authority:
        """May this message change ``case``? (``intake.authority``; the facts it needs, read here.)"""
        message = reading.message
        sender = message.sender.address.strip().lower() if message.sender else None
        if correlation.method != "reference" or correlation.code is None:
            code = "missing"
        else:
            code = "right" if code_matches(key, case.ref, correlation.code) else "wrong"
        on_thread = correlation.method == "thread" or bool(
            message.thread_ids
            and StoreKnownCases(tx, protocol=self.protocol.id).case_for_message_ids(list(message.thread_ids)) == case.ref
        )
        return authority_over_case(
            sender=sender, standing=self._standing(tx, case, sender), verification=reading.verification or "not-checked",
            code=code, evidence=on_thread or correlation.method == "child",
        )

    def _standing(self, tx: Tx, case: Case, sender: str | None):
        """``party``, ``recipient`` (the case's own mail went to them), ``colleague`` (at an agency on
        the case, by a configured domain, or at the partnership itself) or ``stranger``."""
        if not sender or "@" not in sender:
            return "stranger"
        parties = {p.email.strip().lower() for p in case.parties if p.email and "@" in p.email}
        if sender in parties:
            return "party"
        sent = tx.session.execute(select(Outbound.recipients).where(Outbound.case_id == case.id)).scalars()
        if any(sender in {str(r).strip().lower() for r in (recipients or [])} for recipients in sent):
            return "recipient"
        configured = [*self.policy.allowed_sender_domains, *(d for d, _ in self.policy.agency_domains)]
        ours = [a.rpartition("@")[2] for a in (*self.policy.our_addresses, parseaddr(self.policy.business_unit or "")[1]) if "@" in a]
        for domain in configured:
            if domain_allowed(sender.rpartition("@")[2], [domain]) and any(
                domain_allowed(p.rpartition("@")[2], [domain]) for p in parties
            ):
                return "colleague"
        if ours and domain_allowed(sender.rpartition("@")[2], ours):
            return "colleague"
        return "stranger"

    def _file_from_someone_not_on_the_case(
        self, tx: Tx, case: Case, reading: _Reading, claim: Claim, sha256: str, path: str, authority: Authority
    ) -> Filing:
        """File the message on ``case`` as from someone not on the case: its files are kept as
        documents, nothing it says is recorded, no one is answered, and the case goes on the
        business unit's review list (``intake.authority``)."""
        message = reading.message
        for name, (media_type, data) in reading.files.items():
            tx.add_document(case, "attachment", name, media_type, data, actor=ACTOR)
        for attachment in reading.kept:
            tx.add_document(case, "attachment", attachment.filename, attachment.content_type, attachment.data, actor=ACTOR)
        tx.add_event(
            case, MESSAGE_NOT_ON_CASE, reading.when, stage=case.stage, variant=case.stage_variant,
            message_id=message.message_id, ledger_id=claim.ledger_id,
            detail={
                "ledger_id": claim.ledger_id, "classification": reading.classification.kind,
                "sender": message.sender.address if message.sender else None,
                "sender_verification": reading.verification, "why": authority.reason,
                "subject": message.subject, "message_id": message.message_id,
                "forms": [{"kind": f.kind, "filename": name} for name, f in reading.forms],
                "acknowledge": False, "sha256": sha256, "archive": path,
            },
        )
        tx.flag_for_review(
            case, f"a message from someone not on the case names it and changed nothing: {authority.reason}; "
            "read it among the case's messages and, if it should count, make the change it asks for by hand "
            f"('resdesk act set-stage {case.ref} N', 'resdesk act close {case.ref}', 'resdesk case {case.ref} --set')",
            reading.when, message_id=message.message_id,
        )
        reason = "filed from someone not on the case: it changed nothing, and the case is on the review list"
        row = self.ledger.complete(tx, claim, DONE, reason, case.id, archive_path=path)
        row.sender_verification = reading.verification
        return Filing(DONE, reason)

    def _is_our_notice_to_the_business_unit(self, message: InboundMessage) -> bool:
        """A notice the outbox sent (our From address and our X-Resdesk header) addressed to the
        business unit: where the watched inbox is the business unit's own, it stays for a person."""
        unit = (self.policy.business_unit or "").strip().lower()
        ours = {address.lower() for address in self.policy.our_addresses}
        return bool(
            unit
            and (message.resdesk_notice or message.resdesk_case)
            and message.sender is not None and message.sender.address.lower() in ours
            and unit in {a.address.lower() for a in (*message.to, *message.cc)}
        )

    def _file_summary_log(self, tx: Tx, reading: _Reading, claim: Claim, path: str) -> Filing:
        """An agency's summary log (Sandwell Appendix 4) is a periodic return, not a case: file it."""
        reason = "an agency escalation summary log (a periodic return, filed without a case)"
        for name, _ in reading.forms:
            if name in reading.files:
                media_type, data = reading.files[name]
                tx.add_document(None, "summary-log", name, media_type, data, actor=ACTOR)
        self.ledger.complete(tx, claim, DONE, reason, archive_path=path)
        return Filing(DONE, reason)

    # -- reading (no writes) -----------------------------------------------------------------

    def _read(self, raw: bytes) -> _Reading:
        limited = over_limit(raw, self.policy.limits)
        if limited is not None:
            raise Refused(f"the message is over a limit: {limited}; it was not read further")
        try:
            arrived = parse_message(raw, max_bytes=self.policy.max_bytes)
        except IntakeError as exc:
            raise Refused(f"the message cannot be read: {exc}") from None
        if len(arrived.body_text) > self.policy.limits.body_chars:
            raise Refused(
                f"the message is over a limit: its text is {len(arrived.body_text):,} characters, over the "
                f"limit of {self.policy.limits.body_chars:,} (limits.body_chars); it was not read further"
            )
        message, classification = arrived, classify(arrived, set(self.policy.our_addresses))
        carried = carried_message(arrived, set(self.policy.our_addresses)) if classification.kind != "automatic" else None
        if carried is not None:
            message, classification = carried.message, carried.classification
        typed = _typed_form(message.new_text) if classification.kind == "not-protocol" else None
        if typed is not None:
            classification = Classification("filled-template", "its body is a typed-in form")
        reading = _Reading(message, classification, message_time(message, self._now()))
        if typed is not None:
            reading.forms.append((None, typed))
        if classification.kind in ("automatic", "not-protocol"):
            self._check_field_lengths(reading)
            return reading
        try:
            self._check_and_read(reading, arrived)
        except Refused as refused:
            sender = arrived.sender
            if refused.answerable and sender is not None and not sender_is_automatic(arrived, self.policy.our_addresses):
                refused.answer_to = sender.address
            raise
        return reading

    def _check_and_read(self, reading: _Reading, arrived: InboundMessage) -> None:
        """The checks protocol mail must pass, then its forms; raises ``Refused``."""
        message = reading.message
        sealed = sealed_reason(arrived)
        if sealed:
            raise Refused(sealed)
        if message.defects:
            raise Refused(
                "the message is malformed ("
                + "; ".join(dict.fromkeys(message.defects))
                + "), so what it carries cannot be trusted to be complete; ask the sender to send it again"
            )
        verdict = check_sender(arrived, self._allowed_domains(arrived), self.policy.authserv_id)
        if not verdict.ok:
            raise Refused("the sender is not trusted: " + "; ".join(verdict.flags), answerable=False,
                          fields={"From": arrived.sender.address if arrived.sender else "",
                                  "From display name": arrived.sender.name if arrived.sender else ""})
        reading.verification = verdict.verification
        self._read_attachments(reading)
        if not reading.forms:
            try:
                typed = read_email_text(message.new_text, source="the message body")
            except FormError as exc:
                raise Refused(f"the form typed into the message cannot be read: {exc}",
                              fields={exc.field or "form": exc.reason}) from None
            if typed is not None:
                reading.forms.append((None, typed))
        self._check_field_lengths(reading)

    @staticmethod
    def _read_attachments(reading: _Reading) -> None:
        """Read every possible template; keep every other file, and every template that is not a
        usable form, as a document. A hostile file refuses the message, naming every such file; an unusable
        one only when the message says nothing else (no summary subject, no other form)."""
        templates = set(reading.classification.templates)
        unusable: list[str] = []
        hostile: list[str] = []
        refused: dict[str, str] = {}
        for attachment in reading.message.attachments:
            if attachment.content_type in ("message/rfc822", "message/global", "application/ms-tnef") or (
                attachment.filename.lower() == "winmail.dat"
            ):
                continue  # the attached message is archived with this one; a winmail.dat's files are listed
            if attachment.filename not in templates:
                reading.kept.append(attachment)
                continue
            try:
                reading.forms.append((attachment.filename, read_form(attachment.data, attachment.filename)))
                reading.files[attachment.filename] = (attachment.content_type, attachment.data)
            except HostileFile as exc:
                hostile.append(f"the attachment {exc}")
                refused[f"attachment {len(refused) + 1}"] = attachment.filename
            except FormError as exc:
                unusable.append(f"the attachment {exc}")
                refused[exc.field or f"attachment {len(refused) + 1}"] = exc.reason
                reading.kept.append(attachment)
        if hostile:
            raise Refused("; ".join(hostile) + "; nothing in this message was recorded", fields=refused)
        says_something = reading.forms or reading.classification.kind in ("stage-summary", "stage-3-notification")
        if unusable and not says_something and reading.classification.kind == "filled-template":
            raise Refused("; ".join(unusable), fields=refused)
        reading.flaws.extend(f"{reason}; kept as a document" for reason in unusable)

    def _allowed_domains(self, message: InboundMessage) -> list[str]:
        """The settings' agency domains plus what the business unit has trusted since (a domain,
        or this sender's own address); an empty list still accepts every domain."""
        allowed = list(self.policy.allowed_sender_domains)
        if not allowed:
            return allowed
        trusted = self._trusted if self._trusted is not None else self._trusted_senders()
        allowed += [value for value in trusted if "@" not in value]
        if message.sender is not None and message.sender.address.lower() in trusted:
            allowed.append(message.sender.domain)
        return allowed

    def _trusted_senders(self) -> frozenset[str]:
        """Domains and addresses the business unit has trusted since the settings were written."""
        with self.store.transaction() as tx:
            return frozenset(tx.session.execute(select(TrustedSender.value)).scalars())

    def _check_field_lengths(self, reading: _Reading) -> None:
        """Refuse a form with a field longer than ``limits.field_chars`` (named, its value never quoted)."""
        limit = self.policy.limits.field_chars
        for filename, form in reading.forms:
            self._check_form_fields(form, filename, limit)

    @staticmethod
    def _check_form_fields(form, filename: str | None, limit: int) -> None:
        for name, value in form.fields.items():
            texts = [value] if isinstance(value, str) else [
                v for row in (value if isinstance(value, list) else []) if isinstance(row, dict)
                for v in row.values() if isinstance(v, str)
            ]
            longest = max((len(t) for t in texts), default=0)
            if longest > limit:
                raise Refused(
                    f"the message is over a limit: the form {filename or 'in its body'} has a field "
                    f"'{name}' of {longest:,} characters, over the limit of {limit:,} (limits.field_chars)",
                    fields={name: max(texts, key=len)},
                )

    # -- recording (inside the transaction) ----------------------------------------------------

    def _open_case(self, tx: Tx, reading: _Reading) -> Case:
        case = tx.create_case(self.protocol, reading.when, actor=ACTOR)
        # Until a form, a typed line or a person says when, the case starts at its first message.
        record_fact(tx, case, "case_start", reading.when, source=ESTIMATED, by=ACTOR, at=reading.when,
                    detail={"from": "the first message received"})
        return case

    def _record_parties(self, tx: Tx, case: Case, message: InboundMessage, automatic: bool) -> None:
        """The sender and everyone copied (From, To, Cc) are parties, with their agency by domain;
        our own addresses and the business unit are not."""
        if automatic:
            return
        ours = {a.lower() for a in self.policy.our_addresses}
        if self.policy.business_unit:
            ours.add(parseaddr(self.policy.business_unit)[1].lower())
        domains = dict(self.policy.agency_domains)
        for address in (message.sender, *message.to, *message.cc):
            if address is None or not address.address or address.address.lower() in ours:
                continue
            tx.add_party(case, name=person_name(address.name), email=address.address,
                         agency=agency_of(address.address, domains))

    def _record_facts(self, tx: Tx, case: Case, reading: _Reading) -> None:
        """Facts the message states (typed lines, form fields) and the agencies on the case;
        a condition only mentioned in prose puts the case on the needs-review list, quoted."""
        readings, mentions = read_facts(
            reading.message.body_text, [(form.kind, form.fields) for _, form in reading.forms]
        )
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

    def _record(self, tx: Tx, case: Case, reading: _Reading, claim: Claim, sha256: str, path: str) -> None:
        message, classification, when = reading.message, reading.classification, reading.when
        sender = message.sender
        self._record_parties(tx, case, message, classification.kind == "automatic")
        if classification.kind != "automatic":
            self._record_facts(tx, case, reading)
        stage, outcome = classification.stage, None
        for filename, form in reading.forms:
            self._record_form(tx, case, form, filename, reading, claim.ledger_id)
            if form.kind == "stage-summary":
                stage = stage if stage is not None else form.record.stage
                outcome = outcome or normalise_outcome(form.record.outcome)
        carries_summary = classification.kind == "stage-summary" or any(f.kind == "stage-summary" for _, f in reading.forms)
        if carries_summary and stage is not None and outcome is None and self._answers_a_summary(tx, case, stage, message):
            classification = Classification("reply", f"it answers the stage {stage} summary and states no outcome")
        elif carries_summary and stage is not None:
            outcome = outcome or outcome_from_text(message.new_text)
            tx.record_stage_summary(
                case, self.protocol, stage, outcome, when, message_id=message.message_id, ledger_id=claim.ledger_id
            )
        elif classification.kind == "stage-3-notification":
            tx.record_stage_notification(
                case, self.protocol, 3, when, message_id=message.message_id, ledger_id=claim.ledger_id
            )
        else:
            self._enter_stage_a_form_belongs_to(tx, case, reading, claim)
        for attachment in reading.kept:
            tx.add_document(case, "attachment", attachment.filename, attachment.content_type, attachment.data, actor=ACTOR)
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
    def _quarantined_parent(tx: Tx, message: InboundMessage) -> str | None:
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

    def _record_form(self, tx: Tx, case: Case, form, filename: str | None, reading: _Reading, ledger_id: int) -> None:
        fields = form.fields
        when, message_id = reading.when, reading.message.message_id
        if filename in reading.files:
            media_type, data = reading.files[filename]
            tx.add_document(case, f"received-{form.kind}", filename, media_type, data, actor=ACTOR)
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
