"""The product's one error tree.

Every failure a person can act on is a ``ResdeskError``; the command line turns
it into one sentence on stderr and an exit status, never a traceback.

    ResdeskError                  base; ``exit_status`` 1 (the work failed)
    ├── UsageError                bad arguments or input from the user; exit 2
    ├── ProtocolError             a protocol definition or a stage/time asked of it
    │   ├── UnknownProtocol       no definition with that id
    │   ├── UnknownStage          the protocol has no such stage
    │   └── DefinitionError       a definition file is malformed (file, key, reason)
    ├── FormError                 a filled template cannot be read (file, field, reason)
    │   └── HostileFile           the file is dangerous (macros, zip bomb, DOCTYPE...)
    ├── SignInError               no OAuth2 access token for a mailbox (Microsoft 365, Google)
    ├── IntakeError               a message cannot be fetched, classified or filed
    ├── StoreError                the case file cannot be read or written
    │   └── SchemaOutOfDate       the case file's schema is older than this version's
    └── RenderError               a document or outbound message cannot be produced

Each carries the context that caused it as attributes, and ``str(error)`` is the
sentence shown to the user.
"""

from __future__ import annotations


class ResdeskError(Exception):
    """Base of every error the product reports to a person."""

    exit_status = 1


class UsageError(ResdeskError):
    """The command was given something it cannot use (an unreadable time, say)."""

    exit_status = 2


class ProtocolError(ResdeskError):
    """A protocol definition is missing, malformed, or asked about a stage it lacks."""

    exit_status = 2


class UnknownProtocol(ProtocolError):
    def __init__(self, protocol_id: str, known: list[str]):
        self.protocol_id = protocol_id
        self.known = known
        super().__init__(
            f"There is no protocol '{protocol_id}'; known protocols are {', '.join(known)}."
        )


class UnknownStage(ProtocolError):
    def __init__(self, protocol_id: str, stage: object, known: list[int]):
        self.protocol_id = protocol_id
        self.stage = stage
        self.known = known
        super().__init__(
            f"The {protocol_id} protocol has no stage {stage}; its stages are "
            f"{', '.join(str(s) for s in known)}."
        )


class DefinitionError(ProtocolError):
    """A protocol definition file failed validation."""

    def __init__(self, path: str, key: str, reason: str):
        self.path = path
        self.key = key
        self.reason = reason
        where = f" at '{key}'" if key else ""
        super().__init__(f"Protocol definition {path} is invalid{where}: {reason}.")


class FormError(ResdeskError):
    """A filled template could not be read into a record."""

    exit_status = 2

    def __init__(self, reason: str, *, file: str | None = None, field: str | None = None):
        self.file = file
        self.field = field
        self.reason = reason
        parts = []
        if file:
            parts.append(f"{file}")
        if field:
            parts.append(f"field '{field}'")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class HostileFile(FormError):
    """A file refused as dangerous, not merely unusable: macros, ActiveX, a zip bomb, a DOCTYPE
    or entity declaration, encrypted or path-climbing package entries."""
class SignInError(ResdeskError):
    """No access token could be had for a mailbox, or the mail server refused the one given.

    ``step`` names the setting or the administrator's step that fixes it; ``code`` is the
    sign-in service's error code when it gave one (``AADSTS7000215``, ``unauthorized_client``).
    """

    def __init__(self, message: str, *, step: str = "", code: str | None = None):
        self.step = step
        self.code = code
        super().__init__(message)


class IntakeError(ResdeskError):
    """A message could not be fetched, classified or filed."""


class StoreError(ResdeskError):
    """The case file could not be read or written."""


class SchemaOutOfDate(StoreError):
    """The case file was made by an older version: ``resdesk migrate`` must upgrade it first."""

    def __init__(self, url: str, current: str | None, head: str):
        self.url = url
        self.current = current
        self.head = head
        at = f"schema {current}" if current else "no known schema"
        super().__init__(
            f"The case file at {url} is at {at}, older than this version's {head}; run "
            f"`resdesk migrate` (after `resdesk backup`) before starting the service."
        )


class RenderError(ResdeskError):
    """A document or an outbound message could not be produced."""
