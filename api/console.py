"""The station drawn as text: its front, column by column, each compartment with its state."""

from __future__ import annotations

from itertools import zip_longest

from locker.station import Station, compartment_states

MARK = {
    "free": " ",
    "reserved": "r",
    "occupied": "#",
    "out_of_service": "x",
    "fault": "!",
}
LEGEND = "legend: ' ' free  r reserved  # occupied  x out of service  ! fault"


def front(station: Station) -> str:
    """One text column per front column, compartments top to bottom as in the layout."""
    columns: dict[int, list[str]] = {}
    with station.db.read() as session:
        states = compartment_states(session)
    for spec in sorted(station.layout.compartments, key=lambda c: (c.column, c.row)):
        state = states[spec.id].value
        cell = f"[{MARK[state]}] {spec.id:>3} {spec.size.value:<2}"
        columns.setdefault(spec.column, []).append(cell)
    width = max(len(cell) for cells in columns.values() for cell in cells)
    lines = [station.layout.name]
    for row in zip_longest(*columns.values(), fillvalue=""):
        lines.append("  ".join(cell.ljust(width) for cell in row).rstrip())
    lines.append(LEGEND)
    return "\n".join(lines)
