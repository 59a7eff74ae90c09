"""Settings in one place: one TOML file, every key overridable from the environment.

The file is ``--config FILE`` (default ``resdesk.toml`` in the working folder,
if present). Any key can be overridden by ``RESDESK_<SECTION>__<KEY>``, e.g.
``RESDESK_MAILBOX__PASSWORD``. Secrets (the passwords and OAuth2 client secrets)
may come only from the environment, or from systemd credentials (``LoadCredential=mailbox-password:…``,
read from ``$CREDENTIALS_DIRECTORY``: ``mailbox-password``, ``smtp-password``, ``mailbox-client-secret``,
``smtp-client-secret``): a secret written in the file is refused.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal, Mapping

from email.utils import getaddresses

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from resdesk.errors import UsageError
from resdesk.protocols.schema import CONTACT_KEYS
from resdesk.settings_sources import Credentials, Environment, SettingsFile, merged

Auth = Literal["password", "microsoft", "google"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _checked_address(value: str, *, display_name: bool = False) -> str:
    """``value`` if it is one deliverable-looking address (syntax only, no DNS look-up), else
    ValueError with email-validator's reason. With ``display_name``, ``Name <addr>`` is allowed."""
    address = value
    if display_name:
        found = getaddresses([value])
        if len(found) != 1 or not found[0][1]:
            raise ValueError(f"{value!r} is not one address (write it as 'Name <someone@example.org>')")
        address = found[0][1]
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{address!r} is not a usable e-mail address ({exc})") from None
    return value


