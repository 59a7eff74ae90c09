"""Charts drawn by matplotlib: SVG for the PDF (inline, no file, no script), PNG for Word.

matplotlib's non-interactive backends only; text is drawn as outlines, so an
SVG carries no font reference and nothing for the PDF renderer to fetch, and
its metadata carries no date, so the same figures draw the same chart.
"""

from __future__ import annotations

import io
import re
import threading

from .model import Chart

_lock = threading.Lock()  # pyplot keeps global state
_COLOURS = ("#1f5f8b", "#c0392b", "#7f8c8d", "#27ae60")
_XML_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)  # matplotlib repeats each label, escaped, in a comment


def _plain(text: str) -> str:
    """Text shown as written: matplotlib would read ``$…$`` as mathematics."""
    return text.replace("$", r"\$")


def _figure(chart: Chart):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 3.0), dpi=100)
    axes = figure.add_subplot()
    positions = list(range(len(chart.labels)))
    names = list(chart.series)
    if chart.kind == "timeline":
        for index, name in enumerate(names):
            axes.plot(positions, chart.series[name], marker="o", color=_COLOURS[index % len(_COLOURS)], label=_plain(name))
    else:
        width = 0.8 / max(len(names), 1)
        for index, name in enumerate(names):
            offset = [p - 0.4 + width * (index + 0.5) for p in positions]
            axes.bar(offset, chart.series[name], width=width, color=_COLOURS[index % len(_COLOURS)], label=_plain(name))
    axes.set_title(_plain(chart.title), fontsize=10)
    axes.set_ylabel(chart.y_label, fontsize=8)
    axes.set_xticks(positions, [_plain(label[:28]) for label in chart.labels], fontsize=7,
                    rotation=30 if len(chart.labels) > 4 else 0, ha="right" if len(chart.labels) > 4 else "center")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="y", labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    if len(names) > 1:
        axes.legend(fontsize=7, frameon=False)
    if not chart.labels:
        axes.text(0.5, 0.5, "Nothing to show for this period", ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    return figure


def chart_svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element (no XML prologue), ready to sit inline in HTML."""
    with _lock:
        import matplotlib

        figure = _figure(chart)
        buffer = io.StringIO()
        with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "resdesk"}):
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _COMMENT.sub("", _XML_PROLOGUE.sub("", buffer.getvalue(), count=1))


def chart_png(chart: Chart, dpi: int = 150) -> bytes:
    """The chart as a PNG image (for the Word file)."""
    with _lock:
        figure = _figure(chart)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
