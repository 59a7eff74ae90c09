"""PDF documents from HTML templates, rendered locked down and fast.

Templates live in ``render/templates/`` and run in Jinja2's sandbox with
autoescaping on and ``StrictUndefined``: a value from a message is always text,
never markup, and a template that names a missing value fails loudly instead of
printing a blank. WeasyPrint loads nothing but packaged assets (see
``render.fetcher``).

Everything that does not depend on the document is built once per process and
reused: the Jinja environment and compiled templates, the parsed stylesheet and
the font configuration holding the product's fonts.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from pydantic import BaseModel

from resdesk.errors import RenderError
from resdesk.forms.values import without_controls

from .fetcher import ASSET_BASE_URL, RefusedURL
from .formatting import FILTERS
from .timeline import timeline_chart
from .worker import default_pool

__all__ = [
    "render_html",
    "render_pdf",
    "html_to_pdf",
    "html_environment",
    "STYLESHEET",
    "ARCHIVE_VARIANT",
]

STYLESHEET = "css/letter.css"
# PDF/A-3u: every glyph maps to Unicode (ToUnicode), so the record can be searched and its text extracted.
ARCHIVE_VARIANT = "pdf/a-3u"
_lock = threading.Lock()  # WeasyPrint's shared font configuration is not thread-safe.


# A run of this many characters without a space gets a break opportunity (U+200B, zero width,
# not extracted as text) every _BREAK_EVERY characters: layout of one unbroken 10,000-character
# word is several times slower than of the same text in pieces, and grows faster than its length.
_LONG_RUN = re.compile(r"[^\s\u200b]{40,}")
_BREAK_EVERY = 30


def _breakable(value: object) -> object:
    """Every value a template prints, without bidirectional or other control characters and with
    long unbroken runs given break opportunities (markup a macro made is left alone: its own
    values were treated when it was made)."""
    if not isinstance(value, str) or isinstance(value, Markup):
        return value
    value = without_controls(value)
    if len(value) >= 40:
        return _LONG_RUN.sub(
            lambda m: "\u200b".join(m.group(0)[i : i + _BREAK_EVERY] for i in range(0, len(m.group(0)), _BREAK_EVERY)),
            value,
        )
    return value


@lru_cache(maxsize=1)
def html_environment() -> SandboxedEnvironment:
    """The one sandboxed, autoescaping, strict Jinja environment for HTML templates."""
    env = SandboxedEnvironment(
        loader=PackageLoader("resdesk.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=-1,
        finalize=_breakable,
    )
    env.filters.update(FILTERS)
    env.globals["timeline_chart"] = timeline_chart
    return env


class _Engine:
    """The parts of WeasyPrint worth building once: fetcher, fonts, stylesheet."""

    def __init__(self) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        from .assetfetcher import AssetFetcher

        self.fetcher = AssetFetcher()
        self.font_config = FontConfiguration()
        css_source = self.fetcher.fetch(ASSET_BASE_URL + STYLESHEET).read().decode("utf-8")
        self.stylesheets = [
            CSS(
                string=css_source,
                base_url=ASSET_BASE_URL,
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
        ]


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


def _context(view: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(view, BaseModel):
        return view.model_dump(mode="python")
    return dict(view)


def render_html(template_name: str, view: BaseModel | dict[str, Any]) -> str:
    """The HTML of ``template_name`` filled with ``view`` (escaped, sandboxed)."""
    try:
        template = html_environment().get_template(template_name)
        return template.render(_context(view))
    except TemplateError as error:
        raise RenderError(f"Template {template_name} could not be rendered: {error}") from error


def render_pdf(
    template_name: str,
    view: BaseModel | dict[str, Any],
    *,
    pdf_variant: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> bytes:
    """A tagged A4 PDF of ``template_name`` filled with ``view``.

    ``attachments`` are ``(file name, content, description)`` triples embedded
    in the PDF (the auditor record embeds its JSON this way); ``pdf_variant``
    is a WeasyPrint variant such as ``"pdf/a-3u"``.
    """
    html = render_html(template_name, view)
    return html_to_pdf(html, pdf_variant=pdf_variant, attachments=attachments)


def html_to_pdf(
    html: str,
    *,
    pdf_variant: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
    tagged: bool = True,
) -> bytes:
    """A tagged PDF of ``html`` with the product's stylesheet and fonts, laid out in the shared
    render worker under its time and memory limits (``render.worker``); ``tagged=False`` leaves
    out the structure tree (a page overlay, whose content is marked as an artifact where it lands).

    Anything the HTML asks to load other than a packaged asset raises ``RefusedURL``; nothing
    is read from disk or the network. A render past a limit raises ``RenderError`` naming it.
    """
    return default_pool().run("pdf", html, pdf_variant=pdf_variant, attachments=attachments, tagged=tagged)


def write_pdf_in_this_process(
    html: str,
    *,
    pdf_variant: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
    tagged: bool = True,
) -> bytes:
    """``html_to_pdf`` without the worker: the render worker's own task."""
    from weasyprint import HTML, Attachment
    from weasyprint.urls import FatalURLFetchingError

    engine = _engine()
    with _lock:
        try:
            document = HTML(string=html, base_url=ASSET_BASE_URL, url_fetcher=engine.fetcher)
            embedded = [
                Attachment(
                    string=content,
                    base_url=ASSET_BASE_URL,
                    url_fetcher=engine.fetcher,
                    name=name,
                    description=description,
                    relationship="Source",
                )
                for name, content, description in attachments or ()
            ]
            return document.write_pdf(
                stylesheets=engine.stylesheets,
                font_config=engine.font_config,
                pdf_tags=tagged,
                pdf_variant=pdf_variant,
                attachments=embedded or None,
                uncompressed_pdf=False,
            )
        except FatalURLFetchingError as error:
            cause = error.__cause__
            if isinstance(cause, RefusedURL):
                raise cause from None
            raise RenderError(f"The document could not load an asset: {error}") from error
