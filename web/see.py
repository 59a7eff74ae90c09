"""Seeing a case: ``/cases/REF`` (timeline chart, facts and their sources, every message and
notice, the audit trail), its record for auditors (``record.pdf``, made on demand), each raw
message (``.eml``) and document, and ``/cases/REF/verify``.

Downloads are always sent as attachments (never shown inline), so a received file cannot
run in the workspace's origin.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Blueprint, Response, abort, render_template

from resdesk.cases import UnknownCase, recordable_deadlines
from resdesk.cases.models import AUDITOR, Document, Message
from resdesk.cases.verify import verify_case
from resdesk.protocols.facts import FACTS
from resdesk.render.timeline import timeline_chart
from resdesk.web.access import requires
from resdesk.web.app import workspace
from resdesk.web.casefile import case_document

blueprint = Blueprint("see", __name__)


def _document(ref: str) -> dict:
    ws = workspace()
    try:
        return case_document(ws.store, ref, ws.registry, ws.now(), ws.calendar_for)
    except UnknownCase:
        abort(404)


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def chart_for(document: dict, now: datetime) -> dict:
    """The stage timeline chart's shapes for a case document (``render.timeline``)."""
    stages = [
        {"stage": t["stage"], "name": t["name"], "entered_at": _at(t["started"]), "due": _at(t["due"]),
         "left_at": _at(t["ended"]), "cumulative_due": _at(t["cumulative_due"])}
        for t in document["clock"]
        if t["started"]  # a stage the case file never heard of (not-recorded) has no bar
    ]
    return timeline_chart(stages, now)


def _facts(document: dict) -> list[dict]:
    """What the case file holds about the child and the dispute, each with where it came from."""
    sources: dict[str, str] = {}
    for event in document["events"]:
        if event["kind"] == "form-read":
            detail = event["detail"] or {}
            for name, value in (detail.get("fields") or {}).items():
                if value not in (None, "", []) and name not in sources:
                    sources[name] = f"{detail.get('kind')} form {detail.get('filename') or '(typed into the mail)'}, {event['at'][:10]}"
    child = document["child"]
    facts = [
        ("Child's name", child["name"], sources.get("child_name")),
        ("Date of birth", child["dob"], sources.get("child_dob")),
        ("NHS number or identifier", child["identifier"], sources.get("child_identifier")),
    ]
    for name, fact in (document.get("facts") or {}).items():
        source = fact.get("source") or "recorded by the case file"
        if fact.get("set_by"):
            source = f"{source}, set by {fact['set_by']} {str(fact.get('set_at') or '')[:16]}".strip()
        if fact.get("estimated"):
            source = f"estimated ({source})"
        value = fact.get("value")
        facts.append((name, "yes" if value is True else "no" if value is False else value, source))
    return [{"name": n, "value": v, "source": s or "recorded by the case file"} for n, v, s in facts
            if v not in (None, "", [])]


@blueprint.get("/cases/<ref>")
@requires(AUDITOR)
def case(ref: str):
    ws = workspace()
    document = _document(ref)
    now = ws.now()
    deadlines = [dict(dl, stage=t["stage"], variant=t["variant"]) for t in document["clock"] for dl in t["deadlines"]]
    # What the business unit may record done: the clock's ``recordable`` deadlines (cases.deadlines).
    owed = recordable_deadlines(ws.store, ws.registry, ref, now, ws.calendar_for)
    recorded = [dl for dl in deadlines if dl["done"]] if document["status"] != "merged" else []
    return render_template("case.html", d=document, chart=chart_for(document, now), facts=_facts(document),
                           fact_names=list(FACTS), deadlines=deadlines, owed_deadlines=owed,
                           recorded_deadlines=recorded,
                           stages=[s.number for s in ws.registry.get(document["protocol"]).stages]
                           if document["protocol"] in ws.registry.ids() else [])


@blueprint.get("/cases/<ref>/record.pdf")
@requires(AUDITOR)
def record_pdf(ref: str):
    from resdesk.render.record import write_case_record

    ws = workspace()
    document = _document(ref)
    pdf = write_case_record(ws.store, document, None, ws.settings, generated_at=ws.now())
    return attachment(pdf, f"case-record-{document['ref']}.pdf", "application/pdf")


def attachment(content: bytes, filename: str, media_type: str) -> Response:
    """``content`` sent as a file to save (never shown inline), under a safe ``filename``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename) or "download"
    return Response(content, mimetype=media_type or "application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})


def _read(path: str | None) -> bytes:
    try:
        return Path(path).read_bytes() if path else abort(404)
    except OSError:
        abort(404)


def _on_case(ref: str, model, row_id: int):
    """A row of ``model`` filed on case ``ref`` (404 when either is missing or they do not belong)."""
    with workspace().store.transaction() as tx:
        case = tx.case_by_ref(ref)
        row = tx.session.get(model, row_id)
        if case is None or row is None or row.case_id != case.id:
            abort(404)
        return case.ref, row


@blueprint.get("/cases/<ref>/messages/<int:ledger_id>.eml")
@requires(AUDITOR)
def message_eml(ref: str, ledger_id: int):
    case_ref, message = _on_case(ref, Message, ledger_id)
    return attachment(_read(message.archive_path), f"{case_ref}-message-{ledger_id}.eml", "message/rfc822")


@blueprint.get("/cases/<ref>/documents/<int:document_id>")
@requires(AUDITOR)
def document_file(ref: str, document_id: int):
    _, document = _on_case(ref, Document, document_id)
    return attachment(_read(document.path), document.filename, document.media_type)


@blueprint.get("/cases/<ref>/verify")
@requires(AUDITOR)
def verify(ref: str):
    try:
        result = verify_case(workspace().store, ref)
    except UnknownCase:
        abort(404)
    return render_template("verify.html", result=result)
