"""One partnership's inbox, watcher, case file and tick, run at chosen moments into a pickup folder."""

from __future__ import annotations

import email
import mailbox
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any

from resdesk.cases import case_timeline
from resdesk.protocols import LOCAL
from resdesk.settings import Settings
from resdesk.wiring import build_intake, tick

BUSINESS_UNIT = "business.unit@partnership.example"
SENDER = "Escalations <escalations@partnership.example>"


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LOCAL)


def mail(
    when: datetime, subject: str, lines: list[str], *, sender: str, to: str = "escalations@partnership.example",
    cc: str | None = None, n: int = 1, in_reply_to: str | None = None,
) -> bytes:
    """A message as an agency writes it: typed lines in its body."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<scenario-{n}-{when:%Y%m%d%H%M}@agency.example>"
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    msg.set_content("\n".join(["Dear colleagues,", "", *lines, "", "Regards"]))
    return msg.as_bytes()


@dataclass
class Sent:
    """One message in the pickup folder: its kind header, subject and recipients."""

    subject: str
    to: tuple[str, ...]
    message: Any

    @property
    def kind(self) -> str:
        return str(self.message["X-Resdesk-Notice"] or "")


@dataclass
class Scenario:
    """A partnership's mailbox, settings and pickup folder under ``root``."""

    root: Path
    protocol: str
    contacts: dict[str, str] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.inbox = mailbox.Maildir(self.root / "maildir", create=True)
        self.settings = Settings.model_validate({
            "partnership": {"protocol": self.protocol, "business_unit": BUSINESS_UNIT, "contacts": self.contacts,
                            "agency_domains": {"police.example": "Police", "school.example": "Education",
                                               "nhs.example": "Health", "trust.example": "Children's Trust"}},
            "mailbox": {"kind": "maildir", "path": str(self.root / "maildir")},
            "smtp": {"pickup_folder": str(self.root / "outbox"), "sender": SENDER},
            "storage": {"database": f"sqlite:///{self.root / 'resdesk.sqlite3'}", "archive": str(self.root / "archive")},
        })
        self.config = self.root / "resdesk.toml"
        contacts = "".join(f'{key} = "{value}"\n' for key, value in self.contacts.items())
        self.config.write_text(
            f'[partnership]\nprotocol = "{self.protocol}"\nbusiness_unit = "{BUSINESS_UNIT}"\n'
            f"[partnership.contacts]\n{contacts}"
            f'[mailbox]\nkind = "maildir"\npath = "{self.root / "maildir"}"\n'
            f'[smtp]\npickup_folder = "{self.root / "outbox"}"\nsender = "{SENDER}"\n'
            f'[storage]\ndatabase = "sqlite:///{self.root / "resdesk.sqlite3"}"\narchive = "{self.root / "archive"}"\n',
            encoding="utf-8",
        )

    def run(self, now: datetime, *messages: bytes) -> list[Sent]:
        """Deliver ``messages``, drain the inbox with the watcher and run the tick, both at ``now``;
        return what the tick wrote into the pickup folder."""
        for raw in messages:
            self.inbox.add(raw)
        intake = build_intake(self.settings, worker="scenario", clock=lambda: now)
        try:
            intake.watcher.run(once=True)
            tick(intake, now)
        finally:
            intake.close()
        return self.new_mail()

    def new_mail(self) -> list[Sent]:
        found = []
        for path in sorted((self.root / "outbox").glob("*.eml")):
            if path.name in self.seen:
                continue
            self.seen.add(path.name)
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            to = tuple(sorted(a.lower() for _, a in getaddresses([str(message["To"] or "")])))
            found.append(Sent(str(message["Subject"]), to, message))
        return found

    def case(self, ref: str, now: datetime) -> dict[str, Any]:
        from resdesk.commands.deadline import calendar_for
        from resdesk.protocols import default_registry
        from resdesk.wiring import open_store_for

        store = open_store_for(self.settings)
        try:
            return case_timeline(store, ref, default_registry(), now, lambda p: calendar_for(p, self.settings))
        finally:
            store.close()


def clock_rows(case: dict[str, Any]) -> list[tuple]:
    """(stage, variant, started, due, cumulative due, status) per stage, times as local ISO minutes."""
    def t(value):
        return None if value is None else datetime.fromisoformat(value).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")

    return [(c["stage"], c["variant"], t(c["started"]), t(c["due"]), t(c["cumulative_due"]), c["status"])
            for c in case["clock"]]


def to_whom(sent: list[Sent]) -> list[tuple[str, tuple[str, ...]]]:
    """(subject without the case token, recipients) for each message, sorted."""
    return sorted((s.subject.strip().rsplit(" [", 1)[0], s.to) for s in sent)
