"""The auditor's record of a case, from its timeline: PDF/A-3 with the case's JSON embedded.

``case_record_view`` is pure: the ``cases.case_timeline`` document in, the
record's view out. ``write_case_record`` renders it, writes the file and files
it on the case with ``Tx.add_document``, so the record itself is in the audit
chain with its SHA-256.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from resdesk.errors import RenderError

from .snapshot import EventSnapshot, describe_event
from .recordpdf import render_case_record
from .views import CaseRecordView, ChildDetails, DeadlineRow, DocumentRow, EventRow, MessageRow, StageRow, SummaryRow

__all__ = ["case_record_view", "write_case_record", "DEADLINE_STATUS"]

# The clock's stage statuses as the record's deadline table words them.
DEADLINE_STATUS = {
    "met": "met",
    "met (estimated)": "met (estimated)",
    "missed": "missed",
    "overdue": "overdue",
    "on-time": "open",
    "due-today": "open",
    "no-fixed-timescale": "no fixed timescale",
    "not-recorded": "not recorded",
}


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _describe(event: dict[str, Any]) -> str:
    facts = EventSnapshot(id=0, kind=event["kind"], at=_at(event["at"]), stage=event.get("stage"),
                       variant=event.get("variant"), detail=event.get("detail") or {})
    return describe_event(facts)


def _child(document: dict[str, Any]) -> ChildDetails:
    child = document.get("child") or {}
    plan = ((document.get("facts") or {}).get("child-protection-plan-or-looked-after") or {}).get("value")
    return ChildDetails(
        name=child.get("name") or "",
        dob=child.get("dob"),
        identifier=child.get("identifier") or "",
        plan="Child Protection Plan or Child Looked After" if plan else "",
    )


SUMMARY_EXCERPT = 1200  # characters of a summary's mail shown when no form states it


def _action_text(action: Any) -> str:
    if not isinstance(action, dict):
        return str(action)
    extras = [str(action[k]) for k in ("owner", "by_whom", "timeline", "date_completed") if action.get(k)]
    return str(action.get("action") or "") + (f" ({', '.join(extras)})" if extras else "")


def summaries_of(document: dict[str, Any]) -> list[SummaryRow]:
    """Each stage summary recorded on the case, with its outcome, what the form or mail said,
    and the actions agreed (pure; from the timeline's events and messages)."""
    texts = {m.get("message_id"): m.get("text") or "" for m in document.get("messages") or []}
    forms: dict[str | None, dict[str, Any]] = {}
    for event in document.get("events") or []:
        if event["kind"] == "form-read":
            forms.setdefault(event.get("message_id"), (event.get("detail") or {}).get("fields") or {})
    rows = []
    for event in document.get("events") or []:
        if event["kind"] != "stage-summary":
            continue
        fields = forms.get(event.get("message_id")) or {}
        said = fields.get("summary") or fields.get("discussion_summary") or fields.get("outcome_summary")
        text = str(said) if said else texts.get(event.get("message_id"), "")[:SUMMARY_EXCERPT]
        rows.append(SummaryRow(
            at=_at(event["at"]), stage=event.get("stage"),
            outcome=((event.get("detail") or {}).get("outcome") or "not stated").replace("-", " "),
            summary=text, actions=[_action_text(a) for a in fields.get("actions") or [] if a],
            source="filled form" if said else ("the mail" if text else ""),
        ))
    return rows


def case_record_view(
    document: dict[str, Any], *, protocol_name: str, sender_agency: str, generated_at: datetime
) -> CaseRecordView:
    """The record's view of a ``case_timeline`` document (pure)."""
    clock = document.get("clock") or []
    stages = [
        StageRow(stage=t["stage"], name=t["name"], entered_at=_at(t["started"]), due=_at(t["due"]), left_at=_at(t["ended"]))
        for t in clock
        if t["started"]  # a not-recorded stage has no place on the timeline chart
    ]
    deadlines = [
        DeadlineRow(
            stage=t["stage"], stage_name=t["name"], due=_at(t["due"]), basis=t["basis"], met_at=_at(t["ended"]),
            status=DEADLINE_STATUS.get(t["status"], "open"),
        )
        for t in clock
    ] + [  # each stage's own deadlines (an outcome letter), "met at" when recorded done
        DeadlineRow(
            stage=t["stage"], stage_name=d["what"], due=_at(d["due"]),
            basis=d["basis"] + (" from the resolution" if d["counts_from"] == "resolution" else ""),
            met_at=_at(d.get("done")), status=DEADLINE_STATUS.get(d["status"], "open"),
        )
        for t in clock for d in t.get("deadlines") or []
    ]
    events = [
        EventRow(at=_at(e["at"]), kind=e["kind"], description=_describe(e),
                 actor="intake" if e.get("message_id") and e["kind"] != "notice-sent" else "resdesk")
        for e in document.get("events") or []
    ]
    messages = [
        MessageRow(
            at=_at(m["received_at"]) or generated_at, direction="in", correspondent=m.get("from") or "",
            subject=m.get("subject") or "", message_id=m.get("message_id") or "", sha256=m.get("sha256") or "",
            text=m.get("text") or "",
        )
        for m in document.get("messages") or []
    ] + [
        MessageRow(
            at=_at(o["sent_at"]) or _at(o["created_at"]) or generated_at, direction="out",
            correspondent=", ".join(o.get("recipients") or []), subject=f"{o.get('subject') or ''} ({o['state']})",
            message_id=o.get("message_id") or "", sha256=o.get("sha256") or "",
        )
        for o in document.get("outbound") or []
    ]
    documents = [
        DocumentRow(at=_at(d["created_at"]) or generated_at, name=d["filename"], media_type=d["media_type"], sha256=d["sha256"])
        for d in document.get("documents") or []
    ]
    status = document["status"] + (" (overdue)" if document.get("overdue") else "")
    current = clock[-1] if clock else None
    return CaseRecordView(
        case_ref=document["ref"],
        protocol_id=document["protocol"],
        protocol_name=protocol_name,
        sender_agency=sender_agency,
        opened_at=_at(document.get("opened")) or (stages[0].entered_at if stages else generated_at),
        generated_at=generated_at,
        status=status,
        stage=document["stage"] if document.get("stage") is not None else (current["stage"] if current else 0),
        stage_name=current["name"] if current else "no stage recorded",
        child=_child(document),
        stages=stages,
        events=events,
        messages=sorted(messages, key=lambda m: m.at),
        summaries=summaries_of(document),
        documents=documents,
        deadlines=deadlines,
        record_json=document,
    )


def write_case_record(
    store, document: dict[str, Any], path: str | Path | None, settings, *, generated_at: datetime | None = None
) -> bytes:
    """Render the case's auditor record (PDF/A-3u, JSON embedded), write it to ``path`` (unless
    None: the workspace sends it as a download) and file it on the case; return its bytes."""
    from resdesk.protocols import default_registry

    generated_at = generated_at or datetime.now(timezone.utc)
    try:
        protocol = default_registry(settings.partnership.protocols_dir).get(document["protocol"])
        protocol_name = f"{protocol.name}: {protocol.title} ({protocol.version})"
        agency = protocol.name
    except Exception:  # a protocol no longer defined: the record still says which one it was
        protocol_name = agency = document["protocol"]
    view = case_record_view(document, protocol_name=protocol_name, sender_agency=agency, generated_at=generated_at)
    pdf = render_case_record(view)
    if path is not None:
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(pdf)
        except OSError as exc:
            raise RenderError(f"The case record could not be written to {target} ({exc.strerror}).") from None
    with store.transaction() as tx:
        case = tx.require_case(document["ref"])
        tx.add_document(case, "case-record", f"case-record-{case.ref}.pdf", "application/pdf", pdf)
    return pdf
