"""The stations on a map the hub draws itself (no tiles from the internet): an
equirectangular projection fitted to the stations' bounding box, one dot a station coloured
by its state (online, needs attention, offline), each a link to the station's page."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from fleet.screens.list_views import MapDot

WIDTH = 1000.0
PAD = 0.06  # of the box, on each side
MIN_SPAN = 0.01  # degrees: one station, or all at one spot, still get a box


@dataclass(frozen=True)
class Drawn:
    svg: Markup
    dots: int


def state_of(dot: MapDot) -> str:
    if not dot.online:
        return "offline"
    return "attention" if dot.attention else "online"


def draw(dots: list[MapDot], *, label: str, titles: dict[str, str]) -> Drawn:
    """The map as inline SVG; ``titles`` names each state for the dots' tooltips."""
    if not dots:
        return Drawn(Markup(""), 0)
    south = min(d.latitude for d in dots)
    north = max(d.latitude for d in dots)
    west = min(d.longitude for d in dots)
    east = max(d.longitude for d in dots)
    mid = (north + south) / 2
    lat_span = max(north - south, MIN_SPAN)
    # a degree of longitude is shorter away from the equator: so on the map too
    squeeze = max(math.cos(math.radians(mid)), 0.05)
    lon_span = max((east - west) * squeeze, MIN_SPAN)
    north += (lat_span - (north - south)) / 2 + lat_span * PAD
    west -= (lon_span / squeeze - (east - west)) / 2 + lon_span * PAD / squeeze
    lat_span *= 1 + 2 * PAD
    lon_span *= 1 + 2 * PAD
    scale = WIDTH / lon_span
    height = max(lat_span * scale, 200.0)
    top = (height - lat_span * scale) / 2
    r = 4 if len(dots) > 500 else 7
    parts = [
        f'<svg id="fleet-map" class="fleet-map" viewBox="0 0 {WIDTH:.0f} {height:.0f}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f'<rect class="map-ground" width="{WIDTH:.0f}" height="{height:.0f}"/>',
    ]
    for d in dots:
        x = (d.longitude - west) * squeeze * scale
        y = top + (north - d.latitude) * scale
        state = state_of(d)
        name = escape(d.name)
        parts.append(
            f'<a href="/fleet/stations/{name}" data-station="{name}">'
            f'<circle class="dot dot-{state}" cx="{x:.1f}" cy="{y:.1f}" r="{r}">'
            f"<title>{name}: {escape(titles.get(state, state))}</title></circle></a>"
        )
    parts.append("</svg>")
    # every value above is a number or escaped
    return Drawn(Markup("".join(parts)), len(dots))  # noqa: S704
