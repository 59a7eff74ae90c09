"""Hostile inbound mail of the shapes that once stopped the watcher for minutes (the limits tests
and bench/hostile_bench.py use the same builders)."""

from __future__ import annotations

from pathlib import Path

from tests.intake.mail import summary

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "forms"

HEAD = (
    b"From: Dana Whitfield <dana.whitfield@police.example>\r\nTo: escalations@partnership.example\r\n"
    b"Date: Mon, 14 Dec 2026 10:00:00 +0000\r\nMessage-ID: <hostile-%d@police.example>\r\n"
)


def _message(n: int, headers: bytes, body: bytes, subject: bytes = b"Escalation & Resolution Protocol: Stage 1 Summary") -> bytes:
    return HEAD % n + b"Subject: " + subject + b"\r\n" + headers + b"\r\n" + body


def many_addresses(n: int = 1, count: int = 100_000) -> bytes:
    to = b", ".join(b"person%d@agency.example" % i for i in range(count))
    return _message(n, b"Cc: " + to + b"\r\n", b"Outcome: escalated\r\n")


def many_encoded_words(n: int = 2, count: int = 10_000) -> bytes:
    words = b" ".join(b"=?utf-8?q?Stage_1?=" for _ in range(count))
    return _message(n, b"", b"Outcome: escalated\r\n", subject=words)


def long_line(n: int = 3, size: int = 200_000) -> bytes:
    return _message(n, b"", b"Outcome: " + b"x" * size + b"\r\n")


def long_word_subject(n: int = 4, size: int = 40_000) -> bytes:
    return _message(n, b"", b"Outcome: escalated\r\n", subject=b"Escalation & Resolution Protocol: Stage 1 Summary " + b"W" * size)


def big_header(n: int = 5, size: int = 300_000) -> bytes:
    lines = b"".join(b"X-Trace-%d: %s\r\n" % (i, b"t" * 80) for i in range(size // 90))
    return _message(n, lines, b"Outcome: escalated\r\n")


def many_parts(n: int = 6, count: int = 300) -> bytes:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(count))
    return _message(n, b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n', parts + b"--b--\r\n")


def many_attachments(n: int = 7, count: int = 50) -> bytes:
    parts = b"--b\r\nContent-Type: text/plain\r\n\r\nOutcome: escalated\r\n" + b"".join(
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f%d.bin\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n" % i for i in range(count)
    )
    return _message(n, b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n', parts + b"--b--\r\n")


def blank_lines(n: int = 8, size: int = 25_000) -> bytes:
    return _message(n, b"", b"Outcome: escalated\r\n" + b"\r\n" * size)


def long_outcome_line(n: int = 9, size: int = 80_000) -> bytes:
    return _message(n, b"", b"Outcome: " + b"resolved " * (size // 9) + b"\r\n")


def long_form_field(n: int = 10, size: int = 30_000) -> bytes:
    form = (SAMPLES / "resolution-notice" / "email.txt").read_text()
    body = form.replace("Summary of Discussion: ", "Summary of Discussion: " + " ".join(["discussed"] * (size // 10)))
    return _message(n, b"", body.replace("\n", "\r\n").encode(), subject=b"Resolution Notice")


def big_to_header(n: int = 11, count: int = 100_000) -> bytes:
    """A 2.2 MB To header of 100,000 addresses (the message's own To replaced)."""
    to = b", ".join(b"person%06d@agency.example" % i for i in range(count))
    return _message(n, b"", b"Outcome: escalated\r\n").replace(b"To: escalations@partnership.example", b"To: " + to, 1)


def megabyte_form_field(n: int = 12) -> bytes:
    return long_form_field(n, 1_000_000)


def long_display_name(n: int = 13, size: int = 40_000) -> bytes:
    """A From display name of one 40,000-character word with no @ (once quadratic to search)."""
    return _message(n, b"", b"Outcome: escalated\r\n").replace(b"From: Dana Whitfield", b"From: " + b"D" * size, 1)


def many_reply_prefixes(n: int = 14, count: int = 20_000) -> bytes:
    return _message(n, b"", b"Outcome: escalated\r\n", subject=b"RE: " * count + b"Escalation & Resolution Protocol: Stage 1 Summary")


def dotted_outcome_line(n: int = 15, size: int = 40_000) -> bytes:
    """An Outcome line of 40,000 " ." pairs and a last word (once quadratic to read)."""
    return _message(n, b"", b"Outcome: " + b" ." * size + b" x\r\n")


def dotted_address(n: int = 16, size: int = 60_000) -> bytes:
    """A malformed Cc whose one address has a domain of 60,000 dots (once quadratic to read loosely)."""
    return _message(n, b"Cc: Ann <ann@" + b"b." * size + b" x>, <<\r\n", b"Outcome: escalated\r\n")


def alternating_reply_lines(n: int = 17, count: int = 20_000) -> bytes:
    """A reply of 20,000 blank-looking and short lines (slow for the reply parser)."""
    body = b"Outcome: escalated\r\n" + b" \r\n x\r\n" * count
    return _message(n, b"In-Reply-To: <earlier@police.example>\r\n", body,
                    subject=b"RE: Escalation & Resolution Protocol: Stage 1 Summary")


HOSTILE = {
    "100,000 addresses in Cc": many_addresses,
    "5,000 addresses in Cc": lambda: many_addresses(11, 5_000),
    "10,000 encoded words in Subject": many_encoded_words,
    "200,000-character line": long_line,
    "40,000-character word in Subject": long_word_subject,
    "300 KB header section": big_header,
    "300 MIME parts": many_parts,
    "50 attachments": many_attachments,
    "25,000 blank lines": blank_lines,
    "80 KB Outcome line": long_outcome_line,
    "30,000-character form field": long_form_field,
    "2.2 MB To header (100,000 addresses)": big_to_header,
    "1 MB form field": megabyte_form_field,
    "40,000-character display name": long_display_name,
    "20,000 RE: prefixes in Subject": many_reply_prefixes,
    "Outcome line of 40,000 dots": dotted_outcome_line,
    "address with 60,000 dots in Cc": dotted_address,
    "reply of 40,000 short lines": alternating_reply_lines,
}

FOLLOW_UP = summary  # a normal summary, to show the watcher moved on
