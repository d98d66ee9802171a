"""The dashboard's charts: matplotlib figures saved as SVG and inlined in the page.

Why matplotlib to SVG, not an interactive JavaScript library: the page must work offline (a
classroom without network, a file opened from a USB stick), stay small (a few hundred kB, not
the 4 MB a bundled Plotly adds to every build), print cleanly, and render identically from the
same data. Static SVG does all of that with no script at all; the page puts a table with the
same figures beside every chart, which gives what hovering would (exact numbers) and is what a
screen reader reads. matplotlib is the most widely used and best maintained plotting library
in Python, ships its own type hints, and needs no browser or server to draw.

Settings that matter (:func:`style`): text stays ``<text>`` in the SVG (not glyph outlines), so a
name on a chart is searchable, selectable, and found by the privacy scan of a public build;
mathtext is off, so a ``$`` in a name is a dollar sign; element ids are salted with a constant
and the date is left out, so the same gradebook gives byte-identical charts. Figures are made
with :class:`matplotlib.figure.Figure`, never ``pyplot``: no global figure state, no GUI backend.
"""

from __future__ import annotations

import html
import io
import textwrap
from collections.abc import Sequence
from contextlib import AbstractContextManager

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter


def style() -> AbstractContextManager[None]:
    """The charts' matplotlib settings (see module doc), applied only inside the ``with``."""
    return mpl.rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "grader-dashboard",
            "text.parse_math": False,
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"],
            "font.size": 9,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.edgecolor": "#9ca3af",
            "xtick.color": "#374151",
            "ytick.color": "#374151",
        }
    )


# Red (low) to blue (high): tells low from high for the common forms of colour blindness, which
# red-to-green does not.
SCORE_COLORMAP = "RdYlBu"
NO_SCORE = "#e5e7eb"  # a cell with no score (no submission, or it could not be graded)
# Below a threshold (a criterion to revisit), a bar is this red whatever its exact value: the
# colour scale's midpoint is a pale yellow, which would make 50% look calm.
BELOW_THRESHOLD = "#d73027"
STATUS_COLORS = {
    "full marks": "#2c7bb6",
    "graded, not full": "#abd9e9",
    "could not be graded": "#fdae61",
    "no submission": "#d1d5db",
}


def colormap() -> Colormap:
    return mpl.colormaps[SCORE_COLORMAP]


def score_color(fraction: float | None) -> str:
    """The colour a score (0..1) has on every chart, as ``#rrggbb``; grey for no score."""
    return NO_SCORE if fraction is None else to_hex(colormap()(max(0.0, min(1.0, fraction))))


def text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (relative luminance)."""
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#111827" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.5 else "#ffffff"


def _wrap(label: str, width: int = 48) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _svg(figure: Figure, label: str) -> str:
    """``figure`` as an inline ``<svg>`` element (no XML prolog), labelled for screen readers."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    return svg.replace(
        "<svg ", f'<svg role="img" class="chart" aria-label="{html.escape(label)}" ', 1
    )


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    fractions: Sequence[Sequence[float | None]],
    labels: Sequence[Sequence[str]],
    title: str,
    *,
    scale_label: str = "share of points",
    column_width: float = 0.95,
) -> str:
    """A rows-by-columns grid coloured by score (0..1; None is grey) with ``labels`` written
    in the squares; long column names are wrapped to fit ``column_width`` (inches). Returns
    the SVG element."""
    heads = [_wrap(column, max(6, int(column_width * 13))) for column in columns]
    head_lines = max((h.count("\n") + 1 for h in heads), default=1)
    with style():
        width = max(4.8, 2.6 + column_width * len(columns))
        height = max(1.8, 1.0 + 0.3 * len(rows))
        figure = Figure(figsize=(width, height))
        axes = figure.add_subplot()
        grid = np.ma.masked_invalid(
            np.array([[np.nan if f is None else f for f in row] for row in fractions], dtype=float)
        )
        cmap = colormap().with_extremes(bad=NO_SCORE)
        image = axes.imshow(grid, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        axes.set_xticks(range(len(columns)), labels=heads)
        axes.set_yticks(range(len(rows)), labels=list(rows))
        axes.xaxis.tick_top()
        axes.tick_params(length=0)
        for spine in axes.spines.values():
            spine.set_visible(False)
        # White gaps between squares, so neighbours of similar colour stay apart.
        axes.set_xticks(np.arange(-0.5, len(columns), 1), minor=True)
        axes.set_yticks(np.arange(-0.5, len(rows), 1), minor=True)
        axes.grid(which="minor", color="white", linewidth=2)
        axes.tick_params(which="minor", length=0)
        for y, row in enumerate(labels):
            for x, label in enumerate(row):
                fill = score_color(fractions[y][x])
                axes.text(x, y, label, ha="center", va="center", color=text_color(fill))
        axes.set_title(title, pad=12 + 12 * head_lines)
        bar = figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02)
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        bar.set_label(scale_label)
        bar.outline.set_visible(False)
        return _svg(figure, title)


