"""Audit entries of refused messages keep field names and SHA-256 hashes, never the refused values
(issue 12, item 8), through the real watcher."""

from __future__ import annotations

import hashlib
import json

from resdesk.cases import AuditEntry, verify_chain
from tests.forms.make_samples import EMAILS
from tests.intake.mail import summary
from tests.intake.test_authority import Desk

CHILD = "Poppy Thistledown "


def _audit(desk: Desk) -> str:
    with desk.store.transaction() as tx:
        return json.dumps([(e.action, e.payload) for e in tx.session.query(AuditEntry)], ensure_ascii=False)


def test_a_refused_field_and_a_spoofed_sender_leave_only_names_and_hashes_in_the_audit_chain(tmp_path):
    """GIVEN a stage summary whose typed form's child's name is 21,600 characters (over limits.field_chars),
    and a summary whose display name shows another address WHEN the watcher quarantines both THEN the
    audit chain names the refused fields with the SHA-256 of each value and of the reason, holds neither
    the child's name, nor the subject, nor the spoofed addresses, and still verifies; the ledger row keeps
    the reason for the business unit."""
    desk = Desk(tmp_path, None)
    try:
        name = (CHILD * 1200).strip()
        body = EMAILS["escalation-concern"].replace("Kai Robinson", name)
        desk.receive(summary(1, "escalated", n=1, subject=f"Stage 1 Summary for {CHILD.strip()}", body_extra=body))
        desk.receive(summary(1, "escalated", n=2, sender='"helen@partnership.example" <mallory@police.example>'))
        audit = _audit(desk)
        assert CHILD.strip() not in audit and "mallory" not in audit and "helen@" not in audit
        with desk.store.transaction() as tx:
            refused = [e.payload for e in tx.session.query(AuditEntry) if e.action == "message-quarantined"]
        assert len(refused) == 2
        assert refused[0]["refused_fields"] == {"child_name": hashlib.sha256(name.encode()).hexdigest()}
        assert set(refused[1]["refused_fields"]) == {"From", "From display name"}
        assert refused[1]["refused_fields"]["From"] == hashlib.sha256(b"mallory@police.example").hexdigest()
        assert all(len(p["reason_sha256"]) == 64 and "reason" not in p for p in refused)
        assert verify_chain(desk.store) == (True, None)
    finally:
        desk.store.close()
