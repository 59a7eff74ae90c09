"""Who may change a case, through the real watcher: parties and people the case reached with a
verified sender; anyone else naming the case is filed on it, changes nothing and puts it on the
review list (issue 12, items 1 and 2)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from resdesk.cases import Message, case_timeline, open_store
from resdesk.cases.timeline import MESSAGE_NOT_ON_CASE
from resdesk.cases.tokens import case_token_key, check_code
from resdesk.intake.process import IntakePolicy
from resdesk.protocols import default_registry
from tests.intake.mail import summary
from tests.intake.test_partnerships import Partnership

REGISTRY = default_registry()
MX = "mx.partnership.example"
PARTY = "Dana Whitfield <dana.whitfield@police.example>"
COLLEAGUE = "Sam Otter <sam.otter@police.example>"
STRANGER = "Eve Marsh <eve.marsh@school.example>"


def _now() -> datetime:
    return datetime(2026, 12, 15, 12, 0, tzinfo=timezone.utc)


def authenticated(raw: bytes, results: str, authserv_id: str = MX) -> bytes:
    """``raw`` with the Authentication-Results header a receiving server adds on top."""
    return f"Authentication-Results: {authserv_id}; {results}\r\n".encode() + raw


def passing(raw: bytes, domain: str) -> bytes:
    return authenticated(raw, f"spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}")


class Desk(Partnership):
    """One partnership's inbox and real watcher on a SQLite case file of its own."""

    def __init__(self, root: Path, authserv_id: str | None, *, clock=None):
        self.store = open_store(f"sqlite:///{root / 'resdesk.sqlite3'}", root / "archive")
        policy = IntakePolicy(
            frozenset({"escalations@partnership.example"}), ("police.example", "school.example"), authserv_id,
            1_000_000, agency_domains=(("police.example", "Police"), ("school.example", "Education")),
        )
        super().__init__(root, self.store, "oldham", policy, clock=clock)

    def case(self, ref: str) -> dict:
        return case_timeline(self.store, ref, REGISTRY, _now())

    def only_ref(self) -> str:
        with self.store.transaction() as tx:
            (case,) = tx.all_cases()
            return case.ref

    def token(self, ref: str) -> str:
        return f"[{ref}-{check_code(case_token_key(self.store), ref)}]"

    def verification_of(self, message_id: str) -> str | None:
        with self.store.transaction() as tx:
            return tx.session.execute(select(Message.sender_verification).where(Message.message_id == message_id)).scalar_one()


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path, None)
    yield desk
    desk.store.close()


@pytest.fixture
def verifying(tmp_path):
    desk = Desk(tmp_path, MX)
    yield desk
    desk.store.close()


def _opened(desk: Desk, raw: bytes | None = None) -> str:
    desk.receive(raw or summary(1, "escalated", n=1, sender=PARTY))
    ref = desk.only_ref()
    assert desk.case(ref)["stage"] == 2
    return ref


def _not_on_case(case: dict) -> list[dict]:
    return [e["detail"] for e in case["events"] if e["kind"] == MESSAGE_NOT_ON_CASE]


