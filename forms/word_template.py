"""Blank and filled Word templates, laid out like the seeds, with tagged content controls.

Every value box is a content control whose tag is the field name (``child_name``),
a repeating-table cell's tag is ``table.column`` (``actions.owner``) and a
level-of-need tick box's tag is ``field.level`` (``current_level_of_need.early-help``).
Labels sit beside the controls as the seed prints them, so a form whose controls
were lost (an older word processor) still reads by its labels.

``fill_docx(kind, record)`` writes a record into a blank template; render code
may use it to pre-fill a Resolution Notice.
"""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape, quoteattr

from docx import Document
from docx.oxml import parse_xml
from docx.shared import Pt, RGBColor

from resdesk.forms.docx_model import TICKED, UNTICKED, W, W14
from resdesk.forms.layout import TEMPLATES, Column, Field, Section, Table, display_value
from resdesk.forms.records import ROW_TYPES

_NS = f'xmlns:w="{W}" xmlns:w14="{W14}"'
_PLACEHOLDER = {
    "date": "Click or tap to enter a date.",
    "choice": "Choose an item.",
    "yesno": "Choose an item.",
}
_TEXT_PLACEHOLDER = "Click or tap here to enter text."
_GREY = '<w:rPr><w:color w:val="808080"/></w:rPr>'


def _run(text: str, grey: bool = False) -> str:
    return f'<w:r>{_GREY if grey else ""}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _run_element(text: str):
    return parse_xml(f'<w:r {_NS}><w:t xml:space="preserve">{escape(text)}</w:t></w:r>')


def _props(field: Field, tag: str) -> str:
    alias = f'<w:alias w:val={quoteattr(field.label[:60])}/>'
    common = f'{alias}<w:tag w:val={quoteattr(tag)}/><w:showingPlcHdr/>'
    if field.control == "date":
        return (
            f'{common}<w:date><w:dateFormat w:val="dd/MM/yyyy"/><w:lid w:val="en-GB"/>'
            '<w:storeMappedDataAs w:val="dateTime"/><w:calendar w:val="gregorian"/></w:date>'
        )
    if field.control in ("choice", "yesno"):
        items = "".join(
            f'<w:listItem w:displayText={quoteattr(display)} w:value={quoteattr(value)}/>'
            for value, display in field.choices
        )
        return f"{common}<w:dropDownList>{items}</w:dropDownList>"
    if field.control == "rich":
        return common  # a control with no type element is rich text, Word's default
    return f'{common}<w:text w:multiLine="1"/>'


def _block_control(field: Field, tag: str):
    placeholder = _PLACEHOLDER.get(field.control, _TEXT_PLACEHOLDER)
    return parse_xml(
        f"<w:sdt {_NS}><w:sdtPr>{_props(field, tag)}</w:sdtPr>"
        f"<w:sdtContent><w:p>{_run(placeholder, grey=True)}</w:p></w:sdtContent></w:sdt>"
    )


def _inline_control(field: Field, tag: str):
    placeholder = _PLACEHOLDER.get(field.control, _TEXT_PLACEHOLDER)
    return parse_xml(
        f"<w:sdt {_NS}><w:sdtPr>{_props(field, tag)}</w:sdtPr>"
        f"<w:sdtContent>{_run(placeholder, grey=True)}</w:sdtContent></w:sdt>"
    )


def _tick_box(tag: str, label: str):
    return parse_xml(
        f"<w:sdt {_NS}><w:sdtPr><w:alias w:val={quoteattr(label)}/><w:tag w:val={quoteattr(tag)}/>"
        '<w14:checkbox><w14:checked w14:val="0"/>'
        '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
        '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox></w:sdtPr>'
        f"<w:sdtContent>{_run(UNTICKED)}</w:sdtContent></w:sdt>"
    )


def _clear(cell) -> None:
    for element in list(cell._tc):
        if element.tag != f"{{{W}}}tcPr":
            cell._tc.remove(element)


def _value_cell(cell, field: Field, tag: str) -> None:
    _clear(cell)
    if field.control == "ticks":
        for value, display in field.choices:
            paragraph = parse_xml(f"<w:p {_NS}/>")
            paragraph.append(_tick_box(f"{tag}.{value}", display))
            paragraph.append(parse_xml(f"<w:r {_NS}><w:t xml:space=\"preserve\"> {escape(display)}</w:t></w:r>"))
            cell._tc.append(paragraph)
    else:
        cell._tc.append(_block_control(field, tag))


def _label_cell(cell, text: str, bold: bool = True) -> None:
    cell.text = ""
    run = cell.paragraphs[0].add_run(text)
    run.bold = bold
    run.font.size = Pt(10)


