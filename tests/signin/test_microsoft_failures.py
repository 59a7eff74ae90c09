"""Each known Microsoft 365 sign-in failure, met for real on loopback, gives its own one-sentence fix."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from resdesk.errors import SignInError
from resdesk.intake.sources import connect_source
from resdesk.outbox.smtp import SmtpSender
from resdesk.wiring import build_intake, tick
from tests.intake.mail import summary
from tests.signin.configs import microsoft_mailbox, settings_with


def _sign_in_error(settings) -> SignInError:
    with pytest.raises(SignInError) as caught:
        connect_source(settings.mailbox).close()
    return caught.value


def test_a_wrong_client_secret_names_the_secret_to_copy(tenant, identity, oauth_dovecot, oauth_smtp, tmp_path):
    """GIVEN a client secret that is not the app's WHEN the mailbox connects THEN Entra's AADSTS7000215
    becomes one sentence telling to copy the secret's Value into RESDESK_MAILBOX__CLIENT_SECRET."""
    mailbox = microsoft_mailbox(tenant, identity, oauth_dovecot, client_secret="the-secret-id-not-its-value")
    error = _sign_in_error(settings_with(tmp_path, mailbox, oauth_smtp))
    assert error.code == "AADSTS7000215"
    assert str(error) == (
        f"The client secret for application {tenant.app.client_id} is wrong: copy the secret's Value (not its Secret ID) "
        "from the app registration's Certificates & secrets into RESDESK_MAILBOX__CLIENT_SECRET."
    )


def test_an_unknown_client_id_names_the_application_id_to_use(tenant, identity, oauth_dovecot, oauth_smtp, tmp_path):
    """GIVEN a client_id the tenant has no application for (an object ID, say) WHEN the mailbox connects
    THEN AADSTS700016 becomes a sentence naming [mailbox] client_id and the Application (client) ID."""
    object_id = str(uuid.uuid4())
    error = _sign_in_error(settings_with(tmp_path, microsoft_mailbox(tenant, identity, oauth_dovecot, client_id=object_id), oauth_smtp))
    assert error.code == "AADSTS700016"
    assert f"Tenant {tenant.id} has no application {object_id}: set [mailbox] client_id to the app registration's " \
           "Application (client) ID (not the Enterprise Application's object ID)" in str(error)


def test_an_unknown_tenant_names_the_tenant_id_setting(tenant, identity, oauth_dovecot, oauth_smtp, tmp_path):
    """GIVEN a tenant_id no tenant has WHEN the mailbox connects THEN msal's OpenID discovery meets
    AADSTS90002 and the sentence names [mailbox] tenant_id."""
    wrong = str(uuid.uuid4())
    error = _sign_in_error(settings_with(tmp_path, microsoft_mailbox(tenant, identity, oauth_dovecot, tenant_id=wrong), oauth_smtp))
    assert error.code == "AADSTS90002"
    assert str(error) == (
        f"There is no Microsoft 365 tenant {wrong}: set [mailbox] tenant_id to the Directory (tenant) ID shown on the "
        "app registration's Overview."
    )


def test_missing_admin_consent_says_to_grant_it(identity, oauth_dovecot, oauth_smtp, tmp_path, tenant):
    """GIVEN an app registration nobody has consented to WHEN the mailbox connects THEN AADSTS65001
    becomes a sentence telling an administrator to grant admin consent."""
    unconsented = identity.register_app(tenant.id, tenant.mailbox.username, secret="s", consented=False)
    mailbox = microsoft_mailbox(tenant, identity, oauth_dovecot, client_id=unconsented.client_id, client_secret="s")
    error = _sign_in_error(settings_with(tmp_path, mailbox, oauth_smtp))
    assert error.code == "AADSTS65001"
    assert "has no admin consent: an administrator must open the app registration's API permissions and choose " \
           "Grant admin consent" in str(error)


def test_an_expired_certificate_says_to_upload_a_new_one(identity, oauth_dovecot, oauth_smtp, test_authority, tenant, tmp_path):
    """GIVEN an app registration whose only certificate expired a month ago WHEN the mailbox connects with it
    THEN AADSTS700027 (the key used is expired) becomes a sentence to make and upload a new certificate."""
    expired = test_authority.client_certificate(f"expired-{tenant.id[:8]}", expired=True)
    app = identity.register_app(tenant.id, tenant.mailbox.username, certificate=expired)
    mailbox = microsoft_mailbox(tenant, identity, oauth_dovecot, client_id=app.client_id, client_secret=None,
                                client_certificate=str(expired.pem_file), client_certificate_thumbprint=expired.thumbprint)
    error = _sign_in_error(settings_with(tmp_path, mailbox, oauth_smtp))
    assert error.code == "AADSTS700027"
    assert f"for application {app.client_id} has expired: make a new one, upload it" in str(error)


