"""A Word document's body as text blocks, tables of cell text, and form controls.

``document_model(xml)`` walks ``word/document.xml`` once and returns what the
label matching needs: paragraphs and tables in order (tick boxes shown as ☒/☐,
placeholder text and deleted text left out) and every content control and
legacy form field with its tag or name and value. The package has already
passed ``forms.safety``; the XML is parsed with entities and network off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from resdesk.forms.values import PLACEHOLDERS

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"

TICKED, UNTICKED = "☒", "☐"


def w(tag: str) -> str:
    return f"{{{W}}}{tag}"


_SKIP = {w("delText"), w("instrText"), w("del"), w("moveFrom"), w("sdtPr"), w("rPr"), w("pPr"),
         w("tblPr"), w("trPr"), w("tcPr"), w("tblGrid"), f"{{{MC}}}Fallback"}


@dataclass
class Control:
    """A content control (``source="sdt"``) or legacy form field (``source="legacy"``)."""

    source: str
    tag: str
    alias: str
    value: object  # str, bool (tick box) or None (left empty / placeholder)
    row: str | None  # the table row holding it, so row controls group into one record row


@dataclass
class DocumentModel:
    blocks: list[tuple[str, object]] = field(default_factory=list)  # ("p", text) / ("table", rows)
    controls: list[Control] = field(default_factory=list)

    def first_texts(self, count: int = 6) -> list[str]:
        """The first few non-empty paragraph or cell texts (where a title is)."""
        texts: list[str] = []
        for kind, content in self.blocks:
            if kind == "p":
                items = [content]
            else:
                items = [cell for row in content for cell in row]
            texts.extend(t for t in items if t.strip())
            if len(texts) >= count:
                break
        return texts[:count]


# Tick marks inserted as symbols (Insert > Symbol), as people tick Sandwell's level-of-need boxes.
_SYMBOLS = {
    "wingdings": {"FC": "✓", "FE": "☑", "FD": "☒", "FB": "✗", "A8": UNTICKED, "6F": UNTICKED},
    "wingdings 2": {"50": "✓", "52": "☑", "54": "☒", "4F": "✗", "A3": UNTICKED, "2A": UNTICKED},
}


def _symbol(element) -> str:
    font = (_attr(element, "font") or "").strip().lower()
    code = (_attr(element, "char") or "").strip().upper()[-2:]
    return _SYMBOLS.get(font, {}).get(code, "")


def _attr(element, name: str, ns: str = W) -> str | None:
    return element.get(f"{{{ns}}}{name}") if element is not None else None


_ON, _OFF = {"1", "true", "on"}, {"0", "false", "off"}


def on_off(element, ns: str = W) -> bool | None:
    """An OOXML on/off value (ECMA-376 ST_OnOff) in any spelling editors write: ``1``/``0``,
    ``true``/``false``, ``on``/``off`` in any case; an element with no value is on. None when
    the element is absent or its value is none of these."""
    if element is None:
        return None
    value = _attr(element, "val", ns)
    if value is None:
        return True
    text = value.strip().lower()
    return True if text in _ON else False if text in _OFF else None


# Tags the walk meets on every run, named once.
_T, _TAB, _BREAKS, _NO_BREAK_HYPHEN = w("t"), w("tab"), (w("br"), w("cr")), w("noBreakHyphen")
_SYM, _FLD_CHAR, _SDT, _P = w("sym"), w("fldChar"), w("sdt"), w("p")
_SDT_PR, _SDT_CONTENT, _TAG, _ALIAS, _DATE = w("sdtPr"), w("sdtContent"), w("tag"), w("alias"), w("date")
_SHOWING_PLACEHOLDER, _CHECKBOX, _LISTS = w("showingPlcHdr"), f"{{{W14}}}checkbox", (w("dropDownList"), w("comboBox"))


def _first_children(element) -> dict:
    """Each child's tag -> the first child with that tag (what ``element.find(tag)`` gives), read in
    one pass over the children; empty for no element."""
    found: dict = {}
    if element is not None:
        for child in element:
            found.setdefault(child.tag, child)
    return found


class _Walker:
    """Turns elements into text while collecting legacy form fields."""

    def __init__(self, model: DocumentModel, tree):
        self.model = model
        self.tree = tree
        self.open_fields: list[dict] = []

    def text(self, element) -> str:
        parts: list[str] = []
        self._walk(element, parts)
        return "".join(parts)

    def _emit(self, parts: list[str], text: str) -> None:
        parts.append(text)
        for open_field in self.open_fields:
            if open_field["phase"] == "result":
                open_field["parts"].append(text)

    def _walk(self, element, parts: list[str]) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == _T:
                self._emit(parts, child.text or "")
            elif tag == _TAB:
                self._emit(parts, "\t")
            elif tag in _BREAKS:
                self._emit(parts, "\n")
            elif tag == _NO_BREAK_HYPHEN:
                self._emit(parts, "-")
            elif tag == _SYM:
                self._emit(parts, _symbol(child))
            elif tag == _FLD_CHAR:
                self._field_char(child, parts)
            elif tag == _SDT:
                self._sdt(child, parts)
            elif tag == _P:
                if parts and not parts[-1].endswith("\n"):
                    parts.append("\n")
                self._walk(child, parts)
                parts.append("\n")
            else:
                self._walk(child, parts)

    def _row_of(self, element) -> str | None:
        for ancestor in element.iterancestors(w("tr")):
            return self.tree.getpath(ancestor)
        return None

    def _field_char(self, element, parts: list[str]) -> None:
        kind = _attr(element, "fldCharType")
        if kind == "begin":
            data = element.find(w("ffData"))
            entry = {"phase": "code", "parts": [], "data": data, "element": element}
            self.open_fields.append(entry)
            if data is not None and data.find(w("checkBox")) is not None:
                box = data.find(w("checkBox"))
                checked = on_off(box.find(w("checked")))
                ticked = bool(checked if checked is not None else on_off(box.find(w("default"))))
                entry["value"] = ticked
                self._emit(parts, TICKED if ticked else UNTICKED)
            elif data is not None and data.find(w("ddList")) is not None:
                dd = data.find(w("ddList"))
                entries = [_attr(e, "val") or "" for e in dd.findall(w("listEntry"))]
                chosen = dd.find(w("result"))
                index = int(_attr(chosen, "val") or 0) if chosen is not None else 0
                entry["value"] = entries[index] if 0 <= index < len(entries) else None
        elif kind == "separate" and self.open_fields:
            self.open_fields[-1]["phase"] = "result"
        elif kind == "end" and self.open_fields:
            entry = self.open_fields.pop()
            data = entry["data"]
            if data is None:
                return
            if "value" in entry and isinstance(entry["value"], str) and not entry["parts"]:
                self._emit(parts, entry["value"])
            name_el = data.find(w("name"))
            name = _attr(name_el, "val") or ""
            value = entry.get("value", "".join(entry["parts"]))
            self.model.controls.append(Control("legacy", name, "", value, self._row_of(entry["element"])))

    def _sdt(self, element, parts: list[str]) -> None:
        own = _first_children(element)
        props, content = own.get(_SDT_PR), own.get(_SDT_CONTENT)
        settings = _first_children(props)
        tag = _attr(settings.get(_TAG), "val")
        alias = _attr(settings.get(_ALIAS), "val")
        placeholder = _SHOWING_PLACEHOLDER in settings
        checkbox = settings.get(_CHECKBOX)
        value: object
        if checkbox is not None:
            value = bool(on_off(checkbox.find(f"{{{W14}}}checked"), W14))
            self._emit(parts, TICKED if value else UNTICKED)
        else:
            inner: list[str] = []
            if content is not None and not placeholder:
                self._walk(content, inner)
            text = "".join(inner).strip("\n")
            if text.strip() in PLACEHOLDERS:
                placeholder, inner, text = True, [], ""
            if inner:
                self._emit(parts, "".join(inner))
            value = None if placeholder else text
            if props is not None and not placeholder:
                full = _attr(settings.get(_DATE), "fullDate")
                if full:
                    value = full[:10]
                for list_tag in _LISTS:
                    choices = settings.get(list_tag)
                    if choices is not None:
                        for item in choices.findall(w("listItem")):
                            if (_attr(item, "displayText") or "") == text and _attr(item, "value"):
                                value = _attr(item, "value")
                                break
        if tag or alias:
            self.model.controls.append(
                Control("sdt", tag or "", alias or "", value, self._row_of(element))
            )


def _children(element, wanted: str):
    """Children named ``wanted``, looking through content controls that wrap them."""
    for child in element:
        if child.tag == wanted:
            yield child
        elif child.tag == w("sdt"):
            content = child.find(w("sdtContent"))
            if content is not None:
                yield from _children(content, wanted)
        elif child.tag in (w("customXml"), w("smartTag")):
            yield from _children(child, wanted)


def _table(walker: _Walker, table) -> list[list[str]]:
    rows = []
    for row in _children(table, w("tr")):
        cells = []
        for cell in _children(row, w("tc")):
            cells.append(walker.text(cell).strip("\n"))
        rows.append(cells)
    return rows


def _body(walker: _Walker, element) -> None:
    for child in element:
        if child.tag == w("p"):
            walker.model.blocks.append(("p", walker.text(child).strip("\n")))
        elif child.tag == w("tbl"):
            walker.model.blocks.append(("table", _table(walker, child)))
            for nested in child.iter(w("tbl")):
                if nested is not child:
                    walker.model.blocks.append(("table", _table(_Walker(DocumentModel(), walker.tree), nested)))
        elif child.tag == w("sdt"):
            content = child.find(w("sdtContent"))
            if content is not None:
                _sdt_block(walker, child, content)
        elif child.tag in (w("customXml"),):
            _body(walker, child)


def _sdt_block(walker: _Walker, sdt, content) -> None:
    """A block-level content control: record it as a control, then read what it wraps."""
    props = sdt.find(w("sdtPr"))
    tag = _attr(props.find(w("tag")), "val") if props is not None else None
    if tag and not any(c.tag in (w("tbl"),) for c in content):
        placeholder = props.find(w("showingPlcHdr")) is not None
        text = "" if placeholder else walker.text(content).strip("\n")
        alias = _attr(props.find(w("alias")), "val") or ""
        walker.model.controls.append(Control("sdt", tag, alias, None if placeholder else text, None))
        walker.model.blocks.append(("p", text))
        return
    _body(walker, content)


_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


STRICT_W = b"http://purl.oclc.org/ooxml/wordprocessingml/main"


def document_model(xml: bytes) -> DocumentModel:
    """Read ``word/document.xml`` into blocks and controls (Strict Open XML read as Transitional)."""
    xml = xml.replace(STRICT_W, W.encode())
    root = etree.fromstring(xml, _PARSER)
    model = DocumentModel()
    body = root.find(w("body"))
    if body is None:
        return model
    _body(_Walker(model, root.getroottree()), body)
    return model
