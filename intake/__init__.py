"""Intake: mailboxes, the ledger, classification, correlation, and the watch loop.

Public surface:

- reading mail: ``parse_message``, ``InboundMessage``, ``safe_header_text``;
- deciding what it is: ``classify``, ``Classification``, ``check_sender``,
  ``correlate``, ``find_reference``, ``format_reference``;
- the mailbox side: ``MailSource``, ``MaildirSource``, ``ImapSource``,
  ``connect_source``, ``Ledger``;
- the loop: ``Watcher``, ``IntakeProcessor`` (reading with ``MessageReader``, on a second core with
  ``ReaderPool``; recording with ``CaseRecorder``), ``IntakePolicy``;
- the business unit's decisions on quarantined mail: ``release``, ``file_on_case``, ``dismiss``.
"""

from importlib import import_module

from resdesk.intake.classify import Classification, classify
from resdesk.intake.correlate import correlate, find_reference, format_reference
from resdesk.intake.message import InboundMessage, parse_message, safe_header_text
from resdesk.intake.readers import ReaderPool
from resdesk.intake.reading import MessageReader
from resdesk.intake.senders import check_sender

# The case file's side, imported on first use (name -> its module): the reader process
# (``readers``) reads mail with the modules above and never loads SQLAlchemy or the models.
_RECORDING = {
    "Ledger": "ledger",
    "IntakePolicy": "process", "IntakeProcessor": "process",
    "CaseRecorder": "recording",
    "ImapSource": "sources", "MailSource": "sources", "MaildirSource": "sources", "connect_source": "sources",
    "DrainReport": "filing", "Filing": "filing", "Watcher": "watch",
    "dismiss": "quarantine", "file_on_case": "quarantine", "quarantined": "quarantine", "release": "quarantine",
}

__all__ = [
    "dismiss",
    "file_on_case",
    "quarantined",
    "release",
    "CaseRecorder",
    "Classification",
    "DrainReport",
    "Filing",
    "ImapSource",
    "InboundMessage",
    "IntakePolicy",
    "IntakeProcessor",
    "Ledger",
    "MailSource",
    "MessageReader",
    "MaildirSource",
    "ReaderPool",
    "Watcher",
    "check_sender",
    "classify",
    "connect_source",
    "correlate",
    "find_reference",
    "format_reference",
    "parse_message",
    "safe_header_text",
]


def __getattr__(name: str):
    """A public name of the case file's side, its module imported on first use (``_RECORDING``)."""
    module = _RECORDING.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
