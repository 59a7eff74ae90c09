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
through is noted as a flaw ("read from the attached message …").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from resdesk.cases.timeline import outcome_from_text
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


def carried_message(outer: InboundMessage, our_addresses: set[str]) -> Carried | None:
    """The attached message to read in place of ``outer``, or None (see the module docstring)."""
    return _carried(outer, our_addresses, level=1)


def _carried(outer: InboundMessage, our_addresses: set[str], *, level: int) -> Carried | None:
    """The message ``outer`` carries at ``level`` (1: attached to the mail that arrived), or one
    it carries in turn when that one says nothing of its own."""
    if level > MESSAGE_DEPTH or outcome_from_text(outer.new_text) is not None:
        return None
    attached = [a for a in outer.attachments if a.content_type in _MESSAGE_TYPES and a.data]
    if not attached or template_attachments(outer):
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
        deeper = _carried(merged, our_addresses, level=level + 1)
        if deeper is not None:
            return deeper
        classification = classify(merged, our_addresses)
        if classification.is_protocol_mail:
            return Carried(merged, attachment.data, classification)
    return None
