"""Reading a filled PDF form (AcroForm text, tick-box and choice fields) into a record.

Refused, each with its own reason: an encrypted file, an XFA form (its values
could disagree with the AcroForm's), and two fields with one name (which value
would be the true one?). pypdf runs under tighter resource limits than its
defaults, so a booby-trapped stream cannot exhaust memory.
"""

from __future__ import annotations

import io
import re

from resdesk.forms import labels
from resdesk.forms.assemble import FieldProblem, RawForm, build_record
from resdesk.forms.controls import read_controls
from resdesk.forms.docx_model import Control
from resdesk.forms.records import KINDS, FormRecord
from resdesk.errors import FormError

RADIO = 1 << 15
MAX_FIELDS = 2_000
MAX_DEPTH = 8
# pypdf limits, well below its defaults: a form is a few pages of text.
PDF_LIMITS = dict(
    maximum_declared_stream_length=10_000_000,
    array_based_stream_maximum_output_length=10_000_000,
    zlib_maximum_output_length=10_000_000,
    lzw_maximum_output_length=10_000_000,
    run_length_maximum_output_length=10_000_000,
    jbig2_maximum_output_length=10_000_000,
    brotli_maximum_output_length=10_000_000,
    image_maximum_buffer_size=10_000_000,
    array_maximum_element_count=20_000,
    dictionary_maximum_element_count=20_000,
    form_fields_maximum_entries=MAX_FIELDS,
    form_fields_maximum_depth=MAX_DEPTH,
    page_tree_maximum_entries=1_000,
    xfa_decoding_work_maximum_length=10_000_000,
    stream_decoding_work_maximum_length=50_000_000,
)

_ROW_NAME = re.compile(r"^([A-Za-z_]+)[.\[_](\d+)\]?[._]([A-Za-z_]+)$")


def _button_state(node) -> str:
    """A check box's or radio group's chosen state ('' when none), as editors write it: in the
    field's ``/V``, else in the ``/AS`` of the widget kid that is on (Preview, Edge), with an index
    into ``/Opt`` replaced by the export value it names (ISO 32000-1 §12.7.4.2.3)."""
    raw = node.get("/V")
    text = "" if raw is None else str(raw.get_object()).lstrip("/")
    if text in ("", "Off"):
        text = ""
        for kid in (node.get("/Kids") or ()):
            state = str(kid.get_object().get("/AS", "/Off")).lstrip("/")
            if state not in ("", "Off"):
                text = state
                break
        if not text and "/AS" in node:
            text = str(node["/AS"]).lstrip("/")
    options = node.get("/Opt")
    if options is not None and text.isdigit():
        options = options.get_object()
        if int(text) < len(options):
            option = options[int(text)].get_object()
            text = str(option[0] if isinstance(option, list) else option)
    return "" if text == "Off" else text


def _value(field_type: str | None, node) -> object:
    raw = node.get("/V")
    if raw is not None:
        raw = raw.get_object()
    if field_type == "/Btn":
        text = _button_state(node)
        if int(node.get("/Ff", 0)) & RADIO:
            return text or None
        return bool(text)
    if raw is None:
        return None
    if isinstance(raw, list):
        return "\n".join(str(item) for item in raw)
    return str(raw)


