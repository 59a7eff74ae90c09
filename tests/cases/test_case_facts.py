"""Case facts in the case file: set by mail or a person, corrected, cleared, audited; the clock follows."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from resdesk.cases import clear_fact, facts_of, needed_facts, set_fact, verify_chain
from resdesk.cases.facts import clock_inputs, record_fact
from resdesk.cases.models import AuditEntry, Event
from resdesk.errors import UsageError
from resdesk.protocols import LOCAL

AT = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


def test_a_person_sets_corrects_and_clears_a_fact_with_history(store, oldham):
    """GIVEN a case WHEN a person sets case_start, corrects it, and clears a condition
    THEN each change is a fact-set/fact-cleared event and an audit entry, and the chain holds."""
    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        set_fact(tx, case, "case_start", "23/11/2026", by="Pat Jones", reason="line manager told on Monday")
        fact = set_fact(tx, case, "case_start", "2026-11-24T09:30", by="Pat Jones", reason="it was Tuesday")
        set_fact(tx, case, "threshold_dispute", "yes", by="Pat Jones", reason="MASH decision disputed")
        clear_fact(tx, case, "threshold-dispute", by="Pat Jones", reason="set on the wrong case")
        assert fact.value == datetime(2026, 11, 24, 9, 30, tzinfo=LOCAL).isoformat()
        assert (fact.source, fact.estimated, fact.set_by) == ("person", False, "Pat Jones")
        assert set(facts_of(case)) == {"case_start"}
        kinds = [e.kind for e in tx.session.query(Event).order_by(Event.id)]
        assert kinds == ["fact-set", "fact-set", "fact-set", "fact-cleared"]
        actions = [a.action for a in tx.session.query(AuditEntry).order_by(AuditEntry.seq)][-4:]
        assert actions == ["fact-set", "fact-set", "fact-set", "fact-cleared"]
    assert verify_chain(store) == (True, None)


def test_mail_never_overrides_a_person_and_an_estimate_never_overrides_mail(store, oldham):
    """GIVEN an estimated case start WHEN a typed line states it THEN it replaces the estimate;
    WHEN a person corrects it THEN later mail does not change it back."""
    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        record_fact(tx, case, "case_start", AT, source="estimated", by="resdesk-intake", at=AT)
        assert needed_facts(facts_of(case)) == ["case_start"]
        record_fact(tx, case, "case_start", datetime(2026, 11, 23, tzinfo=LOCAL), source="message",
                    by="resdesk-intake", at=AT)
        assert needed_facts(facts_of(case)) == []
        assert record_fact(tx, case, "case_start", AT, source="estimated", by="resdesk-intake", at=AT) is None
        set_fact(tx, case, "case_start", "20/11/2026", by="Pat", reason="checked with the school")
        assert record_fact(tx, case, "case_start", "23/11/2026", source="message", by="resdesk-intake", at=AT) is None
        inputs = clock_inputs(facts_of(case))
        assert inputs.case_start == datetime(2026, 11, 20, tzinfo=LOCAL) and not inputs.case_start_estimated


def test_unknown_facts_bad_values_and_a_missing_reason_are_refused(store, oldham):
    """GIVEN a case WHEN a person sets an unknown fact, a flag to 'perhaps' or a fact without a reason
    THEN each is refused with a sentence naming the fact, and nothing is written."""
    with store.transaction() as tx:
        case = tx.create_case(oldham, AT)
        with pytest.raises(UsageError, match="no case fact 'colour'"):
            set_fact(tx, case, "colour", "blue", by="Pat", reason="why not")
        with pytest.raises(UsageError, match="urgent is yes or no"):
            set_fact(tx, case, "urgent", "perhaps", by="Pat", reason="unsure")
        with pytest.raises(UsageError, match="Say why"):
            set_fact(tx, case, "urgent", "no", by="Pat", reason=" ")
        assert facts_of(case) == {}