def _checked_domain(value: str) -> str:
    domain = value.strip().lstrip("@").lstrip(".")
    try:
        validate_email(f"postmaster@{domain}", check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{value!r} is not a mail domain ({exc})") from None
    return value


class PartnershipSettings(_Section):
    protocol: str = Field("oldham", description="Id of the partnership's protocol (see `resdesk protocols`).")
    business_unit: str = Field(
        "business.unit@partnership.example",
        description="The business unit's address: notices the protocol sends to the business unit go here.",
    )
    allowed_sender_domains: list[str] = Field(
        default_factory=list,
        description="Sender domains accepted as agencies; empty accepts all and flags none as unknown.",
    )
    protocols_dir: str | None = Field(
        None, description="A folder of extra protocol definition files (one TOML file per partnership)."
    )
    extra_closure_days: list[date] = Field(
        default_factory=list,
        description="Local closure days (ISO dates) that are not working days, besides bank holidays.",
    )
    quarantine_notice: Literal["immediate", "daily"] = Field(
        "immediate",
        description="How the business unit is told of quarantined mail: a notice for each message at once, "
        "or one daily digest sent after the day ends.",
    )
    authserv_id: str | None = Field(
        None,
        description="The receiving server's id in Authentication-Results headers; headers from other "
        "servers are ignored.",
    )
    contacts: dict[str, str] = Field(
        default_factory=dict,
        description="Addresses of the people a protocol names (iro, mash_service_manager, chair, ...); a notice "
        "to someone not listed goes to the business unit for their attention.",
    )
    agency_domains: dict[str, str] = Field(
        default_factory=dict,
        description="Sender domains mapped to agency names (\"nhs.net\" = \"Health\"), for the case's agencies.",
    )
    review_every_working_days: int = Field(
        5, ge=1, le=60,
        description="A stage with no fixed timescale gets a review reminder this often (working days).",
    )

    @field_validator("contacts")
    @classmethod
    def _known_contacts(cls, contacts: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(contacts) - set(CONTACT_KEYS))
        if unknown:
            raise ValueError(
                f"names no recipient of any protocol: {', '.join(unknown)} (known: {', '.join(CONTACT_KEYS)})"
            )
        # An unusable contact address would silently send that person's notices nowhere.
        return {key: _checked_address(value, display_name=True) for key, value in contacts.items()}

    @field_validator("business_unit")
    @classmethod
    def _business_unit_is_an_address(cls, value: str) -> str:
        # An unusable address would silently drop every reminder and overdue alert.
        return _checked_address(value)

    @field_validator("allowed_sender_domains")
    @classmethod
    def _domains_are_domains(cls, value: list[str]) -> list[str]:
        return [_checked_domain(domain) for domain in value]


class MailboxSettings(_Section):
    kind: Literal["imap", "maildir"] = Field("maildir", description="Where mail is read from.")
    host: str = Field("127.0.0.1", description="IMAP server host.")
    port: int = Field(993, description="IMAP server port.")
    security: Literal["ssl", "starttls", "none"] = Field(
        "ssl", description="IMAP transport security; 'none' is allowed only on loopback."
    )
    username: str = Field("inbox@partnership.example", description="IMAP login name.")
    password: str | None = Field(None, description="IMAP password; from RESDESK_MAILBOX__PASSWORD only.")
    auth: Auth = Field(
        "password",
        description="How the mailbox signs in: 'password', 'microsoft' (Microsoft 365 app-only OAuth2) or "
        "'google' (Google Workspace service account); the OAuth2 kinds log in with XOAUTH2 as username.",
    )
    tenant_id: str | None = Field(None, description="Microsoft: the Directory (tenant) ID of the app registration.")
    client_id: str | None = Field(
        None, description="Microsoft: the app registration's Application (client) ID (not an object ID)."
    )
    client_secret: str | None = Field(
        None, description="Microsoft: a client secret's value; from RESDESK_MAILBOX__CLIENT_SECRET only."
    )
    client_certificate: str | None = Field(
        None, description="Microsoft: a PEM file with the certificate's private key (used instead of a secret)."
    )
    client_certificate_thumbprint: str | None = Field(
        None, description="Microsoft: the SHA-1 thumbprint (hex) of that certificate, as the app registration shows it."
    )
    authority: str = Field(
        "https://login.microsoftonline.com",
        description="Microsoft: the sign-in service (login.microsoftonline.us for US Government, "
        "login.chinacloudapi.cn for China).",
    )
    authority_ca_file: str | None = Field(
        None,
        description="A PEM file of certificate authorities to trust for the sign-in service instead of the "
        "system's (a TLS-inspecting proxy).",
    )
    service_account_file: str | None = Field(
        None, description="Google: the service account's JSON key file (domain-wide delegation); its token_uri is used."
    )
    ca_file: str | None = Field(
        None, description="A PEM file of certificate authorities to trust for the IMAP server, besides the system's."
    )
    folder: str = Field("INBOX", description="The folder watched for new mail.")
    processed_folder: str = Field("Resdesk/Processed", description="Where filed mail is moved.")
    quarantine_folder: str = Field("Resdesk/Quarantine", description="Where refused mail is moved.")
    path: str = Field("var/maildir", description="The Maildir folder, for kind = 'maildir'.")
    poll_seconds: float = Field(
        30.0, description="Polling interval when the server lacks IDLE (seconds)."
    )
    idle_seconds: float = Field(
        600.0, description="How long one IDLE lasts before it is re-issued (well within 29 minutes)."
    )
    max_message_bytes: int = Field(
        25 * 1024 * 1024, description="Messages larger than this are quarantined unread."
    )


class SmtpSettings(_Section):
    enabled: bool = Field(
        True,
        description="Send mail. When false, the watcher records mail and sends nothing; what is owed "
        "(acknowledgements, notices, reminders) goes out at the first tick after it is turned on.",
    )
    pickup_folder: str | None = Field(
        None,
        description="Write outbound mail into this folder as .eml files instead of sending it over SMTP "
        "(the demo does).",
    )
    host: str = Field("127.0.0.1", description="SMTP server host.")
    port: int = Field(587, description="SMTP server port.")
    security: Literal["ssl", "starttls", "none"] = Field("starttls", description="SMTP transport security.")
    username: str | None = Field(None, description="SMTP login name, if the server requires one.")
    password: str | None = Field(None, description="SMTP password; from RESDESK_SMTP__PASSWORD only.")
    auth: Auth = Field(
        "password",
        description="How SMTP signs in: 'password', 'microsoft' or 'google' (XOAUTH2 as username, else the "
        "mailbox's username). The sign-in keys below left out are taken from [mailbox] when it names the same auth.",
    )
    tenant_id: str | None = Field(None, description="Microsoft: the Directory (tenant) ID (default: the mailbox's).")
    client_id: str | None = Field(None, description="Microsoft: the Application (client) ID (default: the mailbox's).")
    client_secret: str | None = Field(
        None, description="Microsoft: a client secret's value; from RESDESK_SMTP__CLIENT_SECRET only (default: the mailbox's)."
    )
    client_certificate: str | None = Field(
        None, description="Microsoft: a PEM file with the certificate's private key (default: the mailbox's)."
    )
    client_certificate_thumbprint: str | None = Field(
        None, description="Microsoft: that certificate's SHA-1 thumbprint (default: the mailbox's)."
    )
    authority: str | None = Field(None, description="Microsoft: the sign-in service (default: the mailbox's).")
    authority_ca_file: str | None = Field(
        None, description="Certificate authorities to trust for the sign-in service (default: the mailbox's)."
    )
    service_account_file: str | None = Field(
        None, description="Google: the service account's JSON key file (default: the mailbox's)."
    )
    sender: str = Field(
        "Escalations <escalations@partnership.example>", description="The From address of everything sent."
    )
    rate_per_recipient_per_hour: int = Field(
        30, description="At most this many messages to one recipient in an hour."
    )

    @field_validator("sender")
    @classmethod
    def _sender_is_an_address(cls, value: str) -> str:
        return _checked_address(value, display_name=True)


class LimitsSettings(_Section):
    """Bounds on the work one inbound message may cause; a message over one is quarantined
    with a reason naming the limit, and rendering past its bounds is stopped."""

    header_bytes: int = Field(
        256 * 1024, gt=0, description="Largest header section of an inbound message (bytes)."
    )
    addresses_per_header: int = Field(
        500, gt=0, description="Most addresses one To, Cc, From or Reply-To header may list."
    )
    encoded_words: int = Field(
        200, gt=0, description="Most RFC 2047 encoded words the headers of one message may hold."
    )
    line_chars: int = Field(
        100_000, gt=0, description="Longest line of an inbound message (characters)."
    )
    body_chars: int = Field(
        2_000_000, gt=0, description="Most text read from a message body (characters)."
    )
    field_chars: int = Field(
        20_000, gt=0, description="Longest value one form field may hold (characters)."
    )
    parts: int = Field(200, gt=0, description="Most MIME parts one message may have.")
    attachments: int = Field(40, gt=0, description="Most attachments one message may carry.")
    render_seconds: float = Field(
        60.0, gt=0, description="Longest one document may take to render before its worker is stopped (seconds)."
    )
    render_memory_mb: int = Field(
        1024, gt=0, description="Most memory a render worker may use (MiB); past it rendering fails."
    )


class StorageSettings(_Section):
    database: str = Field(
        "sqlite:///var/resdesk.sqlite3",
        description="SQLAlchemy URL of the case file (SQLite by default; PostgreSQL works the same).",
    )
    archive: str = Field("var/archive", description="Folder for archived messages and generated documents.")


class RetentionSettings(_Section):
    cases_years: int = Field(
        7, ge=0,
        description="Years a resolved case is kept, counted from its resolution; then the whole case is disposed "
        "of (every record kind below with it).",
    )
    raw_messages_years: int = Field(
        2, ge=0,
        description="Years the raw messages of a resolved case (archived .eml files and the copies in the "
        "processed folder) are kept, counted from resolution.",
    )
    documents_years: int = Field(
        7, ge=0,
        description="Years the documents of a resolved case (received forms, notices sent) are kept, counted "
        "from resolution.",
    )
    auditor_records_years: int = Field(
        7, ge=0,
        description="Years the auditor records of a resolved case (`case --pdf`) are kept, counted from "
        "resolution.",
    )


class ServiceSettings(_Section):
    log_format: Literal["text", "json"] = Field(
        "text", description="How the services log: `text` for a person, `json` (one object a line, with a "
        "correlation id per message) for a log collector.",
    )
    outbox_stuck_minutes: float = Field(
        60.0, description="The health check fails when a message due to be sent has waited this long (minutes).",
    )
    mailbox_silent_minutes: float = Field(
        30.0, description="The health check fails when no watcher has read the mailbox for this long (minutes).",
    )
    metrics_dir: str = Field(
        "",
        description="Folder where `resdesk serve`, `watch` and `tick` write their counters (prometheus-client's "
        "multiprocess mode), so `/metrics` from any of them sums every process's work; every service must name "
        "the same folder, on one machine (the service units set `/var/lib/resdesk/metrics`). Empty, the "
        "default: each process counts its own work alone.",
    )


class WebSettings(_Section):
    host: str = Field("127.0.0.1", description="Address `resdesk serve` listens on (put a reverse proxy in front for TLS).")
    port: int = Field(8080, description="Port `resdesk serve` listens on.")
    secret_key: str | None = Field(
        None,
        description="Key that signs session cookies; from RESDESK_WEB__SECRET_KEY only. Unset: a random key "
        "per start, so restarting signs everyone out.",
    )
    secure_cookies: bool = Field(
        True, description="Mark the session cookie Secure (sent over HTTPS only); turn off only for loopback without TLS."
    )
    idle_minutes: int = Field(30, gt=0, description="A session unused for this many minutes ends (sign in again).")
    proxy_hops: int = Field(
        0,
        description="How many reverse proxies stand in front: their X-Forwarded-For/-Proto/-Host headers are "
        "believed for that many hops (0 believes none).",
    )
    login_limit_per_account: str = Field(
        "5 per 15 minutes", description="Failed sign-ins allowed for one user name before HTTP 429."
    )
    login_limit_per_address: str = Field(
        "20 per 15 minutes", description="Failed sign-ins allowed from one client address before HTTP 429."
    )
    rate_limit_storage: str = Field(
        "casefile://",
        description="Where the sign-in limits are counted: `casefile://` (the case file, shared by every "
        "`resdesk serve` process and kept through restarts), or a storage URI of the `limits` package such as "
        "`redis://HOST:6379` (`memory://` counts in each process alone). A URI holding a password belongs in "
        "RESDESK_WEB__RATE_LIMIT_STORAGE.",
    )
    threads: int = Field(8, gt=0, description="Worker threads of the web server.")


class Settings(BaseSettings):
    """Every setting, by section. Built with no arguments it holds the defaults only: ``load_settings``
    names the file and the environment it reads."""

    model_config = SettingsConfigDict(extra="forbid")

    partnership: PartnershipSettings = Field(default_factory=PartnershipSettings)
    mailbox: MailboxSettings = Field(default_factory=MailboxSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings,)  # load_settings reads the file, the environment and the credentials


SECTIONS = {name: field.annotation for name, field in Settings.model_fields.items()}


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``path`` (or ``resdesk.toml`` in the working folder, if present), then the
    environment (``environ``, default the process's), which wins, with systemd credentials filling
    secrets the environment leaves unset. ``UsageError``, one sentence naming the setting, for a
    missing named file, a file that is not TOML or holds a secret, a variable naming no setting, or
    a value the settings refuse."""
    environ = dict(os.environ if environ is None else environ)
    file = Path(path) if path is not None else Path("resdesk.toml")
    if path is not None and not file.exists():
        raise UsageError(f"The settings file {file} does not exist.")
    try:
        layers = [SettingsFile(Settings, file)(), Credentials(Settings, environ)(), Environment(Settings, environ)()]
        return Settings(**merged(layers))
    except SettingsError as exc:
        raise UsageError(f"A setting from the environment cannot be read: {exc}.") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"Setting {key} is invalid: {first['msg']}.") from None