def _section(document, section: Section) -> None:
    if section.heading:
        document.add_heading(section.heading, level=2)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for field in section.fields:
        cells = table.add_row().cells
        _label_cell(cells[0], field.label)
        _value_cell(cells[1], field, field.name)
    if section.note:
        note = document.add_paragraph(section.note)
        note.runs[0].italic = True


def _column_cell(cell, table: Table, column: Column) -> None:
    _clear(cell)
    if len(column.fields) == 1:
        cell._tc.append(_block_control(column.fields[0], f"{table.name}.{column.fields[0].name}"))
        return
    for field in column.fields:
        paragraph = parse_xml(f"<w:p {_NS}>{_run(field.label + ' ')}</w:p>")
        paragraph.append(_inline_control(field, f"{table.name}.{field.name}"))
        cell._tc.append(paragraph)


def _table(document, table: Table, rows: int) -> None:
    if table.intro:
        document.add_paragraph(table.intro).runs[0].bold = True
    grid = document.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    for cell, column in zip(grid.rows[0].cells, table.columns):
        header = column.header
        if len(column.fields) > 1:
            header = column.header + "\n" + "\n".join(f.label for f in column.fields)
        _label_cell(cell, header)
    for _ in range(rows):
        for cell, column in zip(grid.add_row().cells, table.columns):
            _column_cell(cell, table, column)


def build_document(kind: str, rows: int | None = None):
    """The python-docx Document of a blank template (``rows`` rows in each repeating table)."""
    template = TEMPLATES[kind]
    document = Document()
    document.core_properties.title = template.title
    document.core_properties.subject = kind
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10)
    heading = document.add_heading(template.title, level=0)
    heading.runs[0].font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
    heading.runs[0].font.size = Pt(18)
    if template.subtitle:
        document.add_paragraph(template.subtitle).runs[0].italic = True
    for block in template.blocks:
        if isinstance(block, Section):
            _section(document, block)
        else:
            _table(document, block, max(rows or 0, block.blank_rows))
    return document


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def blank_docx(kind: str) -> bytes:
    """A blank Word template of ``kind`` with content controls tagged by field name."""
    return _save(build_document(kind))


def _set_content(sdt, field: Field, value: object) -> None:
    props = sdt.find(f"{{{W}}}sdtPr")
    content = sdt.find(f"{{{W}}}sdtContent")
    flag = props.find(f"{{{W}}}showingPlcHdr")
    if flag is not None:
        props.remove(flag)
    text = display_value(field, value)
    if isinstance(value, date):
        props.find(f"{{{W}}}date").set(f"{{{W}}}fullDate", value.isoformat() + "T00:00:00Z")
    block = content.find(f"{{{W}}}p") is not None
    for child in list(content):
        content.remove(child)
    if block:
        for line in text.split("\n"):
            content.append(parse_xml(f"<w:p {_NS}>{_run(line)}</w:p>"))
    else:
        content.append(_run_element(text))


def _tick(sdt, ticked: bool) -> None:
    sdt.find(f".//{{{W14}}}checked").set(f"{{{W14}}}val", "1" if ticked else "0")
    content = sdt.find(f"{{{W}}}sdtContent")
    for child in list(content):
        content.remove(child)
    content.append(_run_element(TICKED if ticked else UNTICKED))


def fill_docx(kind: str, record) -> bytes:
    """A Word template of ``kind`` filled with ``record``'s values (as a person would fill it).

    Repeating tables get as many rows as the record has (at least the blank's).
    Empty values leave the control showing its placeholder.
    """
    template = TEMPLATES[kind]
    tables = ROW_TYPES[kind]
    lengths = [len(getattr(record, name)) for name in tables]
    document = build_document(kind, rows=max(lengths, default=0))
    seen: dict[str, int] = {}
    for sdt in document.element.body.iter(f"{{{W}}}sdt"):
        tag_el = sdt.find(f"{{{W}}}sdtPr/{{{W}}}tag")
        if tag_el is None:
            continue
        tag = tag_el.get(f"{{{W}}}val")
        head, _, tail = tag.partition(".")
        if head in tables:
            position = seen.get(tag, 0)
            seen[tag] = position + 1
            rows = getattr(record, head)
            if position < len(rows):
                value = getattr(rows[position], tail)
                if value is not None:
                    _set_content(sdt, template.field(tag), value)
        elif tail:
            _tick(sdt, getattr(record, head) == tail)
        else:
            value = getattr(record, head)
            if value is not None:
                _set_content(sdt, template.field(head), value)
    return _save(document)
