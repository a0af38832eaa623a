"""A cold group's last day as a small chart: inline SVG drawn on the server, so the screens
need no script and no outside file (their Content-Security-Policy allows neither). The
station's maintenance screen and the hub's fleet screen draw the same chart.

The band is a pale strip, the temperature a line (broken where the thermometer was silent,
those minutes marked red along the bottom), the newest value a dot. Colours are SVG
attributes, not style, and every text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH, HEIGHT = 300, 90
LEFT, RIGHT, TOP, BOTTOM = 34, 4, 6, 16  # room for the scale's labels
BUCKET = timedelta(minutes=5)  # one point per five minutes: 288 over a day
SPAN = timedelta(hours=24)


@dataclass(frozen=True)
class Point:
    at: datetime
    celsius: float | None  # None: no answer that minute


def _buckets(points: Sequence[Point], start: datetime) -> list[tuple[int, float | None]]:
    """(bucket index, mean of its answers or None when all were silent), oldest first."""
    sums: dict[int, list[float]] = {}
    silent: set[int] = set()
    for p in points:
        index = int((p.at - start) / BUCKET)
        if not 0 <= index < SPAN / BUCKET:
            continue
        if p.celsius is None:
            silent.add(index)
        else:
            sums.setdefault(index, []).append(p.celsius)
    found: list[tuple[int, float | None]] = [(i, sum(v) / len(v)) for i, v in sums.items()]
    found += [(i, None) for i in silent - sums.keys()]
    return sorted(found, key=lambda item: item[0])


def cold_chart(
    points: Sequence[Point],
    *,
    now: datetime,
    band: tuple[float | None, float | None],
    label: str,
) -> str:
    """The SVG element (a string of safe markup) of the day before ``now``."""
    start = now - SPAN
    buckets = _buckets(points, start)
    values = [v for _, v in buckets if v is not None]
    low_band, high_band = band
    marks = [m for m in (low_band, high_band) if m is not None]
    lowest = min([*values, *marks]) - 2
    highest = max([*values, *marks]) + 2
    if low_band is None:  # a freezer: show a few degrees below its ceiling at least
        lowest = min(lowest, (high_band or 0) - 8)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    per_bucket = inner_w / (SPAN / BUCKET)

    def x(index: float) -> float:
        return LEFT + index * per_bucket

    def y(celsius: float) -> float:
        return TOP + (highest - celsius) / (highest - lowest) * inner_h

    top_c = high_band if high_band is not None else highest
    bottom_c = low_band if low_band is not None else lowest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cold-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'aria-label="{html.escape(label)}"><title>{html.escape(label)}</title>',
        f'<rect class="band" x="{LEFT}" y="{y(top_c):.1f}" width="{inner_w}" '
        f'height="{max(y(bottom_c) - y(top_c), 0.5):.1f}" fill="#d9f2e0"/>',
        f'<rect x="{LEFT}" y="{TOP}" width="{inner_w}" height="{inner_h}" fill="none" '
        'stroke="#999" stroke-width="0.5"/>',
    ]
    for mark in marks:
        parts.append(
            f'<text x="{LEFT - 3}" y="{y(mark) + 3:.1f}" font-size="9" text-anchor="end" '
            f'fill="#333">{mark:g}°</text>'
        )
    line: list[str] = []
    previous = -2
    for index, value in buckets:
        if value is None:
            parts.append(
                f'<rect class="silent" x="{x(index):.1f}" y="{HEIGHT - BOTTOM + 1}" '
                f'width="{max(per_bucket, 1):.1f}" height="3" fill="#c0392b"/>'
            )
            line = _flush(parts, line)
            continue
        if index != previous + 1:
            line = _flush(parts, line)  # a gap in the readings: the line breaks
        line.append(f"{x(index) + per_bucket / 2:.1f},{y(value):.1f}")
        previous = index
    _flush(parts, line)
    if buckets and buckets[-1][1] is not None:
        index, value = buckets[-1]
        assert value is not None
        parts.append(
            f'<circle class="now" cx="{x(index) + per_bucket / 2:.1f}" cy="{y(value):.1f}" '
            'r="2.5" fill="#1f5fa8"/>'
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 2}" font-size="9" fill="#333">−24 h</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 2}" font-size="9" text-anchor="end" '
        'fill="#333">now</text></svg>'
    )
    return "".join(parts)


def _flush(parts: list[str], line: list[str]) -> list[str]:
    if len(line) == 1:  # a lone reading between gaps: a short dash
        px, py = (float(v) for v in line[0].split(","))
        line = [f"{px - 1:.1f},{py:.1f}", f"{px + 1:.1f},{py:.1f}"]
    if line:
        parts.append(
            f'<polyline class="temperature" points="{" ".join(line)}" fill="none" '
            'stroke="#1f5fa8" stroke-width="1.5"/>'
        )
    return []
