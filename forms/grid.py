"""Reading label/value layouts: tables of cells, and ``Label: value`` lines.

This is how a seed template filled in by hand is read: a row whose first cell
is a label ("Name of Child/Young Person") has its value in the next cell; a row
of column headers ("Agreed Actions | Who is Accountable For this Action? | …")
starts a repeating table whose following rows are records; a level-of-need row
is a row of options with one ticked. Pure functions over text.
"""

from __future__ import annotations

import re

from resdesk.forms import labels, values
from resdesk.forms.assemble import FieldProblem, RawForm
from resdesk.forms.docx_model import UNTICKED
from resdesk.forms.layout import Column, Table

_TICK_MARKS = "☒☑✓✔✗✘■"
_INSERT_PROMPT = re.compile(r"^\s*\([^)]*\)\s*:\s*")
_LINE = re.compile(r"^\s*([^:\n]{1,300}?)\s*:\s*(.*)$")


def _label_or_none(kind: str, text: str, context: str | None) -> str | None:
    if values.blank(text):
        return None
    if context:
        found = labels.context_labels(kind, context).get(labels.normalise(text))
        if found:
            return found
    return labels.match_label(kind, text)


def read_ticks(field: str, cells: list[str]) -> str | None:
    """The one option ticked in a row of options ("☒ Early Help", or an "X" beside it)."""
    ticked: list[str] = []
    previous: str | None = None
    for cell in cells:
        for line in cell.split("\n"):
            marks = any(m in line for m in _TICK_MARKS)
            rest = line
            for mark in _TICK_MARKS + UNTICKED:
                rest = rest.replace(mark, " ")
            rest = rest.strip()
            x_mark = re.fullmatch(r"(?i)(?:x\s+(.+)|(.+?)\s+x|x)", rest)
            if x_mark and rest.lower() != "x":
                candidate = (x_mark.group(1) or x_mark.group(2)).strip()
                try:
                    values.level_of_need(candidate)
                    rest, marks = candidate, True
                except ValueError:
                    pass
            elif rest.lower() in ("x", "yes", "y"):
                rest, marks = "", True
            if values.blank(rest):
                if marks and previous:
                    ticked.append(previous)
                continue
            try:
                option = values.level_of_need(rest)
            except ValueError:
                previous = None
                continue
            previous = option
            if marks:
                ticked.append(option)
    chosen = list(dict.fromkeys(ticked))
    if len(chosen) > 1:
        raise FieldProblem(field, f"more than one level of need is ticked ({', '.join(chosen)})")
    return chosen[0] if chosen else None


def _mark(cell: str) -> bool:
    """A cell holding only a tick: a mark, a ticked box, ``X`` or ``Yes``."""
    text = cell.strip()
    for mark in _TICK_MARKS:
        text = text.replace(mark, "")
    return text.strip().lower() in ("", "x", "yes", "y") and cell.strip() != "" and UNTICKED not in cell


def read_ticks_under(field: str, options: list[str], below: list[str]) -> str | None:
    """The option whose header cell has a mark in the cell under it (Sandwell Appendix 3's
    level-of-need grid: the levels are a header row and the choice is marked in the row below).
    Raises ``FieldProblem`` when more than one level is marked."""
    ticked: list[str] = []
    for option, cell in zip(options, below):
        if not _mark(cell):
            continue
        try:
            ticked.append(values.level_of_need(option.replace("\n", " ")))
        except ValueError:
            continue
    chosen = list(dict.fromkeys(ticked))
    if len(chosen) > 1:
        raise FieldProblem(field, f"more than one level of need is ticked ({', '.join(chosen)})")
    return chosen[0] if chosen else None


