"""Mail forwarded as an attachment, read like the mail it carries (pure).

Outlook's "forward as attachment" sends the original as a ``message/rfc822`` part (with or
without a file name); the outer mail only says it is forwarding. When the outer mail carries
nothing of its own — no document, no ``Outcome:`` line, no typed-in form — and the attached
message is protocol mail, the attached message is what is recorded: its subject, body, typed
labels, attached forms, sender and date. The outer mail's thread headers, sender
authentication and defects stay with it, because the outer mail is what arrived.

The same holds one level down, and the next: a colleague who forwards a forward (in Outlook,
by dragging the mail into a new one, which saves it as an embedded message) sends a message
that itself carries nothing of its own, so the message it carries is read instead, down to
``limits.MESSAGE_DEPTH`` levels below the mail that arrived. The deepest protocol mail reached
through messages that say nothing of their own is the one recorded; each level it was read
through is noted as a flaw ("read from the attached message …"). A stage 3 notification says
what it is by its subject alone (Oldham 2025, stage 3): what it carries (the stage 2 summary it
follows) is context, and the notification is what is recorded, whether it arrived itself or
was forwarded (then the forwarded notification, with its own sender and date).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from resdesk.intake.classify import Classification, classify, template_attachments
from resdesk.intake.limits import MESSAGE_DEPTH
from resdesk.intake.message import InboundMessage, parse_message
from resdesk.errors import IntakeError

__all__ = ["Carried", "carried_message"]

_MESSAGE_TYPES = ("message/rfc822", "message/global")


@dataclass(frozen=True)
class Carried:
    """The message an outer mail forwards: what to record, its own bytes (for its Date) and
    how it classifies."""

    message: InboundMessage
    raw: bytes
    classification: Classification


# Protocol mail whose subject alone says what it is (Oldham's "Notification of Escalation progressing
# to Stage 3"): a message it carries (the stage 2 summary, for the directors to read) is context, and
# is never read in its place.
_STANDS_ALONE = frozenset({"stage-3-notification"})


def carried_message(outer: InboundMessage, our_addresses: set[str],
                    classification: Classification | None = None) -> Carried | None:
    """The attached message to read in place of ``outer`` (classified as ``classification``, when
    known), or None (see the module docstring)."""
    stands_alone = classification is not None and classification.kind in _STANDS_ALONE
    return _carried(outer, our_addresses, level=1, stands_alone=stands_alone)


def _carried(outer: InboundMessage, our_addresses: set[str], *, level: int, stands_alone: bool = False) -> Carried | None:
    """The message ``outer`` carries at ``level`` (1: attached to the mail that arrived), or one
    it carries in turn when that one says nothing of its own. When ``outer`` stands alone (a stage 3
    notification), only a message that stands alone as well (the notification it forwards) replaces it."""
    if level > MESSAGE_DEPTH:
        return None
    attached = [a for a in outer.attachments if a.content_type in _MESSAGE_TYPES and a.data]
    if not attached or template_attachments(outer):
        return None
    # Imported here: most mail carries no message, and the reader process then never loads the case
    # file's package (``cases.timeline`` is pure, but its package brings SQLAlchemy and the models).
    from resdesk.cases.timeline import outcome_from_text

    if outcome_from_text(outer.new_text) is not None:
        return None
    for attachment in attached:
        try:
            inner = parse_message(attachment.data)
        except IntakeError:
            continue
        merged = replace(
            inner,
            in_reply_to=outer.in_reply_to,
            references=outer.references,
            authentication_results=outer.authentication_results,
            return_path=outer.return_path,
            return_path_present=outer.return_path_present,
            defects=tuple(dict.fromkeys((*outer.defects, *inner.defects))),
            flaws=tuple(dict.fromkeys((*outer.flaws, *inner.flaws, f"read from the attached message {attachment.filename}"))),
        )
        classification = classify(merged, our_addresses)
        if classification.kind in _STANDS_ALONE:
            return Carried(merged, attachment.data, classification)
        if stands_alone:
            continue  # context the notification carries (the summary it follows), not what it is
        deeper = _carried(merged, our_addresses, level=level + 1)
        if deeper is not None:
            return deeper
        if classification.is_protocol_mail:
            return Carried(merged, attachment.data, classification)
    return None
