"""The case file's tables: cases, parties, events, the message ledger, documents,
the audit chain, the outbox, leases, alerts and mailbox state.

Types are portable between SQLite and PostgreSQL: times are stored as UTC and
always come back timezone-aware; JSON columns use SQLAlchemy's ``JSON``.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

# Case status values (PRODUCT §5 `cases --json`).
OPEN, RESOLVED, NEEDS_REVIEW = "open", "resolved", "needs-review"
# Ledger states.
CLAIMED, DONE, QUARANTINED, FAILED, IGNORED = "claimed", "done", "quarantined", "failed", "ignored"
FINAL_STATES = frozenset({DONE, QUARANTINED, IGNORED})
# Outbox states.
PENDING, SENT = "pending", "sent"
BOUNCED = "bounced"  # sent, then reported undelivered by a delivery report


class UTCDateTime(TypeDecorator):
    """A point in time: stored as naive UTC, returned timezone-aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store a time without a timezone: {value!r}")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# A case's ``next_due`` when it must be planned at the next tick: new, or changed since it was planned.
PLAN_AT_ONCE = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    protocol: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    review_reason: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[int | None]
    stage_variant: Mapped[str | None] = mapped_column(String(32))
    stage_started: Mapped[datetime | None]
    # the first mail heard of the case (the returns count a case as opened then); ``case_start``,
    # the moment the protocol's cumulative targets count from, is a case fact
    opened_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_at: Mapped[datetime | None]
    child_identifier: Mapped[str | None] = mapped_column(String(64), index=True)
    child_name: Mapped[str | None] = mapped_column(String(200))
    child_dob: Mapped[date | None] = mapped_column(Date)
    # the area of disagreement and the agencies on each side, which the returns count, are case facts
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # the earliest moment anything about the case can next become owed (``outbox.due``); the tick
    # plans only cases due by now. ``PLAN_AT_ONCE`` for a case new or changed since it was last
    # planned (``cases.due``); None when nothing further can ever be owed (resolved, all sent).
    next_due: Mapped[datetime | None] = mapped_column(default=lambda: PLAN_AT_ONCE, index=True)

    parties: Mapped[list["Party"]] = relationship(back_populates="case", order_by="Party.id")
    events: Mapped[list["Event"]] = relationship(back_populates="case", order_by="(Event.at, Event.id)")
    documents: Mapped[list["Document"]] = relationship(back_populates="case", order_by="Document.id")
    facts: Mapped[list["CaseFact"]] = relationship(back_populates="case", order_by="CaseFact.name")


class CaseFact(Base):
    """The current value of one case fact (``protocols.facts``); its history is the case's
    ``fact-set``/``fact-cleared`` events and the audit chain."""

    __tablename__ = "case_facts"
    __table_args__ = (UniqueConstraint("case_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by: Mapped[str] = mapped_column(String(255))
    set_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    case: Mapped[Case] = relationship(back_populates="facts")


class ReferenceCounter(Base):
    """The last number issued for a reference prefix and year (OLD-2026 -> 7)."""

    __tablename__ = "reference_counters"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Party(Base):
    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    agency: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="parties")


class Event(Base):
    """Something that happened to a case: a stage entered, a message recorded, a notice sent."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    stage: Mapped[int | None]
    variant: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # indexed: correlation looks up the case of a reply's In-Reply-To among every event's message
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    ledger_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="events")


class Message(Base):
    """The ledger: one row per message seen in a mailbox, written before any work on it."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("account", "folder", "uidvalidity", "uid"),
        Index("ix_messages_account_sha256", "account", "sha256"),  # the earlier copy of a message, by content
        Index("ix_messages_message_id", "message_id"),
        Index("ix_messages_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(320))
    folder: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[str] = mapped_column(String(32))
    uid: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(998))
    subject: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(String(998))
    state: Mapped[str] = mapped_column(String(16), default=CLAIMED)
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[datetime | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # Where a quarantined message's sender is told why (None: automatic mail, a sender not trusted,
    # or no sender to answer); the outbox answers it once (``refused:<id>``).
    answer_to: Mapped[str | None] = mapped_column(String(998))
    archive_path: Mapped[str | None] = mapped_column(Text)
    # What the receiving server's Authentication-Results said of the sender (intake.senders):
    # "verified", "unverified", or "not-checked" when no partnership.authserv_id is configured.
    sender_verification: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None] = mapped_column(index=True)  # what a drain touched
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    """A generated or received document, archived by its SHA-256."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case | None] = relationship(back_populates="documents")


class AuditEntry(Base):
    """One link of the append-only audit chain: hash = sha256(prev_hash + canonical JSON), the
    payload entering by its SHA-256 so a disposed case's payloads can be erased (``disposed_at``)."""

    __tablename__ = "audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    case_ref: Mapped[str | None] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    disposed_at: Mapped[datetime | None]
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class Outbound(Base):
    """A message to send, written before it is sent; the Message-ID is fixed at that moment.

    ``raw`` (the message's bytes) is deferred: it is read only by the send that transmits it.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[str]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    path: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SentTo(Base):
    """One recipient of one sent message, for the per-recipient rate limit: how many messages went
    to an address since a moment is one indexed count, never a scan of the sent messages."""

    __tablename__ = "outbox_sent_to"
    __table_args__ = (Index("ix_outbox_sent_to_address_sent_at", "address", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbound_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))  # lower-cased
    sent_at: Mapped[datetime]


class Lease(Base):
    """A named, expiring lock held by one worker (one watcher per mailbox)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime]


class Alert(Base):
    """Something a person should know about the service itself (a UIDVALIDITY change)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime]


class Mailbox(Base):
    """The UIDVALIDITY last seen for a mailbox folder."""

    __tablename__ = "mailboxes"
    __table_args__ = (UniqueConstraint("account", "folder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(320))
    folder: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[datetime]


class LegalHold(Base):
    """A legal hold on a case: while ``released_at`` is empty, retention disposes of nothing of it."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(255))
    placed_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(Text)


class Disposal(Base):
    """One record kind of one case disposed of under a retention rule (kept after the case is gone)."""

    __tablename__ = "disposals"
    __table_args__ = (UniqueConstraint("case_ref", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime]


# Workspace roles: auditors read and download; the business unit also acts on cases
# and the quarantine; admins also manage users.
AUDITOR, BUSINESS_UNIT, ADMIN = "auditor", "business-unit", "admin"
ROLES = (AUDITOR, BUSINESS_UNIT, ADMIN)


class User(Base):
    """A person who signs in to the workspace; the password is kept only as an argon2id hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertAcknowledgement(Base):
    """Someone has seen an alert (a failed send, a bounce, a mailbox reset): it leaves /alerts."""

    __tablename__ = "alert_acknowledgements"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    by: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TrustedSender(Base):
    """An address or a whole domain the business unit trusts from now on, besides the settings'."""

    __tablename__ = "trusted_senders"

    value: Mapped[str] = mapped_column(String(320), primary_key=True)
    by: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseFileKey(Base):
    """A secret generated once for this case file (``cases.tokens``): the key of the check codes
    in case tokens. It lives, is backed up and is restored with the references it protects."""

    __tablename__ = "case_file_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLimitCount(Base):
    """A running window of a rate limit (failed sign-ins per account or per address) shared by every
    workspace process (``cases.ratelimits``): the SHA-256 of the limiter's key, the count so far, and
    when the window ends."""

    __tablename__ = "rate_limit_counts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(index=True)