def _offer(kind: str, raw: RawForm, name: str, value: str) -> None:
    if name.startswith(labels.COMBINED):
        first, second = labels.template(kind).combined[name[len(labels.COMBINED):]]
        email = re.search(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", value or "")
        if email:
            raw.offer(second, email.group(0))
            value = (value[: email.start()] + value[email.end():]).strip(" ,;:-–\n\t")
        raw.offer(first, value)
        return
    if not name.startswith(labels.CONTEXT):
        raw.offer(name, value)


def _table_line(line: str) -> str:
    """A ``|``-separated row without the outer pipes a Markdown-style table has."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return line


def read_lines(kind: str, text: str, raw: RawForm, context: str | None = None) -> int:
    """``Label: value`` lines; lines that follow a many-line field continue it. Returns matches."""
    matched = 0
    current: str | None = None
    rows: Header | None = None
    for line in text.split("\n"):
        if line.lstrip().startswith(">"):
            continue
        if line.rstrip() == "--":
            break  # a signature follows
        if values.blank(line):
            current = None  # a blank line ends a many-line value
            continue
        if "|" in line:
            cells = [c.strip() for c in _table_line(line).split("|")]
            header = header_columns(kind, cells)
            if header:
                rows, current = header, None
                matched += 1
                continue
            if rows:
                add_row(kind, raw, rows, cells)
                continue
        match = _LINE.match(line)
        name = _label_or_none(kind, match.group(1), context) if match else None
        continuing = current is not None and labels.template(kind).field(current).control == "rich"
        if name is None and not continuing and _label_or_none(kind, line.strip(), context):
            # A label alone on its line (its value below it); inside a many-line value
            # a line without a colon is more of that value.
            name, match = _label_or_none(kind, line.strip(), context), None
        if name:
            rows = None
            context = labels.context_of(kind, match.group(1) if match else line) or context
            value = _INSERT_PROMPT.sub("", match.group(2)).strip(" _") if match else ""
            _offer(kind, raw, name, value)
            matched += 1
            current = name if not name.startswith("@") else None
            continue
        if current and not values.blank(line):
            field = labels.template(kind).field(current)
            if values.blank(raw.fields.get(current)):
                raw.fields[current] = line.strip()  # the value on the line below its label
            elif field.control == "rich":
                raw.fields[current] = f"{raw.fields[current]}\n{line.rstrip()}"
    return matched


Header = tuple[Table, dict[int, tuple[int, str | None]]]


def header_columns(kind: str, cells: list[str]) -> Header | None:
    """If these cells are a repeating table's header row: the table and cell -> column map."""
    found: dict[str, dict[int, tuple[int, str | None]]] = {}
    filled = [i for i, c in enumerate(cells) if not values.blank(c)]
    for i in filled:
        place = labels.match_column(kind, cells[i])
        if place:
            found.setdefault(place[0], {})[i] = (place[1], place[2])
    if not found:
        return None
    name, columns = max(found.items(), key=lambda item: len(item[1]))
    if len(columns) < 2 or len(columns) * 2 < len(filled):
        return None
    table = next(t for t in labels.template(kind).tables() if t.name == name)
    return table, columns


def _split_column(column: Column, text: str) -> dict[str, str]:
    """A cell holding several labelled values ("Name: …", "DOB: …", "Age: …")."""
    result: dict[str, str] = {}
    by_label = {labels.normalise(f.label): f.name for f in column.fields}
    by_label.update({labels.normalise(f.name.replace("child_", "")): f.name for f in column.fields})
    unlabelled: list[str] = []
    for line in text.split("\n"):
        match = _LINE.match(line)
        key = labels.normalise(match.group(1)) if match else None
        if key in by_label:
            result[by_label[key]] = match.group(2).strip()
        elif not values.blank(line):
            unlabelled.append(line.strip())
    for f in column.fields:
        if f.name not in result and unlabelled:
            result[f.name] = unlabelled.pop(0)
    return result


def add_row(kind: str, raw: RawForm, header: Header, cells: list[str]) -> None:
    table, columns = header
    row: dict[str, object] = {}
    for i, (position, sub_field) in columns.items():
        if i >= len(cells):
            continue
        column = table.columns[position]
        if sub_field:
            row[sub_field] = cells[i]
        elif len(column.fields) == 1:
            row[column.fields[0].name] = cells[i]
        else:
            row.update(_split_column(column, cells[i]))
    raw.add_row(table.name, row)


def _label_row(kind: str, cells: list[str], raw: RawForm) -> tuple[str, int] | None:
    """Reads one row of labels and values. Returns the tick field and the index its options start
    at when the row is a row of options with nothing marked beside them (the mark may be under)."""
    context: str | None = None
    i = 0
    while i < len(cells):
        text = cells[i]
        name = _label_or_none(kind, text, context)
        context = labels.context_of(kind, text) or context
        if name is None:
            if not values.blank(text):
                read_lines(kind, text, raw, context)
            i += 1
            continue
        if name.startswith(labels.CONTEXT):
            context = name[len(labels.CONTEXT):]
            i += 1
            continue
        if not name.startswith("@") and labels.template(kind).field(name).control == "ticks":
            chosen = read_ticks(name, cells[i + 1:])
            raw.offer(name, chosen)
            return (name, i + 1) if chosen is None else None
        following = cells[i + 1] if i + 1 < len(cells) else ""
        if i + 1 < len(cells) and _label_or_none(kind, following, context) is None:
            _offer(kind, raw, name, following)
            i += 2
        else:
            i += 1
    return None


def read_table(kind: str, rows: list[list[str]], raw: RawForm) -> None:
    """A table of label rows, possibly with a repeating table's header and rows inside it."""
    header: Header | None = None
    options: tuple[str, int, list[str]] | None = None
    for cells in rows:
        if options:
            name, start, above = options
            options = None
            chosen = read_ticks_under(name, above[start:], cells[start:]) if len(cells) == len(above) else None
            if chosen:
                raw.offer(name, chosen)
                continue
        new_header = header_columns(kind, cells)
        if new_header:
            header = new_header
            continue
        if header:
            if all(values.blank(c) for c in cells):
                continue
            first = next((c for c in cells if not values.blank(c)), "")
            if _label_or_none(kind, first, None) is None:
                add_row(kind, raw, header, cells)
                continue
            header = None
        ticks = _label_row(kind, cells, raw)
        if ticks:
            options = (*ticks, cells)


def read_blocks(kind: str, blocks: list[tuple[str, object]]) -> RawForm:
    """Every paragraph and table of a document, read as label/value layout of ``kind``."""
    raw = RawForm()
    paragraphs: list[str] = []
    for block_kind, content in blocks:
        if block_kind == "p":
            paragraphs.append(content)
            continue
        # Consecutive paragraphs are read together, so a value may sit below its label.
        read_lines(kind, "\n".join(paragraphs), raw)
        paragraphs = []
        read_table(kind, content, raw)
    read_lines(kind, "\n".join(paragraphs), raw)
    return raw

