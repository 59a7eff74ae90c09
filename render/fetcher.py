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

The fetcher itself (``render.assetfetcher``) is a WeasyPrint class, loaded only where layout
runs (the render worker): this module's names need no WeasyPrint, so a process that only asks
for documents does not load it.
"""

from __future__ import annotations

from importlib import resources

from resdesk.errors import RenderError

__all__ = ["ASSET_SCHEME", "ASSET_BASE_URL", "MEDIA_TYPES", "RefusedURL", "asset_url", "load_assets"]

ASSET_SCHEME = "resdesk-asset"
ASSET_BASE_URL = f"{ASSET_SCHEME}:/"
_ASSET_FOLDERS = ("css", "fonts")
MEDIA_TYPES = {".css": "text/css", ".ttf": "font/ttf", ".otf": "font/otf"}


class RefusedURL(RenderError):
    """A document asked to load something other than a packaged asset."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"The document tried to load {url[:200]!r}, which is refused: {reason}.")


def asset_url(path: str) -> str:
    """The URL under which a packaged asset (``fonts/DejaVuSans.ttf``) is served."""
    return f"{ASSET_SCHEME}:/{path}"


def load_assets() -> dict[str, bytes]:
    """Every packaged asset by its path under the package (``fonts/DejaVuSans.ttf``), read once."""
    package = resources.files("resdesk.render")
    assets: dict[str, bytes] = {}
    for folder in _ASSET_FOLDERS:
        for entry in package.joinpath(folder).iterdir():
            suffix = "." + entry.name.rsplit(".", 1)[-1].lower()
            if entry.is_file() and suffix in MEDIA_TYPES:
                assets[f"{folder}/{entry.name}"] = entry.read_bytes()
    return assets
