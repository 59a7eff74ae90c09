"""Blank and filled PDF templates with AcroForm fields named by field name.

The page shows the seed's layout (title, sections, label/value rows, the
repeating tables) drawn in Helvetica; each value box is a form field whose
fully qualified name is the record's field name: ``child_name``,
``actions.2.owner`` (row 2 of Agreed Actions), ``current_level_of_need.early-help``
(one tick box per level). Built with pypdf; every file passes ``qpdf --check``.
"""

from __future__ import annotations

import io
import textwrap

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from resdesk.forms.layout import TEMPLATES, Field, Section, Table, display_value
from resdesk.forms.records import ROW_TYPES

PAGE_W, PAGE_H = 595.0, 842.0
MARGIN = 42.0
CONTENT_W = PAGE_W - 2 * MARGIN
LABEL_W = 190.0
MULTILINE = 1 << 12
COMBO = 1 << 17


def _pdf_text(text: str) -> str:
    data = text.encode("cp1252", "replace").decode("latin-1")
    return "(" + data.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _wrap(text: str, width: float, size: float) -> list[str]:
    chars = max(8, int(width / (size * 0.52)))
    lines: list[str] = []
    for part in text.split("\n"):
        lines.extend(textwrap.wrap(part, chars) or [""])
    return lines


def _name(name: str) -> NameObject:
    return NameObject(name)


