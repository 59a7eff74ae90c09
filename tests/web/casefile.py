"""A small real case file for the workspace's tests, made by the real watcher from real mail.

Four messages go through a Maildir into SQLite (or PostgreSQL): a stage 1 summary that
opens OLD-2026-0001, a second summary that opens a duplicate OLD-2026-0002, a message
filed on the wrong case, and one from a domain the partnership does not yet allow,
which is quarantined. The first case's child is Zoë Ångström-Núñez.
"""

from __future__ import annotations

import mailbox
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from resdesk.cases import users
from resdesk.protocols import LOCAL
from resdesk.settings import Settings
from resdesk.wiring import build_intake, open_store_for
from tests.intake.mail import summary

NOW = datetime(2026, 12, 16, 12, 0, tzinfo=LOCAL)
CHILD = "Zoë Ångström-Núñez"
PASSWORD = "a long test password"
ACCOUNT_LIMIT, ADDRESS_LIMIT = 3, 5  # failed sign-ins allowed (each costs an argon2id hash)
ROLES = {"auditor": "auditor", "bu": "business-unit", "admin": "admin"}


@dataclass
class CaseFile:
    settings: Settings
    store: object
    quarantined_id: int
    misfiled_id: int


def settings_for(tmp_path: Path, database: str | None = None) -> Settings:
    return Settings.model_validate({
        "partnership": {"protocol": "oldham", "allowed_sender_domains": ["police.example", "nhs.example"]},
        "mailbox": {"kind": "maildir", "path": str(tmp_path / "maildir")},
        "smtp": {"pickup_folder": str(tmp_path / "outbox")},
        "storage": {"database": database or f"sqlite:///{tmp_path / 'resdesk.sqlite3'}",
                    "archive": str(tmp_path / "archive")},
        "web": {"secure_cookies": False, "login_limit_per_account": f"{ACCOUNT_LIMIT} per 15 minutes",
                "login_limit_per_address": f"{ADDRESS_LIMIT} per 15 minutes"},
    })


def _messages() -> list[bytes]:
    first = summary(1, "actions agreed", n=1, when=datetime(2026, 12, 14, 10, 0, tzinfo=LOCAL))
    duplicate = summary(1, "actions agreed", n=2, sender="Sam Okafor <sam.okafor@nhs.example>",
                        when=datetime(2026, 12, 14, 11, 0, tzinfo=LOCAL))
    misfiled = summary(1, "actions agreed", n=3, subject="[OLD-2026-0002] Escalation & Resolution Protocol: Stage 1 Summary",
                       body_extra="Further to our call about Zoë.", when=datetime(2026, 12, 14, 15, 0, tzinfo=LOCAL))
    outsider = summary(2, None, n=4, sender="Jo Brook <jo.brook@school.example>",
                       subject="[OLD-2026-0001] Escalation & Resolution Protocol: Stage 2 Summary",
                       body_extra="The school's view, as promised.", when=datetime(2026, 12, 15, 9, 0, tzinfo=LOCAL))
    return [first, duplicate, misfiled, outsider]


def build_case_file(tmp_path: Path, database: str | None = None) -> CaseFile:
    """Drain the four messages with the real watcher; add a user of each role."""
    settings = settings_for(tmp_path, database)
    tmp_path.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(tmp_path / "maildir", create=True)
    for raw in _messages():
        box.add(raw)
    store = open_store_for(settings)
    intake = build_intake(settings, store=store, worker="test", clock=lambda: NOW)
    try:
        intake.watcher.run(once=True)
    finally:
        intake.source.close()
    with store.transaction() as tx:
        tx.update_case_details(tx.require_case("OLD-2026-0001"), child_name=CHILD, child_identifier="943 476 5919")
        for name, role in ROLES.items():
            users.add_user(tx, name, role, PASSWORD, actor="test")
        from resdesk.cases.models import Message

        held = tx.session.query(Message).filter(Message.state == "quarantined").one()
        misfiled = tx.session.query(Message).filter(Message.message_id == "<summary-1-3@police.example>").one()
        return CaseFile(settings, store, held.id, misfiled.id)


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, name: str, password: str = PASSWORD):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token})


def resolved_early(store, at: datetime) -> str:
    """A new Oldham case resolved at early resolution (stage 0) at ``at``, opened an hour before:
    its responsible practitioner's written outcome is due within a further 2 working days (§3).
    Returns its ref."""
    from datetime import timedelta

    from resdesk.protocols import default_registry

    oldham = default_registry().get("oldham")
    with store.transaction() as tx:
        case = tx.create_case(oldham, at - timedelta(hours=1), child_name="Poppy Hart")
        tx.record_stage_summary(case, oldham, 0, "resolved", at)
        return case.ref
