"""From the raw values a reader found to a validated record, or a precise error.

Readers collect text under field names (``RawForm``); this module validates it
with the record models and turns the first problem into a ``FormError`` naming
the file, the field and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from resdesk.forms import values
from resdesk.forms.records import RECORD_TYPES, REQUIRED, ROW_TYPES, FormRecord
from resdesk.errors import FormError


KIND_NAMES = {
    "resolution-notice": "a Resolution Notice",
    "escalation-concern": "an escalation of safeguarding concern template",
    "summary-log": "an agency escalation summary log",
    "stage-summary": "a stage summary",
}


class FieldProblem(Exception):
    """A reader found a value that cannot be right (two levels of need ticked, say)."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass
class RawForm:
    """Values found in a document, before validation: text, booleans, or None."""

    fields: dict[str, object] = field(default_factory=dict)
    rows: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def offer(self, name: str, value: object) -> None:
        """Keep ``value`` unless the field already holds something (the first filled value wins)."""
        if values.blank(value):
            self.fields.setdefault(name, None)
            return
        if values.blank(self.fields.get(name)):
            self.fields[name] = value

    def add_row(self, table: str, row: dict[str, object]) -> None:
        if any(not values.blank(v) and v is not False for v in row.values()):
            self.rows.setdefault(table, []).append(row)

    def found(self) -> int:
        """How many values were found: a measure of how well a kind fits a document."""
        filled = sum(1 for v in self.fields.values() if not values.blank(v))
        return filled + sum(len(rows) for rows in self.rows.values())


def _location(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item + 1}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _reason(message: str) -> str:
    return message.removeprefix("Value error, ").rstrip(".")


def build_record(kind: str, raw: RawForm, *, file: str | None = None) -> FormRecord:
    """Validate what a reader found as a record of ``kind``; raise ``FormError`` naming
    every faulty field (the first in ``field``, each in the reason)."""
    model = RECORD_TYPES[kind]
    data: dict[str, object] = {k: v for k, v in raw.fields.items() if k in model.model_fields}
    for table in ROW_TYPES[kind]:
        data[table] = raw.rows.get(table, [])
    problems: list[tuple[str, str]] = []
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        record = None
        problems = [(_location(error["loc"]), _reason(error["msg"])) for error in exc.errors()]
    for name in REQUIRED[kind]:
        if (record is None and values.blank(data.get(name))) or (record is not None and getattr(record, name) is None):
            if all(where != name for where, _ in problems):
                problems.append((name, f"is empty, and {KIND_NAMES[kind]} must give it"))
    if problems:
        (where, reason), rest = problems[0], problems[1:]
        reason = "; ".join([reason, *(f"field '{other}': {why}" for other, why in rest)])
        raise FormError(reason, file=file, field=where)
    return FormRecord(kind=kind, record=record)
