"""Real-world shaped mail and forms (tests/intake/realworld/, see its README.md) through the real
watcher on a Maildir, and outbound mail through the outbox's pickup folder."""

from __future__ import annotations

import pytest

from resdesk.forms import read_form
from tests.intake.realworld_desk import REALWORLD, RealDesk


@pytest.fixture
def desk(tmp_path) -> RealDesk:
    return RealDesk(tmp_path)


def recorded(desk: RealDesk) -> list[dict]:
    return [event["detail"] for event in desk.events("message-recorded")]


def test_m01_a_summary_forwarded_as_an_attachment_is_read_from_the_attached_message(desk):
    """GIVEN Outlook's forward-as-attachment of a stage 2 summary: a message/rfc822 part with no file
    name, the outer mail only saying it forwards WHEN the watcher drains THEN one case holds the stage 2
    summary with outcome escalated, from the attached message's own sender and date."""
    desk.deliver("m01-forward-as-attachment/01-forward-as-attachment.eml")
    desk.watch()
    (case,) = desk.cases()
    (detail,) = recorded(desk)
    assert (detail["classification"], detail["stage"], detail["outcome"]) == ("stage-summary", 2, "escalated")
    assert detail["sender"] == "rhona.baptiste@northmoor-school.example"
    (summary,) = desk.events("stage-summary")
    assert (summary["at"].day, summary["at"].hour, summary["at"].minute) == (23, 14, 5)
    assert case["stage"] == 3 and desk.folder_count("Resdesk/Processed") == 1


def test_m06_text_split_around_an_inline_photo_is_read_in_order(desk):
    """GIVEN iPhone mail: text, an inline photo, more text holding the Outcome line WHEN drained THEN
    the stage 1 summary is recorded as escalated and the photo is kept as a document on the case."""
    desk.deliver("m06-apple-split-body/01-apple-split-body.eml")
    desk.watch()
    (detail,) = recorded(desk)
    assert (detail["stage"], detail["outcome"]) == (1, "escalated")
    (photo,) = [d for d in desk.documents() if d["kind"] == "attachment"]
    assert (photo["filename"], photo["media_type"], photo["kind"]) == ("IMG_4821.jpeg", "image/jpeg", "attachment")
    assert photo["case_id"] == desk.cases()[0]["id"]


def test_m07_an_automated_response_to_our_acknowledgement_is_filed_without_a_reply(desk):
    """GIVEN a stage 1 summary, acknowledged, then an auto-responder's answer to that acknowledgement
    automatic only by its subject ("Automated Response: RE: …") WHEN both are drained and every tick
    has run THEN exactly one acknowledgement went out; the answer is on the case as automatic, the case
    unchanged and not needing review."""
    desk.deliver("m07-automated-response/01-stage1-summary.eml")
    desk.watch()
    (ack,) = desk.sent()
    before = desk.cases()
    answer = (REALWORLD / "m07-automated-response/02-automated-response.eml").read_bytes()
    desk.deliver(answer.replace(b"{ACK_OF_PREVIOUS}", ack["Message-ID"].encode()))
    desk.watch()
    desk.tick("2026-11-23T10:05")
    assert len(desk.sent()) == 1
    first, second = recorded(desk)
    assert second["classification"] == "automatic" and second["acknowledge"] is False
    after = desk.cases()
    assert [(c["stage"], c["status"], c["review_reason"]) for c in after] == [
        (c["stage"], c["status"], c["review_reason"]) for c in before
    ]
    assert after[0]["status"] != "needs-review"


def test_m09_a_body_labelled_unknown_8bit_is_read_as_windows_1252_and_the_flaw_noted(desk):
    """GIVEN a plain-text stage 1 summary labelled charset=unknown-8bit holding Windows-1252 dashes and
    apostrophes WHEN drained THEN it is recorded, not quarantined, as resolved, and the flaw is noted on
    the message."""
    desk.deliver("m09-unknown-8bit/01-unknown-8bit.eml")
    desk.watch()
    (row,) = desk.ledger()
    assert row["state"] == "done"
    (detail,) = recorded(desk)
    assert detail["outcome"] == "resolved"
    assert any("unknown-8bit" in flaw and "Windows-1252" in flaw for flaw in detail["flaws"])


def test_f01_legacy_check_boxes_stored_as_on_off_and_true_false_are_read():
    """GIVEN Sandwell's escalation template whose legacy Word check boxes store on/off and true/false
    WHEN read THEN the current level of need is early help and the perceived one child in need."""
    data = (REALWORLD / "f01-checkbox-onoff-words/escalation-onoff.docx").read_bytes()
    fields = read_form(data, "escalation-onoff.docx").fields
    assert fields["current_level_of_need"] == "early-help"
    assert fields["perceived_level_of_need"] == "child-in-need"


def test_watch_now_needs_once_and_a_time_it_can_read(desk, capsys):
    """GIVEN the shared inbox WHEN ``resdesk watch --now`` is run without ``--once``, or with a time it
    cannot read THEN each is refused with exit status 2 and one sentence saying why, and nothing is drained."""
    from resdesk.cli import main

    desk.deliver("m09-unknown-8bit/01-unknown-8bit.eml")
    assert main(["watch", "--now", "2026-11-23T10:00", "--config", str(desk.config)]) == 2
    assert "--now needs --once" in capsys.readouterr().err
    assert main(["watch", "--once", "--now", "next tuesday", "--config", str(desk.config)]) == 2
    assert "Cannot read the --now time 'next tuesday'" in capsys.readouterr().err
    assert desk.ledger() == []
