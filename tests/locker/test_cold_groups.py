"""Cooled compartments over a real SQLite file: cold parcels only in their own kind, the
refusal that names the kind, shorter deadlines and their reminders, and a fridge that
warms up: the alert, no new cold parcels, the recipients told, then the way back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from locker.alerts import open_alerts
from locker.cold.history import last_day
from locker.cold.tables import ColdGroupState, ColdReading
from locker.cold.watch import ColdWatch
from locker.errors import NoFreeColdCompartment
from locker.notify.messages import to_recipient
from locker.runtime.settings import Settings
from locker.services import deposit
from locker.services.intake import ParcelInput, Stored
from locker.services.reminders import remind
from locker.station import free_compartments
from locker.store.tables import OutboxEvent, Parcel
from locker.types import AlertKind, ColdKind, SizeClass
from locker.uplink.capture import Capture
from tests.cold_support import ColdStation
from tests.locker.service_helpers import COURIER
from tests.support import FakeClock

CHILLED, FROZEN = ColdKind


@pytest.fixture
def cold(tmp_path: Path, clock: FakeClock) -> Iterator[ColdStation]:
    made = ColdStation(tmp_path, clock)
    yield made
    made.close()


def parcel(
    size: SizeClass = SizeClass.M, *, cold: ColdKind | None = None, tracking_number: str = "T0"
) -> ParcelInput:
    return ParcelInput(
        carrier="DHL",
        tracking_number=tracking_number,
        recipient_name="Ada Berg",
        recipient_email="ada@example.org",
        size=size,
        cold=cold,
    )


def _store(
    cold: ColdStation, kind: ColdKind | None, tracking: str, size: SizeClass = SizeClass.M
) -> Stored:
    data = parcel(size, cold=kind, tracking_number=tracking)
    held = deposit.reserve(cold.station, actor=COURIER, parcel=data)
    assert deposit.deposit(cold.station, actor=COURIER, parcel_id=held.parcel_id).opened
    cold.locks.put(held.compartment_id)
    cold.locks.close(held.compartment_id)
    return deposit.confirm_stored(cold.station, parcel_id=held.parcel_id)


def _events(cold: ColdStation, name: str) -> list[OutboxEvent]:
    with cold.station.db.read() as session:
        return list(session.exec(select(OutboxEvent).where(OutboxEvent.event == name)).all())


def _alerts(cold: ColdStation) -> list[tuple[AlertKind, str | None]]:
    with cold.station.db.read() as session:
        return [(a.kind, a.cold_group) for a in open_alerts(session)]


def _free(cold: ColdStation) -> set[int]:
    with cold.station.db.read() as session:
        return {spec.id for spec in free_compartments(session, cold.layout)}


def _minutes(cold: ColdStation, watch: ColdWatch, n: int) -> None:
    for _ in range(n):
        cold.clock.advance(minutes=1)
        watch.tick()


def test_a_group_never_read_takes_no_cold_parcel(cold: ColdStation) -> None:
    with pytest.raises(NoFreeColdCompartment) as refused:
        deposit.reserve(cold.station, actor=COURIER, parcel=parcel(cold=CHILLED))
    assert refused.value.code == "no_free_chilled_compartment"
    assert "not read in 2–8 °C yet" in refused.value.message


def test_cold_parcels_go_only_into_their_kind_and_wait_less(cold: ColdStation) -> None:
    ColdWatch(cold.station).tick()  # both groups read in band
    chilled = _store(cold, CHILLED, "C1")
    frozen = _store(cold, FROZEN, "F1")
    ambient = _store(cold, None, "A1")
    assert chilled.compartment_id in (3, 4)
    assert frozen.compartment_id == 5
    assert ambient.compartment_id == 1  # not the fridge while an ambient one is free
    now = cold.clock.now
    assert chilled.deadline == now + timedelta(hours=24)
    assert frozen.deadline == now + timedelta(hours=12)
    assert ambient.deadline == now + timedelta(days=7)
    with pytest.raises(NoFreeColdCompartment) as refused:  # the freezer's one is taken
        deposit.reserve(cold.station, actor=COURIER, parcel=parcel(cold=FROZEN))
    assert refused.value.code == "no_free_frozen_compartment"
    assert "never goes into an ambient compartment" in refused.value.message
    _store(cold, None, "A2", SizeClass.L)
    last = _store(cold, None, "A3")  # ambient ones full: a chilled one as the last resort
    assert last.compartment_id in (3, 4)


def test_cold_reminders_come_in_hours_and_say_so(cold: ColdStation) -> None:
    ColdWatch(cold.station).tick()
    stored = _store(cold, FROZEN, "F1")
    policy = dict(remind_before=timedelta(hours=48), last_call_before=timedelta(hours=24))
    assert remind(cold.station, **policy) == 0  # a frozen parcel waits 12 h: not yet
    cold.clock.advance(hours=6)
    assert remind(cold.station, **policy) == 1
    cold.clock.advance(hours=3)
    assert remind(cold.station, **policy) == 1
    assert [e.parcel_id for e in _events(cold, "parcel.last_call")] == [stored.parcel_id]


def test_a_fridge_warming_up_and_cooling_down_again(cold: ColdStation) -> None:
    watch = ColdWatch(cold.station, read_every=timedelta(seconds=30))
    watch.tick()
    inside = _store(cold, CHILLED, "C1")
    cold.fridge.set(11.5)  # the door seal gave way
    _minutes(cold, watch, 9)
    assert _alerts(cold) == []  # nine minutes: not yet
    assert 4 in _free(cold)  # and still takes parcels
    _minutes(cold, watch, 2)
    assert _alerts(cold) == [(AlertKind.COLD_OUT_OF_BAND, "fridge")]
    staff_mail = _events(cold, "alert.cold_out_of_band")
    assert json.loads(staff_mail[0].detail)["cold_group"] == "fridge"
    assert "11.5 °C" in json.loads(staff_mail[0].detail)["text"]
    told = _events(cold, "parcel.cold_warning")
    assert [e.parcel_id for e in told] == [inside.parcel_id]  # the reserved one is not stored
    with pytest.raises(NoFreeColdCompartment) as refused:
        deposit.reserve(cold.station, actor=COURIER, parcel=parcel(cold=CHILLED))
    assert "fridge (out of 2–8 °C)" in refused.value.message
    assert 4 not in _free(cold)
    _minutes(cold, watch, 30)
    assert len(_events(cold, "parcel.cold_warning")) == 1  # told once
    cold.fridge.set(6.0)
    _minutes(cold, watch, 1)
    assert _alerts(cold) == []
    held = deposit.reserve(cold.station, actor=COURIER, parcel=parcel(cold=CHILLED))
    assert held.compartment_id in (3, 4)


def test_a_silent_thermometer_is_a_fault_of_its_own(cold: ColdStation) -> None:
    watch = ColdWatch(cold.station)
    watch.tick()
    _store(cold, FROZEN, "F1")
    cold.freezer.mute()
    _minutes(cold, watch, 9)
    assert _alerts(cold) == []  # silent for eight minutes (from its first missed read)
    _minutes(cold, watch, 2)
    assert _alerts(cold) == [(AlertKind.COLD_SENSOR_SILENT, "freezer")]
    assert _events(cold, "parcel.cold_warning") == []  # nothing is known to be wrong inside
    with cold.station.db.read() as session:
        state = session.get(ColdGroupState, "freezer")
        assert state is not None
        assert (state.status, state.closed) == ("silent", True)
    cold.freezer.mute(False)
    _minutes(cold, watch, 1)
    assert _alerts(cold) == []


def test_a_restart_keeps_a_closed_group_closed_and_alerts_once(cold: ColdStation) -> None:
    watch = ColdWatch(cold.station)
    watch.tick()
    cold.fridge.set(14.0)
    _minutes(cold, watch, 11)
    again = ColdWatch(cold.station)  # the process started anew
    _minutes(cold, again, 11)
    with cold.station.db.read() as session:
        raised = session.exec(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.event == "alert.cold_out_of_band")
        ).one()
    assert raised == 1
    with pytest.raises(NoFreeColdCompartment):
        deposit.reserve(cold.station, actor=COURIER, parcel=parcel(cold=CHILLED))


def test_the_readings_are_kept_a_day_one_row_a_minute(cold: ColdStation) -> None:
    watch = ColdWatch(cold.station, read_every=timedelta(seconds=40))
    for step in range(3 * 25 * 30):  # 25 hours, reads 40 s apart: one or two a minute
        cold.fridge.set(5.0 + (step % 9) / 3)
        cold.freezer.set(None if step % 3 == 0 else -20.0)
        watch.tick()
        cold.clock.advance(seconds=40)
    with cold.station.db.read() as session:
        rows = session.exec(
            select(func.count()).select_from(ColdReading).where(ColdReading.group == "fridge")
        ).one()
        oldest = session.exec(select(func.min(col(ColdReading.minute)))).one()
        series = last_day(session, "freezer", cold.clock.now)
    assert 24 * 60 <= rows <= 24 * 60 + 2
    assert oldest is not None
    assert cold.clock.now - oldest <= timedelta(hours=24, minutes=2)
    # a minute of one silent read and one answer holds the answer; of silence only, None
    assert {m.mean_c for m in series} <= {-20.0, None}
    assert -20.0 in {m.mean_c for m in series}
    assert len(series) in (24 * 60, 24 * 60 + 1)


@pytest.mark.parametrize(
    ("language", "kind", "words"),
    [
        ("en", FROZEN, "frozen goods"),
        ("de", FROZEN, "Tiefkühlware"),
        ("en", CHILLED, "chilled goods"),
        ("de", CHILLED, "Kühlware"),
    ],
)
def test_the_messages_of_a_cold_parcel_say_so(
    cold: ColdStation, language: str, kind: ColdKind, words: str
) -> None:
    ColdWatch(cold.station).tick()
    stored = _store(cold, kind, "K1")
    config = Settings(_env_file=None).notify("Corner grocer")
    with cold.station.db.write() as session:
        row = session.get(Parcel, stored.parcel_id)
        assert row is not None
        row.recipient_language = language
        for event in ("code.issued", "parcel.reminder", "parcel.last_call"):
            letter = to_recipient(event, row, config, cold.station.hasher)
            assert words in letter.text
        warning = to_recipient("parcel.cold_warning", row, config, cold.station.hasher)
        assert ("Kühlfach" if language == "de" else "cooled compartment") in warning.text
        assert words not in to_recipient("parcel.collected", row, config, cold.station.hasher).text


def test_with_a_hub_the_groups_readings_alerts_and_cold_capacity_go_up(cold: ColdStation) -> None:
    cold.station.db.capture = Capture("grocer-1", cold.layout)
    watch = ColdWatch(cold.station)
    watch.tick()
    cold.fridge.set(13.0)
    _minutes(cold, watch, 11)
    with cold.station.db.read() as session:
        rows = session.exec(
            select(OutboxEvent)
            .where(col(OutboxEvent.hub_seq).is_not(None))
            .order_by(col(OutboxEvent.hub_seq))
        ).all()
    events = [(r.event.removeprefix("hub."), json.loads(r.detail)) for r in rows]
    assert [seq for seq in (r.hub_seq for r in rows)] == list(range(1, len(rows) + 1))
    readings = [d for kind, d in events if kind == "cold" and d["group"] == "fridge"]
    assert readings[0] == {
        "group": "fridge",
        "kind": "chilled",
        "min_c": 2.0,
        "max_c": 8.0,
        "status": "ok",
        "celsius": 5.0,
        "compartments": [3, 4],
    }
    assert [d["status"] for d in readings] == ["ok", "ok", "ok", "out_of_band"]  # every 5 min
    raised = [d for kind, d in events if kind == "alert.raised"]
    assert [(d["kind"], d["cold_group"]) for d in raised] == [("cold_out_of_band", "fridge")]
    capacities = [d for kind, d in events if kind == "capacity"]
    assert capacities[0]["cold_free"] == {"chilled": {"M": 2}, "frozen": {"M": 1}}
    assert capacities[-1]["cold_free"] == {"chilled": {}, "frozen": {"M": 1}}
