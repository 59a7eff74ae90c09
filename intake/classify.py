"""What a received message is (pure): a stage summary, Oldham's stage 3 notification, a filled
template, a reply, automatic mail, or not protocol mail at all (PRODUCT §3, step 2).

Checks run in this order, and the first that fits decides:

1. *automatic* — our own notice coming back (our From address, our ``X-Resdesk-*``
   header, or a Message-ID the outbox wrote, even through a forwarder), ``Auto-Submitted``
   other than ``no``, ``X-Autoreply``/``X-Autorespond``, ``Precedence`` junk/auto_reply,
   an empty ``Return-Path: <>``, a ``multipart/report`` delivery report or read receipt,
   MAILER-DAEMON/postmaster senders, and the subject lines of out-of-office replies and
   bounces in the languages Exchange and Gmail use. Nothing automatic is ever answered.
2. *stage-3-notification* — Oldham's "Notification of Escalation progressing to stage 3"
   (Oldham 2025, stage 2/3 table: "email title – Notification of Escalation progressing
   to stage 3").
3. *stage-summary* — "Escalation & Resolution Protocol: Stage N Summary" (Oldham 2025,
   stages 1–3: "email title – Escalation & Resolution Protocol: Stage 1 Summary"), as
   people really type it. The protocol must be named (or a case reference be present)
   and the words "stage N summary" (or "summary of stage N") appear; a subject that only
   mentions the protocol, or talks of training, is not a summary.
4. *filled-template* — a document attachment (Word, ODT, RTF or PDF, also inside a
   ``winmail.dat``) on protocol mail, or form labels typed into the body.
5. *reply* — a case reference in the subject, or thread headers; correlation decides
   whether it is on a known case.
6. *not-protocol* — everything else, which is left where it is.

``Precedence: list``/``bulk``, ``List-Id``, ``List-Unsubscribe`` and ``X-Auto-Response-Suppress``
only hold back the acknowledgement: a person's stage summary sent through a distribution list
is still recorded (``reply_held_back``). ``no_automatic_reply`` is the one test, used for every
automatic answer, of whether a message may get one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Literal

from resdesk.intake.correlate import find_reference
from resdesk.intake.documents import DOCUMENT_EXTENSIONS, DOCUMENT_TYPES
from resdesk.intake.message import InboundMessage

Kind = Literal["stage-summary", "stage-3-notification", "filled-template", "reply", "automatic", "not-protocol"]

_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|doorst|tr|rif|enc|res|odp|přeposlat)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]"
    r"|\[[^\]]*\]|\([^)]*external[^)]*\)|\*+[^*]*\*+)\s*",
    re.IGNORECASE,
)
_REPLY_PREFIX_AT = re.compile(_REPLY_PREFIX.pattern.removeprefix("^"), re.IGNORECASE)
# Auto-reply and bounce subjects as Exchange, Gmail and other servers write them, in English and
# the languages they ship: German, French, Spanish, Italian, Dutch, Portuguese, the Scandinavian
# languages, Polish and Welsh.
_AUTOMATIC_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic|mated)?[- ]?(?:response|reply)|auto|out of (?:the )?office|"
    r"ooo|automatische antwort|abwesenheitsnotiz|autosvar|autoreply|undeliverable|undelivered|"
    r"unzustellbar|delivery status notification|delivery (?:has )?failed|mail delivery failed|"
    r"returned mail|failure notice|delivery failure|read|not read|delivered|"
    r"gelesen|ungelesen|zugestellt|r[ée]ponse automatique|absent(?:e)? du bureau|absence du bureau|"
    r"non remis|respuesta autom[áa]tica|fuera de la oficina|no se puede entregar|risposta automatica|"
    r"fuori sede|non recapitabile|automatisch antwoord|afwezig|onbestelbaar|resposta autom[áa]tica|"
    r"fora do escrit[óo]rio|automatiskt svar|automatisk svar|fr[åa]nvaro|frav[æa]r|"
    r"automatyczna odpowied[źz]|poza biurem|nieobecno[śs][ćc]|ateb awtomatig|allan o'r swyddfa|"
    # Urdu, Arabic, Punjabi, Bengali, Gujarati, Hindi, Romanian, Lithuanian, Turkish, Czech/Slovak,
    # Hungarian, Bulgarian, Russian, Greek and Chinese, as Exchange and Gmail localise them.
    r"خودکار جواب|دفتر سے باہر|رد تلقائي|الرد التلقائي|ਸਵੈਚਲਿਤ ਜਵਾਬ|স্বয়ংক্রিয় উত্তর|স্বয়ংক্রিয় উত্তর|"
    r"સ્વચાલિત જવાબ|स्वचालित उत्तर|स्वतः उत्तर|r[ăa]spuns automat|absent de la birou|automatinis atsakymas|"
    r"otomatik (?:yan[ıi]t|cevap)|ofis d[ıi][şs][ıi]nda|automatick[áa] odpov[ěeď][ďd]?|automatikus v[áa]lasz|"
    r"автоматичен отговор|автоматический ответ|αυτόματη απάντηση|自动回复|自動回覆)\s*[:：]",
    re.IGNORECASE,
)
# What an auto-responder says of itself in its body.
_AUTOMATIC_BODY = re.compile(
    r"\b(?:this is an? )?(?:automated|automatic|auto-generated) (?:response|reply|message|e-?mail|notification)\b"
    r"|\bout of (?:the )?office\b|\bI am (?:currently )?(?:away|out of|on (?:annual )?leave)\b"
    r"|\bthis (?:mail)?box is (?:only |not )?(?:checked|monitored)\b"
    r"|\babwesend\b|\bréponse automatique\b|\brespuesta automática\b|\bautomatisch antwoord\b",
    re.IGNORECASE,
)
# The Message-IDs the outbox writes (outbox.message.message_id_for): <hex.resdesk@our domain>.
_OUR_MESSAGE_ID = re.compile(r"^<[0-9a-f]+\.resdesk@([^>]+)>$", re.IGNORECASE)
_PROTOCOL = re.compile(
    r"\bescalation (?:and |to )?resolution(?: protocol| process)?\b|\bescalation (?:protocol|policy)\b"
)
_NUMBER = (
    r"(?P<n>\d{1,2}|zero|one|two|three|four|five|six|seven|first|second|third|fourth|fifth|"
    r"sixth|i|ii|iii|iv|v|vi|vii)"
)
# "Step" is the LSCP/LSAB process's word for a stage (Escalation to Resolution Process, Steps 1-4).
_SUMMARY = re.compile(
    rf"\b(?:stage|step) {_NUMBER} (?:(?:meeting|discussion|outcome|written) )?summary\b"
    rf"|\bsummary (?:of |for |from )?(?:the )?(?:stage|step) {_NUMBER.replace('?P<n>', '?P<m>')}\b"
    rf"|\b{_NUMBER.replace('?P<n>', '?P<k>')} (?:stage|step) summary\b"
)
_NOTIFICATION = re.compile(
    rf"\bnotification (?:of )?(?:an )?escalations? (?:is |has )?(?:progressing|progressed|progresses|progress|moving|moved) "
    rf"to stage {_NUMBER}\b"
)
_NOT_A_SUMMARY = re.compile(
    r"\b(?:training|workshop|webinar|seminar|course|newsletter|consultation|briefing|invitation|"
    r"invite|agenda|launch|guidance|draft protocol|revised protocol)\b"
)
_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7,
}
_ASKS_FOR_NO_REPLY = {"x-auto-response-suppress", "list-unsubscribe"}
_AUTOMATIC_SENDERS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_FORM_VOCABULARY = re.compile(
    r"escalat|resolution|safeguarding concern|summary log|stage summary|multi[- ]agency", re.IGNORECASE
)
# ``[^\S\n]*``, not ``\s*``: a label starts on its own line, and a leading ``\s*`` would run across
# every blank line below each line start (quadratic on 25,000 blank lines).
_FORM_LABEL = re.compile(
    r"^[^\S\n]*(?:name of child(?:/young person)?|child(?:'s)? name|d\.?o\.?b\.?|date of birth|"
    r"unique identifier.*|nhs (?:number|no\.?)|case ref(?:erence)?|stage|outcome|meeting date|"
    r"attendees|raised by.*|agency)\s*[:：]\s*\S",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Classification:
    """What a message is; ``stage`` is set for stage summaries and the stage 3 notification."""

    kind: Kind
    reason: str
    stage: int | None = None
    reference: str | None = None
    templates: tuple[str, ...] = ()
    acknowledge: bool = True  # False: recorded, but the reply is held back (see ``reply_held_back``)

    @property
    def is_protocol_mail(self) -> bool:
        return self.kind not in ("automatic", "not-protocol")


def strip_reply_prefixes(subject: str) -> str:
    """The subject without any run of ``RE:``/``FW:``/``AW:``/``WG:``… prefixes and ``[tags]``.
    One pass: each prefix is matched where the last ended (no re-copying of the subject)."""
    position = 0
    while True:
        match = _REPLY_PREFIX_AT.match(subject, position)
        if match is None or match.end() == position:
            return subject[position:].strip()
        position = match.end()


def normalise_subject(subject: str) -> str:
    """Lower-case words only: prefixes and tags gone, "&"/"+" read as "and", punctuation as spaces."""
    text = unicodedata.normalize("NFKC", strip_reply_prefixes(subject)).casefold()
    text = re.sub(r"[&+]", " and ", text)
    text = re.sub(r"(?<=\d)(?:st|nd|rd|th)\b", "", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def summary_stage(subject: str) -> int | None:
    """The stage N of an "Escalation & Resolution Protocol: Stage N Summary" subject, else None."""
    text = normalise_subject(subject)
    if not (_PROTOCOL.search(text) or find_reference(subject)):
        return None
    if _NOT_A_SUMMARY.search(text):
        return None
    match = _SUMMARY.search(text)
    if not match:
        return None
    return _stage_number(match.group("n") or match.group("m") or match.group("k"))


def is_stage3_notification(subject: str) -> bool:
    """True for Oldham's "Notification of Escalation progressing to stage 3", however typed."""
    match = _NOTIFICATION.search(normalise_subject(subject))
    return bool(match) and _stage_number(match.group("n")) == 3


