"""The cooled compartments of one station on the fleet screen: each cold group's newest
temperature, its band, where it stands, and its last day as the same small chart the
station's maintenance screen draws (:mod:`common.cold_chart`), from the station's ``cold``
events (sent on each change and every few minutes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup
from sqlmodel import Session, col, select

from common.cold_chart import SPAN, Point, cold_chart
from fleet.tables import EventRow


@dataclass(frozen=True)
class ColdShown:
    group: str
    kind: str
    band: str
    status: str  # ok, out_of_band, silent, unknown
    celsius: str | None  # the newest reading, e.g. "5.2" (None: no answer)
    at: datetime
    compartments: str
    chart: Markup


def _band(low: float | None, high: float | None) -> str:
    if low is None:
        return f"≤ {high:g} °C"
    if high is None:
        return f"≥ {low:g} °C"
    return f"{low:g}–{high:g} °C"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def cold_groups(session: Session, station: str, now: datetime, chart_label: str) -> list[ColdShown]:
    """``chart_label`` holds ``{group}`` and ``{band}`` (the chart's words, translated)."""
    rows = session.exec(
        select(EventRow)
        .where(
            EventRow.station == station,
            EventRow.type == "cold",
            col(EventRow.at) >= now - SPAN - timedelta(minutes=5),
        )
        .order_by(col(EventRow.seq))
    ).all()
    series: dict[str, list[Point]] = {}
    newest: dict[str, EventRow] = {}
    for row in rows:
        group = str(row.data.get("group", ""))
        if not group:
            continue
        series.setdefault(group, []).append(Point(row.at, _number(row.data.get("celsius"))))
        newest[group] = row
    shown = []
    for group, row in sorted(newest.items()):
        d = row.data
        low, high = _number(d.get("min_c")), _number(d.get("max_c"))
        band = _band(low, high)
        celsius = _number(d.get("celsius"))
        svg = cold_chart(
            series[group],
            now=now,
            band=(low, high),
            label=chart_label.format(group=group, band=band),
        )
        shown.append(
            ColdShown(
                group=group,
                kind=str(d.get("kind", "")),
                band=band,
                status=str(d.get("status", "unknown")),
                celsius=None if celsius is None else f"{celsius:.1f}",
                at=row.at,
                compartments=", ".join(str(c) for c in d.get("compartments", [])),
                chart=Markup(svg),  # noqa: S704 (built by cold_chart, every text escaped)
            )
        )
    return shown
