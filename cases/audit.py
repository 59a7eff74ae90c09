"""The append-only, hash-chained audit log.

Each entry's hash is ``sha256(prev_hash + canonical JSON of the entry)``, where
the canonical JSON holds seq, time, actor, action, case reference and payload
with sorted keys. Changing, removing or reordering any entry breaks every hash
after it, which ``verify_chain`` reports by the first sequence number that fails.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resdesk.cases.models import AuditEntry

if TYPE_CHECKING:
    from resdesk.cases.store import Store

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 74657302


def canonical(seq: int, at: datetime, actor: str, action: str, case_ref: str | None, payload: dict[str, Any]) -> str:
    """The bytes that are hashed, as text: compact JSON with sorted keys."""
    document = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "case_ref": case_ref,
        "payload": payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def link_hash(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


def append(
    session: Session, *, at: datetime, actor: str, action: str, case_ref: str | None, payload: dict[str, Any]
) -> AuditEntry:
    """Add the next link to the chain inside the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders: the chain has one tail. (SQLite transactions already hold the write lock.)
        session.execute(select(func.pg_advisory_xact_lock(_PG_AUDIT_LOCK)))
    payload = json.loads(json.dumps(payload, default=str))  # what the JSON column will give back
    tail = session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    seq = 1 if tail is None else tail.seq + 1
    prev_hash = GENESIS if tail is None else tail.hash
    at = at.astimezone(timezone.utc)  # as the column gives it back
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        case_ref=case_ref,
        payload=payload,
        prev_hash=prev_hash,
        hash=link_hash(prev_hash, canonical(seq, at, actor, action, case_ref, payload)),
    )
    session.add(entry)
    session.flush()
    return entry


def verify_entries(entries) -> tuple[bool, int | None]:
    """Check links in sequence order; return (ok, the first sequence number that fails)."""
    expected_prev = GENESIS
    expected_seq = 1
    for entry in entries:
        text = canonical(entry.seq, entry.at, entry.actor, entry.action, entry.case_ref, entry.payload)
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