def test_a_stranger_naming_a_case_changes_nothing_and_puts_it_on_the_review_list(desk):
    """GIVEN an Oldham case at stage 2 opened by a police practitioner WHEN someone from another allowed
    agency, never on the case, sends "Outcome: resolved" naming the case's reference (the guessable
    sequential one, typed without its check code) THEN the message is filed on the case as from someone
    not on the case, the case stays at stage 2 unresolved, no party is added, no acknowledgement is
    owed, and the case is on the review list with the reason."""
    ref = _opened(desk)
    before = desk.case(ref)
    desk.receive(summary(2, "resolved", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    after = desk.case(ref)
    assert after["stage"] == 2 and after["status"] == "needs-review"
    assert [p["email"] for p in after["parties"]] == [p["email"] for p in before["parties"]]
    (filed,) = _not_on_case(after)
    assert filed["sender"] == "eve.marsh@school.example" and filed["acknowledge"] is False
    assert "not one of the case's parties" in filed["why"]
    assert "someone not on the case" in after["review_reason"]
    assert [m["message_id"] for m in after["messages"]][-1] == "<summary-2-2@police.example>"
    assert not [e for e in after["events"] if e["kind"] == "message-recorded" and e["message_id"] == "<summary-2-2@police.example>"]


def test_someone_the_business_unit_adds_as_a_party_may_then_change_the_case(desk):
    """GIVEN a stranger's "resolved" summary held for review on a stage 2 case WHEN the business unit
    adds the stranger as a party (``resdesk act add-party``), and the stranger sends the summary again
    THEN the case is resolved, the party shows with their agency, and the addition is an event and an
    audit entry naming who and why."""
    from resdesk.cases import AuditEntry, corrections

    ref = _opened(desk)
    desk.receive(summary(2, "resolved", n=2, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    assert desk.case(ref)["status"] == "needs-review"
    with desk.store.transaction() as tx:
        corrections.add_party(tx, ref, "Eve.Marsh@School.example", _now(), actor="bu",
                              reason="the school's safeguarding lead", agency="Education", role="DSL")
    desk.receive(summary(2, "resolved", n=3, sender=STRANGER, subject=f"Stage 2 Summary [{ref}]"))
    after = desk.case(ref)
    assert after["status"] == "resolved"
    [added] = [p for p in after["parties"] if p["email"].lower() == "eve.marsh@school.example"]
    assert added["agency"] == "Education" and added["role"] == "DSL"
    [event] = [e for e in after["events"] if e["kind"] == corrections.PARTY_ADDED]
    assert event["detail"]["by"] == "bu" and event["detail"]["reason"] == "the school's safeguarding lead"
    with desk.store.transaction() as tx:
        [entry] = tx.session.execute(select(AuditEntry).where(AuditEntry.action == corrections.PARTY_ADDED)).scalars()
        assert entry.actor == "bu" and entry.case_ref == ref


@pytest.mark.parametrize(("address", "name", "refusal"), [
    ("not an address", None, "is not an e-mail address"),
    ("DANA.WHITFIELD@police.example", None, "is already a party"),
    ("eve.marsh@school.example", "Eve\x00Marsh", "control or invisible"),
    ("eve.marsh@school.example", "Eve \u202eMarsh", "control or invisible"),
    ("eve.marsh@school.example", "E" * 201, "at most 200"),
])
def test_adding_a_party_refuses_a_bad_or_repeated_address_or_name_and_changes_nothing(desk, address, name, refusal):
    """GIVEN a case opened by a police practitioner WHEN the business unit adds as a party something
    that is not an address, the practitioner again (letter case aside), or a name holding a control
    or bidirectional-override character or longer than the case file keeps THEN it is refused, saying
    why, and the case's parties are as they were."""
    from resdesk.cases import corrections
    from resdesk.errors import UsageError

    ref = _opened(desk)
    before = desk.case(ref)["parties"]
    with pytest.raises(UsageError, match=refusal):
        with desk.store.transaction() as tx:
            corrections.add_party(tx, ref, address, _now(), actor="bu", reason="on the phone", name=name)
    assert desk.case(ref)["parties"] == before


def test_a_typed_name_with_line_breaks_is_kept_on_one_line(desk):
    """GIVEN a name typed with a line break and doubled spaces WHEN the party is added THEN it is kept as
    one line, so no letter to them can carry a line of someone else's choosing."""
    from resdesk.cases import corrections

    ref = _opened(desk)
    with desk.store.transaction() as tx:
        corrections.add_party(tx, ref, "eve.marsh@school.example", _now(), actor="bu", reason="on the phone",
                              name="Eve\r\n\r\nThe case is closed.  Marsh")
    [added] = [p for p in desk.case(ref)["parties"] if p["email"] == "eve.marsh@school.example"]
    assert added["name"] == "Eve The case is closed. Marsh"


def test_a_party_may_change_the_case_by_a_reference_typed_without_its_code(desk):
    """GIVEN a case opened by a police practitioner WHEN the same practitioner sends the stage 2 summary,
    resolved, naming the reference from memory (no check code) THEN the case is resolved."""
    ref = _opened(desk)
    desk.receive(summary(2, "resolved", n=2, sender=PARTY, subject=f"Stage 2 Summary {ref}"))
    assert desk.case(ref)["status"] == "resolved"


def test_a_colleague_needs_the_check_code_and_a_guessed_code_is_never_trusted(desk):
    """GIVEN a case opened by a police practitioner WHEN a colleague at the same agency (the manager the
    protocol escalates to) names the case without its check code, then with a wrong code of the right
    shape, THEN neither changes the case; WHEN the colleague sends the subject the product wrote, with
    the right code (in lower case, as retyped) THEN the stage 2 summary resolves the case."""
    ref = _opened(desk)
    desk.receive(summary(2, "resolved", n=2, sender=COLLEAGUE, subject=f"Stage 2 Summary [{ref}]"))
    wrong = "AAAAAA" if not desk.token(ref).endswith("-AAAAAA]") else "BBBBBB"
    desk.receive(summary(2, "resolved", n=3, sender=COLLEAGUE, subject=f"Stage 2 Summary [{ref}-{wrong}]"))
    case = desk.case(ref)
    assert case["stage"] == 2 and case["status"] == "needs-review"
    whys = [d["why"] for d in _not_on_case(case)]
    assert "without its check code" in whys[0] and "guessed reference" in whys[1]
    desk.receive(summary(2, "resolved", n=4, sender=COLLEAGUE,
                         subject=f"RE: Escalation & Resolution Protocol: Stage 2 Summary {desk.token(ref).lower()}"))
    assert desk.case(ref)["status"] == "resolved"


def test_a_colleague_replying_on_the_cases_thread_may_change_it(desk):
    """GIVEN a case opened by a police practitioner's stage 1 summary WHEN the practitioner's manager
    replies to that summary (In-Reply-To its Message-ID) with the stage 2 summary, resolved THEN the case
    is resolved: escalation climbs the agency's own ladder (Oldham 2025, stage 2 to the Head of Service)."""
    ref = _opened(desk)
    desk.receive(summary(2, "resolved", n=2, sender=COLLEAGUE, subject="RE: Escalation & Resolution Protocol: Stage 2 Summary",
                         in_reply_to="<summary-1-1@police.example>"))
    assert desk.case(ref)["status"] == "resolved"


def test_a_stranger_replying_on_the_thread_is_still_not_on_the_case(desk):
    """GIVEN a police case WHEN someone at an agency not on the case replies on the case's thread with
    "Outcome: resolved" THEN the case is unchanged and on the review list."""
    ref = _opened(desk)
    desk.receive(summary(2, "resolved", n=2, sender=STRANGER, in_reply_to="<summary-1-1@police.example>",
                         subject="RE: Escalation & Resolution Protocol: Stage 2 Summary"))
    case = desk.case(ref)
    assert case["stage"] == 2 and case["status"] == "needs-review" and len(_not_on_case(case)) == 1


def test_an_unverified_party_cannot_change_the_case_and_is_marked_unverified(verifying):
    """GIVEN a partnership whose receiving server is mx.partnership.example, and a case opened by a police
    practitioner whose mail passed DKIM for police.example WHEN mail claiming to be from the same
    practitioner arrives with no Authentication-Results, with results written by another server, and
    with SPF passing only for another domain THEN each is filed on the case, marked unverified (on its
    ledger row and in the case's timeline), and the case is not resolved; WHEN the practitioner's real
    mail (DMARC pass) arrives THEN the case is resolved and the message is marked verified."""
    desk = verifying
    ref = _opened(desk, passing(summary(1, "escalated", n=1, sender=PARTY), "police.example"))
    assert desk.verification_of("<summary-1-1@police.example>") == "verified"
    resolving = dict(sender=PARTY, subject=f"Stage 2 Summary [{ref}]")
    desk.receive(summary(2, "resolved", n=2, **resolving))
    desk.receive(passing(summary(2, "resolved", n=3, **resolving), "police.example").replace(MX.encode(), b"mx.elsewhere.example", 1))
    desk.receive(authenticated(summary(2, "resolved", n=4, **resolving), "spf=pass smtp.mailfrom=bulk-sender.example"))
    case = desk.case(ref)
    assert case["status"] == "needs-review" and case["stage"] == 2
    by_id = {m["message_id"]: m["sender_verification"] for m in case["messages"]}
    assert [by_id[f"<summary-2-{n}@police.example>"] for n in (2, 3, 4)] == ["unverified"] * 3
    assert all("could not verify" in d["why"] for d in _not_on_case(case))
    desk.receive(authenticated(summary(2, "resolved", n=5, **resolving), "dmarc=pass header.from=police.example"))
    assert desk.case(ref)["status"] == "resolved"
    assert desk.verification_of("<summary-2-5@police.example>") == "verified"


def test_a_case_opened_by_an_unverified_sender_is_filed_and_put_on_the_review_list(verifying):
    """GIVEN a partnership with a configured receiving server WHEN a stage 1 summary arrives whose
    Authentication-Results show no SPF record and no DKIM signature THEN a case is still opened from it (nothing is lost), the
    message is marked unverified and the case is on the review list, saying why."""
    desk = verifying
    desk.receive(authenticated(summary(1, "escalated", n=1, sender=PARTY), "spf=none smtp.mailfrom=police.example"))
    case = desk.case(desk.only_ref())
    assert case["status"] == "needs-review" and "could not verify" in case["review_reason"]
    assert case["messages"][0]["sender_verification"] == "unverified"


def test_without_a_configured_receiving_server_senders_are_not_checked(desk):
    """GIVEN no partnership.authserv_id WHEN a party's summary arrives carrying a forged
    Authentication-Results header that claims a pass THEN it is read as not checked (no header is
    believed) and the party's mail still moves the case, as before verification existed."""
    ref = _opened(desk, passing(summary(1, "escalated", n=1, sender=PARTY), "police.example"))
    assert desk.verification_of("<summary-1-1@police.example>") == "not-checked"
    desk.receive(summary(2, "resolved", n=2, sender=PARTY, subject=f"Stage 2 Summary [{ref}]"))
    assert desk.case(ref)["status"] == "resolved"


@pytest.mark.parametrize("subject", [
    "Stage 2 Summary [{ref}-{code}] [{ref}]" ,  # the right code first wins over a bare repeat
    "Stage 2 Summary [ {lower} ]",  # spaces inside the brackets, lower case
])
def test_the_check_code_is_read_however_the_token_is_retyped(desk, subject):
    """GIVEN a case WHEN a colleague's subject carries the case token in forms people retype it THEN the
    right code is recognised and the summary resolves the case."""
    ref = _opened(desk)
    code = desk.token(ref)[len(ref) + 2:-1]
    text = subject.format(ref=ref, code=code, lower=f"{ref}-{code}".lower())
    desk.receive(summary(2, "resolved", n=2, sender=COLLEAGUE, subject=text))
    assert desk.case(ref)["status"] == "resolved"


def test_a_message_the_business_unit_releases_from_quarantine_is_vouched_for(desk):
    """GIVEN a case opened by a police practitioner, and a stage 2 summary resolving it from someone at a
    domain not allowed, so quarantined WHEN the business unit releases it, trusting the sender THEN it is
    processed again and, vouched for by that person, resolves the case."""
    from resdesk.intake.quarantine import release

    ref = _opened(desk)
    desk.receive(summary(2, "resolved", n=2, sender="Jo Brook <jo.brook@academy.example>", subject=f"Stage 2 Summary [{ref}]"))
    with desk.store.transaction() as tx:
        held = tx.session.execute(select(Message.id).where(Message.state == "quarantined")).scalar_one()
    released = release(desk.store, desk.watcher.processor, held, _now(), actor="bu", reason="the academy's DSL",
                       trust="sender")
    assert released.state == "done" and desk.case(ref)["status"] == "resolved"