def _stage_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _WORDS.get(token)


def automatic_reason(msg: InboundMessage, our_addresses: set[str]) -> str | None:
    """Why a message is machine-sent mail (kind *automatic*: recorded only as such, never
    answered), or None. ``no_automatic_reply`` adds what only holds back the answer."""
    ours = {address.strip().lower() for address in our_addresses}
    if msg.resdesk_case or msg.resdesk_notice:
        return "it carries the product's own X-Resdesk header: one of our notices came back"
    if msg.sender and msg.sender.address.lower() in ours:
        return f"it is from our own address {msg.sender.address}"
    if msg.message_id and _is_our_message_id(msg.message_id, ours):
        return "its Message-ID is one the outbox wrote: one of our messages came back through a forwarder"
    for name, value in msg.auto_reply_headers:
        if name.lower() not in _ASKS_FOR_NO_REPLY:
            return f"it carries {name}: an auto-responder sent it"
    if msg.auto_submitted and msg.auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted is {msg.auto_submitted.split(';')[0].strip()}"
    if msg.precedence and msg.precedence.strip() in ("junk", "auto_reply"):
        return f"Precedence is {msg.precedence.strip()}"
    if msg.return_path_empty:
        return "the Return-Path is empty (<>), as on bounces"
    if msg.is_delivery_report or msg.content_type in ("message/delivery-status", "message/global-delivery-status"):
        return "it is a delivery report"
    if msg.sender and msg.sender.address.partition("@")[0].lower() in _AUTOMATIC_SENDERS:
        return f"it is from {msg.sender.address}"
    if _AUTOMATIC_SUBJECT.match(strip_tags(msg.subject)):
        return "its subject is an automatic reply's or a bounce's"
    if answers_our_mail(msg, ours) and _AUTOMATIC_BODY.search(msg.new_text[:5000]):
        return "it answers one of our messages and says it is automatic"
    return None