class _Builder:
    """Lays out one template on A4 pages, top to bottom, adding pages as needed."""

    def __init__(self, kind: str):
        self.writer = PdfWriter()
        self.kind = kind
        fonts = {}
        for key, base in (("/F1", "/Helvetica"), ("/F2", "/Helvetica-Bold"), ("/F3", "/Helvetica-Oblique")):
            fonts[key] = self._font(base, "/WinAnsiEncoding")
        self.fonts = DictionaryObject({_name(k): v for k, v in fonts.items()})
        self.helv = fonts["/F1"]
        self.zadb = self._font("/ZapfDingbats", None)
        self.fields = ArrayObject()
        self.parents: dict[str, DictionaryObject] = {}
        self.page = None
        self.ops: list[str] = []
        self.y = 0.0
        self.pages: list[tuple] = []
        self._new_page()

    def _font(self, base: str, encoding: str | None):
        font = DictionaryObject(
            {_name("/Type"): _name("/Font"), _name("/Subtype"): _name("/Type1"), _name("/BaseFont"): _name(base)}
        )
        if encoding:
            font[_name("/Encoding")] = _name(encoding)
        return self.writer._add_object(font)

    def _new_page(self) -> None:
        self._flush()
        self.page = self.writer.add_blank_page(PAGE_W, PAGE_H)
        self.page[_name("/Resources")] = DictionaryObject({_name("/Font"): self.fonts})
        self.page[_name("/Annots")] = ArrayObject()
        self.ops = []
        self.y = PAGE_H - MARGIN

    def _flush(self) -> None:
        if self.page is not None:
            stream = StreamObject()
            stream.set_data("\n".join(self.ops).encode("latin-1"))
            self.page[_name("/Contents")] = self.writer._add_object(stream)

    def room(self, height: float) -> None:
        if self.y - height < MARGIN:
            self._new_page()

    def text(self, x: float, y: float, text: str, font: str = "/F1", size: float = 9) -> None:
        self.ops.append(f"BT {font} {size} Tf {x:.1f} {y:.1f} Td {_pdf_text(text)} Tj ET")

    def lines(self, x: float, top: float, lines: list[str], font: str = "/F1", size: float = 9) -> None:
        for i, line in enumerate(lines):
            self.text(x, top - size - i * (size + 2), line, font, size)

    def box(self, x: float, y: float, w: float, h: float, grey: float = 0.0) -> None:
        fill = f"{grey:.2f} g {x:.1f} {y:.1f} {w:.1f} {h:.1f} re f 0 g " if grey else ""
        self.ops.append(f"{fill}0.5 w {x:.1f} {y:.1f} {w:.1f} {h:.1f} re S")

    def heading(self, text: str, size: float = 11, font: str = "/F2", gap: float = 6) -> None:
        wrapped = _wrap(text, CONTENT_W, size)
        height = len(wrapped) * (size + 2) + gap
        self.room(height + 20)
        self.lines(MARGIN, self.y, wrapped, font, size)
        self.y -= height

    # -- fields -----------------------------------------------------------------

    def _parent(self, path: str) -> DictionaryObject | None:
        """The (non-terminal) field for a dotted path prefix, created on first use."""
        if not path:
            return None
        if path in self.parents:
            return self.parents[path]
        head, _, last = path.rpartition(".")
        parent = self._parent(head)
        node = DictionaryObject({_name("/T"): TextStringObject(last), _name("/Kids"): ArrayObject()})
        ref = self.writer._add_object(node)
        if parent is None:
            self.fields.append(ref)
        else:
            node[_name("/Parent")] = parent.indirect_reference
            parent["/Kids"].append(ref)
        self.parents[path] = node
        return node

    def widget(self, name: str, field: Field, rect: tuple[float, float, float, float], tick: bool = False):
        x, y, w, h = rect
        head, _, last = name.rpartition(".")
        parent = self._parent(head)
        widget = DictionaryObject(
            {
                _name("/Type"): _name("/Annot"),
                _name("/Subtype"): _name("/Widget"),
                _name("/T"): TextStringObject(last),
                _name("/TU"): TextStringObject(field.label if not tick else f"{field.label} {last}"),
                _name("/Rect"): ArrayObject([FloatObject(v) for v in (x, y, x + w, y + h)]),
                _name("/F"): NumberObject(4),
                _name("/P"): self.page.indirect_reference,
                _name("/MK"): DictionaryObject({_name("/BC"): ArrayObject([FloatObject(0.4)] * 3)}),
            }
        )
        if tick:
            widget.update(self._tick_box(w, h))
        else:
            widget[_name("/FT")] = _name("/Ch" if field.control in ("choice", "yesno") else "/Tx")
            widget[_name("/DA")] = TextStringObject("/Helv 9 Tf 0 g")
            flags = 0
            if field.control == "rich":
                flags |= MULTILINE
            if field.control in ("choice", "yesno"):
                flags |= COMBO
                widget[_name("/Opt")] = ArrayObject([TextStringObject(d) for _, d in field.choices])
            if flags:
                widget[_name("/Ff")] = NumberObject(flags)
            widget[_name("/V")] = TextStringObject("")
        ref = self.writer._add_object(widget)
        if parent is None:
            self.fields.append(ref)
        else:
            widget[_name("/Parent")] = parent.indirect_reference
            parent["/Kids"].append(ref)
        self.page["/Annots"].append(ref)

    def _appearance(self, w: float, h: float, ticked: bool):
        ops = f"0.4 G 0.5 w 0.5 0.5 {w - 1:.1f} {h - 1:.1f} re S"
        if ticked:
            ops += f" 0 G 1.2 w 2.5 2.5 m {w - 2.5:.1f} {h - 2.5:.1f} l 2.5 {h - 2.5:.1f} m {w - 2.5:.1f} 2.5 l S"
        stream = StreamObject()
        stream.update(
            {
                _name("/Type"): _name("/XObject"),
                _name("/Subtype"): _name("/Form"),
                _name("/BBox"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(w), FloatObject(h)]),
            }
        )
        stream.set_data(ops.encode("ascii"))
        return self.writer._add_object(stream)

    def _tick_box(self, w: float, h: float) -> dict:
        return {
            _name("/FT"): _name("/Btn"),
            _name("/V"): _name("/Off"),
            _name("/AS"): _name("/Off"),
            _name("/DA"): TextStringObject("/ZaDb 0 Tf 0 g"),
            _name("/AP"): DictionaryObject(
                {
                    _name("/N"): DictionaryObject(
                        {_name("/Yes"): self._appearance(w, h, True), _name("/Off"): self._appearance(w, h, False)}
                    )
                }
            ),
        }

    # -- blocks -----------------------------------------------------------------

    def section(self, section: Section) -> None:
        if section.heading:
            self.heading(section.heading)
        for field in section.fields:
            label = _wrap(field.label, LABEL_W - 8, 9)
            value_h = {"rich": 60.0, "ticks": 6 * 14.0 + 4}.get(field.control, 18.0)
            height = max(len(label) * 11 + 8, value_h + 6)
            self.room(height)
            top = self.y
            self.box(MARGIN, top - height, LABEL_W, height, grey=0.93)
            self.box(MARGIN + LABEL_W, top - height, CONTENT_W - LABEL_W, height)
            self.lines(MARGIN + 4, top - 3, label, "/F2")
            x = MARGIN + LABEL_W + 4
            if field.control == "ticks":
                for i, (value, display) in enumerate(field.choices):
                    row_y = top - 5 - (i + 1) * 14
                    self.widget(f"{field.name}.{value}", field, (x, row_y, 11, 11), tick=True)
                    self.text(x + 16, row_y + 2, display)
            else:
                self.widget(field.name, field, (x, top - 3 - value_h, CONTENT_W - LABEL_W - 8, value_h))
            self.y = top - height
        if section.note:
            self.y -= 4
            self.heading(section.note, size=8, font="/F3", gap=4)
        self.y -= 10

    def table(self, table: Table, rows: int) -> None:
        if table.intro:
            self.heading(table.intro, size=9, gap=4)
        widths = [CONTENT_W / len(table.columns)] * len(table.columns)
        header_lines = []
        for column, width in zip(table.columns, widths):
            text = column.header
            if len(column.fields) > 1:
                text += "\n" + "\n".join(f.label for f in column.fields)
            header_lines.append(_wrap(text, width - 6, 8))
        header_h = max(len(lines) for lines in header_lines) * 10 + 8
        row_h = max(60.0 if any(f.control == "rich" for c in table.columns for f in c.fields) else 22.0,
                    max(len(c.fields) for c in table.columns) * 20.0 + 6)

        def header() -> None:
            self.room(header_h + row_h)
            x = MARGIN
            for lines, width in zip(header_lines, widths):
                self.box(x, self.y - header_h, width, header_h, grey=0.93)
                self.lines(x + 3, self.y - 3, lines, "/F2", 8)
                x += width
            self.y -= header_h

        header()
        for number in range(1, rows + 1):
            if self.y - row_h < MARGIN:
                self._new_page()
                header()
            x = MARGIN
            for column, width in zip(table.columns, widths):
                self.box(x, self.y - row_h, width, row_h)
                if len(column.fields) == 1:
                    field = column.fields[0]
                    self.widget(f"{table.name}.{number}.{field.name}", field,
                                (x + 2, self.y - row_h + 2, width - 4, row_h - 4))
                else:
                    for i, field in enumerate(column.fields):
                        top = self.y - 3 - i * 20
                        self.text(x + 3, top - 9, field.label, "/F1", 7)
                        self.widget(f"{table.name}.{number}.{field.name}", field,
                                    (x + 2, top - 19, width - 4, 10))
                x += width
            self.y -= row_h
        self.y -= 12

    def finish(self) -> bytes:
        self._flush()
        self.writer._root_object[_name("/AcroForm")] = self.writer._add_object(
            DictionaryObject(
                {
                    _name("/Fields"): self.fields,
                    _name("/NeedAppearances"): BooleanObject(True),
                    _name("/DA"): TextStringObject("/Helv 0 Tf 0 g"),
                    _name("/DR"): DictionaryObject(
                        {_name("/Font"): DictionaryObject({_name("/Helv"): self.helv, _name("/ZaDb"): self.zadb})}
                    ),
                }
            )
        )
        self.writer.add_metadata({"/Title": TEMPLATES[self.kind].title, "/Subject": self.kind})
        buffer = io.BytesIO()
        self.writer.write(buffer)
        return buffer.getvalue()


