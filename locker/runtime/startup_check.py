"""What ``locker serve`` says of the doors at start, in one line each, however many
compartments there are: every door read once, and the compartments that need a look
named with why ("32 compartments checked: 30 ok, 2 need attention: 7 (door open),
12 (no answer)"); and the door operations a crash interrupted, settled, in one line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from locker.locks import DoorReading
from locker.services.reconcile import UNKNOWN, Settled
from locker.station import Station, as_compartment_id, compartment_state
from locker.types import CompartmentState

CONDITIONS = {CompartmentState.FAULT: "at fault", CompartmentState.OUT_OF_SERVICE: "out of service"}


def attention(
    ids: Sequence[int],
    readings: Mapping[int, DoorReading],
    states: Mapping[int, CompartmentState],
    settled: Sequence[Settled] = (),
) -> dict[int, list[str]]:
    """Why each compartment needs a look (none: it is fine), in the order of ``ids``."""
    unknown = {s.compartment_id for s in settled if s.verdict == UNKNOWN}
    found: dict[int, list[str]] = {}
    for cid in ids:
        why = []
        reading = readings.get(cid)
        if reading is None:
            why.append("no answer")
        elif not reading.latched:
            why.append("door open")
        if cid in unknown:
            why.append("interrupted opening not known")
        condition = CONDITIONS.get(states.get(cid, CompartmentState.FREE))
        if condition:
            why.append(condition)
        if why:
            found[cid] = why
    return found


def checked_line(ids: Sequence[int], needing: Mapping[int, Sequence[str]]) -> str:
    """E.g. "32 compartments checked: 30 ok, 2 need attention: 7 (door open), 12 (no
    answer)"; "32 compartments checked: all ok"."""
    head = f"{len(ids)} compartments checked"
    if not needing:
        return f"{head}: all ok"
    named = ", ".join(f"{cid} ({', '.join(why)})" for cid, why in needing.items())
    verb = "needs" if len(needing) == 1 else "need"
    return f"{head}: {len(ids) - len(needing)} ok, {len(needing)} {verb} attention: {named}"


def settled_line(settled: Sequence[Settled]) -> str:
    """The interrupted door operations start-up settled, in one line ("" if none): e.g.
    "2 interrupted door operations settled: #41 compartment 3 opened, #42 compartment 7
    unknown"."""
    if not settled:
        return ""
    each = ", ".join(f"#{s.op_id} compartment {s.compartment_id} {s.verdict}" for s in settled)
    return f"{len(settled)} interrupted door operation{'s' * (len(settled) != 1)} settled: {each}"


def check_doors(station: Station, settled: Sequence[Settled] = ()) -> str:
    """Read every door once and say how they are, in one line."""
    ids = sorted(int(spec.id) for spec in station.layout.compartments)
    readings = {int(cid): reading for cid, reading in station.locks.read().items()}
    with station.db.read() as session:
        states = {cid: compartment_state(session, as_compartment_id(cid)) for cid in ids}
    return checked_line(ids, attention(ids, readings, states, settled))
