"""A partnership's shared inbox as the realworld inputs expect it: Oldham, the business unit
oscp.group@oldham.example, a Maildir read by the real watcher (``resdesk watch --once``) and
outbound mail written to a pickup folder by ``resdesk tick``."""

from __future__ import annotations

import email
import mailbox
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from resdesk.cases import open_store
from resdesk.cases.models import Case, Document, Event, Message, Party
from resdesk.cli import main

REALWORLD = Path(__file__).parent / "realworld"
BUSINESS_UNIT = "oscp.group@oldham.example"
OUR_ADDRESS = "escalations@oldham.example"


class RealDesk:
    """One inbox, case file and pickup folder under ``root``."""

    def __init__(self, root: Path):
        self.root = root
        self.latest: datetime | None = None  # the latest Date of the mail delivered
        self.maildir = root / "maildir"
        self.inbox = mailbox.Maildir(self.maildir, create=True)
        self.outbox = root / "outbox"
        self.config = root / "resdesk.toml"
        self.config.write_text(
            f"""
[partnership]
protocol = "oldham"
business_unit = "{BUSINESS_UNIT}"
[mailbox]
kind = "maildir"
path = "{self.maildir}"
[smtp]
enabled = true
pickup_folder = "{self.outbox}"
sender = "Resolution Desk <{OUR_ADDRESS}>"
[storage]
database = "sqlite:///{root / 'resdesk.sqlite3'}"
archive = "{root / 'archive'}"
""",
            encoding="utf-8",
        )

    def deliver(self, raw: bytes | str | Path) -> None:
        if isinstance(raw, (str, Path)):
            raw = (REALWORLD / raw).read_bytes()
        self.inbox.add(raw)
        dated = _date_of(raw)
        if dated is not None and (self.latest is None or dated > self.latest):
            self.latest = dated

    def watch(self) -> None:
        """Drain the inbox five minutes after the latest Date delivered (the wall clock when none has
        one), so what the case file owes does not depend on the day the tests run."""
        when = [] if self.latest is None else ["--now", (self.latest + timedelta(minutes=5)).isoformat()]
        assert main(["watch", "--once", "--json", *when, "--config", str(self.config)]) == 0

    def tick(self, now: str) -> None:
        assert main(["tick", "--json", "--now", now, "--config", str(self.config)]) == 0

    def sent(self) -> list[EmailMessage]:
        paths = sorted(self.outbox.glob("*.eml")) if self.outbox.is_dir() else []
        return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]

    def folder_count(self, folder: str) -> int:
        path = self.maildir if folder == "INBOX" else self.maildir / ("." + folder.replace("/", "."))
        return sum(1 for sub in ("new", "cur") if (path / sub).is_dir() for _ in (path / sub).iterdir())

    def _all(self, statement):
        store = open_store(f"sqlite:///{self.root / 'resdesk.sqlite3'}", self.root / "archive")
        try:
            with store.transaction() as tx:
                return [_detached(row) for row in tx.session.execute(statement).scalars()]
        finally:
            store.close()

    def ledger(self) -> list[dict]:
        return self._all(select(Message).order_by(Message.id))

    def events(self, kind: str) -> list[dict]:
        return self._all(select(Event).where(Event.kind == kind).order_by(Event.id))

    def cases(self) -> list[dict]:
        return self._all(select(Case).order_by(Case.id))

    def documents(self) -> list[dict]:
        return self._all(select(Document).order_by(Document.id))

    def parties(self) -> list[dict]:
        return self._all(select(Party).order_by(Party.id))


def _detached(row) -> dict:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def _date_of(raw: bytes) -> datetime | None:
    """The Date header of ``raw`` as an aware time, or None when it has none that reads."""
    try:
        dated = parsedate_to_datetime(str(BytesHeaderParser().parsebytes(raw)["Date"] or ""))
    except (TypeError, ValueError, IndexError):
        return None
    return dated if dated.tzinfo is not None else None
