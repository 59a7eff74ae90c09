"""Reading a message without the case file: what the watcher decides before anything is written.

``MessageReader.read(raw, now=..., trusted=...)`` checks a message against the
inbound limits, parses it once, classifies it, looks through a forwarded message
to the one it carries, checks its sender (``intake.senders``), reads every
template it carries (``forms``) and returns a ``Reading``; a message that must be
quarantined raises ``Refused`` with a reason a person can act on, and whom to
answer when its sender is a person. Nothing here touches the case file, so reading
can run in the reader process (``intake.readers``) while the watcher records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.parser import BytesHeaderParser

from resdesk.errors import FormError, HostileFile, IntakeError
from resdesk.forms import read_email_text, read_form
from resdesk.intake.classify import Classification, classify, no_automatic_reply
from resdesk.intake.facts import FactReading, Mention, read_facts
from resdesk.intake.forwarded import carried_message
from resdesk.intake.headers import HeaderReader
from resdesk.intake.limits import InboundLimits, over_limit
from resdesk.intake.message import Attachment, InboundMessage, parse_message
from resdesk.intake.sealed import sealed_reason
from resdesk.intake.senders import check_sender
from resdesk.protocols import to_local

__all__ = ["IntakePolicy", "MessageReader", "Reading", "Refused", "message_time", "sender_is_automatic"]


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
class Reading:
    """What was read from a message before anything is written."""

    message: InboundMessage
    classification: Classification
    when: datetime
    forms: list[tuple[str | None, object]] = field(default_factory=list)  # (file name, FormRecord)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # file name -> (media type, bytes)
    kept: list[Attachment] = field(default_factory=list)  # other files, kept as documents on the case
    flaws: list[str] = field(default_factory=list)  # harmless faults noted on the message
    verification: str | None = None  # intake.senders' verdict: verified, unverified, not-checked
    _stated: tuple | None = field(default=None, repr=False, compare=False)  # stated_facts(), once worked out

    def __post_init__(self) -> None:
        self.flaws.extend(self.message.flaws)

    def stated_facts(self) -> tuple[list[FactReading], list[Mention]]:
        """The facts the message states and the conditions it only mentions (``intake.facts.read_facts``
        over its body and forms): worked out once, in the reader process where there is one, and
        handed back as new lists each time."""
        if self._stated is None:
            self._stated = read_facts(self.message.body_text, [(form.kind, form.fields) for _, form in self.forms])
        readings, mentions = self._stated
        return list(readings), list(mentions)


def _typed_form(body: str):
    """The form typed into a body that the subject did not announce, if there is a valid one."""
    try:
        return read_email_text(body, source="the message body")
    except FormError:
        return None


class Refused(Exception):
    """A message must be quarantined, for ``reason``; ``answerable`` False when its sender must not
    be answered (a sender not trusted). ``answer_to`` is filled in by the processor."""

    def __init__(self, reason: str, *, answerable: bool = True, fields: dict[str, str] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.answerable = answerable
        self.answer_to: str | None = None
        self.fields = dict(fields or {})  # what was refused: field name -> its value (only hashed in the audit)


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


class MessageReader:
    """Reads messages under one partnership's ``IntakePolicy``, without the case file.

    ``trusted_senders`` gives the domains and addresses the business unit has trusted since the
    settings were written (read from the case file by the processor); ``read`` may be given
    them instead, as the reader process is."""

    def __init__(self, policy: IntakePolicy, trusted_senders: Callable[[], frozenset[str]] | None = None):
        self.policy = policy
        self.trusted_senders = trusted_senders or frozenset
        self._call = threading.local()  # this thread's read: its ``now`` and ``trusted`` (the workspace reads in threads)

    def read(self, raw: bytes, *, now: datetime, trusted: frozenset[str] | None = None) -> Reading:
        """Read ``raw`` as it stood at ``now`` (UTC; the time given to a message without a usable
        Date), with ``trusted`` senders (default: ``trusted_senders()``, asked only when the settings
        limit sender domains). Raises ``Refused``. Safe to call from several threads at once."""
        self._call.now, self._call.trusted = now, trusted
        try:
            return self._read(raw)
        finally:
            self._call.now = self._call.trusted = None

    def _now(self) -> datetime:
        return getattr(self._call, "now", None) or datetime.now(timezone.utc)

    def _read(self, raw: bytes) -> Reading:
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
        carried = (carried_message(arrived, set(self.policy.our_addresses), classification)
                   if classification.kind != "automatic" else None)
        if carried is not None:
            message, classification = carried.message, carried.classification
        typed = _typed_form(message.new_text) if classification.kind == "not-protocol" else None
        if typed is not None:
            classification = Classification("filled-template", "its body is a typed-in form")
        reading = Reading(message, classification, message_time(message, self._now()))
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

    def _check_and_read(self, reading: Reading, arrived: InboundMessage) -> None:
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
    def _read_attachments(reading: Reading) -> None:
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
        given = getattr(self._call, "trusted", None)
        trusted = given if given is not None else self.trusted_senders()
        allowed += [value for value in trusted if "@" not in value]
        if message.sender is not None and message.sender.address.lower() in trusted:
            allowed.append(message.sender.domain)
        return allowed

    def _check_field_lengths(self, reading: Reading) -> None:
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
