"""Named form boxes to field values: Word content controls, legacy fields, PDF fields.

A box is named by its field (``child_name``), by ``table.column`` with the row
given separately (``actions.owner`` in row 2), or by ``field.option`` for one
tick box of a level-of-need row. Boxes named otherwise are matched by their
title or tooltip as a printed label, and ignored if that fails.
"""

from __future__ import annotations

from resdesk.forms import labels
from resdesk.forms.assemble import FieldProblem, RawForm
from resdesk.forms.docx_model import Control
from resdesk.forms.records import ROW_TYPES, scalar_fields


def resolve(kind: str, control: Control) -> tuple[str, str | None] | None:
    """(field, option-or-column) a control stands for on ``kind``, or None if unknown."""
    tag = control.tag.strip()
    scalars = scalar_fields(kind)
    if tag in scalars:
        return tag, None
    if "." in tag:
        head, _, tail = tag.partition(".")
        if head in ROW_TYPES[kind] and tail in ROW_TYPES[kind][head].model_fields:
            return head, tail
        if head in scalars and labels.template(kind).field(head).control == "ticks":
            return head, tail
    for text in (tag, control.alias):
        if text:
            found = labels.match_label(kind, text)
            if found and not found.startswith("@"):
                return found, None
    return None


def read_controls(kind: str, controls: list[Control]) -> RawForm:
    """Values of the controls whose tags (or titles) name fields of ``kind``."""
    raw = RawForm()
    rows: dict[tuple[str, str], dict[str, object]] = {}
    ticks: dict[str, list[str]] = {}
    for control in controls:
        place = resolve(kind, control)
        if place is None:
            continue
        name, part = place
        if part is None:
            raw.offer(name, control.value)
        elif name in ROW_TYPES[kind]:
            key = (name, control.row or f"solo-{id(control)}")
            rows.setdefault(key, {})[part] = control.value
        else:
            ticks.setdefault(name, [])
            if control.value is True:
                ticks[name].append(part)
    for name, chosen in ticks.items():
        distinct = list(dict.fromkeys(chosen))
        if len(distinct) > 1:
            raise FieldProblem(name, f"more than one level of need is ticked ({', '.join(distinct)})")
        raw.offer(name, distinct[0] if distinct else None)
    for (table, _), row in rows.items():
        raw.add_row(table, row)
        raw.rows.setdefault(table, [])
    return raw