def pdf_fields(reader, filename: str | None = None) -> list[tuple[str, str, object]]:
    """Every terminal AcroForm field as (qualified name, tooltip, value); duplicates refused."""
    root = reader.trailer["/Root"].get_object()
    form = root.get("/AcroForm")
    if form is None:
        return []
    form = form.get_object()
    if "/XFA" in form:
        raise FormError(
            "is an XFA form (its values could disagree with the PDF's ordinary form fields); "
            "save it as an ordinary PDF form",
            file=filename,
        )
    found: dict[str, tuple[int, str, object]] = {}
    seen: set[int] = set()

    def walk(ref, prefix: str, inherited_type: str | None, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise FormError("has form fields nested too deeply to be a form", file=filename)
        node = ref.get_object()
        key = id(node) if getattr(ref, "idnum", None) is None else ref.idnum
        if key in seen:
            return
        seen.add(key)
        if len(seen) > MAX_FIELDS:
            raise FormError("has too many form fields to be a form", file=filename)
        part = node.get("/T")
        name = f"{prefix}.{part}" if prefix and part is not None else (str(part) if part is not None else prefix)
        field_type = node.get("/FT", inherited_type)
        kids = node.get("/Kids")
        named_kids = [k for k in (kids.get_object() if kids else []) if "/T" in k.get_object()]
        if named_kids:
            for kid in named_kids:
                walk(kid, name, field_type, depth + 1)
            return
        if name in found and found[name][0] != key:
            raise FormError(
                "appears as two form fields with one name, which could hold different values",
                file=filename,
                field=name,
            )
        tooltip = str(node.get("/TU", ""))
        found[name] = (key, tooltip, _value(field_type, node))

    fields = form.get("/Fields")
    for ref in (fields.get_object() if fields is not None else []):
        walk(ref, "", None, 0)
    return [(name, tooltip, value) for name, (_, tooltip, value) in found.items()]


def _controls(fields: list[tuple[str, str, object]]) -> list[Control]:
    controls = []
    for name, tooltip, value in fields:
        match = _ROW_NAME.match(name)
        if match:
            table, row, column = match.groups()
            controls.append(Control("pdf", f"{table}.{column}", tooltip, value, f"{table}/{int(row)}"))
        else:
            controls.append(Control("pdf", name, tooltip, value, None))
    return controls


def _open(data: bytes, filename: str | None):
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except PyPdfError as exc:
        raise FormError(f"is not a readable PDF ({exc})", file=filename) from None
    if encrypted:
        try:
            opens_without_password = bool(reader.decrypt(""))
        except Exception:  # noqa: BLE001 - any failure here means a password is needed
            opens_without_password = False
        if opens_without_password:
            raise FormError(
                "is an encrypted PDF; ask the sender to save the form without security settings",
                file=filename,
            )
        raise FormError(
            "is a password-protected PDF; ask the sender for a copy without a password", file=filename
        )
    return reader


def read_pdf_fields(data: bytes, filename: str | None = None) -> dict[str, object]:
    """The AcroForm fields of any PDF form by qualified name (for checking real-world files)."""
    from pypdf import apply_configuration
    from pypdf.errors import PyPdfError

    try:
        with apply_configuration(**PDF_LIMITS):
            reader = _open(data, filename)
            return {name: value for name, _, value in pdf_fields(reader, filename)}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise FormError(f"is a damaged PDF ({type(exc).__name__})", file=filename) from None


def read_pdf(data: bytes, filename: str | None = None) -> FormRecord:
    """A filled PDF form (bytes already size-checked) as a validated record."""
    from pypdf import apply_configuration
    from pypdf.errors import PyPdfError

    try:
        with apply_configuration(**PDF_LIMITS):
            reader = _open(data, filename)
            fields = pdf_fields(reader, filename)
            subject = str((reader.metadata or {}).get("/Subject", "") or "")
            title = str((reader.metadata or {}).get("/Title", "") or "")
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise FormError(f"is a damaged PDF ({type(exc).__name__})", file=filename) from None
    if not fields:
        raise FormError("is a PDF without form fields (a printed or scanned form cannot be read)", file=filename)
    controls = _controls(fields)
    try:
        kind = subject if subject in KINDS else labels.kind_from_title([title])
        if kind is None:
            scores = {k: read_controls(k, controls).found() for k in KINDS}
            kind = max(scores, key=scores.get)
            if scores[kind] == 0:
                raise FormError(
                    "has form fields, but none of a Resolution Notice, escalation template, "
                    "summary log or stage summary",
                    file=filename,
                )
        raw: RawForm = read_controls(kind, controls)
    except FieldProblem as problem:
        raise FormError(problem.reason, file=filename, field=problem.field) from None
    return build_record(kind, raw, file=filename)
