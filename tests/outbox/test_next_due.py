"""A tick plans only the cases whose next due moment has come; a change to a case makes it due at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from resdesk.cases import Case, open_store, set_fact
from resdesk.cases.models import PLAN_AT_ONCE
from resdesk.outbox.dispatch import run_tick
from resdesk.outbox.due import next_due
from resdesk.render.snapshot import snapshot_of
from tests.render.casefile import REGISTRY, local, oldham_stage2_escalated, sender_for, settings_for

NOW = local(2026, 12, 23, 10, 0, 3)


@pytest.fixture
def store(tmp_path):
    opened = open_store(f"sqlite:///{tmp_path / 'resdesk.sqlite3'}", tmp_path / "archive")
    yield opened
    opened.close()


def _next_due(store, ref):
    with store.transaction() as tx:
        return tx.session.execute(select(Case.next_due).where(Case.ref == ref)).scalar_one()


def test_a_case_not_yet_due_is_not_read_by_the_tick(store, smtp_server, tmp_path):
    """GIVEN a case planned and sent everything it owed, whose protocol is then made unknown behind the
    case file's back WHEN ticks run before its next due moment THEN none reports the case (it is not
    read); WHEN a tick runs at its next due moment THEN it reads the case and reports it cannot plan it."""
    ref = oldham_stage2_escalated(store)
    settings = settings_for(tmp_path, smtp_server)
    first = run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    assert len(first.sent) == 2
    assert _next_due(store, ref) <= NOW  # what it owed was sent this tick (and filed on it): planned again next
    settled = run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    assert settled.queued == [] and settled.skipped == []
    due = _next_due(store, ref)
    assert due is not None and NOW < due
    with store.transaction() as tx:  # SQL, not the ORM: the case file does not see it as a change
        tx.session.execute(text("UPDATE cases SET protocol = 'nowhere' WHERE ref = :ref"), {"ref": ref})

    for moment in (NOW + timedelta(minutes=1), due - timedelta(seconds=1)):
        report = run_tick(store, settings, REGISTRY, moment, sender_for(smtp_server))
        assert report.skipped == [] and report.queued == [] and report.errors == []

    report = run_tick(store, settings, REGISTRY, due, sender_for(smtp_server))
    assert [entry["key"] for entry in report.skipped] == [f"case:{ref}"]


def test_setting_a_fact_makes_the_case_due_at_once_and_planning_moves_it_on(store, smtp_server, tmp_path):
    """GIVEN a case planned, next due in the future WHEN a person sets a case fact THEN the case is due
    at once; WHEN the next ticks run (sending what the fact made owed) THEN its next due is in the future again."""
    ref = oldham_stage2_escalated(store)
    settings = settings_for(tmp_path, smtp_server)
    run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    assert _next_due(store, ref) > NOW
    with store.transaction() as tx:
        set_fact(tx, tx.require_case(ref), "case_start", "2026-12-01T09:00", by="dana", reason="from the referral",
                 at=NOW + timedelta(minutes=5))
    assert _next_due(store, ref) == PLAN_AT_ONCE
    later = NOW + timedelta(minutes=10)
    run_tick(store, settings, REGISTRY, later, sender_for(smtp_server))  # sends what the earlier start makes owed
    run_tick(store, settings, REGISTRY, later, sender_for(smtp_server))
    assert _next_due(store, ref) > later


def test_next_due_is_the_reminder_then_the_overdue_alert_in_working_hours(store):
    """GIVEN Oldham stage 3 running, due Tuesday 29 December 2026 23:59 (working days) WHEN asked early on the
    29th THEN the case is next due at 09:00 that day (its reminder); WHEN asked at 10:00 the 29th THEN at 09:00
    on Wednesday the 30th (the overdue alert, in the next working hours)."""
    ref = oldham_stage2_escalated(store)
    oldham = REGISTRY.get("oldham")
    from resdesk.protocols import WorkingCalendar

    calendar = WorkingCalendar(oldham.nation)
    with store.transaction() as tx:
        snapshot = snapshot_of(tx.require_case(ref))
    assert next_due(snapshot, oldham, calendar, local(2026, 12, 29, 8, 0)) == local(2026, 12, 29, 9, 0)
    assert next_due(snapshot, oldham, calendar, local(2026, 12, 29, 10, 0)) == local(2026, 12, 30, 9, 0)


def test_a_resolved_case_with_nothing_to_come_is_never_due(store, smtp_server, tmp_path):
    """GIVEN a resolved case whose every message has been sent WHEN it is planned THEN it has no next due."""
    ref = oldham_stage2_escalated(store)
    with store.transaction() as tx:
        tx.require_case(ref).status = "resolved"
    settings = settings_for(tmp_path, smtp_server)
    run_tick(store, settings, REGISTRY, NOW, sender_for(smtp_server))
    run_tick(store, settings, REGISTRY, NOW + timedelta(minutes=1), sender_for(smtp_server))
    assert _next_due(store, ref) is None