def test_a_valid_token_refused_by_imap_names_the_service_principal_and_mailbox_permission(
    identity, oauth_dovecot, oauth_smtp, tenant, tmp_path
):
    """GIVEN a token the sign-in service issues gladly, for an application with no FullAccess on the mailbox
    WHEN IMAP AUTHENTICATE fails THEN the sentence names New-ServicePrincipal and Add-MailboxPermission."""
    elsewhere = oauth_dovecot.new_user()
    app = identity.register_app(tenant.id, elsewhere.username, secret="s")  # permission on another mailbox only
    mailbox = microsoft_mailbox(tenant, identity, oauth_dovecot, client_id=app.client_id, client_secret="s")
    error = _sign_in_error(settings_with(tmp_path, mailbox, oauth_smtp))
    assert "refused the microsoft token for " + tenant.mailbox.username in str(error)
    assert "although sign-in succeeded: register the application's service principal in Exchange Online " \
           "(New-ServicePrincipal" in str(error)
    assert f"FullAccess on {tenant.mailbox.username} (Add-MailboxPermission)" in str(error)


def test_authenticated_but_not_connected_names_the_mailbox_and_full_access(identity, oauth_dovecot, oauth_smtp, tenant, tmp_path):
    """GIVEN a server that accepts the token and then says "User is authenticated but not connected"
    (Exchange's words when the mailbox is wrong or FullAccess is missing) WHEN the mailbox connects
    THEN the sentence says to check [mailbox] username and FullAccess."""
    oauth_dovecot.refuse_connection_after_login(tenant.mailbox)
    error = _sign_in_error(settings_with(tmp_path, microsoft_mailbox(tenant, identity, oauth_dovecot), oauth_smtp))
    assert str(error) == (
        f"The IMAP server signed the application in but did not connect it to {tenant.mailbox.username} "
        "(\"User is authenticated but not connected\"): check [mailbox] username is the shared mailbox's address "
        "and that the application's service principal has FullAccess on it (Add-MailboxPermission)."
    )


def test_smtp_auth_disabled_names_set_casmailbox_and_the_message_waits(identity, oauth_dovecot, oauth_smtp, tenant, tmp_path):
    """GIVEN SMTP AUTH turned off for the shared mailbox (Exchange answers 535 5.7.139) WHEN the tick sends
    THEN the acknowledgement is not lost but waits, with the sentence naming Set-CASMailbox; once SMTP AUTH
    is turned on the next tick sends it, once."""
    settings = settings_with(tmp_path, microsoft_mailbox(tenant, identity, oauth_dovecot), oauth_smtp)
    oauth_smtp.smtp_auth_disabled.add(tenant.mailbox.username)
    with pytest.raises(SignInError, match=r"^SMTP AUTH is turned off for .*: an Exchange administrator must run "
                                           r"Set-CASMailbox -Identity \S+ -SmtpClientAuthenticationDisabled \$false"):
        SmtpSender.from_settings(settings.smtp, settings.mailbox)._connect()
    oauth_dovecot.append(tenant.mailbox, summary(1, "escalated"))
    intake = build_intake(settings)
    try:
        intake.watcher.run(once=True)
        first = tick(intake, datetime.now(timezone.utc))
        oauth_smtp.smtp_auth_disabled.clear()
        second = tick(intake, datetime.now(timezone.utc) + timedelta(hours=1))
    finally:
        intake.close()
    assert first.sent == [] and "Set-CASMailbox" in first.deferred[0]["error"]
    assert [row["kind"] for row in second.sent] == ["acknowledgement"]
    assert len(oauth_smtp.messages) == 1


def test_a_valid_token_refused_by_smtp_names_sendas(identity, oauth_dovecot, oauth_smtp, tenant, tmp_path):
    """GIVEN an application whose token names another mailbox WHEN SMTP AUTH XOAUTH2 is refused (535 5.7.3)
    THEN the sentence names the service principal, FullAccess and the SMTP.SendAsApp permission."""
    elsewhere = oauth_dovecot.new_user()
    app = identity.register_app(tenant.id, elsewhere.username, secret="s")
    settings = settings_with(tmp_path, microsoft_mailbox(tenant, identity, oauth_dovecot), oauth_smtp,
                             client_id=app.client_id, client_secret="s")
    with pytest.raises(SignInError, match=r"The SMTP server .* refused the microsoft token for .* \(535 5\.7\.3 "
                                           r"Authentication unsuccessful\) although sign-in succeeded: .*New-ServicePrincipal.*"
                                           r"\(Add-MailboxPermission\), and check the app has SMTP.SendAsApp"):
        SmtpSender.from_settings(settings.smtp, settings.mailbox)._connect()
