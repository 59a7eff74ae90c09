"""The URL fetcher serves packaged assets and refuses everything else."""

from __future__ import annotations

import pytest

from resdesk.render import AssetFetcher, RefusedURL, asset_url
from resdesk.errors import RenderError


def test_serves_the_packaged_stylesheet_and_fonts():
    """GIVEN the product's fetcher WHEN asked for its stylesheet and fonts THEN it returns their bytes."""
    fetcher = AssetFetcher()
    css = fetcher.fetch(asset_url("css/letter.css"))
    assert css.content_type == "text/css"
    assert b"@font-face" in css.read()
    font = fetcher.fetch(asset_url("fonts/DejaVuSans.ttf"))
    assert font.read(4) == b"\x00\x01\x00\x00"  # a TrueType font
    assert {"css/letter.css", "fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf"} <= set(fetcher.asset_names)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1:9/",
        "https://example.org/style.css",
        "ftp://example.org/x",
        "data:text/plain;base64,aGVsbG8=",
        "resdesk-asset:/../html.py",
        "resdesk-asset:/css/../html.py",
        "resdesk-asset:/fonts/../../resdesk/settings.py",
        "resdesk-asset:/templates/base.html",
        "resdesk-asset:/fonts/LICENSE-DejaVu.txt",
        "resdesk-asset:/fonts/nonexistent.ttf",
        "/etc/passwd",
        "javascript:alert(1)",
    ],
)
def test_refuses_anything_but_a_packaged_asset(url):
    """GIVEN a URL that is not a packaged asset WHEN fetched THEN RefusedURL, recorded as refused."""
    fetcher = AssetFetcher()
    with pytest.raises(RefusedURL) as caught:
        fetcher.fetch(url)
    assert isinstance(caught.value, RenderError)
    assert fetcher.refused == [url]


def test_urllib_opener_path_goes_through_the_same_policy():
    """GIVEN the fetcher used as a urllib opener WHEN opening a file URL THEN it is refused too."""
    with pytest.raises(RefusedURL):
        AssetFetcher().open("file:///etc/passwd")
