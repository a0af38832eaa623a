"""Choosing and holding a compartment for a courier: never a door that stands open or holds
something, a candidate another courier held meanwhile is read again, couriers reserving
at once each get a read compartment, every fitting door standing open is said so."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection, Mapping

import pytest
from sqlmodel import select

from locker.errors import (
    DoorBusy,
    NoFreeCompartment,
)
from locker.locks import DoorReading
from locker.services import deposit, pickup
from locker.station import Station
from locker.store.tables import Parcel
from locker.testkit.memory_locks import InMemoryLocks
from locker.types import CompartmentId, CompartmentState, SizeClass
from tests.locker.service_helpers import COURIER, comp_state, parcel, store


def test_a_courier_is_not_sent_to_a_door_that_stands_open_or_holds_something(
    station: Station, locks: InMemoryLocks
) -> None:
    first = store(station, locks)
    assert pickup.collect(station, code=first.code.pin, terminal="kiosk").all_opened
    # The customer is still at the open door: the compartment is free but not given out.
    assert comp_state(station, first.compartment_id) is CompartmentState.FREE
    held = deposit.reserve(station, actor=COURIER, parcel=parcel())
    assert held.compartment_id != first.compartment_id
    # The door is closed with the parcel left inside: still passed over.
    locks.close(first.compartment_id)
    again = deposit.reserve(station, actor=COURIER, parcel=parcel())
    assert again.compartment_id not in (first.compartment_id, held.compartment_id)
    # Emptied and closed, it is the best fit again.
    assert deposit.deposit(station, actor=COURIER, parcel_id=again.parcel_id).opened
    locks.take(first.compartment_id)
    assert deposit.reserve(station, actor=COURIER, parcel=parcel()).compartment_id == (
        first.compartment_id
    )


def test_a_candidate_held_by_another_courier_meanwhile_is_chosen_again_and_read(
    station: Station, locks: InMemoryLocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_read = locks.read
    read: list[int] = []
    rival: list[int] = []

    def read_while_a_rival_holds(
        compartments: Collection[CompartmentId] | None = None,
    ) -> Mapping[CompartmentId, DoorReading]:
        if not rival:  # the rival courier holds the candidate while it is being read
            rival.append(-1)
            rival[0] = deposit.reserve(
                station, actor="courier:ups-1", parcel=parcel()
            ).compartment_id
        read.extend(compartments or ())
        return real_read(compartments)

    monkeypatch.setattr(locks, "read", read_while_a_rival_holds)
    mine = deposit.reserve(station, actor=COURIER, parcel=parcel())
    assert mine.compartment_id != rival[0]
    assert mine.compartment_id in read  # the one held was read before
    with station.db.read() as session:  # the rolled-back try left no parcel behind
        assert len(session.exec(select(Parcel)).all()) == 2


def test_a_courier_always_overtaken_is_asked_to_try_again_not_sent_to_an_unread_door(
    station: Station, locks: InMemoryLocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_read = locks.read
    rivals: list[int] = []
    inside = threading.local()

    def read_while_a_rival_holds(
        compartments: Collection[CompartmentId] | None = None,
    ) -> Mapping[CompartmentId, DoorReading]:
        if not getattr(inside, "rival", False):  # every read of mine, a rival is quicker
            inside.rival = True
            try:
                held = deposit.reserve(station, actor="courier:ups-1", parcel=parcel())
                rivals.append(held.compartment_id)
            finally:
                inside.rival = False
        return real_read(compartments)

    monkeypatch.setattr(locks, "read", read_while_a_rival_holds)
    monkeypatch.setattr(deposit, "READ_AHEAD", 1)  # one candidate read at a time
    with pytest.raises(DoorBusy, match="try again"):
        deposit.reserve(station, actor=COURIER, parcel=parcel())
    assert len(rivals) == deposit.RESERVE_TRIES
    with station.db.read() as session:  # mine was never created
        assert len(session.exec(select(Parcel)).all()) == deposit.RESERVE_TRIES


def test_couriers_reserving_at_the_same_moment_each_get_a_read_compartment(
    station: Station, locks: InMemoryLocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    couriers = 6
    real_read = locks.read
    all_read: set[int] = set()
    together = threading.Barrier(couriers)

    def read_all_at_once(
        compartments: Collection[CompartmentId] | None = None,
    ) -> Mapping[CompartmentId, DoorReading]:
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait(timeout=5)  # every courier has chosen before any holds
        all_read.update(compartments or ())
        return real_read(compartments)

    monkeypatch.setattr(locks, "read", read_all_at_once)
    held: list[int] = []
    failed: list[BaseException] = []

    def courier() -> None:
        try:
            held.append(deposit.reserve(station, actor=COURIER, parcel=parcel()).compartment_id)
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=courier) for _ in range(couriers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failed
    assert len(set(held)) == couriers
    assert set(held) <= all_read


def test_every_fitting_door_standing_open_is_said_so(
    station: Station, locks: InMemoryLocks
) -> None:
    xl = [c.id for c in station.layout.compartments if c.size is SizeClass.XL]
    for cid in xl:
        locks.open(CompartmentId(cid))
    with pytest.raises(NoFreeCompartment, match="stand open"):
        deposit.reserve(station, actor=COURIER, parcel=parcel(SizeClass.XL))
    with station.db.read() as session:  # the refused parcel was not half-created
        assert session.exec(select(Parcel)).all() == []
    locks.close(xl[-1])
    assert (
        deposit.reserve(station, actor=COURIER, parcel=parcel(SizeClass.XL)).compartment_id
        == (xl[-1])
    )
