"""A partnership's shared inbox as the realworld inputs expect it: Oldham, the business unit
oscp.group@oldham.example, a Maildir read by the real watcher (``resdesk watch --once``) and
outbound mail written to a pickup folder by ``resdesk tick``."""

from __future__ import annotations

import email
import mailbox
from email import policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from resdesk.cases import open_store
from resdesk.cases.models import Case, Document, Event, Message
from resdesk.cli import main

REALWORLD = Path(__file__).parent / "realworld"
BUSINESS_UNIT = "oscp.group@oldham.example"
OUR_ADDRESS = "escalations@oldham.example"


class RealDesk:
    """One inbox, case file and pickup folder under ``root``."""

    def __init__(self, root: Path):
        self.root = root
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

    def watch(self) -> None:
        assert main(["watch", "--once", "--json", "--config", str(self.config)]) == 0

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


def _detached(row) -> dict:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}
