"""Microsoft 365 app-only sign-in end to end: msal against a loopback Entra ID, XOAUTH2 into a real
Dovecot and a real SMTP server, with a client secret and with a certificate."""

from __future__ import annotations

import email
import time
from datetime import datetime, timezone
from email import policy

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from sqlalchemy import func, select

from resdesk.cases.models import Event, Message
from resdesk.wiring import build_intake, tick
from tests.intake.mail import newsletter, summary
from tests.services.dovecot import HOST
from tests.signin.configs import microsoft_mailbox, settings_with


def _recorded(intake) -> int:
    with intake.store.transaction() as tx:
        return tx.session.execute(select(func.count()).select_from(Event).where(Event.kind == "message-recorded")).scalar()


def _ledger(intake) -> dict[str, int]:
    with intake.store.transaction() as tx:
        return dict(tx.session.execute(select(Message.state, func.count()).group_by(Message.state)).all())


@pytest.mark.parametrize("credential", ["secret", "certificate"])
def test_watcher_drains_and_tick_sends_with_microsoft_sign_in(
    credential, request, identity, oauth_dovecot, oauth_smtp, tmp_path
):
    """GIVEN a shared mailbox whose app registration signs in with a client secret (or a certificate),
    a stage summary and a newsletter in its inbox, and an SMTP server that takes only XOAUTH2
    WHEN the watcher drains and the tick runs THEN the summary is recorded and filed,
    the acknowledgement leaves through SMTP authenticated as the shared mailbox, and the IMAP and
    SMTP clients each asked the sign-in service for one token."""
    tenant = request.getfixturevalue("certificate_tenant" if credential == "certificate" else "tenant")
    oauth_dovecot.append(tenant.mailbox, summary(1, "escalated"))
    oauth_dovecot.append(tenant.mailbox, newsletter())
    before = identity.token_requests()
    settings = settings_with(
        tmp_path, microsoft_mailbox(tenant, identity, oauth_dovecot, certificate=credential == "certificate"), oauth_smtp
    )
    intake = build_intake(settings)
    try:
        intake.watcher.run(once=True)
        report = tick(intake, datetime.now(timezone.utc))
    finally:
        intake.close()
    assert _recorded(intake) == 1
    assert len(oauth_dovecot.folder_uids(tenant.mailbox, "Resdesk/Processed")) == 1
    assert report.failed == [] and len(report.sent) >= 1, [row.get("error") for row in report.deferred]
    sent = oauth_smtp.messages
    assert [m.rcpt_tos for m in sent if "dana.whitfield@police.example" in m.rcpt_tos]
    acknowledgement = email.message_from_bytes(sent[0].raw, policy=policy.default)
    assert acknowledgement["In-Reply-To"] == "<summary-1-1@police.example>"
    assert oauth_smtp.logins == [tenant.mailbox.username] * len(sent)
    assert identity.token_requests() - before == 2  # one per sign-in client: the mailbox's and SMTP's


def test_a_token_expiring_mid_run_is_renewed_and_nothing_is_lost_or_doubled(identity, oauth_dovecot, tenant, tmp_path, oauth_smtp):
    """GIVEN the sign-in service issuing tokens that last two seconds, and a watcher that has drained
    one summary WHEN the token expires, the server ends the session (as Exchange does) and a second
    summary arrives THEN the watcher signs in again with a new token, the second summary is recorded,
    and each summary is recorded exactly once; the expired token itself is refused by the server."""
    identity.token_seconds = 2
    try:
        settings = settings_with(tmp_path, microsoft_mailbox(tenant, identity, oauth_dovecot), oauth_smtp)
        oauth_dovecot.append(tenant.mailbox, summary(1, "escalated", n=1))
        intake = build_intake(settings)
        try:
            intake.watcher.run(once=True)
            requests_after_first = identity.token_requests()
            stale = identity.access_token(tenant.mailbox.username, seconds=1)
            time.sleep(2.5)  # every token issued so far has expired
            oauth_dovecot.kick(tenant.mailbox)
            oauth_dovecot.append(tenant.mailbox, summary(2, "escalated", n=2))
            intake.watcher.run(once=True)
            intake.watcher.run(once=True)  # nothing new: nothing recorded twice
        finally:
            intake.close()
    finally:
        identity.token_seconds = 3600
    assert intake.source.reconnects >= 1
    assert identity.token_requests() > requests_after_first
    assert _recorded(intake) == 2
    assert _ledger(intake) == {"done": 2}
    assert len(oauth_dovecot.folder_uids(tenant.mailbox, "Resdesk/Processed")) == 2
    with IMAPClient(HOST, port=oauth_dovecot.port, ssl=False, timeout=10) as client:
        with pytest.raises(LoginError):
            client.oauth2_login(tenant.mailbox.username, stale)
