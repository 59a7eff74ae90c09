"""Google Workspace sign-in end to end: a service account's locally signed assertion exchanged at
the key file's token_uri (loopback), XOAUTH2 into a real Dovecot and a real SMTP server."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from resdesk.errors import SignInError
from resdesk.intake.sources import connect_source
from resdesk.signin.google import GoogleTokens
from resdesk.wiring import build_intake, tick
from tests.intake.mail import summary
from tests.signin.configs import settings_with


def google_mailbox(account, mailbox, identity, dovecot, **overrides) -> dict:
    return {
        "kind": "imap", "host": "127.0.0.1", "port": dovecot.port, "security": "none",
        "username": mailbox.username, "poll_seconds": 600, "auth": "google",
        "service_account_file": str(account.key_file), "authority_ca_file": str(identity.authority.ca_file),
        **overrides,
    }


@pytest.fixture
def workspace(identity, oauth_dovecot, tmp_path):
    """A shared mailbox in the Workspace and a service account allowed to act for it."""
    mailbox = oauth_dovecot.new_user()
    identity.workspace_users.add(mailbox.username)
    return mailbox, identity.service_account(tmp_path, delegated=True)


def test_watcher_drains_and_tick_sends_with_google_sign_in(workspace, identity, oauth_dovecot, oauth_smtp, tmp_path):
    """GIVEN a service account with domain-wide delegation whose key file names the loopback token_uri,
    and a stage summary in the shared mailbox WHEN the watcher drains and the tick runs THEN the summary
    is recorded and the acknowledgement is sent through SMTP authenticated with XOAUTH2 as the mailbox."""
    mailbox, account = workspace
    oauth_dovecot.append(mailbox, summary(1, "escalated"))
    settings = settings_with(tmp_path, google_mailbox(account, mailbox, identity, oauth_dovecot), oauth_smtp)
    intake = build_intake(settings)
    try:
        intake.watcher.run(once=True)
        report = tick(intake, datetime.now(timezone.utc))
    finally:
        intake.close()
    assert len(oauth_dovecot.folder_uids(mailbox, "Resdesk/Processed")) == 1
    assert [row["kind"] for row in report.sent] == ["acknowledgement"], [r.get("error") for r in report.deferred]
    assert oauth_smtp.logins == [mailbox.username]


def test_the_token_is_reused_until_close_to_expiry(workspace, identity):
    """GIVEN tokens that last an hour WHEN a token is asked for twice THEN one request reaches the token
    endpoint; GIVEN tokens that last two minutes (inside google-auth's refresh margin) THEN each asks again."""
    mailbox, account = workspace
    tokens = GoogleTokens(str(account.key_file), mailbox.username, ca_file=str(identity.authority.ca_file))
    assert tokens.token() == tokens.token()
    assert tokens.requests_made == 1
    identity.token_seconds = 120
    try:
        short = GoogleTokens(str(account.key_file), mailbox.username, ca_file=str(identity.authority.ca_file))
        short.token(), short.token()
    finally:
        identity.token_seconds = 3600
    assert short.requests_made == 2


def test_no_domain_wide_delegation_says_where_to_grant_it(identity, oauth_dovecot, oauth_smtp, tmp_path):
    """GIVEN a service account nobody allowed the Gmail scope WHEN the mailbox connects THEN
    Google's unauthorized_client becomes a sentence naming Admin console domain-wide delegation."""
    mailbox = oauth_dovecot.new_user()
    identity.workspace_users.add(mailbox.username)
    account = identity.service_account(tmp_path, delegated=False)
    settings = settings_with(tmp_path, google_mailbox(account, mailbox, identity, oauth_dovecot), oauth_smtp)
    with pytest.raises(SignInError) as caught:
        connect_source(settings.mailbox)
    assert caught.value.code == "unauthorized_client"
    assert str(caught.value) == (
        f"The service account {account.client_email} may not act for {mailbox.username}: an administrator must add "
        "its client ID with the scope https://mail.google.com/ under Admin console → Security → API controls → "
        "Domain-wide delegation."
    )


def test_a_mailbox_outside_the_workspace_names_the_username(workspace, identity, oauth_dovecot, oauth_smtp, tmp_path):
    """GIVEN a username that is no user of the Workspace WHEN the mailbox connects THEN Google's
    invalid_grant becomes a sentence naming [mailbox] username."""
    _, account = workspace
    stranger = oauth_dovecot.new_user()
    settings = settings_with(tmp_path, google_mailbox(account, stranger, identity, oauth_dovecot), oauth_smtp)
    with pytest.raises(SignInError, match=rf"^Google Workspace has no mailbox {stranger.username}: set \[mailbox\] username"):
        connect_source(settings.mailbox)


def test_an_unreadable_key_file_names_the_setting(identity, oauth_dovecot, oauth_smtp, tmp_path, workspace):
    """GIVEN a key file that is not a service account key WHEN the mailbox connects THEN the sentence
    names [mailbox] service_account_file; nothing reaches the network."""
    mailbox, _ = workspace
    broken = tmp_path / "key.json"
    broken.write_text(json.dumps({"type": "authorized_user"}))
    before = identity.token_requests()
    settings = settings_with(tmp_path, google_mailbox(type("A", (), {"key_file": broken}), mailbox, identity, oauth_dovecot),
                             oauth_smtp)
    with pytest.raises(SignInError, match=r"\[mailbox\] service_account_file\) cannot be used"):
        connect_source(settings.mailbox)
    assert identity.token_requests() == before
