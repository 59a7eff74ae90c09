"""A child's identifiers and date of birth through the real watcher (issue 12, item 3): invalid NHS
numbers refused, local identifiers never joining two children alone, a date of birth in the future
refused, an age over 25 accepted and put on the review list."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from resdesk.cases import Message
from resdesk.forms import email_text
from tests.forms.make_samples import RECORDS
from tests.intake.test_authority import Desk


def _notice(n: int, *, sender: str = "Priya Natarajan <p.natarajan@school.example>", **child) -> bytes:
    """A Resolution Notice typed into the mail, about the child given."""
    record = RECORDS["resolution-notice"].model_copy(update=child)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "escalations@partnership.example"
    msg["Subject"] = "Resolution Notice"
    msg["Message-ID"] = f"<notice-{n}@school.example>"
    msg["Date"] = "Mon, 14 Dec 2026 10:00:00 +0000"
    msg.set_content(email_text("resolution-notice", record))
    return msg.as_bytes()


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path, None)
    yield desk
    desk.store.close()


def _cases(desk: Desk) -> list[tuple[str | None, str | None, str]]:
    with desk.store.transaction() as tx:
        return [(c.child_identifier, c.child_name, c.status) for c in tx.all_cases()]


def _states(desk: Desk) -> list[tuple[str, str | None]]:
    with desk.store.transaction() as tx:
        return [(m.state, m.reason) for m in tx.session.execute(select(Message).order_by(Message.id)).scalars()]


@pytest.mark.parametrize("identifier", ["0000000000", "NHS 943 476 5910", "NHS 12345678901"])
def test_an_invalid_nhs_number_is_refused_naming_the_field(desk, identifier):
    """GIVEN a Resolution Notice giving the child an NHS number that fails the NHS rules (all one digit, a
    wrong check digit, eleven digits marked NHS) WHEN the watcher reads it THEN it is quarantined, the
    reason naming the identifier field, and no case is opened."""
    desk.receive(_notice(1, child_identifier=identifier))
    ((state, reason),) = _states(desk)
    assert state == "quarantined" and "child_identifier" in reason and "NHS number" in reason
    assert _cases(desk) == []


def test_two_children_with_one_local_identifier_are_never_joined(desk):
    """GIVEN a case about Amelia Hart with the local identifier PID-0000-0000-0 WHEN a notice about another
    child (another name and date of birth) carries the same local identifier, from another agency
    THEN it opens a second case; WHEN a notice about Amelia with that identifier and her name arrives
    THEN it joins her case."""
    desk.receive(_notice(1, child_identifier="PID-0000-0000-0"))
    desk.receive(_notice(2, child_identifier="PID-0000-0000-0", child_name="Noah Brook", child_dob=date(2016, 3, 4),
                         sender="Sam Otter <sam.otter@police.example>"))
    assert sorted(name for _, name, _ in _cases(desk)) == ["Amelia Hart", "Noah Brook"]
    desk.receive(_notice(3, child_identifier="PID-0000-0000-0", child_dob=None))
    assert len(_cases(desk)) == 2
    with desk.store.transaction() as tx:
        joined = tx.session.execute(select(Message.case_id).where(Message.message_id == "<notice-3@school.example>")).scalar_one()
        first = tx.session.execute(select(Message.case_id).where(Message.message_id == "<notice-1@school.example>")).scalar_one()
    assert joined == first


def test_a_date_of_birth_in_the_future_is_refused(desk):
    """GIVEN a notice whose child's date of birth is after the message's date WHEN read THEN it is
    quarantined naming the date of birth, and no case is opened."""
    desk.receive(_notice(1, child_dob=date(2027, 1, 5)))
    ((state, reason),) = _states(desk)
    assert state == "quarantined" and "date of birth in the future" in reason
    assert _cases(desk) == []


@pytest.mark.parametrize("born, flagged", [(date(1996, 12, 1), True), (date(2001, 12, 15), False)])
def test_an_age_over_25_is_accepted_and_put_on_the_review_list(desk, born, flagged):
    """GIVEN a notice whose child was born 30 years before it (or exactly 25 years before) WHEN read THEN the
    case is opened with that date of birth, and only the first is put on the review list for its age."""
    desk.receive(_notice(1, child_dob=born))
    ((_, name, status),) = _cases(desk)
    assert name == "Amelia Hart"
    case = desk.case(desk.only_ref())
    assert case["child"]["dob"] == born.isoformat()
    reasons = [e["detail"]["reason"] for e in case["events"] if e["kind"] == "needs-review"]
    assert any("older than the 25" in reason for reason in reasons) is flagged, reasons
    if flagged:
        assert status == "needs-review"
