"""Resolution Desk: the application shell (command line, settings, wiring).

Public surface: ``ResdeskError`` and its subclasses, ``main``.
"""

from resdesk.errors import (
    DefinitionError,
    FormError,
    IntakeError,
    ProtocolError,
    RenderError,
    ResdeskError,
    StoreError,
    UnknownProtocol,
    UnknownStage,
    UsageError,
)

__all__ = [
    "DefinitionError",
    "FormError",
    "IntakeError",
    "ProtocolError",
    "RenderError",
    "ResdeskError",
    "StoreError",
    "UnknownProtocol",
    "UnknownStage",
    "UsageError",
    "main",
]


def main(argv=None):  # pragma: no cover - thin re-export
    from resdesk.cli import main as _main

    return _main(argv)
