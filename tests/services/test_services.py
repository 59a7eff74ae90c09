"""The real-server fixtures themselves behave as the other tests rely on."""

from __future__ import annotations

import smtplib

import pytest
from imapclient import IMAPClient


def test_dovecot_offers_what_the_mail_source_needs(dovecot, mail_user):
    """GIVEN the session's Dovecot WHEN a fresh user logs in over TLS
    THEN the server offers IDLE, MOVE and UIDPLUS and the user's inbox is empty."""
    with IMAPClient("127.0.0.1", port=dovecot.ssl_port, ssl=True, ssl_context=dovecot.ssl_context()) as client:
        client.login(mail_user.username, mail_user.password)
        assert {b"IDLE", b"MOVE", b"UIDPLUS"} <= set(client.capabilities())
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


def test_smtp_server_keeps_envelopes_and_refuses_on_request(smtp_server):
    """GIVEN the loopback SMTP server told to fail the next message
    WHEN two messages are sent
    THEN the first is refused with 451 and only the second is kept, with its envelope."""
    smtp_server.fail_next(1)
    with smtplib.SMTP(smtp_server.host, smtp_server.port) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("escalations@partnership.example", ["a@agency.example"], b"Subject: one\r\n\r\n1\r\n")
        client.sendmail("escalations@partnership.example", ["b@agency.example"], b"Subject: two\r\n\r\n2\r\n")
    assert refused.value.smtp_code == 451
    [kept] = smtp_server.wait_for(1)
    assert (kept.mail_from, kept.rcpt_tos) == ("escalations@partnership.example", ("b@agency.example",))
    assert b"Subject: two" in kept.raw
    assert smtp_server.refused == 1


def test_append_many_delivers_a_backlog_in_order(dovecot, mail_user):
    """GIVEN fifty messages WHEN they are appended over one connection
    THEN the inbox holds fifty messages with ascending UIDs."""
    uids = dovecot.append_many(mail_user, [f"Subject: {n}\r\n\r\n{n}\r\n".encode() for n in range(50)])
    assert uids == sorted(uids) and len(set(uids)) == 50
    assert sorted(dovecot.folder_uids(mail_user, "INBOX")) == uids
