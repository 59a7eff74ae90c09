"""Settings: one TOML file, environment overrides, secrets only from the environment, all documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from resdesk.errors import UsageError
from resdesk.settings import SECTIONS, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_documents_every_setting():
    """GIVEN the settings model THEN the README's configuration table lists every key, and no key that is gone."""
    text = README.read_text(encoding="utf-8")
    documented = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `") and "." in line.split("`")[1]}
    actual = {f"{section}.{key}" for section, model in SECTIONS.items() for key in model.model_fields}
    assert actual - documented == set(), "settings missing from the README"
    assert documented - actual == set(), "the README documents settings that do not exist"


def test_file_then_environment(tmp_path):
    """GIVEN a settings file and an environment override THEN the environment wins; a list is written
    comma-separated or in JSON, and an empty value is an empty list."""
    config = tmp_path / "resdesk.toml"
    config.write_text('[partnership]\nprotocol = "sandwell"\n[mailbox]\nkind = "imap"\nport = 143\n')
    settings = load_settings(config, environ={"RESDESK_MAILBOX__PORT": "1993", "RESDESK_PARTNERSHIP__ALLOWED_SENDER_DOMAINS": "a.example, b.example"})
    assert settings.partnership.protocol == "sandwell"
    assert settings.mailbox.kind == "imap"
    assert settings.mailbox.port == 1993
    assert settings.partnership.allowed_sender_domains == ["a.example", "b.example"]
    as_json = load_settings(config, environ={"RESDESK_PARTNERSHIP__ALLOWED_SENDER_DOMAINS": '["c.example"]'})
    assert as_json.partnership.allowed_sender_domains == ["c.example"]
    emptied = load_settings(config, environ={"RESDESK_PARTNERSHIP__ALLOWED_SENDER_DOMAINS": ""})
    assert emptied.partnership.allowed_sender_domains == []


def test_password_in_file_is_refused(tmp_path):
    """GIVEN a password written in the settings file THEN loading is refused, naming the variable to use."""
    config = tmp_path / "resdesk.toml"
    config.write_text('[mailbox]\npassword = "hunter2"\n')
    with pytest.raises(UsageError, match="RESDESK_MAILBOX__PASSWORD"):
        load_settings(config, environ={})
    assert load_settings(None, environ={"RESDESK_MAILBOX__PASSWORD": "s3cret"}).mailbox.password == "s3cret"


@pytest.mark.parametrize(
    "content, environ, message",
    [
        ('[mailbox]\nport = "many"\n', {}, "Setting mailbox.port is invalid"),
        ('[mailbox\n', {}, "is not valid TOML"),
        ('[mailbox]\ncolour = "blue"\n', {}, "Setting mailbox.colour is invalid"),
        ("", {"RESDESK_MAILBOX__COLOUR": "blue"}, "RESDESK_MAILBOX__COLOUR names no setting"),
        ('[partnership]\nextra_closure_days = ["24/12/2026"]\n', {}, "Setting partnership.extra_closure_days.0 is invalid"),
    ],
)
def test_bad_settings_are_one_clear_sentence(tmp_path, content, environ, message):
    """GIVEN a bad setting THEN the error names it."""
    config = tmp_path / "resdesk.toml"
    config.write_text(content)
    with pytest.raises(UsageError, match=message):
        load_settings(config, environ=environ)


def test_missing_explicit_file_is_an_error(tmp_path):
    """GIVEN --config naming a file that does not exist THEN the error says so."""
    with pytest.raises(UsageError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    "content, environ, key",
    [
        ('[partnership]\nbusiness_unit = "business unit"\n', {}, "partnership.business_unit"),
        ('[partnership]\nbusiness_unit = "oscp@@oldham.example"\n', {}, "partnership.business_unit"),
        ("", {"RESDESK_PARTNERSHIP__BUSINESS_UNIT": "oscp.group@oldham"}, "partnership.business_unit"),
        ('[partnership]\nbusiness_unit = "a@x.example, b@x.example"\n', {}, "partnership.business_unit"),
        ('[smtp]\nsender = "Escalations <escalations@>"\n', {}, "smtp.sender"),
        ('[smtp]\nsender = "A <a@x.example>, B <b@x.example>"\n', {}, "smtp.sender"),
        ('[partnership]\nallowed_sender_domains = ["nhs net"]\n', {}, "partnership.allowed_sender_domains"),
    ],
)
def test_an_unusable_address_stops_the_settings_loading(tmp_path, content, environ, key):
    """GIVEN a business-unit address, sender or agency domain that mail could never go to or come from
    WHEN the settings load THEN they are refused naming the setting, instead of every reminder and
    overdue alert being dropped later without a word."""
    config = tmp_path / "resdesk.toml"
    config.write_text(content)
    with pytest.raises(UsageError, match=f"Setting {key}"):
        load_settings(config, environ=environ)


def test_usable_addresses_and_the_limits_load_with_their_defaults(tmp_path):
    """GIVEN ordinary addresses (the sender with a display name) WHEN the settings load THEN they are kept
    as written, and every limit has a positive default."""
    config = tmp_path / "resdesk.toml"
    config.write_text(
        '[partnership]\nbusiness_unit = "oscp.group@oldham.example"\nallowed_sender_domains = ["nhs.net"]\n'
        '[smtp]\nsender = "Escalations <escalations@oldham.example>"\n'
    )
    settings = load_settings(config, environ={})
    assert settings.smtp.sender == "Escalations <escalations@oldham.example>"
    assert settings.partnership.business_unit == "oscp.group@oldham.example"
    assert all(value > 0 for value in settings.limits.model_dump().values())
