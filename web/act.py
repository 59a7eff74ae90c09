"""Acting on a case (business-unit role): move a message, accept a message from someone not on
the case, merge two cases, re-open or close, set the stage, set or clear a case fact, clear
"needs review", add a note, add a party, record a deadline kept outside the case file done (a
stage's MASH referral, a resolved case's outcome letter) or withdraw such a record made in error,
resend or cancel an outbound message.

Each is a POST with the form's CSRF token and a required ``reason``; each becomes an
event on the case and an audit entry naming the user. A refused correction (no
reason, an impossible stage) comes back as a message on the case page, nothing changed.
"""

from __future__ import annotations

from typing import Callable

from flask import Blueprint, flash, g, redirect, request, url_for

from resdesk.cases import corrections
from resdesk.cases.models import BUSINESS_UNIT
from resdesk.errors import ResdeskError
from resdesk.intake import accepting
from resdesk.outbox import corrections as outbound
from resdesk.web.access import requires
from resdesk.web.app import workspace

blueprint = Blueprint("act", __name__)


def perform(work: Callable, done: str, back: str):
    """Run ``work(tx, now, actor, reason)`` in one unit of work; flash the outcome; go to ``back``."""
    ws = workspace()
    try:
        with ws.store.transaction() as tx:
            work(tx, ws.now(), g.user.name, request.form.get("reason", ""))
    except ResdeskError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "done")
    return redirect(back, code=303)


def _stage_number(name: str = "stage") -> int | None:
    text = request.form.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return -1  # no protocol has it: refused with the protocol's own message


def _protocol(tx, ref: str):
    return workspace().registry.get(tx.require_case(ref).protocol)


@blueprint.post("/cases/<ref>/move-message")
@requires(BUSINESS_UNIT)
def move_message(ref: str):
    target = request.form.get("to_ref", "").strip().upper()
    ledger_id = request.form.get("ledger_id", type=int) or 0
    return perform(lambda tx, now, who, why: corrections.move_message(tx, ledger_id, target, now, actor=who, reason=why),
                   f"The message was moved to {target}.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/merge")
@requires(BUSINESS_UNIT)
def merge(ref: str):
    survivor = request.form.get("into_ref", "").strip().upper()
    return perform(lambda tx, now, who, why: corrections.merge_cases(tx, ref, survivor, now, actor=who, reason=why),
                   f"{ref} was merged into {survivor}.", url_for("see.case", ref=survivor or ref))


@blueprint.post("/cases/<ref>/reopen")
@requires(BUSINESS_UNIT)
def reopen(ref: str):
    stage = _stage_number()
    return perform(lambda tx, now, who, why: corrections.reopen_case(tx, _protocol(tx, ref), ref, now, actor=who,
                                                                     reason=why, stage=stage),
                   "The case was re-opened.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/close")
@requires(BUSINESS_UNIT)
def close(ref: str):
    return perform(lambda tx, now, who, why: corrections.close_case(tx, ref, now, actor=who, reason=why),
                   "The case was closed as resolved.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/stage")
@requires(BUSINESS_UNIT)
def set_stage(ref: str):
    stage = _stage_number()
    return perform(lambda tx, now, who, why: corrections.set_stage(tx, _protocol(tx, ref), ref, -1 if stage is None else stage,
                                                                   now, actor=who, reason=why),
                   f"The case is now at stage {stage}.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/facts")
@requires(BUSINESS_UNIT)
def set_fact(ref: str):
    """Set or correct one case fact (``cases.facts.set_fact``): the clock and what is owed follow."""
    from resdesk.cases import set_fact as set_case_fact

    name, value = request.form.get("name", "").strip(), request.form.get("value", "").strip()
    return perform(lambda tx, now, who, why: set_case_fact(tx, tx.require_case(ref), name, value, by=who,
                                                           reason=corrections.required_reason(why), at=now),
                   f"The case fact {name} is now {value}.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/facts/clear")
