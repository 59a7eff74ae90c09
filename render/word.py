"""Editable Word documents from docxtpl templates, rendered in Jinja's sandbox.

The templates (``render/templates/*.docx``) are built by
``render/templates/build_docx_templates.py``. Values are XML-escaped
(autoescape) and the sandbox stops a value or a template from reaching Python
internals; a template naming a missing value fails instead of printing a blank.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from io import BytesIO
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape
from pydantic import BaseModel

from resdesk.errors import RenderError
from resdesk.forms.values import without_controls

from .formatting import FILTERS

__all__ = ["render_docx", "word_environment", "WORD_TEMPLATES"]

WORD_TEMPLATES = ("resolution_notice.docx", "notice_letter.docx")
_BREAK = Markup('</w:t><w:br/><w:t xml:space="preserve">')


def _lines(value: str) -> Markup:
    """Escaped text whose line breaks stay line breaks in Word."""
    return _BREAK.join(escape(line) for line in without_controls(str(value)).splitlines())


def _plain(value: object) -> object:
    """Every value a Word template prints, without bidirectional or other control characters."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return without_controls(value)
    return value


@lru_cache(maxsize=1)
def word_environment() -> SandboxedEnvironment:
    """The sandboxed, autoescaping, strict Jinja environment docxtpl renders with."""
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, finalize=_plain)
    env.filters.update(FILTERS)
    env.filters["lines"] = _lines
    return env


@lru_cache(maxsize=None)
def _template_bytes(template_name: str) -> bytes:
    if template_name not in WORD_TEMPLATES:
        raise RenderError(f"There is no Word template {template_name!r}; known: {', '.join(WORD_TEMPLATES)}.")
    return resources.files("resdesk.render").joinpath("templates", template_name).read_bytes()


def render_docx(template_name: str, view: BaseModel | dict[str, Any]) -> bytes:
    """The Word document ``template_name`` filled with ``view``."""
    from docxtpl import DocxTemplate

    context = view.model_dump(mode="python") if isinstance(view, BaseModel) else dict(view)
    template = DocxTemplate(BytesIO(_template_bytes(template_name)))
    try:
        template.render(context, jinja_env=word_environment(), autoescape=True)
    except TemplateError as error:
        raise RenderError(f"Word template {template_name} could not be rendered: {error}") from error
    out = BytesIO()
    template.save(out)
    return out.getvalue()
