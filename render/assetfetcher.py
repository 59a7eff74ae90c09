"""``AssetFetcher``: the WeasyPrint URL fetcher of ``render.fetcher``'s rules (see there).

Its own module because it subclasses WeasyPrint's fetcher: importing it loads WeasyPrint,
which only the render worker (where layout runs) needs.
"""

from __future__ import annotations

import mimetypes

from weasyprint.urls import URLFetcher, URLFetcherResponse

from .fetcher import ASSET_SCHEME, MEDIA_TYPES, RefusedURL, load_assets

__all__ = ["AssetFetcher"]


class AssetFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves packaged assets and refuses everything else.

    ``refused`` lists every URL turned away, in order, so a caller (or a test)
    can say exactly what a document tried to load.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(ASSET_SCHEME,), fail_on_errors=True)
        self._assets = load_assets()
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
        media_type = MEDIA_TYPES.get("." + path.rsplit(".", 1)[-1].lower())
        media_type = media_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=body, headers={"Content-Type": media_type})

    def open(self, url, data=None, timeout=None):  # noqa: ARG002
        """Never let urllib's opener run: every request goes through ``fetch``."""
        return self.fetch(url if isinstance(url, str) else url.full_url)

    def _refuse(self, url: str, reason: str):
        self.refused.append(url)
        raise RefusedURL(url, reason)
