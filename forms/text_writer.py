"""A record written as the ``Label: value`` text that ``read_email_text`` reads.

For acknowledgements that say what was recorded, and for agencies who would
rather type a form into an email: the title, one line per field under the
label the seed prints, and each repeating table as ``|`` rows under its headers.
A table cell is one line: line breaks in it become spaces and ``|`` becomes ``/``.
"""

from __future__ import annotations

from resdesk.forms import labels
from resdesk.forms.layout import TEMPLATES, Field, display_value


def _line_label(kind: str, field: Field) -> str:
    """The printed label, or the first alias, that reads back as this field on one line."""
    for text in (field.label.rstrip(":;"), *field.aliases, field.name.replace("_", " ")):
        if ":" not in text and labels.match_label(kind, text) == field.name:
            return text
    raise ValueError(f"no one-line label for {field.name}")  # a layout error, caught by tests


def _cell(field: Field, value: object) -> str:
    return display_value(field, value).replace("\n", " ").replace("|", "/")


def email_text(kind: str, record) -> str:
    """The record of ``kind`` as ``Label: value`` lines (dates UK-style, levels as the seed names them)."""
    template = TEMPLATES[kind]
    lines = [template.title, ""]
    for field in template.fields():
        lines.append(f"{_line_label(kind, field)}: {display_value(field, getattr(record, field.name))}".rstrip())
    for table in template.tables():
        rows = getattr(record, table.name)
        columns = [(column, f) for column in table.columns for f in column.fields]
        headers = [
            column.header.rstrip(":") if len(column.fields) == 1 else f.name.replace("_", " ")
            for column, f in columns
        ]
        lines += ["", "| " + " | ".join(headers) + " |"]
        for row in rows:
            lines.append("| " + " | ".join(_cell(f, getattr(row, f.name)) for _, f in columns) + " |")
    return "\n".join(lines) + "\n"
