"""The dashboard's charts as server-side SVG (no JavaScript, printable, readable without
colour: every mark has its number in a ``<title>`` tooltip and the CSV next to it).

Each function returns ``Markup``; every label passes through ``escape``.
"""
from __future__ import annotations

from markupsafe import Markup, escape

ACCENT = "#1d5fd1"
ALERT = "#c62828"
GRID = "#dde2e8"
TEXT = "#5d6878"
HEAT = ("#f3f6fb", "#dbe6fa", "#b3cbf5", "#7ea6ec", "#4a7fdf", "#1d5fd1", "#123f94")


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _svg(width: int, height: int, label: str, body: str, kind: str = "") -> Markup:
    return Markup(f'<svg class="chart {kind}" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
                  f'preserveAspectRatio="xMinYMin meet">{body}</svg>')


def columns(points: list[tuple[str, float, float]], label: str, width: int = 720,
            height: int = 220) -> Markup:
    """Stacked daily columns: ``(day label, total, alert part)`` (e.g. searches and the ones
    that found nothing, drawn in red at the foot of each column)."""
    left, bottom, top = 40, 24, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = _nice_max(max((total for _, total, _ in points), default=0))
    parts = []
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{TEXT}">{value:g}</text>')
    slot = plot_w / max(1, len(points))
    bar = max(1.0, slot * 0.7)
    every = max(1, round(len(points) / 8))
    for index, (name, total, alert) in enumerate(points):
        x = left + index * slot + (slot - bar) / 2
        h_total, h_alert = plot_h * total / peak, plot_h * alert / peak
        tip = escape(f"{name}: {total:g} ({alert:g})")
        parts.append(f'<g><title>{tip}</title>'
                     f'<rect x="{x:.1f}" y="{top + plot_h - h_total:.1f}" width="{bar:.1f}" '
                     f'height="{h_total:.1f}" fill="{ACCENT}" rx="1.5"/>'
                     f'<rect x="{x:.1f}" y="{top + plot_h - h_alert:.1f}" width="{bar:.1f}" '
                     f'height="{h_alert:.1f}" fill="{ALERT}" rx="1.5"/></g>')
        if index % every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                         f'font-size="11" fill="{TEXT}">{escape(name)}</text>')
    return _svg(width, height, label, "".join(parts), "chart-columns")


def heatmap(grid: list[list[int]], weekdays: list[str], label: str, width: int = 720) -> Markup:
    """7 x 24 cells, darker = more; the hour labels on top, the weekday names on the left."""
    left, top, gap = 44, 20, 2
    cell = (width - left) / 24
    height = top + 7 * cell
    peak = max((value for row in grid for value in row), default=0)
    parts = [f'<text x="{left + hour * cell + cell / 2:.1f}" y="13" text-anchor="middle" '
             f'font-size="10.5" fill="{TEXT}">{hour}</text>' for hour in range(0, 24, 2)]
    for day, row in enumerate(grid):
        y = top + day * cell
        parts.append(f'<text x="{left - 8}" y="{y + cell / 2 + 4:.1f}" text-anchor="end" '
                     f'font-size="11.5" fill="{TEXT}">{escape(weekdays[day])}</text>')
        for hour, value in enumerate(row):
            shade = HEAT[0] if not value else HEAT[1 + min(5, int(5 * value / peak))]
            tip = escape(f"{weekdays[day]} {hour:02d}:00-{hour:02d}:59: {value}")
            parts.append(f'<rect x="{left + hour * cell:.1f}" y="{y:.1f}" width="{cell - gap:.1f}" '
                         f'height="{cell - gap:.1f}" rx="3" fill="{shade}" data-count="{value}">'
                         f'<title>{tip}</title></rect>')
    return _svg(width, int(height) + 2, label, "".join(parts), "chart-heatmap")


def bars(items: list[tuple[str, float]], label: str, width: int = 340) -> Markup:
    """Horizontal bars, one per ``(name, value)``, the value written after the bar."""
    row = 24
    left = min(200, 16 + 7 * max((len(name) for name, _ in items), default=4))
    height = max(row, row * len(items)) + 4
    peak = max((value for _, value in items), default=0) or 1
    parts = []
    for index, (name, value) in enumerate(items):
        y = index * row + 4
        length = (width - left - 48) * value / peak
        parts.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end" font-size="12" '
                     f'fill="{TEXT}">{escape(name)}</text>'
                     f'<rect x="{left}" y="{y + 2}" width="{max(length, 1):.1f}" height="15" rx="2" '
                     f'fill="{ACCENT}"><title>{escape(f"{name}: {value:g}")}</title></rect>'
                     f'<text x="{left + length + 6:.1f}" y="{y + 13}" font-size="12" '
                     f'fill="#1b2330">{value:g}</text>')
    return _svg(width, height, label, "".join(parts), "chart-bars")
