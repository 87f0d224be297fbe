"""Charts as inline SVG, drawn here (no script, nothing fetched): horizontal bars and a daily series."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR = "#2f6db3"
SECOND = "#e08a2c"


def bars(title: str, rows: Sequence[tuple[str, float]], unit: str = "") -> str:
    """One labelled bar a row, longest first as given; an empty chart says so."""
    height = 26 * max(len(rows), 1) + 34
    top = max((value for _, value in rows), default=0) or 1
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 560 {height}" '
             f'width="560" height="{height}"><title>{escape(title)}</title>',
             f'<text x="0" y="16" class="chart-title">{escape(title)}</text>']
    if not rows:
        parts.append('<text x="0" y="44" class="chart-empty">no data in this period</text>')
    for number, (label, value) in enumerate(rows):
        y = 30 + 26 * number
        width = 300 * value / top
        parts.append(f'<text x="170" y="{y + 15}" text-anchor="end" class="chart-label">{escape(label[:28])}</text>'
                     f'<rect x="178" y="{y + 2}" width="{width:.1f}" height="18" fill="{BAR}"/>'
                     f'<text x="{182 + width:.1f}" y="{y + 15}" class="chart-value">{value:g}{escape(unit)}</text>')
    return "".join(parts) + "</svg>"


def daily(title: str, series: dict[str, dict[str, int]]) -> str:
    """Columns per day for the first series, a line for the second (e.g. conversations and messages)."""
    names = list(series)
    days = list(series[names[0]]) if names else []
    top = max((v for values in series.values() for v in values.values()), default=0) or 1
    width, height, left, bottom = 640, 220, 36, 180
    step = (width - left - 10) / max(len(days), 1)
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}"><title>{escape(title)}</title>',
             f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
             f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#999"/>',
             f'<text x="{left - 4}" y="34" text-anchor="end" class="chart-value">{top}</text>']
    for index, name in enumerate(names):
        colour = BAR if index == 0 else SECOND
        points = []
        for number, day in enumerate(days):
            value = series[name].get(day, 0)
            x = left + step * number
            y = bottom - (bottom - 30) * value / top
            if index == 0:
                parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                             f'height="{bottom - y:.1f}" fill="{colour}"><title>{escape(day)}: {value}</title></rect>')
            else:
                points.append(f"{x + step / 2:.1f},{y:.1f}")
        if points:
            parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<rect x="{left + 130 * index}" y="{height - 18}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + 14 + 130 * index}" y="{height - 9}" class="chart-label">{escape(name)}</text>')
    for number, day in enumerate(days):
        if number % max(len(days) // 6, 1) == 0:
            parts.append(f'<text x="{left + step * number:.1f}" y="{bottom + 14}" class="chart-label">{day[5:]}</text>')
    return "".join(parts) + "</svg>"
