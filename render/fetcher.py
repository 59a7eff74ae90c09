"""The only way a rendered document may load anything: the product's own assets.

WeasyPrint asks its URL fetcher for every stylesheet, font, image and
``<link rel=attachment>`` a document names. ``AssetFetcher`` answers only URLs
of the private scheme ``resdesk-asset:`` whose path is one of the files shipped
in this package (``render/css/`` and ``render/fonts/``), read once into memory.

Everything else is refused with an error before any I/O happens: ``file:``
(local files), ``http:``/``https:``/``ftp:`` (the network), and ``data:`` too.
``data:`` reads nothing local and reaches no one, but it would let markup carry
its own payload into the PDF (an attachment, an image); our templates never need
it, so refusing it keeps "the PDF contains only what the template put there"
true without exceptions.

A refusal is fatal to the rendering (``fail_on_errors``): a document that tried
to load something it should not is not a document the product will send.
"""

from __future__ import annotations

import mimetypes
from importlib import resources

from weasyprint.urls import URLFetcher, URLFetcherResponse

from resdesk.errors import RenderError

__all__ = ["ASSET_SCHEME", "ASSET_BASE_URL", "AssetFetcher", "RefusedURL", "asset_url"]

ASSET_SCHEME = "resdesk-asset"
ASSET_BASE_URL = f"{ASSET_SCHEME}:/"
_ASSET_FOLDERS = ("css", "fonts")
_MEDIA_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf"}


class RefusedURL(RenderError):
    """A document asked to load something other than a packaged asset."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"The document tried to load {url[:200]!r}, which is refused: {reason}.")


def asset_url(path: str) -> str:
    """The URL under which a packaged asset (``fonts/DejaVuSans.ttf``) is served."""
    return f"{ASSET_SCHEME}:/{path}"


def _load_assets() -> dict[str, bytes]:
    package = resources.files("resdesk.render")
    assets: dict[str, bytes] = {}
    for folder in _ASSET_FOLDERS:
        for entry in package.joinpath(folder).iterdir():
            suffix = "." + entry.name.rsplit(".", 1)[-1].lower()
            if entry.is_file() and suffix in _MEDIA_TYPES:
                assets[f"{folder}/{entry.name}"] = entry.read_bytes()
    return assets


class AssetFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves packaged assets and refuses everything else.

    ``refused`` lists every URL turned away, in order, so a caller (or a test)
    can say exactly what a document tried to load.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(ASSET_SCHEME,), fail_on_errors=True)
        self._assets = _load_assets()
        self.refused: list[str] = []

    @property
    def asset_names(self) -> list[str]:
        return sorted(self._assets)

    def fetch(self, url, headers=None):  # noqa: ARG002 - WeasyPrint's signature
        """Return the packaged asset named by ``url`` or raise ``RefusedURL``."""
        scheme, sep, rest = url.partition(":")
        if not sep or scheme.lower() != ASSET_SCHEME:
            self._refuse(url, "only the product's packaged assets may be loaded")
        path = rest.lstrip("/").split("?", 1)[0].split("#", 1)[0]
        body = self._assets.get(path)
        if body is None:
            self._refuse(url, "no packaged asset has that name")
        media_type = _MEDIA_TYPES.get("." + path.rsplit(".", 1)[-1].lower())
        media_type = media_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=body, headers={"Content-Type": media_type})

    def open(self, url, data=None, timeout=None):  # noqa: ARG002
        """Never let urllib's opener run: every request goes through ``fetch``."""
        return self.fetch(url if isinstance(url, str) else url.full_url)

    def _refuse(self, url: str, reason: str):
        self.refused.append(url)
        raise RefusedURL(url, reason)
