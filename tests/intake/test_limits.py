"""Hostile sizes through the real watcher: each message over a limit is quarantined naming the limit,
and the watcher goes on to the next message. (Timings are in bench/hostile_bench.py.)"""

from __future__ import annotations

import pytest

from resdesk.intake.limits import InboundLimits, over_limit
from resdesk.intake.process import IntakePolicy, IntakeProcessor
from tests.intake import hostile_mail
from tests.intake.test_process import OLDHAM, Desk

LIMITED = {
    "100,000 addresses in Cc": "limits.header_bytes",
    "5,000 addresses in Cc": "limits.addresses_per_header",
    "10,000 encoded words in Subject": "limits.encoded_words",
    "200,000-character line": "limits.line_chars",
    "300 KB header section": "limits.header_bytes",  # many short headers
    "300 MIME parts": "limits.parts",
    "50 attachments": "limits.attachments",
    "30,000-character form field": "limits.field_chars",
    "2.2 MB To header (100,000 addresses)": "limits.header_bytes",
    "1 MB form field": "limits.line_chars",  # one line of a typed form
}


@pytest.fixture
def desk(tmp_path):
    made = Desk(tmp_path)
    policy = IntakePolicy(frozenset({"escalations@partnership.example"}), (), None, 25_000_000)
    made.processor = IntakeProcessor(made.store, made.ledger, OLDHAM, policy)
    made.watcher.processor = made.processor
    made.watcher.max_bytes = 25_000_000
    yield made
    made.store.close()


@pytest.mark.parametrize("shape", sorted(LIMITED), ids=sorted(LIMITED))
def test_a_message_over_a_limit_is_quarantined_naming_it_and_the_watcher_moves_on(desk, shape):
    """GIVEN a message of a hostile size (addresses, encoded words, a line, headers, parts, attachments,
    a form field) followed by an ordinary stage summary WHEN the watcher drains THEN the first is quarantined
    with a reason naming its limit setting, and the summary after it opens a case as usual."""
    desk.deliver(hostile_mail.HOSTILE[shape]())
    desk.deliver(hostile_mail.FOLLOW_UP(1, "escalated", n=99))
    report = desk.drain()
    assert report.filed["quarantined"] == 1 and report.filed["done"] == 1
    quarantined = [row for row in desk.ledger_rows() if row.state == "quarantined"]
    assert LIMITED[shape] in quarantined[0].reason
    assert [ref for ref, *_ in desk.cases()] == ["OLD-2026-0001"]


@pytest.mark.parametrize("shape", [
    "40,000-character word in Subject", "25,000 blank lines", "80 KB Outcome line", "40,000-character display name",
    "20,000 RE: prefixes in Subject", "Outcome line of 40,000 dots", "address with 60,000 dots in Cc",
    "reply of 40,000 short lines",
])
def test_hostile_text_within_the_limits_is_filed(desk, shape):
    """GIVEN a message under every limit whose text once took time growing with its square — a subject of
    one 40,000-character word or 20,000 RE: prefixes, 25,000 blank lines, an 80 KB Outcome line or one of
    40,000 dots, a 40,000-character display name, an address with 60,000 dots, a reply of 40,000 short
    lines WHEN the watcher drains THEN the message is filed (recorded, ignored or quarantined with a
    reason), not lost, and the watcher goes on (bench/hostile_bench.py times each)."""
    desk.deliver(hostile_mail.HOSTILE[shape]())
    report = desk.drain()
    assert report.filed["done"] + report.filed["ignored"] + report.filed["quarantined"] == 1
    assert all(row.state != "quarantined" or row.reason for row in desk.ledger_rows())


def test_the_limits_scan_is_one_pass_and_finds_nothing_in_ordinary_mail():
    """GIVEN an ordinary stage summary WHEN scanned THEN no limit is reported."""
    assert over_limit(hostile_mail.FOLLOW_UP(1, "escalated"), InboundLimits()) is None


def test_a_display_name_of_40000_characters_is_kept_short(desk):
    """GIVEN a stage summary whose From display name is one 40,000-character word WHEN the watcher files it
    THEN the case opens, and the party's name and the name the acknowledgement will greet are cut to 200
    characters with an ellipsis (the case file's limit; the layout of the whole took minutes)."""
    desk.deliver(hostile_mail.HOSTILE["40,000-character display name"]())
    assert desk.drain().filed["done"] == 1
    from resdesk.cases.models import Event, Party

    with desk.store.transaction() as tx:
        names = [p.name for p in tx.session.query(Party)]
        greeted = [e.detail["sender_name"] for e in tx.session.query(Event) if e.kind == "message-recorded"]
    assert [len(n) for n in names + greeted] == [200, 200] and names[0].endswith("\u2026")
