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
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parseaddr

from sqlalchemy import select

from resdesk.cases.lookup import StoreKnownCases
from resdesk.cases.models import DONE, IGNORED, QUARANTINED, Case, Outbound, TrustedSender
from resdesk.cases.store import Store, Tx
from resdesk.cases.timeline import MESSAGE_NOT_ON_CASE
from resdesk.cases.tokens import case_token_key, code_matches
from resdesk.intake.authority import Authority, authority_over_case
from resdesk.intake.bounces import mark_bounced
from resdesk.intake.correlate import Correlation, correlate
from resdesk.intake.headers import ledger_headers
from resdesk.intake.ledger import Claim, Ledger
from resdesk.intake.message import InboundMessage
from resdesk.intake.readers import Read, ReaderPool
from resdesk.intake.reading import IntakePolicy, MessageReader, Reading, Refused
from resdesk.intake.recording import ACTOR, CaseRecorder, received_kind
from resdesk.intake.senders import domain_allowed
from resdesk.intake.sources.base import FetchedMessage
from resdesk.intake.filing import Filing
from resdesk.protocols import Protocol

__all__ = ["IntakePolicy", "IntakeProcessor", "Prepared", "Refused"]


@dataclass
class Prepared:
    """What ``IntakeProcessor.prepare`` made of a message before anything is written: its reading,
    or why it is refused, and its archived copy (sha256, path) where it is kept."""

    reading: Reading | None = None
    refused: "Refused | None" = None
    archive: tuple[str, str] | None = None
    our_notice: bool = False  # our own notice to the business unit, in its inbox: left there


