"""Mail whose content is sealed away from us: encrypted S/MIME, Microsoft Purview protection
(``message.rpmsg``) and secure-mail gateways' "you have a secure message" notices (pure).

Such mail is protocol mail we cannot read: it is quarantined with a reason that says what to
do, and its sender is told. A signed-only S/MIME message (``multipart/signed``) is readable and
is not sealed.
"""

from __future__ import annotations

import re

from resdesk.intake.classify import template_attachments
from resdesk.intake.message import InboundMessage

__all__ = ["sealed_reason"]

_SMIME_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_RPMSG_TYPES = ("application/x-microsoft-rpmsg-message", "application/x-microsoft-rpmsg")
_GATEWAY = re.compile(
    r"\b(?:you have (?:received|been sent) an? (?:secure|encrypted|protected) (?:message|e-?mail)"
    r"|(?:secure|encrypted|protected) (?:message|e-?mail) (?:has been sent to you|is waiting|from)"
    r"|to read (?:this|the|your) (?:secure|encrypted|protected) message"
    r"|(?:egress|mimecast|zix|virtru|cisco secure email|proofpoint encryption|voltage securemail|"
    r"office 365 message encryption|microsoft purview message encryption)\b)",
    re.IGNORECASE,
)
_RESEND = "ask the sender to send it again unencrypted over a secure connection (TLS) or through the partnership's agreed secure route"


def sealed_reason(message: InboundMessage) -> str | None:
    """Why ``message``'s content cannot be read by us, with what to do; None when it can be."""
    if message.content_type in _SMIME_TYPES or message.content_type == "multipart/encrypted":
        return f"it is encrypted (S/MIME or PGP) and cannot be read; {_RESEND}"
    names = {a.filename.lower() for a in message.attachments}
    types = {a.content_type.lower() for a in message.attachments}
    if types & set(_SMIME_TYPES) or any(name.endswith((".p7m", ".p7e")) for name in names):
        return f"it is encrypted with S/MIME (smime.p7m) and cannot be read; {_RESEND}"
    if "message.rpmsg" in names or types & set(_RPMSG_TYPES):
        return (
            "it is protected by Microsoft Purview (message.rpmsg) and only its addressees can open it; "
            "ask the sender to send it without protection (no 'Encrypt' or 'Do Not Forward') to the partnership's inbox"
        )
    if _GATEWAY.search(message.body_text[:5000]) and not template_attachments(message):
        return f"it is a secure-mail gateway's notice: the message itself waits on the gateway's web site; {_RESEND}"
    return None
