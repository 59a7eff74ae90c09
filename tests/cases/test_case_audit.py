"""The audit log is a hash chain: any change to a past entry is found."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from resdesk.cases import verify_chain
from resdesk.cases.audit import GENESIS, canonical, link_hash, verify_entries
from resdesk.cases.models import AuditEntry

AT = datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)


def _append(store, count: int) -> None:
    with store.transaction() as tx:
        for n in range(count):
            tx.audit("resdesk", "test-entry", "OLD-2026-0001", {"n": n, "name": "Zoë O'Brien & co"}, at=AT)


def test_an_untouched_chain_verifies(store):
    """GIVEN entries appended in several transactions WHEN the chain is verified THEN it is intact."""
    _append(store, 3)
    _append(store, 2)
    assert verify_chain(store) == (True, None)
    with store.transaction() as tx:
        first = tx.session.get(AuditEntry, 1)
        assert first.prev_hash == GENESIS


def test_changing_a_payload_is_found_at_that_entry(store):
    """GIVEN a chain of five WHEN entry 3's payload is edited in the database THEN verification fails at 3."""
    _append(store, 5)
    with store.transaction() as tx:
        tx.session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(payload={"n": 99}))
    assert verify_chain(store) == (False, 3)


def test_rewriting_an_entry_and_its_hash_is_found_at_the_next(store):
    """GIVEN a chain WHEN someone edits entry 2 and recomputes its own hash THEN entry 3 no longer links."""
    _append(store, 4)
    with store.transaction() as tx:
        entry = tx.session.get(AuditEntry, 2)
        entry.actor = "someone else"
        entry.hash = link_hash(entry.prev_hash, canonical(2, entry.at, entry.actor, entry.action, entry.case_ref, entry.payload))
    assert verify_chain(store) == (False, 3)


def test_removing_an_entry_is_found(store):
    """GIVEN a chain of four WHEN entry 2 is deleted THEN verification fails where the gap is."""
    _append(store, 4)
    with store.transaction() as tx:
        tx.session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    assert verify_chain(store) == (False, 3)


class _Entry:
    def __init__(self, seq, at, actor, action, case_ref, payload, prev_hash, hash):
        self.seq, self.at, self.actor, self.action = seq, at, actor, action
        self.case_ref, self.payload, self.prev_hash, self.hash = case_ref, payload, prev_hash, hash


payloads = st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=20), st.none()), max_size=4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=10), payloads), min_size=1, max_size=8), st.data())
def test_any_single_change_breaks_the_chain(entries, data):
    """GIVEN any chain WHEN one entry's action is changed THEN verification fails at or before it."""
    chain, prev = [], GENESIS
    for seq, (action, payload) in enumerate(entries, start=1):
        digest = link_hash(prev, canonical(seq, AT, "resdesk", action, None, payload))
        chain.append(_Entry(seq, AT, "resdesk", action, None, payload, prev, digest))
        prev = digest
    assert verify_entries(chain) == (True, None)
    victim = data.draw(st.integers(min_value=0, max_value=len(chain) - 1))
    chain[victim].action = chain[victim].action + "!"
    ok, bad = verify_entries(chain)
    assert not ok and bad == victim + 1
