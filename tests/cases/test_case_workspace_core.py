"""The case file's side of the workspace: users, corrections, per-case verification and search,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from resdesk.cases import (
    CaseQuery,
    add_user,
    authenticate,
    clock_for,
    close_case,
    disable_user,
    find_cases,
    merge_cases,
    reopen_case,
    reset_password,
    set_stage,
    verify_case,
)
from resdesk.cases.models import AuditEntry, Message, User
from resdesk.cases.search import fold, initials
from resdesk.errors import UsageError
from resdesk.protocols import default_registry

AT = datetime(2026, 12, 14, 10, tzinfo=timezone.utc)
REGISTRY = default_registry()


def _case(tx, oldham, name=None, *, raw=b"Subject: hello\r\n\r\nbody\r\n"):
    case = tx.create_case(oldham, AT, child_name=name)
    tx.record_stage_notification(case, oldham, 1, AT)
    digest, path = tx.store.archive_message(raw)
    message = Message(account="a", folder="INBOX", uidvalidity="1", uid=case.ref, sha256=digest, state="done",
                      case_id=case.id, archive_path=str(path), subject="hello")
    tx.session.add(message)
    tx.session.flush()
    return case, message


def test_passwords_are_argon2id_and_checked(store):
    """GIVEN a user WHEN stored THEN the hash is argon2id and the password itself is nowhere; the right password
    signs in, a wrong one or a disabled user does not, and a reset password works again."""
    with store.transaction() as tx:
        add_user(tx, "amira", "auditor", "first long password", actor="admin")
    with store.transaction() as tx:
        user = tx.session.execute(select(User)).scalar_one()
        assert user.password_hash.startswith("$argon2id$") and "first long password" not in user.password_hash
        assert authenticate(tx, "amira", "first long password").role == "auditor"
        assert authenticate(tx, "amira", "wrong password here") is None
        assert authenticate(tx, "nobody", "first long password") is None
        disable_user(tx, "amira", actor="admin")
        assert authenticate(tx, "amira", "first long password") is None
        reset_password(tx, "amira", "second long password", actor="admin")
        assert authenticate(tx, "amira", "second long password") is not None
        assert [e.action for e in tx.session.execute(select(AuditEntry)).scalars()] == [
            "user-added", "user-disabled", "user-password-reset"]


def test_weak_passwords_and_unknown_roles_are_refused(store):
    """GIVEN a short password or an unknown role WHEN a user is added THEN UsageError says why."""
    with store.transaction() as tx:
        with pytest.raises(UsageError, match="at least 12"):
            add_user(tx, "amira", "auditor", "short", actor="admin")
        with pytest.raises(UsageError, match="role"):
            add_user(tx, "amira", "superuser", "a long enough password", actor="admin")


def test_verify_names_an_altered_entry_and_an_altered_file(store, oldham):
    """GIVEN an intact case WHEN an audit payload is changed in the database and its archived message altered
    THEN verification names both, and another case stays intact."""
    with store.transaction() as tx:
        first, message = _case(tx, oldham)
        other, _ = _case(tx, oldham, raw=b"Subject: other\r\n\r\nother\r\n")
        refs, path = (first.ref, other.ref), message.archive_path
    assert verify_case(store, refs[0]).intact
    with store.transaction() as tx:
        entry = tx.session.execute(select(AuditEntry).where(AuditEntry.case_ref == refs[0]).limit(1)).scalar_one()
        entry.payload = {**entry.payload, "protocol": "sandwell"}
        seq = entry.seq
    with open(path, "ab") as handle:
        handle.write(b"x")
    result = verify_case(store, refs[0])
    assert not result.intact
    assert result.problems[0].startswith(f"audit entry {seq} (case-opened)")
    assert any("altered" in p for p in result.problems)
    assert verify_case(store, refs[1]).intact


def test_merge_moves_everything_and_reopen_restarts_the_clock(store, oldham):
    """GIVEN two cases for one child WHEN merged THEN the survivor holds both messages and the duplicate is merged;
    WHEN the survivor is closed and re-opened at stage 2 THEN its clock runs again and it counts as open."""
    with store.transaction() as tx:
        keep, _ = _case(tx, oldham, "Zoë")
        dupe, _ = _case(tx, oldham, raw=b"Subject: again\r\n\r\nagain\r\n")
        merge_cases(tx, dupe.ref, keep.ref, AT, actor="bu", reason="same child")
        assert len(tx.messages_for(keep)) == 2
        assert tx.require_case(dupe.ref).status == "merged"
        close_case(tx, keep.ref, AT + timedelta(days=1), actor="bu", reason="agreed")
        reopen_case(tx, oldham, keep.ref, AT + timedelta(days=2), actor="bu", reason="escalated again", stage=2)
        case = tx.require_case(keep.ref)
        clock = clock_for(case, REGISTRY, AT + timedelta(days=2, hours=1))
        assert case.status == "open" and clock.resolved is None and clock.stages[-1].stage == 2
        with pytest.raises(UsageError, match="reason"):
            set_stage(tx, oldham, keep.ref, 3, AT, actor="bu", reason="")
        with pytest.raises(UsageError):
            set_stage(tx, oldham, keep.ref, 9, AT, actor="bu", reason="typo")
    rows = find_cases(store, REGISTRY, AT + timedelta(days=2), CaseQuery(text="ZOE"))
    assert [r["ref"] for r in rows] == [keep.ref]


def test_a_merge_takes_the_duplicates_later_stage_and_the_facts_the_survivor_lacks(store, oldham):
    """GIVEN a case at stage 1 and a duplicate for the same child that went on to stage 3 a day later, holding
    a threshold dispute and a case start of its own WHEN the duplicate is merged in THEN the survivor is at
    stage 3 from the duplicate's entry (as its clock says), holds the threshold dispute, keeps its own case
    start, and the merge's event names the stage change and the fact left behind."""
    from resdesk.cases import case_timeline, set_fact

    with store.transaction() as tx:
        keep, _ = _case(tx, oldham, "Zoë")
        dupe, _ = _case(tx, oldham, raw=b"Subject: again\r\n\r\nagain\r\n")
        tx.record_stage_notification(dupe, oldham, 3, AT + timedelta(days=1))
        set_fact(tx, dupe, "threshold-dispute", True, by="bu", reason="MASH decision disputed")
        set_fact(tx, dupe, "case_start", "2026-12-01T09:00", by="bu", reason="referral date")
        set_fact(tx, keep, "case_start", "2026-12-02T09:00", by="bu", reason="our referral date")
        keep_ref, dupe_ref = keep.ref, dupe.ref
    with store.transaction() as tx:
        merge_cases(tx, dupe_ref, keep_ref, AT + timedelta(days=2), actor="bu", reason="same child")
    case = case_timeline(store, keep_ref, REGISTRY, AT + timedelta(days=2, hours=1))
    assert (case["stage"], case["status"]) == (3, "open")
    assert case["facts"]["threshold-dispute"]["value"] is True
    assert str(case["facts"]["case_start"]["value"]).startswith("2026-12-02")
    with store.transaction() as tx:
        survivor = tx.require_case(keep_ref)
        assert survivor.stage_started == AT + timedelta(days=1)
        assert clock_for(survivor, REGISTRY, AT + timedelta(days=2)).current.stage == 3
    (merged,) = [e for e in case["events"] if e["kind"] == "case-merged-in"]
    assert merged["detail"]["stage"]["before"]["stage"] == 1 and merged["detail"]["stage"]["after"]["stage"] == 3
    assert merged["detail"]["facts_left_behind"] == ["case_start"]


