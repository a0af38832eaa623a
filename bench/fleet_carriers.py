"""A carrier announces parcels through the hub across three live stations, and hears of
each through its webhook stream.

Run: ``.venv/bin/python -m bench.fleet_carriers [--parcels 1000]``.

The fleet is the one of ``tests/fleet/test_fleet_carriers.py``: a real PostgreSQL and
Mosquitto, one hub worker, three stations as ``locker serve`` runs them (simulator on a
pty, the real driver, a SQLite file, their uplinks), the carrier's webhook receiver a real
HTTP server on loopback checking every signature. The stations have 12 compartments each
(S S M M L XL twice), so the parcels come in rounds: the carrier announces (sizes in the
layout's proportions, no station named) until no station has room (``no_station_fits``),
then the stations' couriers deposit every announced parcel and the recipients collect
them, and the next round begins.

- **Announce** is the carrier's ``POST /api/v1/carrier/announcements`` (the hub's app in
  process), beside ``GET /api/v1/carrier/stations`` in the same run (a read of the same
  tables without routing or a command).
- **Accepted** runs from that POST to the station's answer on the hub (the
  announcement's ``state`` leaves ``sent_to_station``), beside the announce itself.
- **Webhook lag** runs from the station's event (its commit time) to the receiver getting
  the webhook, beside the hub's ingest lag of the same events (the event's commit time to
  its ``received_at`` in the hub's database).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlmodel import select

from bench.common import Row, p50, p99, table
from fleet.engines import Postgres
from fleet.tables import EventRow
from tests.fleet.engines import PgDatabase
from tests.fleet.test_fleet_carriers import carrier_fleet, collect, store_announced

SIZES = ("S", "S", "M", "M", "L", "XL")


def _ms(values: list[float]) -> tuple[str, str]:
    return f"{p50(values) * 1000:.1f} ms", f"{p99(values) * 1000:.1f} ms"


def measure(parcels: int) -> list[Row]:
    server = Postgres.create()
    server.start()
    name = f"bench_{uuid.uuid4().hex[:8]}"
    server.create_database(name)
    announce_s: list[float] = []
    stations_s: list[float] = []
    accepted_s: list[float] = []
    routed: Counter[str] = Counter()
    began = time.monotonic()
    try:
        with (
            tempfile.TemporaryDirectory() as folder,
            carrier_fleet(Path(folder), PgDatabase(server, name)) as f,
        ):
            done = 0
            rounds = 0
            while done < parcels:
                rounds += 1
                sent: dict[str, float] = {}
                while done + len(sent) < parcels:
                    tracking = f"B-{done + len(sent):05d}"
                    t0 = time.perf_counter()
                    answer = f.announce(tracking, size=SIZES[(done + len(sent)) % len(SIZES)])
                    if answer.status_code == 409:
                        break
                    announce_s.append(time.perf_counter() - t0)
                    assert answer.status_code == 202, answer.text
                    routed[answer.json()["station"]["name"]] += 1
                    sent[tracking] = time.perf_counter()
                    t0 = time.perf_counter()
                    f.hub.get("/api/v1/carrier/stations", headers=f.auth)
                    stations_s.append(time.perf_counter() - t0)
                assert sent, "no station had room at the start of a round"
                waiting = dict(sent)
                while waiting:
                    for tracking in list(waiting):
                        if f.accepted(tracking):
                            accepted_s.append(time.perf_counter() - waiting.pop(tracking))
                    time.sleep(0.01)
                for tracking in sent:
                    body = f.state(tracking)
                    station = body["station"]["name"]
                    live = f.stations[station]
                    f.parcels[tracking] = (station, body["parcel_id"])
                    pin, cid = store_announced(live, body["parcel_id"])
                    collect(live, pin, cid)
                done += len(sent)
                print(f"round {rounds}: {done} parcels ({time.monotonic() - began:.0f} s)")
            expected = 2 * parcels
            deadline = time.monotonic() + 120
            while len(f.receiver.bodies()) < expected and time.monotonic() < deadline:
                time.sleep(0.1)
            got = f.receiver.got
            kinds = Counter((r.body["parcel"]["tracking_number"], r.body["event"]) for r in got)
            assert all(n == 1 for n in kinds.values()), "a webhook came twice"
            assert len(kinds) == expected, (len(kinds), expected)
            assert f.receiver.all_signed()
            lag = [r.at - datetime.fromisoformat(r.body["at"]).timestamp() for r in got]
            with f.db.transaction() as session:
                ids = {r.body["event_id"] for r in got}
                rows = session.exec(select(EventRow)).all()
                ingest = [(e.received_at - e.at).total_seconds() for e in rows if e.event_id in ids]
    finally:
        server.remove()
    total = time.monotonic() - began
    print(f"{parcels} parcels in {rounds} rounds, {total:.0f} s; routed: {dict(routed)}")
    print(f"{len(got)} webhooks, every one signed, none twice")
    conditions = f"{parcels} parcels, 3 live stations"
    a50, a99 = _ms(announce_s)
    s50, s99 = _ms(stations_s)
    c50, c99 = _ms(accepted_s)
    w50, w99 = _ms(lag)
    i50, i99 = _ms(ingest)
    return [
        Row(
            "Carrier announce (HTTP)",
            conditions,
            f"carrier stations read {s50}",
            a50,
            a99,
            f"{p50(announce_s) / p50(stations_s):.1f}×",
        ),
        Row(
            "Announce → accepted by the station",
            conditions,
            f"announce {a50}",
            c50,
            c99,
            f"{p50(accepted_s) / p50(announce_s):.1f}×",
        ),
        Row(
            "Station event → carrier webhook",
            conditions,
            f"hub ingest lag {i50}",
            w50,
            w99,
            f"{p50(lag) / p50(ingest):.1f}×",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=1000)
    print(table(measure(parser.parse_args().parcels)))


if __name__ == "__main__":
    main()
