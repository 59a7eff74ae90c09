"""The templates a notice carries, pre-filled from the case (pure).

Oldham's Resolution Notice (Appendix 2) and Sandwell's Multi-Agency Escalation
of Safeguarding Concern Resolution template (Appendix 3) start from what the
case file knows — the child, who raised the concern, the history so far — and
take every value from the latest filled copy of that form read from mail
(``form-read`` events, field names as PRODUCT §6), which wins where it says something.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from resdesk.cases.timeline import STAGE_ENTERED
from resdesk.protocols import Protocol, to_local

from .snapshot import CaseSnapshot, EventSnapshot, agreed_actions, first_sender, history, latest_form
from .views import ActionRow, EscalationConcernView, ResolutionNoticeView

__all__ = ["resolution_notice", "escalation_concern"]


def _clean_fields(fields: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    allowed = set(model.model_fields)
    return {k: v for k, v in fields.items() if k in allowed and v not in (None, "") and k != "actions"}


def resolution_notice(facts: CaseSnapshot, protocol: Protocol, base: dict[str, Any], entry: EventSnapshot) -> ResolutionNoticeView:
    name, address = first_sender(facts)
    party = next((p for p in facts.parties if p.email and p.email.lower() == address.lower()), None)
    previous = [e.stage for e in facts.events if e.kind == STAGE_ENTERED and e.at <= entry.at and e.stage != entry.stage]
    values: dict[str, Any] = {
        "notification_date": to_local(entry.at).date(),
        "child_name": facts.child_name or "",
        "child_dob": facts.child_dob,
        "child_identifier": facts.child_identifier or "",
        "raised_by_name": name or (party.name if party and party.name else ""),
        "raised_by_agency": (party.agency or "") if party else "",
        "raised_by_role": (party.role or "") if party else "",
        "raised_by_contact": address,
        "discussion_summary": "\n".join(r.description for r in history(facts, entry.at)),
        "outcome_summary": (
            f"Unresolved at stage {previous[-1]}; escalated to stage {entry.stage}." if previous
            else f"Escalated to stage {entry.stage}."
        ),
    }
    fields = latest_form(facts, "resolution-notice", entry.at)
    values.update({k: str(v) if k != "notification_date" and k != "child_dob" else v
                   for k, v in _clean_fields(fields, ResolutionNoticeView).items()})
    actions = [
        ActionRow(action=str(r.get("action") or ""), owner=str(r.get("owner") or ""),
                  timeline=str(r.get("timeline") or ""), completed=r.get("completed"))
        for r in fields.get("actions") or [] if r.get("action")
    ] or agreed_actions(facts, entry.at)
    return ResolutionNoticeView(**base, **values, actions=actions)


def escalation_concern(facts: CaseSnapshot, protocol: Protocol, base: dict[str, Any], entry: EventSnapshot) -> EscalationConcernView:
    name, address = first_sender(facts)
    party = next((p for p in facts.parties if p.email and p.email.lower() == address.lower()), None)
    values: dict[str, Any] = {
        "child_name": facts.child_name or "",
        "child_dob": facts.child_dob,
        "raised_by_name": name,
        "raised_by_email": address,
        "raised_by_role_agency": " / ".join(x for x in ((party.role, party.agency) if party else ()) if x),
        "other_professionals": "; ".join(
            f"{p.name or p.email}" + (f" ({p.agency})" if p.agency else "")
            for p in facts.parties if (p.email or "").lower() != address.lower()
        ),
        "disagreement_details": "\n".join(r.description for r in history(facts, entry.at)),
        "discussion_date": to_local(entry.at).date(),
    }
    fields = latest_form(facts, "escalation-concern", entry.at)
    dates = {"child_dob", "discussion_date", "resolved_date", "completed_date"}
    values.update({k: v if k in dates else str(v) for k, v in _clean_fields(fields, EscalationConcernView).items()})
    actions = [
        {"action": str(r.get("action") or ""), "by_whom": str(r.get("by_whom") or ""),
         "date_completed": r.get("date_completed")}
        for r in fields.get("actions") or [] if r.get("action")
    ]
    return EscalationConcernView(**base, **values, actions=actions)