def test_a_merge_keeps_the_survivors_stage_when_the_duplicate_is_behind(store, oldham):
    """GIVEN a case that entered stage 3 and a duplicate still at stage 1 from before WHEN merged THEN the
    survivor stays at stage 3 from its own entry, and the merge names no stage change."""
    from resdesk.cases import case_timeline

    with store.transaction() as tx:
        keep, _ = _case(tx, oldham, "Zoë")
        dupe, _ = _case(tx, oldham, raw=b"Subject: again\r\n\r\nagain\r\n")
        tx.record_stage_notification(keep, oldham, 3, AT + timedelta(days=1))
        keep_ref, dupe_ref = keep.ref, dupe.ref
    with store.transaction() as tx:
        merge_cases(tx, dupe_ref, keep_ref, AT + timedelta(days=2), actor="bu", reason="same child")
        survivor = tx.require_case(keep_ref)
        assert (survivor.stage, survivor.stage_started) == (3, AT + timedelta(days=1))
    case = case_timeline(store, keep_ref, REGISTRY, AT + timedelta(days=2, hours=1))
    (merged,) = [e for e in case["events"] if e["kind"] == "case-merged-in"]
    assert "stage" not in merged["detail"]


def test_a_merge_prefers_a_stated_fact_to_an_estimate_and_refuses_a_merged_survivor(store, oldham):
    """GIVEN a survivor whose case start is only estimated (the time of its first mail) and a duplicate whose
    case start a form stated WHEN merged THEN the survivor holds the stated start; WHEN a third case is then
    merged into the duplicate (itself merged away) THEN it is refused, naming the case to merge into."""
    from resdesk.cases import case_timeline
    from resdesk.cases.facts import record_fact

    with store.transaction() as tx:
        keep, _ = _case(tx, oldham, "Zoë")
        dupe, _ = _case(tx, oldham, raw=b"Subject: again\r\n\r\nagain\r\n")
        third, _ = _case(tx, oldham, raw=b"Subject: third\r\n\r\nthird\r\n")
        record_fact(tx, keep, "case_start", AT, source="estimated", by="resdesk", at=AT)
        record_fact(tx, dupe, "case_start", "2026-12-01T09:00", source="form", by="resdesk", at=AT)
        refs = keep.ref, dupe.ref, third.ref
    with store.transaction() as tx:
        merge_cases(tx, refs[1], refs[0], AT + timedelta(days=1), actor="bu", reason="same child")
    start = case_timeline(store, refs[0], REGISTRY, AT + timedelta(days=1))["facts"]["case_start"]
    assert str(start["value"]).startswith("2026-12-01") and start["source"] == "form"
    with store.transaction() as tx:
        with pytest.raises(UsageError, match=f"{refs[1]} was itself merged"):
            merge_cases(tx, refs[2], refs[1], AT + timedelta(days=1), actor="bu", reason="same child")


