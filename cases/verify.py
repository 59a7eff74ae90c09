"""Checking one case at a time: its audit entries and its archived files.

Each audit entry carries everything needed to recompute its own hash (sequence
number, time, actor, action, case reference, payload and the previous entry's
hash), so a case's entries can be checked without the rest of the chain: each
entry's hash is recomputed from its own fields, and its previous hash must be the
hash of the entry before it in the whole chain. Every received message and
document filed on the case is read back from the archive and its SHA-256
recomputed, so a file altered on disk is found. A record PDF embeds the same
entries and digests, so it can be checked offline (``check_record_entries``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select

from resdesk.cases.archive import sha256_hex
from resdesk.cases.audit import GENESIS, canonical, link_hash
from resdesk.cases.models import AuditEntry, Case, Document, Message
from resdesk.cases.store import Store, Tx


@dataclass
class Verification:
    """Whether a case (or a record) checks out; ``problems`` name what does not, first first."""

    ref: str
    entries: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "intact": self.intact, "entries": self.entries, "files": self.files,
                "problems": list(self.problems)}

    def sentence(self) -> str:
        if self.intact:
            return f"{self.ref}: intact ({self.entries} audit entries, {self.files} archived files checked)."
        return f"{self.ref}: NOT intact — {self.problems[0]}" + (
            f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else "")


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry as the record embeds it: every field its hash is computed from."""
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "case_ref": entry.case_ref,
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def check_record_entries(ref: str, entries: Iterable[dict[str, Any]]) -> Verification:
    """Recompute each embedded entry's hash from its own fields (pure; the record's audit list)."""
    from datetime import datetime

    result = Verification(ref)
    for entry in entries:
        result.entries += 1
        text = canonical(entry["seq"], datetime.fromisoformat(entry["at"]), entry["actor"], entry["action"],
                         entry["case_ref"], entry["payload"])
        if link_hash(entry["prev_hash"], text) != entry["hash"]:
            result.problems.append(f"audit entry {entry['seq']} ({entry['action']}) does not match its hash")
    return result


def _files(tx: Tx, case: Case) -> list[tuple[str, str | None, str | None]]:
    """(what, expected SHA-256, path) of every archived file on the case."""
    messages = tx.session.execute(select(Message).where(Message.case_id == case.id).order_by(Message.id)).scalars()
    documents = tx.session.execute(select(Document).where(Document.case_id == case.id).order_by(Document.id)).scalars()
    return [(f"message {m.id} ({m.subject or m.message_id})", m.sha256, m.archive_path) for m in messages] + [
        (f"document {d.id} ({d.filename})", d.sha256, d.path) for d in documents
    ]


def verify_case_in(tx: Tx, ref: str) -> Verification:
    """Check one case's audit entries and archived files inside an open unit of work."""
    case = tx.require_case(ref)
    result = Verification(case.ref)
    entries = tx.session.execute(
        select(AuditEntry).where(AuditEntry.case_ref == case.ref).order_by(AuditEntry.seq)
    ).scalars().all()
    for entry in entries:
        result.entries += 1
        text = canonical(entry.seq, entry.at, entry.actor, entry.action, entry.case_ref, entry.payload)
        if entry.hash != link_hash(entry.prev_hash, text):
            result.problems.append(f"audit entry {entry.seq} ({entry.action}) does not match its hash")
            continue
        before = tx.session.get(AuditEntry, entry.seq - 1) if entry.seq > 1 else None
        expected_prev = GENESIS if entry.seq == 1 else (before.hash if before else None)
        if entry.prev_hash != expected_prev:
            result.problems.append(f"audit entry {entry.seq} ({entry.action}) does not follow entry {entry.seq - 1}")
    for what, digest, path in _files(tx, case):
        if not path or not digest:
            continue
        result.files += 1
        try:
            actual = sha256_hex(Path(path).read_bytes())
        except OSError:
            result.problems.append(f"the archived file of {what} is missing ({path})")
            continue
        if actual != digest:
            result.problems.append(f"the archived file of {what} was altered ({path})")
    return result


def verify_case(store: Store, ref: str) -> Verification:
    """Check one case: raises ``UnknownCase`` for an unknown reference."""
    with store.transaction() as tx:
        return verify_case_in(tx, ref)


def verify_all(store: Store) -> list[Verification]:
    """Check every case in the case file, oldest first."""
    with store.transaction() as tx:
        return [verify_case_in(tx, case.ref) for case in tx.all_cases()]


def compare_record(store: Store, ref: str, embedded: list[dict[str, Any]], digests: dict[str, str]) -> Verification:
    """A record's embedded entries and file digests against the case file: each embedded entry
    must recompute and be present unchanged in the case file, each digest must be on the case,
    and the case itself must verify (its entries and archived files)."""
    result = check_record_entries(ref, embedded)
    with store.transaction() as tx:
        for entry in embedded:
            stored = tx.session.get(AuditEntry, entry["seq"])
            if stored is None or entry_document(stored) != entry:
                result.problems.append(f"audit entry {entry['seq']} of the record is not in the case file as recorded")
        result.problems += [p for p in verify_case_in(tx, ref).problems if p not in result.problems]
        case = tx.require_case(ref)
        current = {digest for _, digest, _ in _files(tx, case) if digest}
        for name, digest in digests.items():
            if digest not in current:
                result.problems.append(f"{name} (SHA-256 {digest[:12]}…) is not on the case in the case file")
    return result