def rate_bars(
    labels: Sequence[str],
    rates: Sequence[float],
    notes: Sequence[str],
    title: str,
    *,
    threshold: float | None = None,
    threshold_label: str = "",
) -> str:
    """Horizontal bars of rates (0..1), the first at the top, each coloured like a score and
    annotated with ``notes`` (e.g. ``"45% (9 of 20)"``); a dashed line at ``threshold``."""
    with style():
        wrapped = [_wrap(label) for label in labels]
        lines = sum(label.count("\n") + 1 for label in wrapped)
        figure = Figure(figsize=(8.6, max(1.6, 0.9 + 0.26 * lines + 0.12 * len(labels))))
        axes: Axes = figure.add_subplot()
        positions = range(len(labels))
        fills = [
            BELOW_THRESHOLD if threshold is not None and rate < threshold else score_color(rate)
            for rate in rates
        ]
        axes.barh(
            positions,
            list(rates),
            color=fills,
            edgecolor="#6b7280",
            linewidth=0.4,
            height=0.7,
        )
        axes.set_yticks(list(positions), labels=wrapped)
        axes.invert_yaxis()  # the first label on top, as a table reads
        axes.set_xlim(0.0, 1.0)
        axes.xaxis.set_major_formatter(PercentFormatter(1.0))
        axes.tick_params(axis="y", length=0)
        axes.grid(axis="x", color="#e5e7eb", linewidth=0.6)
        axes.set_axisbelow(True)
        for y, (rate, note, fill) in enumerate(zip(rates, notes, fills, strict=True)):
            inside = rate > 0.8  # a long bar holds its own note; a short one has it beside
            axes.text(
                rate - 0.01 if inside else rate + 0.01,
                y,
                note,
                va="center",
                ha="right" if inside else "left",
                color=text_color(fill) if inside else "#111827",
                # A note beside its bar may cross the threshold line: keep it readable.
                bbox=None if inside else {"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
        if threshold is not None:
            axes.axvline(threshold, color="#b91c1c", linestyle="--", linewidth=1)
            axes.text(
                threshold,
                -0.7,
                threshold_label,
                color="#b91c1c",
                ha="center",
                va="bottom",
                fontsize=8,
            )
        axes.set_title(title, pad=16 if threshold is not None else 6)
        return _svg(figure, title)


def status_bars(labs: Sequence[str], counts: Sequence[dict[str, int]], title: str) -> str:
    """One stacked bar per lab: how many learners are at each status (keys of
    :data:`STATUS_COLORS`), counts written inside the segments wide enough to hold them."""
    with style():
        figure = Figure(figsize=(8.6, 1.5 + 0.42 * len(labs)), layout="constrained")
        axes = figure.add_subplot()
        total = max((sum(c.values()) for c in counts), default=1) or 1
        left = [0] * len(labs)
        for status, color in STATUS_COLORS.items():
            widths = [c.get(status, 0) for c in counts]
            axes.barh(range(len(labs)), widths, left=left, color=color, label=status, height=0.6)
            for y, (start, width) in enumerate(zip(left, widths, strict=True)):
                if width and width / total >= 0.04:
                    axes.text(
                        start + width / 2,
                        y,
                        str(width),
                        ha="center",
                        va="center",
                        color=text_color(color),
                    )
            left = [a + b for a, b in zip(left, widths, strict=True)]
        axes.set_yticks(range(len(labs)), labels=list(labs))
        axes.invert_yaxis()
        axes.set_xlim(0, total)
        axes.set_xlabel("learners")
        axes.tick_params(axis="y", length=0)
        # Outside the axes, below them: never over a bar, whatever the number of labs.
        figure.legend(loc="outside lower center", ncols=len(STATUS_COLORS), frameon=False)
        axes.set_title(title)
        return _svg(figure, title)