def _build(kind: str, rows: int = 0) -> bytes:
    template = TEMPLATES[kind]
    builder = _Builder(kind)
    builder.heading(template.title, size=15, gap=4)
    if template.subtitle:
        builder.heading(template.subtitle, size=8, font="/F3", gap=10)
    for block in template.blocks:
        if isinstance(block, Section):
            builder.section(block)
        else:
            builder.table(block, max(rows, block.blank_rows))
    return builder.finish()


def blank_pdf(kind: str) -> bytes:
    """A blank PDF form of ``kind`` whose AcroForm field names are the field names."""
    return _build(kind)


def fill_pdf(kind: str, record) -> bytes:
    """A PDF form of ``kind`` filled with ``record``'s values, as a PDF viewer would save it."""
    from pypdf import PdfReader

    template = TEMPLATES[kind]
    tables = ROW_TYPES[kind]
    rows = max((len(getattr(record, name)) for name in tables), default=0)
    reader = PdfReader(io.BytesIO(_build(kind, rows)))
    writer = PdfWriter(clone_from=reader)
    values: dict[str, str] = {}
    for field in template.fields():
        value = getattr(record, field.name)
        if field.control == "ticks":
            for option, _ in field.choices:
                values[f"{field.name}.{option}"] = "/Yes" if value == option else "/Off"
        elif value is not None:
            values[field.name] = display_value(field, value)
    for table in template.tables():
        for number, row in enumerate(getattr(record, table.name), start=1):
            for column in table.columns:
                for field in column.fields:
                    value = getattr(row, field.name)
                    if value is not None:
                        values[f"{table.name}.{number}.{field.name}"] = display_value(field, value)
    writer.update_page_form_field_values(None, values, auto_regenerate=None)
    writer.set_need_appearances_writer(True)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
