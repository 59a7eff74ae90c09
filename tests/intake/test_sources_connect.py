"""Opening the configured mail source, and the package's public surface."""

from __future__ import annotations

import pytest

from resdesk import intake
from resdesk.intake import sources as _sources  # noqa: F401  (loads intake.sources)
from resdesk.intake.sources import ImapSource, MaildirSource, MailSource, connect_source
from resdesk.errors import UsageError
from resdesk.settings import load_settings


@pytest.fixture(autouse=True)
def _no_settings_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # settings come from the environment given, not a resdesk.toml nearby


def test_maildir_kind_opens_the_configured_maildir(tmp_path):
    """GIVEN [mailbox] kind = maildir with a path
    WHEN the source is opened
    THEN it is a Maildir source on that path, created empty and ready to read."""
    settings = load_settings(environ={"RESDESK_MAILBOX__KIND": "maildir",
                                      "RESDESK_MAILBOX__PATH": str(tmp_path / "inbox")})
    source = connect_source(settings.mailbox)
    assert isinstance(source, MaildirSource) and isinstance(source, MailSource)
    assert source.snapshot()[1] == []
    assert (tmp_path / "inbox" / "new").is_dir()


def test_imap_kind_connects_to_the_configured_server(dovecot, mail_user):
    """GIVEN [mailbox] kind = imap, STARTTLS, the server's CA file and the password in the environment
    WHEN the source is opened
    THEN it is logged in to that server and reads the inbox with IDLE on."""
    uid = dovecot.append(mail_user, b"Subject: Stage 1 Summary\r\n\r\nOutcome: resolved\r\n")
    environ = dovecot.mailbox_environment(mail_user, security="starttls")
    settings = load_settings(environ={**environ, "RESDESK_MAILBOX__IDLE_SECONDS": "120"})
    source = connect_source(settings.mailbox)
    try:
        assert isinstance(source, ImapSource) and source.can_idle and source.idle_seconds == 120
        assert source.snapshot()[1] == [str(uid)]
        assert source.account == f"imap://{mail_user.username}@127.0.0.1"
    finally:
        source.close()


def test_imap_without_a_password_is_a_usage_error():
    """GIVEN kind = imap and no RESDESK_MAILBOX__PASSWORD WHEN the source is opened
    THEN a usage error names the variable to set."""
    settings = load_settings(environ={"RESDESK_MAILBOX__KIND": "imap"})
    with pytest.raises(UsageError, match="RESDESK_MAILBOX__PASSWORD"):
        connect_source(settings.mailbox)


def test_public_surface_is_what_all_names():
    """GIVEN intake.sources.__all__ WHEN each name is looked up THEN each exists."""
    assert all(hasattr(intake.sources, name) for name in intake.sources.__all__)
    assert {"MailSource", "MessageRef", "FetchedMessage", "connect_source"} <= set(intake.sources.__all__)
