"""Rendering planned messages in worker processes gives what rendering here gives, in order."""

from __future__ import annotations

from datetime import timedelta

from resdesk.outbox.assemble import Assembled
from resdesk.outbox.pool import assemble_all
from resdesk.render.worker import default_pool
from tests.outbox.test_plan import OLDHAM_STAGE2_ESCALATED, OURS, SUMMARY_AT, _case, _plan


def test_messages_render_on_two_workers_at_once_and_come_back_in_order():
    """GIVEN two Oldham cases each owed an acknowledgement and a stage 3 notice
    WHEN they are assembled two at a time
    THEN every message comes back in the order planned, as rendering one at a time builds it, and the
    shared pool laid them out on two render worker processes."""
    planned = [
        item
        for ref in ("OLD-2026-0007", "OLD-2026-0008")
        for item in _plan(_case("oldham", OLDHAM_STAGE2_ESCALATED, ref=ref), SUMMARY_AT + timedelta(seconds=5)).planned
    ]
    default_pool().close()  # none started yet, so a second is started only if two render at once
    pooled = list(assemble_all(planned, OURS, workers=2))
    assert len(default_pool().pids) == 2
    here = list(assemble_all(planned[:2], OURS, workers=1))
    assert [item.key for item, _ in pooled] == [item.key for item in planned]
    assert all(isinstance(result, Assembled) for _, result in pooled)
    for (_, in_pool), (_, in_process) in zip(pooled, here):
        assert in_pool.mail.subject == in_process.mail.subject
        assert [a.filename for a in in_pool.documents] == [a.filename for a in in_process.documents]
        assert all(a.content.startswith(b"%PDF-") for a in in_pool.documents if a.filename.endswith(".pdf"))
