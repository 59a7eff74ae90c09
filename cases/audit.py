"""The append-only, hash-chained audit log.

Each entry's hash is ``sha256(prev_hash + canonical JSON of the entry)``, where
the canonical JSON holds seq, time, actor, action, case reference and the
SHA-256 of the payload, with sorted keys. Changing, removing or reordering any
entry breaks every hash after it, which ``verify_chain`` reports by the first
sequence number that fails.

The chain links the payload's *digest*, not the payload: when a case is disposed
of under the retention rules its entries' payloads (which may name the child) are
erased and ``disposed_at`` set, while the digest, and so every link, stays. An
entry whose payload is present must still match its digest; an erased one is
vouched for by the digest alone. Entries are never removed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from resdesk.cases import pending
from resdesk.cases.pending import innermost_transaction
from resdesk.cases.models import AuditEntry

if TYPE_CHECKING:
    from resdesk.cases.store import Store

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 74657302


def _compact(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def payload_digest(payload: dict[str, Any]) -> str:
    """SHA-256 (hex) of a payload's compact, key-sorted JSON."""
    return hashlib.sha256(_compact(payload).encode("utf-8")).hexdigest()


def canonical(
    seq: int, at: datetime, actor: str, action: str, case_ref: str | None,
    payload: dict[str, Any] | None = None, *, payload_sha256: str | None = None,
) -> str:
    """The bytes that are hashed, as text: compact JSON with sorted keys; the payload enters by
    its SHA-256 (given, or computed from ``payload``)."""
    document = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "case_ref": case_ref,
        "payload_sha256": payload_sha256 or payload_digest(payload or {}),
    }
    return _compact(document)


def link_hash(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


_TAIL = "resdesk.audit-tail"
_LOCK_CHAIN = select(func.pg_advisory_xact_lock(_PG_AUDIT_LOCK))
_AUDIT = AuditEntry.__table__
_READ_TAIL = select(_AUDIT.c.seq, _AUDIT.c.hash).order_by(_AUDIT.c.seq.desc()).limit(1)
_WRITE = insert(_AUDIT)


class Link(NamedTuple):
    """An appended entry's place in the chain: its ``seq`` and ``hash`` (hex SHA-256)."""

    seq: int
    hash: str


def _tail(session: Session) -> tuple[int, str]:
    """The chain's tail (seq, hash) as this transaction sees it, read from the database once.

    The first append of a transaction reads the tail (on PostgreSQL after taking the audit lock,
    which it then holds to the end of the transaction; a SQLite transaction already holds the
    write lock from ``BEGIN IMMEDIATE``), so no other writer can move the tail until this one
    commits; every later append of the same transaction takes its link from the entry appended
    before it, kept in ``session.info``. The tail kept is tied to the innermost transaction it was
    appended in: once a savepoint ends (released or rolled back) the tail is read again."""
    transaction, tail = session.info.get(_TAIL, (None, None))
    if tail is not None and transaction is innermost_transaction(session):
        return tail
    pending.write_held(session)  # read past the session's hook: whatever it holds goes first
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Serialise appenders: the chain has one tail.
        connection.execute(_LOCK_CHAIN)
    row = connection.execute(_READ_TAIL).one_or_none()
    return (0, GENESIS) if row is None else (row.seq, row.hash)


def append(
    session: Session, *, at: datetime, actor: str, action: str, case_ref: str | None, payload: dict[str, Any]
) -> Link:
    """Write the next link of the chain inside the caller's transaction; returns its place (``Link``).

    The entry is held and written with the transaction's other entries by one executemany, not
    through the unit of work (an audit entry is never changed, and a batch of messages appends
    thousands), before any statement the session runs, before a savepoint and at commit
    (``cases.pending``): it is there for any later read of the same transaction and goes with its
    commit or rollback. The chain's tail is read once per transaction (``_tail``), so N appends cost one
    SELECT. Nothing is built of the entry but its row: read entries back as ``AuditEntry``."""
    payload = json.loads(json.dumps(payload, default=str))  # what the JSON column will give back
    tail_seq, prev_hash = _tail(session)
    seq = tail_seq + 1
    at = at.astimezone(timezone.utc)  # as the column gives it back
    digest = payload_digest(payload)
    row = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "case_ref": case_ref,
        "payload": payload,
        "payload_sha256": digest,
        "disposed_at": None,
        "prev_hash": prev_hash,
        "hash": link_hash(prev_hash, canonical(seq, at, actor, action, case_ref, payload_sha256=digest)),
    }
    pending.hold(session, _WRITE, row)
    session.info[_TAIL] = (innermost_transaction(session), (seq, row["hash"]))
    return Link(seq, row["hash"])


def verify_entries(entries) -> tuple[bool, int | None]:
    """Check links in sequence order; return (ok, the first sequence number that fails).

    A present payload must match its recorded digest; an erased one (``disposed_at`` set) is
    checked through the digest alone."""
    expected_prev = GENESIS
    expected_seq = 1
    for entry in entries:
        recorded = getattr(entry, "payload_sha256", None)
        actual = payload_digest(entry.payload or {})
        if getattr(entry, "disposed_at", None) is None and recorded is not None and recorded != actual:
            return False, entry.seq
        text = canonical(entry.seq, entry.at, entry.actor, entry.action, entry.case_ref, payload_sha256=recorded or actual)
        if (
            entry.seq != expected_seq
            or entry.prev_hash != expected_prev
            or entry.hash != link_hash(entry.prev_hash, text)
        ):
            return False, entry.seq
        expected_prev = entry.hash
        expected_seq += 1
    return True, None


def verify_chain(store: "Store") -> tuple[bool, int | None]:
    """Recompute every link of the store's audit chain; (True, None) when intact."""
    with store.transaction() as tx:
        entries = tx.session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
        return verify_entries(entries)
