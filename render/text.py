"""Plain-text mail bodies from the same views as the PDFs (sandboxed, strict, no escaping:
text/plain has no markup to escape)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from resdesk.errors import RenderError

from .formatting import FILTERS

__all__ = ["render_text", "text_environment"]


@lru_cache(maxsize=1)
def text_environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=PackageLoader("resdesk.render", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env


def render_text(template_name: str, view: BaseModel | dict[str, Any]) -> str:
    """The text body ``template_name`` (a ``*.txt`` template) filled with ``view``."""
    context = view.model_dump(mode="python") if isinstance(view, BaseModel) else dict(view)
    try:
        return text_environment().get_template(template_name).render(context)
    except TemplateError as error:
        raise RenderError(f"Text template {template_name} could not be rendered: {error}") from error