def answers_our_mail(msg: InboundMessage, our_addresses: set[str]) -> bool:
    """Whether ``In-Reply-To``/``References`` name a Message-ID the outbox wrote."""
    return any(_is_our_message_id(message_id, our_addresses) for message_id in msg.thread_ids)


def _is_our_message_id(message_id: str, our_addresses: set[str]) -> bool:
    domains = {address.rpartition("@")[2].lower() for address in our_addresses if "@" in address}
    match = _OUR_MESSAGE_ID.match(message_id)
    return bool(match and match.group(1).lower() in domains)


def no_automatic_reply(msg: InboundMessage, our_addresses: set[str]) -> str | None:
    """The one test of whether a message may get an automatic reply (an acknowledgement or a
    refusal): why not, or None when it may.

    Machine-sent mail (``automatic_reason``: our own mail come back, by header, From or
    Message-ID domain even through a forwarder; ``Auto-Submitted`` other than ``no``, RFC 3834;
    ``X-Autoreply``/``X-Autorespond``/``X-Auto-Reply``; ``Precedence`` junk or auto_reply; an empty
    Return-Path; ``multipart/report`` or ``message/delivery-status``, RFC 3464; MAILER-DAEMON;
    out-of-office and bounce subjects in the languages Exchange and Gmail use), and mail that asks
    for none (``X-Auto-Response-Suppress``, Microsoft [MS-OXCMAIL] 2.2.3.2.14; ``Precedence``
    bulk or list, RFC 3834 §3.1.8; ``List-Id``, RFC 2919)."""
    return automatic_reason(msg, our_addresses) or reply_held_back(msg)