@requires(BUSINESS_UNIT)
def clear_fact(ref: str):
    """Clear one case fact a person or a message set (``cases.facts.clear_fact``)."""
    from resdesk.cases import clear_fact as clear_case_fact

    name = request.form.get("name", "").strip()
    return perform(lambda tx, now, who, why: clear_case_fact(tx, tx.require_case(ref), name, by=who,
                                                             reason=corrections.required_reason(why), at=now),
                   f"The case fact {name} is cleared.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/clear-review")
@requires(BUSINESS_UNIT)
def clear_review(ref: str):
    return perform(lambda tx, now, who, why: corrections.clear_review(tx, ref, now, actor=who, reason=why),
                   "The case no longer needs review.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/notes")
@requires(BUSINESS_UNIT)
def add_note(ref: str):
    text = request.form.get("text", "")
    return perform(lambda tx, now, who, why: corrections.add_note(tx, ref, text, now, actor=who),
                   "The note was added.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/parties")
@requires(BUSINESS_UNIT)
def add_party(ref: str):
    form = request.form
    return perform(lambda tx, now, who, why: corrections.add_party(
        tx, ref, form.get("email", ""), now, actor=who, reason=why,
        name=form.get("name"), agency=form.get("agency"), role=form.get("role")),
        "The party was added: their mail about this case is now a party's.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/deadlines")
@requires(BUSINESS_UNIT)
def deadline_met(ref: str):
    """Record one of a case's deadlines a person keeps done (``cases.record_deadline_met``: a running
    stage's referral to MASH, a resolved case's outcome letter); ``done`` is the day (or moment) it was
    done, today when left blank."""
    from resdesk.cases import record_deadline_met
    from resdesk.protocols import parse_when

    ws = workspace()
    name, done = request.form.get("deadline", "").strip(), request.form.get("done", "").strip()

    def work(tx, now, who, why):
        when = parse_when(done, what="date it was done") if done else None
        record_deadline_met(tx, ws.registry, ref, name, now, actor=who, reason=why, calendar_for=ws.calendar_for,
                            done=when)

    return perform(work, f"The {name} deadline is recorded done.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/deadlines/withdraw")
@requires(BUSINESS_UNIT)
def withdraw_deadline_met(ref: str):
    """Withdraw a deadline's record of done made in error (``cases.withdraw_deadline_met``)."""
    from resdesk.cases import withdraw_deadline_met as withdraw

    ws = workspace()
    name = request.form.get("deadline", "").strip()
    return perform(lambda tx, now, who, why: withdraw(tx, ws.registry, ref, name, now, actor=who, reason=why,
                                                      calendar_for=ws.calendar_for),
                   f"The record of the {name} deadline done is withdrawn: it reads as never recorded.",
                   url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/messages/<int:ledger_id>/accept")
@requires(BUSINESS_UNIT)
def accept_message(ref: str, ledger_id: int):
    ws = workspace()
    back = url_for("see.case", ref=ref) + f"#message-{ledger_id}"
    if ws.processor is None:
        flash("This workspace was started without the watcher's settings, so it cannot read mail again.", "error")
        return redirect(back, code=303)
    try:
        accepted = accepting.accept(ws.store, ws.processor, ledger_id, ws.now(), actor=g.user.name,
                                    reason=request.form.get("reason", ""), ref=ref)
    except ResdeskError as exc:
        flash(str(exc), "error")
    else:
        flash(f"The message was accepted and recorded: {accepted.case_ref} is now {accepted.status}"
              + (f" at stage {accepted.stage}" if accepted.stage is not None else "") + ".", "done")
    return redirect(back, code=303)


@blueprint.post("/cases/<ref>/outbound/resend")
@requires(BUSINESS_UNIT)
def resend(ref: str):
    message_id = request.form.get("message_id", "")
    return perform(lambda tx, now, who, why: outbound.resend(tx, message_id, now, actor=who, reason=why),
                   "The message will be sent again at the next tick.", url_for("see.case", ref=ref))


@blueprint.post("/cases/<ref>/outbound/cancel")
@requires(BUSINESS_UNIT)
def cancel(ref: str):
    message_id = request.form.get("message_id", "")
    return perform(lambda tx, now, who, why: outbound.cancel(tx, message_id, now, actor=who, reason=why),
                   "The message was cancelled; it will not be sent.", url_for("see.case", ref=ref))