def test_a_merge_whose_events_disagree_with_the_survivor_puts_it_on_the_review_list(store, oldham):
    """GIVEN a survivor at stage 3 and a duplicate whose stage 1 began later (a late summary filed apart)
    WHEN merged THEN the survivor stays at stage 3 and goes on the review list saying its clock now reads
    stage 1; GIVEN another duplicate that was resolved WHEN merged into an open case THEN that case goes on
    the review list saying the resolution is now on its clock."""
    with store.transaction() as tx:
        keep, _ = _case(tx, oldham, "Zoë")
        tx.record_stage_notification(keep, oldham, 3, AT + timedelta(days=1))
        late = tx.create_case(oldham, AT + timedelta(days=2))
        tx.record_stage_notification(late, oldham, 1, AT + timedelta(days=2))
        other, _ = _case(tx, oldham, "Ann")
        done, _ = _case(tx, oldham, raw=b"Subject: done\r\n\r\ndone\r\n")
        refs = keep.ref, late.ref, other.ref, done.ref
    with store.transaction() as tx:
        close_case(tx, refs[3], AT + timedelta(hours=1), actor="bu", reason="agreed")
    with store.transaction() as tx:
        merge_cases(tx, refs[1], refs[0], AT + timedelta(days=3), actor="bu", reason="same child")
        merge_cases(tx, refs[3], refs[2], AT + timedelta(days=3), actor="bu", reason="same child")
    with store.transaction() as tx:
        kept = tx.require_case(refs[0])
        assert (kept.stage, kept.status) == (3, "needs-review")
        assert "clock now reads stage 1" in kept.review_reason
        assert tx.require_case(refs[2]).status == "needs-review"
        assert "resolution is now on this case's clock" in tx.require_case(refs[2]).review_reason


def test_fold_and_initials():
    """GIVEN names with accents WHEN folded THEN accents and case go; initials keep letters only."""
    assert fold("  Zoë  ÅNGSTRÖM-Núñez ") == "zoe angstrom-nunez"
    assert initials("Zoë Ann Smith") == "Z.A.S." and initials(None) == "-"


def test_chase_list_counts_days_overdue(store, oldham):
    """GIVEN a stage 1 case entered on Monday 14 December (due Wednesday 16th, 23:59) WHEN the chase list is
    asked on Wednesday THEN it is due today; on Saturday 19th THEN it is 3 days overdue; once resolved, gone."""
    from resdesk.cases import chase_list

    with store.transaction() as tx:
        case, _ = _case(tx, oldham, "Zoë Ann")
        ref = case.ref
    [today] = chase_list(store, REGISTRY, datetime(2026, 12, 16, 12, tzinfo=timezone.utc))
    assert (today["ref"], today["due_status"], today["days_overdue"], today["initials"]) == (ref, "due-today", 0, "Z.A.")
    [late] = chase_list(store, REGISTRY, datetime(2026, 12, 19, 12, tzinfo=timezone.utc))
    assert (late["due_status"], late["days_overdue"]) == ("overdue", 3)
    with store.transaction() as tx:
        close_case(tx, ref, datetime(2026, 12, 19, 13, tzinfo=timezone.utc), actor="bu", reason="agreed")
    assert chase_list(store, REGISTRY, datetime(2026, 12, 19, 14, tzinfo=timezone.utc)) == []
