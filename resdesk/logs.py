"""How the services log: one line per event, plain for a person at a terminal, or JSON for a log
collector (``service.log_format = "json"``: python-json-logger), each line carrying the correlation id
of the message in hand (``intake.filing.CORRELATION_ID``).

No log line may name a child: the product logs ledger keys, UIDs, states and reasons, never names,
dates of birth or form values; and every line passes through a filter that masks anything shaped
like an NHS number (ten digits, spaced 3-3-4 or not) in case a reason quotes one.
"""

from __future__ import annotations

import logging
import re
import sys

from resdesk.intake.filing import CORRELATION_ID

NHS_NUMBER = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
MASK = "[identifier removed]"


class _Context(logging.Filter):
    """Adds ``correlation_id`` and masks identifiers in the rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = CORRELATION_ID.get()
        message = NHS_NUMBER.sub(MASK, record.getMessage())
        record.msg, record.args = message, None
        return True


def configure_logging(log_format: str = "text", stream=None) -> None:
    """Send the product's logs to ``stream`` (stderr): ``text`` shows the product's own progress and
    libraries' warnings; ``json`` also has one line per message filed, each with its correlation id."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_Context())
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        ))
        level = logging.DEBUG
    else:
        handler.setFormatter(logging.Formatter("resdesk: %(message)s"))
        level = logging.INFO
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("resdesk").setLevel(level)


__all__ = ["configure_logging"]
