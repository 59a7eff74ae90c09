"""The embedded default: every sample partnership inbox processed end to end into one folder.

``samples/maildir/<protocol>/`` holds each partnership's shared inbox and
``samples/demo/<protocol>.toml`` its settings; both install with the product as
``resdesk.samples``, so the demo runs the same from a wheel as from a checkout. The demo copies the inboxes into
its working folder once (the committed samples stay as they are), drains each
with the real watcher into one SQLite case file, lets the outbox write the
acknowledgements and notices into a pickup folder, and writes each case's
auditor record. It runs at a fixed time after the sample mail, so its results
are the same every time; running it again finds nothing new and sends nothing
twice.
"""

from __future__ import annotations

import email
import json
import shutil
from importlib import resources
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from pathlib import Path

from resdesk.protocols import parse_when
from resdesk.errors import UsageError
from resdesk.settings import Settings, load_settings

SAMPLES = Path(str(resources.files("resdesk.samples")))
DEMO_NOW = "2026-12-04T12:00"  # a Friday lunchtime after the last sample message


@dataclass
class DemoResult:
    out: Path
    drained: dict[str, dict[str, int]] = field(default_factory=dict)
    sent: int = 0
    records: list[Path] = field(default_factory=list)


def demo_settings(protocol_id: str, out: Path) -> Settings:
    """The sample partnership's settings, with its mailbox, case file and outbox under ``out``."""
    return load_settings(
        SAMPLES / "demo" / f"{protocol_id}.toml",
        environ={
            "RESDESK_MAILBOX__PATH": str(out / "maildir" / protocol_id),
            "RESDESK_STORAGE__DATABASE": f"sqlite:///{out / 'resdesk.sqlite3'}",
            "RESDESK_STORAGE__ARCHIVE": str(out / "archive"),
            "RESDESK_SMTP__PICKUP_FOLDER": str(out / "outbox"),
        },
    )


def partnerships() -> list[str]:
    folder = SAMPLES / "maildir"
    if not folder.is_dir():
        raise UsageError(f"The sample inboxes are missing ({folder}); reinstall the resdesk package.")
    return sorted(p.name for p in folder.iterdir() if (p / "new").is_dir())


def run_demo(out: Path, now: datetime, progress_for=None) -> DemoResult:
    """Process every sample inbox into ``out``; see the module docstring."""
    from resdesk.wiring import build_intake, open_store_for, tick

    result = DemoResult(out)
    out.mkdir(parents=True, exist_ok=True)
    store = None
    for protocol_id in partnerships():
        target = out / "maildir" / protocol_id
        if not target.exists():
            shutil.copytree(SAMPLES / "maildir" / protocol_id, target, ignore=shutil.ignore_patterns(".gitkeep"))
            for sub in ("cur", "new", "tmp"):  # a wheel keeps no empty folders
                (target / sub).mkdir(exist_ok=True)
        settings = demo_settings(protocol_id, out)
        store = store or open_store_for(settings)
        intake = build_intake(settings, store=store, worker=f"demo:{protocol_id}", clock=lambda: now)
        try:
            progress = progress_for(protocol_id) if progress_for else None
            report = intake.watcher.run(once=True, progress=progress)
            if progress is not None:
                progress.finish()
            result.drained[protocol_id] = dict(report.filed)
            result.sent += len(tick(intake, now).sent)
        finally:
            intake.source.close()
    if store is not None:
        result.records = _write_records(store, settings, out, now)
        _unpack_outbox(out)
        store.close()
        _write_workspace_settings(out)
    return result


def _write_workspace_settings(out: Path) -> Path:
    """``out/resdesk.toml``: the settings that browse the demo's case file in the workspace
    (``resdesk users add NAME --role admin --config …`` then ``resdesk serve --config …``)."""
    root = out.resolve()
    target = out / "resdesk.toml"
    oldham = demo_settings("oldham", out)  # what the demo drained Oldham's inbox with: mail read again there agrees
    partnership = oldham.partnership
    target.write_text(
        "# Written by `resdesk demo`: the workspace on the demo's case file, on loopback without TLS.\n"
        f"#   resdesk users add NAME --role admin --config {target}\n"
        f"#   resdesk serve --config {target}\n"
        "[partnership]\nprotocol = \"oldham\"\n"
        f"business_unit = {json.dumps(partnership.business_unit)}\n"
        f"allowed_sender_domains = {json.dumps(list(partnership.allowed_sender_domains))}\n"
        + (f"authserv_id = {json.dumps(partnership.authserv_id)}\n" if partnership.authserv_id else "")
        + "\n"
        f"[mailbox]\nkind = \"maildir\"\npath = {json.dumps(str(root / 'maildir' / 'oldham'))}\n\n"
        f"[smtp]\nsender = {json.dumps(oldham.smtp.sender)}\npickup_folder = {json.dumps(str(root / 'outbox'))}\n\n"
        f"[storage]\ndatabase = {json.dumps('sqlite:///' + str(root / 'resdesk.sqlite3'))}\n"
        f"archive = {json.dumps(str(root / 'archive'))}\n\n"
        "[web]\nhost = \"127.0.0.1\"\nport = 8080\nsecure_cookies = false\n",
        encoding="utf-8",
    )
    return target


def _write_records(store, settings: Settings, out: Path, now: datetime) -> list[Path]:
    """Each case's auditor record (PDF/A-3 with its JSON), written once."""
    from resdesk.protocols import WorkingCalendar, default_registry
    from resdesk.render.record import write_case_record
    from resdesk.web.casefile import case_document

    registry = default_registry()
    with store.transaction() as tx:
        refs = [case.ref for case in tx.all_cases()]
    written = []
    for ref in refs:
        path = out / "records" / f"{ref}.pdf"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            document = case_document(store, ref, registry, now, lambda protocol: WorkingCalendar(protocol.nation))
            write_case_record(store, document, path, settings)
        written.append(path)
    return written


def _unpack_outbox(out: Path) -> None:
    """Put each sent document beside its message, so a person can open it without a mail program."""
    documents = out / "documents"
    for path in sorted((out / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        case = str(message.get("X-Resdesk-Case", "") or "no-case")
        for part in message.iter_attachments():
            content = part.get_content()
            content = content if isinstance(content, bytes) else content.encode("utf-8")
            _keep(documents / case, Path(part.get_filename() or "attachment").name, content)


def _keep(folder: Path, name: str, content: bytes) -> None:
    """Write ``content`` as ``name`` in ``folder``, numbering it when another document has that name."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 1000):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        if not target.exists():
            folder.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            return
        if target.read_bytes() == content:
            return


def quarantined(out: Path) -> list[dict[str, str]]:
    """What the demo quarantined, and why."""
    import sqlite3

    database = out / "resdesk.sqlite3"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT account, subject, reason FROM messages WHERE state = 'quarantined' ORDER BY id"
        ).fetchall()
    return [{"mailbox": Path(a.removeprefix("maildir:")).name, "subject": s or "", "reason": r or ""} for a, s, r in rows]


def demo_now(text: str | None) -> datetime:
    return parse_when(text or DEMO_NOW, what="--now time")


def summary_json(result: DemoResult, cases: list[dict]) -> dict:
    return {
        "folder": str(result.out),
        "drained": result.drained,
        "sent": result.sent,
        "cases": cases,
        "quarantine": quarantined(result.out),
        "records": [str(p) for p in result.records],
    }


__all__ = ["DEMO_NOW", "DemoResult", "demo_now", "demo_settings", "partnerships", "quarantined", "run_demo", "summary_json"]