class IntakeProcessor:
    """Turns claimed messages into case-file records under one partnership's protocol."""

    def __init__(self, store: Store, ledger: Ledger, protocol: Protocol, policy: IntakePolicy, *, clock=None,
                 readers: ReaderPool | None = None):
        self.store = store
        self.ledger = ledger
        self.protocol = protocol
        self.policy = policy
        self.readers = readers  # reads batches in a second process (the watcher's); None reads here
        self.reader = MessageReader(policy, self._trusted_senders)
        self.recorder = CaseRecorder(protocol, policy)
        self._now = clock or (lambda: datetime.now(timezone.utc))
        # read_ahead's, a batch each, oldest first: by the fetched message's id
        self._ahead: list[dict[int, tuple[FetchedMessage, object]]] = []

    def close(self) -> None:
        """Stop the reader process, if one was started."""
        self.drop_read_ahead()
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
        self.ledger.complete(tx, claim, QUARANTINED, reason, archive_path=archive_path, refused=refused,
                             answer_to=answer_to)
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
            return self._prepared(fetched, self.reader.read(fetched.raw, now=self._now()))
        except Refused as refused:
            return self._prepared(fetched, refused)

    def read_ahead(self, fetched: list[FetchedMessage]) -> None:
        """Start reading a fetch batch before its claims are taken (in the reader process, when there
        is one), so it is read while the batches before it are recorded. Batches read ahead are taken
        in the order they were given: ``prepare_many`` takes the readings of the oldest one's messages
        that were claimed and drops the rest of that batch. Reading records nothing: a message is still
        claimed before anything of it is recorded, and the copy the reader stages in the archive
        (``Archive.stage``) is a temporary file, put in place only once the message is claimed and
        recorded, and removed when it is dropped (``drop_read_ahead`` drops every batch not taken)."""
        downloaded = [item for item in fetched if item.raw is not None]
        if self.readers is None or not downloaded:
            self._ahead.append({})
            return
        reads = self.readers.submit(self.reader, [item.raw for item in downloaded], self._now(), self._trusted())
        self._ahead.append({id(item): (item, read) for item, read in zip(downloaded, reads)})

    def ledger_headers(self, fetched: FetchedMessage) -> dict:
        """Its ledger row's headers (``intake.headers.ledger_headers``): the reader's, when it has read
        the message ahead already, else worked out here."""
        pair = self._ahead[0].get(id(fetched)) if self._ahead else None
        known = pair[1].ledger_headers() if pair is not None and pair[0] is fetched else None
        return known if known is not None else ledger_headers(fetched.raw)

    def drop_read_ahead(self) -> None:
        """Drop every batch read ahead and not taken by ``prepare_many`` (the drain stopped before
        claiming it): what the reader has not begun is skipped, what it staged is removed (once the
        chunks it is reading end: ``Read.drop``)."""
        ahead, self._ahead = self._ahead, []
        Read.drop([read for batch in ahead for _, read in batch.values()])

    def prepare_many(self, fetched: list[FetchedMessage]) -> Iterator[Prepared | Exception]:
        """``prepare`` for each of a batch, in order, the reading done in the reader process when there
        is one (``intake.readers``), or taken from ``read_ahead``; a message whose reading or archiving
        failed yields the exception. The batch is handed to the reader at once; its results are
        waited for one at a time as they are taken. Archived copies are held back: the caller calls
        ``store.sync_archive()`` before committing what it records of them (``Store.archive_message``)."""
        ahead = self._ahead.pop(0) if self._ahead else {}  # the oldest batch read ahead: this one's
        reads: dict[int, object] = {}
        for item in fetched:
            pair = ahead.pop(id(item), None)
            if pair is not None and pair[0] is item:
                reads[id(item)] = pair[1]
        for _, read in ahead.values():  # read ahead, but its claim went elsewhere
            read.cancel()
        rest = [item for item in fetched if item.raw is not None and id(item) not in reads]
        if rest:
            now, trusted = self._now(), self._trusted()
            submitted = (self.readers.submit(self.reader, [item.raw for item in rest], now, trusted)
                         if self.readers is not None else [Read(None, self.reader, item.raw, now, trusted, None) for item in rest])
            reads.update(zip(map(id, rest), submitted))
        return self._prepared_each(fetched, reads)

    def _prepared_each(self, fetched: list[FetchedMessage], reads: dict) -> Iterator[Prepared | Exception]:
        for item in fetched:
            read = reads.get(id(item))
            try:
                outcome = None if read is None else read.outcome()
                prepared = self._prepared(item, outcome, sync=False, staged=None if read is None else read.staged)
            except Exception as exc:  # noqa: BLE001 - this message's fault, for the watcher to handle alone
                prepared = exc
            if read is not None and (isinstance(prepared, Exception) or prepared.archive is None):
                read.discard()  # staged by the reader, but not to be archived
            yield prepared

    def _trusted(self) -> frozenset[str]:
        return self._trusted_senders() if self.policy.allowed_sender_domains else frozenset()

    def _prepared(self, fetched: FetchedMessage, outcome: "Reading | Exception | None", *, sync: bool = True,
                  staged: tuple | None = None) -> Prepared:
        """What ``prepare`` gives for a message read as ``outcome`` (None: it was not downloaded);
        with ``sync`` False its archived copy is held back for the batch (``Store.sync_archive``), and
        a copy the reader ``staged`` (``Archive.stage``) is the one held back."""
        if fetched.raw is None:
            return Prepared(refused=Refused(
                f"the message is {fetched.size:,} bytes, over the {self.policy.max_bytes:,}-byte limit "
                "(mailbox.max_message_bytes); it was not downloaded — ask the sender to send smaller attachments"
            ))
        if isinstance(outcome, Refused):
            return Prepared(refused=outcome, archive=self._archive(fetched.raw, sync=sync, staged=staged))
        if isinstance(outcome, Exception):
            raise outcome
        reading = outcome
        kind = reading.classification.kind
        if kind == "automatic" and self._is_our_notice_to_the_business_unit(reading.message):
            return Prepared(reading, our_notice=True)  # left in the inbox, not archived
        if kind == "not-protocol":
            return Prepared(reading)
        case_token_key(self.store)  # read (or made) once, in a unit of work of its own, before any batch's
        return Prepared(reading, archive=self._archive(fetched.raw, sync=sync, staged=staged))

    def _trusted_senders(self) -> frozenset[str]:
        """Domains and addresses the business unit has trusted since the settings were written."""
        with self.store.transaction() as tx:
            return frozenset(tx.session.execute(select(TrustedSender.value)).scalars())

    def _archive(self, raw: bytes, *, sync: bool = True, staged: tuple | None = None) -> tuple[str, str]:
        if staged is not None and not sync:
            sha256, path = self.store.adopt_archived(staged)
        else:
            sha256, path = self.store.archive_message(raw, sync=sync)
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
            held = self.recorder.quarantined_parent(tx, reading.message)
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
            case = self.recorder.open_case(tx, reading)
            if reading.verification == "unverified":
                tx.flag_for_review(
                    case, "the case was opened by a sender our mail server could not verify "
                    "(no DMARC or aligned SPF/DKIM pass); confirm it with the sender",
                    reading.when, message_id=reading.message.message_id,
                )
        self.recorder.record(tx, case, reading, claim.ledger_id, sha256, path)
        self.ledger.complete(tx, claim, DONE, None, case.id, archive_path=path,
                             sender_verification=reading.verification)
        return Filing(DONE)

    def _authority(self, tx: Tx, case: Case, reading: Reading, correlation: Correlation, key: bytes) -> Authority:
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
        with tx.session.no_autoflush:
            parties = {p.email.strip().lower() for p in case.parties if p.email and "@" in p.email}
        if sender in parties:
            return "party"
        with tx.session.no_autoflush:  # parties added but not yet written are in case.parties; no outbound mail is
            sent = tx.session.execute(  # written in intake's unit of work, so nothing pending changes the answer
                select(Outbound.recipients).where(Outbound.case_id == case.id)).scalars().all()
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
        self, tx: Tx, case: Case, reading: Reading, claim: Claim, sha256: str, path: str, authority: Authority
    ) -> Filing:
        """File the message on ``case`` as from someone not on the case: its files are kept as
        documents (a form as the form it is), nothing it says is recorded, no one is answered, and
        the case goes on the business unit's review list (``intake.authority``); a person may accept
        it later (``intake.accepting``)."""
        message = reading.message
        kinds = {name: received_kind(form) for name, form in reading.forms}
        for name, (media_type, data) in reading.files.items():
            tx.add_document(case, kinds.get(name, "attachment"), name, media_type, data, actor=ACTOR)
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
            "read it among the case's messages and, if it should count, accept it there ('Accept this message', "
            f"or 'resdesk act accept-message {claim.ledger_id}'): what it says is then recorded as a party's",
            reading.when, message_id=message.message_id, ledger_id=claim.ledger_id,
        )
        reason = "filed from someone not on the case: it changed nothing, and the case is on the review list"
        self.ledger.complete(tx, claim, DONE, reason, case.id, archive_path=path,
                             sender_verification=reading.verification)
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

    def _file_summary_log(self, tx: Tx, reading: Reading, claim: Claim, path: str) -> Filing:
        """An agency's summary log (Sandwell Appendix 4) is a periodic return, not a case: file it."""
        reason = "an agency escalation summary log (a periodic return, filed without a case)"
        for name, _ in reading.forms:
            if name in reading.files:
                media_type, data = reading.files[name]
                tx.add_document(None, "summary-log", name, media_type, data, actor=ACTOR)
        self.ledger.complete(tx, claim, DONE, reason, archive_path=path)
        return Filing(DONE, reason)
