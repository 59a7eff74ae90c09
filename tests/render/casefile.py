"""Case-file state for outbox tests, built through the case file's own API, and settings for it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from resdesk.cases import Message, Store
from resdesk.protocols import LOCAL, default_registry
from resdesk.outbox.smtp import SmtpSender
from resdesk.settings import Settings

SENDER = "Escalations <escalations@partnership.example>"
BUSINESS_UNIT = "business.unit@partnership.example"
PRACTITIONER = "s.obriain@nca.example"
PRACTITIONER_NAME = "Siobhán Ó Briain"
REGISTRY = default_registry()


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LOCAL)


def settings_for(tmp_path: Path, smtp_server=None, **smtp: Any) -> Settings:
    return Settings.model_validate(
        {
            "partnership": {"protocol": "oldham", "business_unit": BUSINESS_UNIT},
            "smtp": {
                "host": smtp_server.host if smtp_server else "127.0.0.1",
                "port": smtp_server.port if smtp_server else 25,
                "security": "none",
                "sender": SENDER,
                **smtp,
            },
            "storage": {"database": f"sqlite:///{tmp_path / 'resdesk.sqlite3'}", "archive": str(tmp_path / "archive")},
        }
    )


def write_config(tmp_path: Path, smtp_server, *, maildir: Path | None = None, partnership: str = "") -> Path:
    """A settings file for Oldham sending through ``smtp_server``; with ``maildir``, reading that Maildir;
    ``partnership`` adds lines to the [partnership] section."""
    path = tmp_path / "resdesk.toml"
    mailbox = f'[mailbox]\nkind = "maildir"\npath = "{maildir}"\n' if maildir else ""
    path.write_text(
        f"""
[partnership]
protocol = "oldham"
business_unit = "{BUSINESS_UNIT}"
{partnership}
{mailbox}[smtp]
host = "{smtp_server.host}"
port = {smtp_server.port}
security = "none"
sender = "{SENDER}"
[storage]
database = "sqlite:///{tmp_path / 'resdesk.sqlite3'}"
archive = "{tmp_path / 'archive'}"
""",
        encoding="utf-8",
    )
    return path


def sender_for(smtp_server) -> SmtpSender:
    return SmtpSender(smtp_server.host, smtp_server.port, security="none", timeout=10)


def recorded(
    tx, case, at: datetime, *, classification: str = "stage-summary",
    stage: int | None = 2, outcome: str | None = "escalated", sender: str = PRACTITIONER,
    sender_name: str = PRACTITIONER_NAME, subject: str = "Escalation & Resolution Protocol: Stage 2 Summary",
    message_id: str = "<stage2@nca.example>", references: list[str] | None = None, acknowledge: bool = True,
    forms: list[dict[str, str]] | None = None,
):
    """A ledger row and the ``message-recorded`` event the intake processor writes for it."""
    ledger = Message(
        account="inbox@partnership.example", folder="INBOX", uidvalidity="1", uid=message_id, sha256="0" * 64,
        message_id=message_id, subject=subject, sender=sender, state="done", case_id=case.id, received_at=at,
    )
    tx.session.add(ledger)
    tx.session.flush()
    ledger_id = ledger.id
    tx.add_event(
        case, "message-recorded", at, stage=stage, message_id=message_id, ledger_id=ledger_id,
        detail={
            "ledger_id": ledger_id, "classification": classification, "stage": stage, "outcome": outcome,
            "sender": sender, "sender_name": sender_name, "subject": subject, "message_id": message_id,
            "references": references or [], "forms": forms or [], "acknowledge": acknowledge, "sha256": "0" * 64,
        },
    )


def oldham_stage2_escalated(store: Store, at: datetime = local(2026, 12, 23, 10, 0), **changes) -> str:
    """An Oldham case opened a week before ``at``, escalated past stage 1 five days before, whose
    stage 2 summary, received at ``at``, says escalated. Returns its ref."""
    oldham = REGISTRY.get("oldham")
    with store.transaction() as tx:
        case = tx.create_case(
            oldham, at - timedelta(days=7), child_name="Zoë Adeyemi", child_identifier="943 476 5919",
        )
        tx.add_party(case, name=PRACTITIONER_NAME, email=PRACTITIONER, agency="Northern Care Alliance", role="Team Manager")
        tx.record_stage_summary(case, oldham, 1, "escalated", at - timedelta(days=5), message_id="<stage1@nca.example>")
        tx.record_stage_summary(case, oldham, 2, "escalated", at, message_id="<stage2@nca.example>")
        recorded(tx, case, at, references=["<stage1@nca.example>"], **changes)
        return case.ref


def case_token(store, ref: str) -> str:
    """The case token the product writes in subjects: ``[OLD-2026-0001-K3F9QZ]`` (``cases.tokens``)."""
    from resdesk.cases.tokens import case_token_key, check_code

    return f"[{ref}-{check_code(case_token_key(store), ref)}]"
