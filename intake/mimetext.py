"""Text out of MIME parts: charset trouble tolerated, HTML flattened to crude text."""

from __future__ import annotations

import html
from email.message import EmailMessage
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
           "blockquote", "pre", "hr", "section", "article", "header", "footer"}
_CELLS = {"td", "th"}
_HIDDEN = {"script", "style", "head", "title", "template"}


def part_text(part: EmailMessage, defects: list[str]) -> str:
    """The decoded text of one part; an unknown or wrong charset is noted, not raised."""
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except LookupError:
        defects.append(f"unknown charset {part.get_content_charset()!r}; read as UTF-8")
    except Exception as exc:
        defects.append(f"a text part could not be decoded ({type(exc).__name__}); read as UTF-8")
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        return ""
    if not isinstance(data, bytes):
        return str(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class _Flattener(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.pieces.append("\n")
        elif tag in _CELLS:
            self.pieces.append("\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.pieces.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.pieces.append(data)


def html_to_text(markup: str) -> str:
    """Crude text from HTML: tags dropped, blocks on their own lines, scripts and styles gone."""
    parser = _Flattener()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # a badly broken document: fall back to dropping everything tag-like
        return html.unescape(" ".join(markup.replace("<", " <").split()))
    lines = []
    for line in "".join(parser.pieces).replace("\xa0", " ").splitlines():
        cells = [" ".join(cell.split()) for cell in line.split("\t")]
        text = "\t".join(c for c in cells if c)
        if text or (lines and lines[-1]):
            lines.append(text)
    return "\n".join(lines).strip()
