"""A subject access export: every case, message, document and notice held about one child, in one folder.

The folder holds, per case ``<REF>/``: ``case.json`` (the full timeline, as ``resdesk case --json``),
``messages/`` (each raw message received, ``.eml``), ``documents/`` (each document received or
generated) and ``sent/`` (each message sent, ``.eml``); and at the top ``index.pdf`` listing every file
with its SHA-256. Each case exported gets an audit entry (without the child's name).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from resdesk.errors import UsageError


@dataclass
class Export:
    folder: Path
    cases: list[str] = field(default_factory=list)
    files: int = 0

    def as_json(self) -> dict:
        return {"folder": str(self.folder), "cases": self.cases, "files": self.files,
                "index": str(self.folder / "index.pdf")}


def _safe(name: str) -> str:
    """A file name from a stored one: no folders, no hidden files."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_. " else "_" for ch in Path(name).name).strip(". ")
    return cleaned or "file"


def _write(out: Path, path: Path, kind: str, at: datetime | None, content: bytes) -> dict:
    """Write ``content`` at ``path`` (numbered when the name is taken); its row in the index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stem, suffix, n = path.stem, path.suffix, 1
    while path.exists():  # two documents with one name are both kept, numbered
        n += 1
        path = path.with_name(f"{stem}-{n}{suffix}")
    path.write_bytes(content)
    return {"kind": kind, "at": at, "path": str(path.relative_to(out)), "sha256": hashlib.sha256(content).hexdigest()}


def export_child(store, registry, now: datetime, out: str | Path, *, identifier: str | None = None,
                 name: str | None = None, dob: date | None = None, partnership: str = "",
                 actor: str = "resdesk") -> Export:
    """Gather every record about the child into the empty folder ``out``; raise ``UsageError`` when no case
    matches or the folder is not empty."""
    from sqlalchemy import select

    from resdesk.cases import case_timeline, cases_about_child
    from resdesk.cases.models import Outbound
    from resdesk.render import render_subject_access_index

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"The folder {out} is not empty; give an empty or new folder.")
    with store.transaction() as tx:
        refs = [c.ref for c in cases_about_child(tx, identifier=identifier, name=name, dob=dob)]
    if not refs:
        raise UsageError("No case holds a child with that identifier, or that name and date of birth.")
    export, rows, child = Export(out), [], {}
    for ref in refs:
        document = case_timeline(store, ref, registry, now)
        child = {k: v for k, v in document["child"].items() if v} | child
        folder = out / ref
        files = [_write(out, folder / "case.json", "case file (JSON)", now,
                        json.dumps(document, indent=2, ensure_ascii=False).encode())]
        for message in document["messages"]:
            if message["archive_path"] and Path(message["archive_path"]).is_file():
                files.append(_write(out, folder / "messages" / f"{message['ledger_id']:06d}.eml", "message received",
                                    _at(message["received_at"]), Path(message["archive_path"]).read_bytes()))
        for item in document["documents"]:
            if Path(item["path"]).is_file():
                files.append(_write(out, folder / "documents" / _safe(item["filename"]), item["kind"],
                                    _at(item["created_at"]), Path(item["path"]).read_bytes()))
        with store.transaction() as tx:
            case = tx.require_case(ref)
            sent = tx.session.execute(select(Outbound).where(Outbound.case_id == case.id).order_by(Outbound.id))
            for row in sent.scalars():
                if row.raw:
                    files.append(_write(out, folder / "sent" / f"{row.id:06d}-{_safe(row.kind)}.eml",
                                        f"sent: {row.kind}", row.sent_at or row.created_at, row.raw))
        rows.append({"ref": ref, "protocol": document["protocol"], "status": document["status"],
                     "events": len(document["events"]), "files": files})
        export.files += len(files)
    index = render_subject_access_index({
        "partnership": partnership, "child_name": child.get("name"),
        "child_dob": date.fromisoformat(child["dob"]) if child.get("dob") else None,
        "child_identifier": child.get("identifier"),
        "searched_by": "identifier" if identifier is not None else "name and date of birth",
        "exported_at": now, "cases": rows,
    })
    digest = _write(out, out / "index.pdf", "index", now, index)["sha256"]
    with store.transaction() as tx:
        for row in rows:
            tx.audit(actor, "subject-access-export", row["ref"],
                     {"files": len(row["files"]), "index_sha256": digest, "cases": refs}, at=now)
    export.cases = refs
    return export


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
