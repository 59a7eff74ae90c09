"""One case as the workspace and the auditor record show it: the case file's timeline
(``cases.case_timeline``) plus what each received message says — its own Date, body
text and attachments — read back from the archived ``.eml``.
"""

from __future__ import annotations

from datetime import datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from resdesk.cases import case_timeline
from resdesk.errors import IntakeError
from resdesk.intake import parse_message
from resdesk.protocols import to_local

TEXT_LIMIT = 20_000  # characters of a body shown; the full message is a download away


def _own_date(raw: bytes) -> str | None:
    try:
        value = BytesHeaderParser().parsebytes(raw).get("Date")
        stated = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    return to_local(stated).isoformat() if stated and stated.tzinfo else None


def message_details(archive_path: str | None) -> dict[str, Any]:
    """``date`` (the message's own, ISO 8601 local), ``text`` and ``attachments`` (name, type,
    size in bytes) of an archived message; a missing or unreadable file says so in ``text``."""
    if not archive_path:
        return {"date": None, "text": "(no archived copy)", "attachments": []}
    try:
        raw = Path(archive_path).read_bytes()
    except OSError:
        return {"date": None, "text": "(the archived copy is missing)", "attachments": []}
    try:
        message = parse_message(raw)
    except IntakeError as exc:
        return {"date": _own_date(raw), "text": f"(the message cannot be read: {exc})", "attachments": []}
    text = message.body_text.strip()
    if len(text) > TEXT_LIMIT:
        text = text[:TEXT_LIMIT] + "\n[…]"
    return {
        "date": _own_date(raw),
        "text": text,
        "attachments": [
            {"filename": a.filename, "media_type": a.content_type, "size": len(a.data)} for a in message.attachments
        ],
    }


def case_document(store, ref: str, registry, now: datetime, calendar_for) -> dict[str, Any]:
    """The case's timeline document with each message's ``date``, ``text`` and ``attachments``.
    Raises ``UnknownCase`` for a reference the case file does not hold."""
    document = case_timeline(store, ref, registry, now, calendar_for)
    for message in document["messages"]:
        message.update(message_details(message.get("archive_path")))
    return document
