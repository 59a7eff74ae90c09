"""A received message is parsed once: each header value decoded once, its Date read in the same pass."""

from __future__ import annotations

from datetime import datetime, timezone
from email import message_from_bytes, policy

import pytest

from resdesk.intake.headers import reading_policy
from resdesk.intake.message import parse_message
from resdesk.intake.reading import message_time

RECEIVED = datetime(2026, 12, 14, 12, 0, tzinfo=timezone.utc)

_MULTIPART = (
    b"From: =?utf-8?q?J=C3=B6_Bloggs?= <jo@school.example>\r\nTo: inbox@partnership.example\r\n"
    b"Subject: Escalation & Resolution Protocol: Stage 2 Summary\r\nMessage-ID: <m1@school.example>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n"
    b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOutcome: resolved\r\n"
    b"--B\r\nContent-Type: application/pdf; name=\"notice.pdf\"\r\n"
    b"Content-Disposition: attachment; filename=\"notice.pdf\"\r\n\r\n%PDF-1.4\r\n--B--\r\n"
)


def test_each_header_is_parsed_once_and_reads_as_the_default_policy_reads_it():
    """GIVEN a multipart message parsed with the reading policy
    WHEN its headers and its parts' headers are read again and again
    THEN each read gives the one object parsed the first time, and every value, parameter and
    address is what the email package's default policy gives."""
    once = message_from_bytes(_MULTIPART, policy=reading_policy())
    plain = message_from_bytes(_MULTIPART, policy=policy.default)
    assert once["Content-Type"] is once["Content-Type"]
    assert once["From"] is once.get("from")
    for ours, theirs in zip(once.walk(), plain.walk(), strict=True):
        assert ours.get_content_type() == theirs.get_content_type()
        assert ours.get_filename() == theirs.get_filename()
        for name in ours.keys():
            assert str(ours[name]) == str(theirs[name])
            assert ours[name].defects == theirs[name].defects
    assert once["From"].addresses == plain["From"].addresses
    assert once["Content-Type"].params == plain["Content-Type"].params


@pytest.mark.parametrize(
    "date_lines",
    [
        b"Date: Mon, 14 Dec 2026 10:00:00 +0000\r\n",
        b"Date: Mon, 14 Dec 2026 10:00:00 -0500\r\n",
        b"Date: Mon,\r\n 14 Dec 2026 09:30:00 +0100\r\n",  # folded
        b"Date: 14 Dec 2026 10:00:00\r\n",  # no zone: the time received is used
        b"Date: Mon, 14 Dec 2026 10:00:00 -0000\r\n",  # zone unknown (RFC 5322 section 3.3)
        b"Date: Tue, 22 Dec 2026 10:00:00 +0000\r\n",  # more than a day ahead of its arrival
        b"Date: yesterday, about teatime\r\n",
        b"Date: \r\n",
        b"Date: Mon, 14 D\xe9c 2026 10:00:00 +0000\r\n",  # 8-bit bytes
        b"Date: Sun, 13 Dec 2026 08:00:00 +0000\r\nDate: Mon, 14 Dec 2026 10:00:00 +0000\r\n",
        b"",
    ],
)
def test_the_time_read_with_the_message_is_the_time_read_from_its_bytes(date_lines):
    """GIVEN a message with a good, folded, zoneless, future, unreadable, empty, 8-bit, repeated or no Date
    WHEN its time is taken from the message as parsed once, and from its bytes
    THEN both give the same local time (the Date, or the time received when the Date cannot be used)."""
    raw = date_lines + b"From: jo@school.example\r\nSubject: Stage 2 Summary\r\n\r\nOutcome: resolved\r\n"
    assert message_time(parse_message(raw), RECEIVED) == message_time(raw, RECEIVED)
