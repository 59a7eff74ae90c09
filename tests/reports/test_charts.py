"""Charts drawn for the returns: self-contained SVG for the PDF, PNG for Word."""

from __future__ import annotations

import re

from resdesk.reports import Chart, chart_png, chart_svg

HOSTILE = Chart("bar", "Cases by agency", ("<script>alert(1)</script>", "Costs $5 and $x$", 'a" href="http://x'),
                {"cases": (1, 2, 3)})


def test_svg_is_one_element_with_nothing_to_fetch_and_no_script():
    """GIVEN labels holding markup, dollar signs and a URL WHEN the chart is drawn as SVG THEN it is one
    <svg> element whose text is outlines: no script, no text element, no link outside itself."""
    svg = chart_svg(HOSTILE)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<script" not in svg and "<text" not in svg
    links = re.findall(r'href="([^"]*)"', svg)
    assert links and all(link.startswith("#") for link in links)


def test_same_figures_draw_the_same_chart():
    """GIVEN the same chart twice WHEN drawn THEN the SVG is the same (no date, fixed ids)."""
    assert chart_svg(HOSTILE) == chart_svg(HOSTILE)


def test_png_for_word():
    """GIVEN a timeline chart and an empty one WHEN drawn as PNG THEN each is a PNG image."""
    timeline = Chart("timeline", "Cases opened, week by week", ("01 Oct", "08 Oct"), {"opened": (2, 0)})
    empty = Chart("bar", "Nothing", (), {"cases": ()})
    for chart in (timeline, empty):
        assert chart_png(chart).startswith(b"\x89PNG\r\n\x1a\n")
