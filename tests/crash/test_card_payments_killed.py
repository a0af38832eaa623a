"""Pay by card at the kiosk, killed at each step: ``locker serve`` pays through its own ZVT
client at the ZVT terminal simulator in this process (a terminal is a device of its own:
it lives on while the station dies), and is killed (SIGKILL) after the intent to charge,
after the approval, after the door's pulse and before the completion is stored. After the
restart the parcel is collected once, or no money is held for it: never both lost, never
charged twice (the simulator's journal is the terminal's books).

==========================  ==============================================================
killed                      after restart
==========================  ==============================================================
after_charge_intent         the terminal was never asked (its journal is empty); the cut
                            payment goes to staff ("check the terminal's journal"); the
                            customer pays again, once, and collects
after_approval              the payment stands (the terminal holds it once); the code opens
                            the door without a second charge
after_door_pulse            reconciled as opened (the IR strip): collected, paid once
before_completion_commit    as above
==========================  ==============================================================
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from locker.testkit import crashpoints
from sim.zvt import TerminalSim, ZvtTimes, serve_zvt
from tests.crash.killing import kill_at
from tests.crash.station_process import wait_for
from tests.crash.world import HTTP_TIMEOUT_S, Waiting, World, crash_world

AMOUNT = 2040
_JOB = re.compile(r'hx-get="/kiosk/pay-card/([A-Za-z0-9_-]+)"')


@pytest.fixture
def paying(tmp_path: Path) -> Iterator[tuple[World, TerminalSim]]:
    sim = TerminalSim(times=ZvtTimes.zero())
    with serve_zvt(sim, "127.0.0.1", 0) as port:
        env = {
            "LOCKER_ZVT_HOST": "127.0.0.1",
            "LOCKER_ZVT_PORT": str(port),
            "LOCKER_ZVT_PASSWORD": sim.password,
        }
        with crash_world(tmp_path, extra_env=env) as world:
            yield world, sim
            world.station.stop()


def _deposit_due(world: World) -> Waiting:
    answer = world.courier(
        "/parcels",
        {
            "tracking_number": f"CARD{len(world.waiting) + 1:04d}",
            "recipient_name": "Recipient",
            "size": "M",
            "reserve": True,
            "amount_due": AMOUNT,
        },
    )
    assert answer.status_code == 201, answer.text
    pid, cid = int(answer.json()["id"]), int(answer.json()["compartment_id"])
    world.open_for_deposit(pid, cid)
    return world.fill_and_confirm(pid, cid)


def _pay_at_the_kiosk(world: World, pin: str) -> str:
    """The kiosk's "pay by card here" and its progress until it ends; the last page.
    Raises httpx's error when the station dies under it."""
    with httpx.Client(
        base_url=world.station.base_url, timeout=HTTP_TIMEOUT_S, headers={"HX-Request": "true"}
    ) as kiosk:
        page = kiosk.post("/kiosk/pay-card", data={"code": pin}).text
        for _ in range(500):
            job = _JOB.search(page)
            if job is None:
                return page
            page = kiosk.get(f"/kiosk/pay-card/{job.group(1)}").text
    raise AssertionError(f"the card payment never ended: {page[:300]}")


def _killed_paying(world: World, pin: str) -> None:
    with pytest.raises(httpx.HTTPError):
        _pay_at_the_kiosk(world, pin)  # the station dies during the payment
    assert world.station.wait_killed() != 0


def _payments(world: World) -> list[dict[str, Any]]:
    with sqlite3.connect(world.db_path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM payment ORDER BY id")]


def _settled(sim: TerminalSim) -> None:
    wait_for("the terminal's connections to end", lambda: sim.connections == 0)


def _collected_once(world: World, sim: TerminalSim, parcel: Waiting) -> None:
    world.take_out(parcel)
    snap = world.agree()
    assert snap.parcels[parcel.pid]["state"] == "collected"
    assert [p["state"] for p in _payments(world)].count("approved") == 1
    _settled(sim)
    assert sim.taken_cents() == AMOUNT  # taken once, not reversed
    assert len([p for p in sim.journal if p.reversed_by is None]) == 1
    assert world.sim.pulses(parcel.cid) == 2  # the courier's and the customer's


def test_killed_after_the_intent_to_charge(paying: tuple[World, TerminalSim]) -> None:
    world, sim = paying
    parcel = _deposit_due(world)
    kill_at(world, crashpoints.AFTER_CHARGE_INTENT, 1)
    _killed_paying(world, parcel.pin)
    [intent] = _payments(world)
    assert intent["state"] == "pending"
    assert sim.journal == []  # the terminal was never asked: nothing taken
    world.station.start()
    [cut] = _payments(world)
    assert cut["state"] == "unknown"  # staff told to check the terminal's journal
    alerts = httpx.get(
        f"{world.station.base_url}/api/v1/alerts",
        headers={"Authorization": f"Bearer {world.staff_token}"},
        timeout=HTTP_TIMEOUT_S,
    ).json()
    assert any("check the terminal's journal" in a["detail"] for a in alerts), alerts
    assert world.customer(parcel.pin).status_code == 402  # still due: nothing opens
    page = _pay_at_the_kiosk(world, parcel.pin)
    assert f"Compartment {parcel.cid} is open" in page, page
    _collected_once(world, sim, parcel)


def test_killed_after_the_approval(paying: tuple[World, TerminalSim]) -> None:
    world, sim = paying
    parcel = _deposit_due(world)
    kill_at(world, crashpoints.AFTER_APPROVAL, 1)
    _killed_paying(world, parcel.pin)
    assert [p["state"] for p in _payments(world)] == ["approved"]
    _settled(sim)
    assert sim.taken_cents() == AMOUNT
    assert world.sim.pulses(parcel.cid) == 1  # no door opened before the crash
    world.station.start()
    answer = world.customer(parcel.pin)  # paid: the code opens, no second charge
    assert answer.status_code == 200, answer.text
    _collected_once(world, sim, parcel)


@pytest.mark.parametrize(
    "point", [crashpoints.AFTER_DOOR_PULSE, crashpoints.BEFORE_COMPLETION_COMMIT]
)
def test_killed_at_the_door_of_a_parcel_paid_by_card(
    paying: tuple[World, TerminalSim], point: str
) -> None:
    world, sim = paying
    parcel = _deposit_due(world)
    kill_at(world, point, 1)
    _killed_paying(world, parcel.pin)  # approved, then the door's pulse, then the crash
    assert [p["state"] for p in _payments(world)] == ["approved"]
    world.settle_doors(parcel.cid, 2)
    world.take_out(parcel)  # the customer took it while the station was down
    world.station.start()
    snap = world.agree()
    assert snap.parcels[parcel.pid]["state"] == "collected"  # reconciled: the IR strip
    assert [p["state"] for p in _payments(world)] == ["approved"]
    _settled(sim)
    assert sim.taken_cents() == AMOUNT
    assert [p.reversed_by for p in sim.journal] == [None]
