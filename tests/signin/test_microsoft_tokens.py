"""msal's cache and refresh against the loopback Entra ID; where the settings come from."""

from __future__ import annotations

import pytest

from resdesk.errors import SignInError, UsageError
from resdesk.settings import load_settings
from resdesk.signin import smtp_sign_in, token_source
from resdesk.signin.microsoft import MicrosoftTokens


def _tokens(tenant, identity) -> MicrosoftTokens:
    return MicrosoftTokens(tenant.id, tenant.app.client_id, client_secret=tenant.secret, authority=identity.base_url,
                           ca_file=str(identity.authority.ca_file))


def test_a_token_is_reused_while_it_has_more_than_five_minutes_left(tenant, identity):
    """GIVEN tokens that last an hour WHEN a token is asked for three times THEN one request reaches the
    token endpoint; GIVEN tokens that last four minutes (inside msal's five-minute margin) THEN every
    request asks again, so no connection is ever opened with a token about to expire."""
    tokens = _tokens(tenant, identity)
    first = tokens.token()
    assert tokens.token() == first and tokens.token() == first
    assert tokens.requests_made == 1
    identity.token_seconds = 240
    try:
        short = _tokens(tenant, identity)
        assert short.token() != short.token()
    finally:
        identity.token_seconds = 3600
    assert short.requests_made == 2


def test_the_sign_in_service_is_trusted_only_through_the_named_authority(tenant, identity):
    """GIVEN the sign-in service's certificate from a private authority WHEN authority_ca_file is not set
    THEN the certificate is not trusted and the sentence names [mailbox] authority_ca_file."""
    tokens = MicrosoftTokens(tenant.id, tenant.app.client_id, client_secret=tenant.secret, authority=identity.base_url)
    with pytest.raises(SignInError, match=r"presented a certificate that is not trusted; set \[mailbox\] authority_ca_file"):
        tokens.token()


def test_a_client_secret_in_the_settings_file_is_refused(tmp_path):
    """GIVEN a client secret written in the settings file THEN loading is refused, naming the variable to use."""
    config = tmp_path / "resdesk.toml"
    config.write_text('[smtp]\nauth = "microsoft"\nclient_secret = "abc"\n')
    with pytest.raises(UsageError, match="RESDESK_SMTP__CLIENT_SECRET"):
        load_settings(config, environ={})


def test_smtp_takes_the_mailboxs_sign_in_keys_it_leaves_out(tmp_path):
    """GIVEN [mailbox] and [smtp] both microsoft, [smtp] naming only its own client_id WHEN the SMTP sign-in
    is resolved THEN tenant and secret come from [mailbox] (the secret from RESDESK_MAILBOX__CLIENT_SECRET);
    GIVEN [smtp] google THEN nothing is taken from a microsoft [mailbox]."""
    config = tmp_path / "resdesk.toml"
    config.write_text('[mailbox]\nauth = "microsoft"\ntenant_id = "t"\nclient_id = "a"\n'
                      '[smtp]\nauth = "microsoft"\nclient_id = "b"\n')
    settings = load_settings(config, environ={"RESDESK_MAILBOX__CLIENT_SECRET": "s"})
    resolved = smtp_sign_in(settings.smtp, settings.mailbox)
    assert (resolved.tenant_id, resolved.client_id, resolved.client_secret) == ("t", "b", "s")
    assert resolved.authority == "https://login.microsoftonline.com"
    settings.smtp.auth = "google"
    assert smtp_sign_in(settings.smtp, settings.mailbox).tenant_id is None


def test_microsoft_without_a_credential_names_both_ways_to_give_one(tmp_path):
    """GIVEN auth = "microsoft" with a tenant and client but neither secret nor certificate THEN the
    sentence names RESDESK_MAILBOX__CLIENT_SECRET and client_certificate, before any request."""
    config = tmp_path / "resdesk.toml"
    config.write_text('[mailbox]\nauth = "microsoft"\ntenant_id = "t"\nclient_id = "a"\n')
    settings = load_settings(config, environ={})
    with pytest.raises(SignInError, match=r"RESDESK_MAILBOX__CLIENT_SECRET in the environment\) or a certificate"):
        token_source(settings.mailbox, settings.mailbox.username)
