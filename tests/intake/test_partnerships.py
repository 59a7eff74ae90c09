"""Two partnerships sharing one case file (as the demo does) never touch each other's cases."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from resdesk.cases import open_store
from resdesk.intake.ledger import Ledger
from resdesk.intake.process import IntakePolicy, IntakeProcessor
from resdesk.intake.sources import MaildirSource
from resdesk.intake.watch import Watcher
from resdesk.protocols import default_registry
from tests.intake.mail import summary

REGISTRY = default_registry()


class Partnership:
    """One partnership's inbox and watcher, on a case file it may share."""

    def __init__(self, root: Path, store, protocol_id: str, policy: IntakePolicy | None = None, *, clock=None):
        self.maildir = root / protocol_id
        self.inbox = mailbox.Maildir(self.maildir, create=True)
        ledger = Ledger(store)
        policy = policy or IntakePolicy(frozenset({f"escalations@{protocol_id}.example"}), (), None, 1_000_000)
        processor = IntakeProcessor(store, ledger, REGISTRY.get(protocol_id), policy, clock=clock)
        self.watcher = Watcher(
            MaildirSource(self.maildir), store, processor, processed_folder="Resdesk/Processed",
            quarantine_folder="Resdesk/Quarantine", max_bytes=1_000_000, ledger=ledger,
        )

    def receive(self, raw: bytes):
        self.inbox.add(raw)
        assert self.watcher.acquire()
        try:
            return self.watcher.drain()
        finally:
            self.watcher.release()


@pytest.fixture
def shared(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'shared.sqlite3'}", tmp_path / "archive")
    yield store, Partnership(tmp_path, store, "oldham"), Partnership(tmp_path, store, "sandwell")
    store.close()


def _cases(store) -> dict[str, tuple]:
    with store.transaction() as tx:
        return {c.ref: (c.protocol, c.stage, c.status, len(c.events)) for c in tx.all_cases()}


def test_mail_to_one_partnership_never_reaches_the_others_case(shared):
    """GIVEN one case file serving Oldham and Sandwell, and a Sandwell case opened by mail to Sandwell's inbox
    WHEN Oldham's inbox receives mail naming the Sandwell case's reference in its subject, mail replying to
    the Sandwell summary, and mail whose outcome would resolve it
    THEN the Sandwell case is exactly as it was (stage, status, every event), and Oldham's mail is filed on
    Oldham cases only."""
    store, oldham, sandwell = shared
    sandwell.receive(summary(1, "escalated", n=1, sender="Ann Lee <ann.lee@health.example>"))
    (sandwell_ref,) = _cases(store)
    before = _cases(store)[sandwell_ref]
    assert before[0] == "sandwell"

    oldham.receive(summary(2, "resolved", n=2, subject=f"Escalation & Resolution Protocol: Stage 2 Summary [{sandwell_ref}]"))
    oldham.receive(summary(2, "resolved", n=3, subject="RE: Escalation & Resolution Protocol: Stage 1 Summary",
                           in_reply_to="<summary-1-1@police.example>"))
    oldham.receive(summary(2, "resolved", n=4, subject=f"{sandwell_ref} Stage 2 Summary"))

    after = _cases(store)
    assert after[sandwell_ref] == before
    assert {protocol for ref, (protocol, *_rest) in after.items() if ref != sandwell_ref} == {"oldham"}


def test_each_partnership_still_finds_its_own_case_by_reference(shared):
    """GIVEN an Oldham case and a Sandwell case in one case file WHEN each inbox receives a summary naming its
    own case's reference THEN each summary is recorded on its own case."""
    store, oldham, sandwell = shared
    oldham.receive(summary(1, "escalated", n=10))
    sandwell.receive(summary(1, "escalated", n=11, sender="Ann Lee <ann.lee@health.example>"))
    refs = {protocol: ref for ref, (protocol, *_rest) in _cases(store).items()}
    oldham.receive(summary(2, "resolved", n=12, subject=f"Escalation & Resolution Protocol: Stage 2 Summary [{refs['oldham']}]"))
    sandwell.receive(summary(2, "resolved", n=13, sender="Ann Lee <ann.lee@health.example>",
                             subject=f"Escalation & Resolution Protocol: Stage 2 Summary [{refs['sandwell']}]"))
    after = _cases(store)
    assert len(after) == 2
    assert {after[refs["oldham"]][2], after[refs["sandwell"]][2]} == {"resolved"}
