"""``resdesk check``: one PASS or FAIL line per set-up step, exit 0 only when all pass."""

from __future__ import annotations

import email
from email import policy

from resdesk.cli import main


def _config(tmp_path, tenant, identity, dovecot, smtp_server) -> str:
    path = tmp_path / "resdesk.toml"
    path.write_text(f"""
[mailbox]
kind = "imap"
host = "127.0.0.1"
port = {dovecot.port}
security = "none"
username = "{tenant.mailbox.username}"
auth = "microsoft"
tenant_id = "{tenant.id}"
client_id = "{tenant.app.client_id}"
authority = "{identity.base_url}"
authority_ca_file = "{identity.authority.ca_file}"

[smtp]
host = "{smtp_server.host}"
port = {smtp_server.port}
security = "none"
auth = "microsoft"
sender = "Escalations <{tenant.mailbox.username}>"

[storage]
database = "sqlite:///{tmp_path / 'resdesk.sqlite3'}"
archive = "{tmp_path / 'archive'}"
""", encoding="utf-8")
    return str(path)


def test_check_passes_every_step_and_sends_the_test_message(tenant, identity, oauth_dovecot, oauth_smtp, tmp_path,
                                                            monkeypatch, capsys):
    """GIVEN a Microsoft 365 set-up that works (secret in RESDESK_MAILBOX__CLIENT_SECRET, SMTP taking the
    mailbox's keys) WHEN `resdesk check --send-test` runs THEN every step passes, the filing folders now
    exist, one test message reaches the address given, and the exit status is 0."""
    monkeypatch.setenv("RESDESK_MAILBOX__CLIENT_SECRET", tenant.secret)
    status = main(["check", "--config", _config(tmp_path, tenant, identity, oauth_dovecot, oauth_smtp),
                   "--send-test", "it.support@council.example"])
    out = capsys.readouterr().out
    assert status == 0, out
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "PASS  settings", "PASS  mailbox sign-in", "PASS  watched folder", "PASS  filing folders", "PASS  SMTP",
        "PASS  test message",
    ]
    assert lines[-1] == "All checks passed."
    assert f"accepted XOAUTH2 as {tenant.mailbox.username}" in out
    with oauth_dovecot.client(tenant.mailbox) as client:
        assert client.folder_exists("Resdesk/Processed") and client.folder_exists("Resdesk/Quarantine")
    [sent] = oauth_smtp.messages
    assert sent.rcpt_tos == ("it.support@council.example",)
    message = email.message_from_bytes(sent.raw, policy=policy.default)
    assert message["Subject"] == "Resolution Desk set-up check" and message["Auto-Submitted"] == "auto-generated"


def test_check_fails_on_a_wrong_secret_and_says_what_to_do(tenant, identity, oauth_dovecot, oauth_smtp, tmp_path,
                                                           monkeypatch, capsys):
    """GIVEN a wrong client secret WHEN `resdesk check` runs THEN the sign-in step fails with the sentence
    naming RESDESK_MAILBOX__CLIENT_SECRET, the steps that need it are skipped, SMTP fails the same way,
    and the exit status is 1."""
    monkeypatch.setenv("RESDESK_MAILBOX__CLIENT_SECRET", "wrong")
    status = main(["check", "--config", _config(tmp_path, tenant, identity, oauth_dovecot, oauth_smtp)])
    out = capsys.readouterr().out
    assert status == 1
    lines = out.splitlines()
    assert lines[1].startswith(f"FAIL  mailbox sign-in: The client secret for application {tenant.app.client_id} is wrong")
    assert lines[2] == "SKIP  watched folder: needs the mailbox sign-in"
    assert lines[4].startswith("FAIL  SMTP: The client secret") and "RESDESK_MAILBOX__CLIENT_SECRET" in lines[1]
    assert lines[-1] == "2 check(s) failed; fix the first one and run again."
    assert oauth_smtp.messages == []


def test_check_fails_when_smtp_auth_is_off_for_the_mailbox(tenant, identity, oauth_dovecot, oauth_smtp, tmp_path,
                                                           monkeypatch, capsys):
    """GIVEN a mailbox that signs in but has SMTP AUTH turned off WHEN `resdesk check --send-test` runs THEN the
    mailbox steps pass, SMTP fails naming Set-CASMailbox, the test message is skipped, and the exit status is 1."""
    monkeypatch.setenv("RESDESK_MAILBOX__CLIENT_SECRET", tenant.secret)
    oauth_smtp.smtp_auth_disabled.add(tenant.mailbox.username)
    status = main(["check", "--config", _config(tmp_path, tenant, identity, oauth_dovecot, oauth_smtp),
                   "--send-test", "it.support@council.example"])
    out = capsys.readouterr().out
    assert status == 1
    assert "PASS  watched folder" in out
    assert f"FAIL  SMTP: SMTP AUTH is turned off for {tenant.mailbox.username}: an Exchange administrator must run " \
           f"Set-CASMailbox -Identity {tenant.mailbox.username} -SmtpClientAuthenticationDisabled $false" in out
    assert "SKIP  test message: needs SMTP" in out


def test_check_fails_on_unreadable_settings(tmp_path, capsys):
    """GIVEN a settings file with a client secret written in it WHEN `resdesk check` runs THEN the settings step
    fails naming the environment variable, and the exit status is 2."""
    config = tmp_path / "resdesk.toml"
    config.write_text('[mailbox]\nauth = "microsoft"\nclient_secret = "abc"\n')
    status = main(["check", "--config", str(config)])
    out = capsys.readouterr().out
    assert status == 2
    assert out.startswith("FAIL  settings: The settings file") and "RESDESK_MAILBOX__CLIENT_SECRET" in out
