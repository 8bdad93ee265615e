"""Charts inside documents (matplotlib, PNG), drawn with a CJK font so Chinese labels render.

Without a CJK font matplotlib silently draws empty boxes; we refuse to do that and raise
FontMissing with the package to install instead."""

from __future__ import annotations

import functools
import hashlib
import io
import threading
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from xinglin.documents.figures import parse_target

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei")
MET_COLOUR = "#2e7d32"
NOT_MET_COLOUR = "#c62828"
LINE_COLOUR = "#1f4e79"
DPI = 150


class FontMissing(RuntimeError):
    """No CJK font is installed."""


@functools.cache
def cjk_font() -> str:
    """The family name of an installed CJK font; raises FontMissing when there is none."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    raise FontMissing(
        "No CJK font found for charts (looked for "
        + ", ".join(CJK_FAMILIES)
        + "). Install one, e.g. Debian: apt-get install fonts-noto-cjk"
    )


def _figure(width: float, height: float):
    plt.rcParams["font.family"] = cjk_font()
    plt.rcParams["axes.unicode_minus"] = False
    # a Figure outside pyplot's registry: the background pool draws in several threads at once
    return Figure(figsize=(width, height), dpi=DPI)


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


_drawn: OrderedDict[str, bytes] = OrderedDict()
_drawn_lock = threading.Lock()
DRAWN_KEPT = 32


def _kept(draw):
    """The PNG of the same chart input is drawn once: a document's docx and pdf (and the
    next day's, on unchanged data) show the same charts, and drawing is most of building."""

    @functools.wraps(draw)
    def wrapper(arg):
        key = draw.__name__ + hashlib.sha256(repr(arg).encode()).hexdigest()
        with _drawn_lock:
            if key in _drawn:
                _drawn.move_to_end(key)
                return _drawn[key]
        png = draw(arg)
        with _drawn_lock:
            _drawn[key] = png
            while len(_drawn) > DRAWN_KEPT:
                _drawn.popitem(last=False)
        return png

    return wrapper


@_kept
def trend_chart(series: list[tuple[str, list[tuple[int, float]], dict]]) -> bytes:
    """Small multiples: one panel per indicator, its yearly values and its target line.
    `series` items are (name, [(year, value)], figure) with the figure's target text."""

    columns = 3 if len(series) > 2 else len(series)
    rows = (len(series) + columns - 1) // columns
    fig = _figure(2.6 * columns, 2.2 * rows)
    for index, (name, points, figure) in enumerate(series, start=1):
        axes = fig.add_subplot(rows, columns, index)
        years = [p[0] for p in points]
        values = [p[1] for p in points]
        axes.plot(years, values, marker="o", color=LINE_COLOUR, linewidth=1.5)
        target = parse_target(figure.get("target"))
        if target is not None:
            axes.axhline(target[1], color=NOT_MET_COLOUR, linestyle="--", linewidth=1)
        axes.set_title(_wrap(name), fontsize=8)
        axes.set_xticks(years)
        axes.tick_params(labelsize=7)
    fig.tight_layout()
    return _png(fig)


@_kept
def met_chart(groups: list[tuple[str, int, int]]) -> bytes:
    """Horizontal stacked bars: indicators met / not met per unit."""
    fig = _figure(6.0, 0.35 * len(groups) + 1.2)
    axes = fig.add_subplot(1, 1, 1)
    names = [g[0] for g in groups]
    met = [g[1] for g in groups]
    not_met = [g[2] for g in groups]
    axes.barh(names, met, color=MET_COLOUR, label="达标")
    axes.barh(names, not_met, left=met, color=NOT_MET_COLOUR, label="未达标")
    axes.invert_yaxis()
    axes.tick_params(labelsize=8)
    axes.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return _png(fig)


def _wrap(text: str, width: int = 14) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))
