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

from resdesk.intake.classify import Classification, classify
from resdesk.intake.correlate import correlate, find_reference, format_reference
from resdesk.intake.ledger import Ledger
from resdesk.intake.message import InboundMessage, parse_message, safe_header_text
from resdesk.intake.process import IntakePolicy, IntakeProcessor
from resdesk.intake.readers import ReaderPool
from resdesk.intake.reading import MessageReader
from resdesk.intake.recording import CaseRecorder
from resdesk.intake.senders import check_sender
from resdesk.intake.sources import ImapSource, MailSource, MaildirSource, connect_source
from resdesk.intake.watch import DrainReport, Filing, Watcher
from resdesk.intake.quarantine import dismiss, file_on_case, quarantined, release

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