def strip_tags(subject: str) -> str:
    """The subject without leading ``[tags]`` or ``*EXTERNAL*`` marks that gateways add."""
    return re.sub(r"^\s*(?:\[[^\]]*\]|\*+[^*]*\*+|\([^)]*external[^)]*\))\s*", "", subject, flags=re.IGNORECASE)


def reply_held_back(msg: InboundMessage) -> str | None:
    """Why mail a person sent through a distribution list gets no acknowledgement, or None.

    ``Precedence: list``/``bulk`` (RFC 3834 §3.1.8) and ``List-Id`` (RFC 2919) ask for no automatic
    reply; they do not make the mail machine mail, so what it says is still recorded. Nor does
    ``X-Auto-Response-Suppress``, which Exchange also sets on mail a person sends to a group."""
    for name, value in msg.auto_reply_headers:
        if name.lower() in _ASKS_FOR_NO_REPLY and value.strip():
            return f"it carries {name}: it asks for no automatic reply"
    if msg.precedence and msg.precedence.strip() in ("bulk", "list"):
        return f"Precedence is {msg.precedence.strip()}: no automatic reply to a list"
    if msg.list_id:
        return "it came through a mailing list (List-Id): no automatic reply to a list"
    return None


def template_attachments(msg: InboundMessage) -> tuple[str, ...]:
    """Names of attachments that may be filled templates (Word, ODT, RTF, PDF)."""
    return tuple(
        a.filename
        for a in msg.attachments
        if a.filename.lower().endswith(DOCUMENT_EXTENSIONS) or a.content_type.lower() in DOCUMENT_TYPES
    )


def classify(msg: InboundMessage, our_addresses: set[str]) -> Classification:
    """Decide what ``msg`` is; see the module docstring for the order of the checks. Protocol mail
    that came through a list is classified as usual, with ``acknowledge`` False."""
    found = _classify(msg, our_addresses)
    held = no_automatic_reply(msg, our_addresses) if found.is_protocol_mail else None
    if held is None:
        return found
    return replace(found, acknowledge=False, reason=f"{found.reason}; {held}")


def _classify(msg: InboundMessage, our_addresses: set[str]) -> Classification:
    reference = find_reference(msg.subject)
    templates = template_attachments(msg)
    automatic = automatic_reason(msg, our_addresses)
    if automatic:
        return Classification("automatic", automatic, reference=reference)
    if is_stage3_notification(msg.subject):
        return Classification(
            "stage-3-notification", "the subject is the notification of escalation progressing to stage 3",
            stage=3, reference=reference, templates=templates,
        )
    stage = summary_stage(msg.subject)
    if stage is not None:
        return Classification(
            "stage-summary", f"the subject is the stage {stage} summary", stage=stage,
            reference=reference, templates=templates,
        )
    if templates and (reference or _mentions_protocol(msg, templates)):
        return Classification(
            "filled-template", f"it carries {', '.join(templates)}", reference=reference, templates=templates
        )
    if len({m.group(0).split(":")[0].strip().lower() for m in _FORM_LABEL.finditer(msg.new_text)}) >= 3:
        return Classification("filled-template", "its body is a typed-in form", reference=reference)
    if reference:
        return Classification("reply", f"the subject carries the case reference {reference}", reference=reference)
    if msg.in_reply_to or msg.references:
        return Classification("reply", "it answers an earlier message", templates=templates)
    return Classification("not-protocol", "nothing in it is protocol mail", templates=templates)


def _mentions_protocol(msg: InboundMessage, templates: tuple[str, ...]) -> bool:
    return any(_FORM_VOCABULARY.search(text) for text in (msg.subject, *templates, msg.body_text[:5000]))
