"""The world around a station under crash tests: the simulated lock board served over TCP
from this process (a courier's and a customer's hands on its doors), the station as a
separate ``locker serve`` process pointed at it, and the people's requests over HTTP."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from locker.layout import Layout, parse_layout
from sim.station import SimStation
from tests.crash import dbview
from tests.crash.station_process import StationProcess, free_port, run_cli, wait_for

COMPARTMENTS = 12
PULSE_MS = 150  # short pulses keep the runs quick; the driver waits pulse + margin
HTTP_TIMEOUT_S = 30.0
STAFF_PASSWORD = "a crash-test staff password"


# family -> (bus keys, board address, board keys, pulse); only the CU16 has IR strips
FAMILIES = {
    "kerong": ("baud = 19200", 0, 'type = "cu16"', PULSE_MS),
    "xor8a": ('family = "xor8a"\nbaud = 9600', 1, 'type = "xor8a"\nchannels = 16', PULSE_MS),
    "modbus-relay": ('family = "modbus-relay"\nbaud = 9600', 1, 'type = "modbus-relay-16"', 200),
}


def layout_text(port: str, family: str = "kerong") -> str:
    """One board and twelve M compartments in three columns on one bus: a CU16 with IR
    strips, an 8A/80 board, or a 16-relay Modbus board whose doors two input boards read."""
    bus, address, board, pulse_ms = FAMILIES[family]
    parts = [
        '[station]\nname = "Crash test station"\n',
        f'[[bus]]\nid = "main"\nport = "{port}"\n{bus}\ntimeout_ms = 200\n',
        f'[[board]]\nbus = "main"\naddress = {address}\n{board}\npulse_ms = {pulse_ms}\n',
    ]
    if family == "modbus-relay":
        parts += [f'[[board]]\naddress = {n}\ntype = "modbus-input-8"\n' for n in (2, 3)]
    for i in range(COMPARTMENTS):
        wiring = ""
        if family == "modbus-relay":
            wiring = f"input_board = {2 + i // 8}\ninput = {i % 8 + 1}\n"
        parts.append(
            f"[[compartment]]\nid = {i + 1}\nboard = {address}\nlock = {i + 1}\n{wiring}"
            f'size = "M"\ncolumn = {i // 4 + 1}\nrow = {i % 4 + 1}\n'
        )
    return "\n".join(parts)


@dataclass
class Waiting:
    """A parcel stored for a recipient, with the PIN the courier was given."""

    pid: int
    cid: int
    pin: str


@dataclass
class World:
    home: Path
    layout: Layout
    sim: SimStation
    station: StationProcess
    courier_token: str
    staff_token: str = ""
    waiting: list[Waiting] = field(default_factory=list)
    _tracking: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def db_path(self) -> Path:
        return self.station.data_dir / "station.db"

    def snapshot(self) -> dbview.Snapshot:
        return dbview.snapshot(self.db_path)

    def compartments(self) -> list[int]:
        return [int(c.id) for c in self.layout.compartments]

    def pulses(self) -> dict[int, int]:
        return {c: self.sim.pulses(c) for c in self.compartments()}

    # -- requests ---------------------------------------------------------------------
    def _post(self, path: str, token: str | None, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(
            f"{self.station.base_url}/api/v1{path}",
            json=body,
            headers=headers,
            timeout=HTTP_TIMEOUT_S,
        )

    def courier(self, path: str, body: Any = None) -> httpx.Response:
        return self._post(path, self.courier_token, body)

    def staff(self, path: str, body: Any = None) -> httpx.Response:
        return self._post(path, self.staff_token, body)

    def customer(self, pin: str) -> httpx.Response:
        return self._post("/collect", None, {"code": pin})

    def sign_in_staff(self, password: str) -> None:
        answer = self._post(
            "/auth/token",
            None,
            {"name": "admin", "password": password, "new_password": STAFF_PASSWORD},
        )
        assert answer.status_code == 201, answer.text
        self.staff_token = answer.json()["token"]

    def reserve(self) -> tuple[int, int]:
        """A courier announces a parcel and holds a compartment for it: (parcel, compartment)."""
        n = next(self._tracking)
        answer = self.courier(
            "/parcels",
            {
                "tracking_number": f"CRASH{n:05d}",
                "recipient_name": f"Recipient {n}",  # one recipient per parcel: one door
                "size": "M",
                "reserve": True,
            },
        )
        assert answer.status_code == 201, answer.text
        parcel = answer.json()
        return int(parcel["id"]), int(parcel["compartment_id"])

    # -- whole operations, hands included ---------------------------------------------
    def fill_and_confirm(self, pid: int, cid: int) -> Waiting:
        """The courier puts the parcel in, shuts the door and confirms: it is stored."""
        self.sim.put(cid)
        self.sim.close(cid)
        answer = self.courier(f"/parcels/{pid}/confirm")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["parcel"]["state"] == "stored"
        assert body["code"] is not None, body
        stored = Waiting(pid, cid, body["code"]["pin"])
        self.waiting.append(stored)
        return stored

    def open_for_deposit(self, pid: int, cid: int) -> None:
        answer = self.courier(f"/parcels/{pid}/deposit")
        assert answer.status_code == 200, answer.text
        assert answer.json()["door"]["compartment_id"] == cid
        assert self.sim.is_open(cid)

    def deposit(self) -> Waiting:
        pid, cid = self.reserve()
        self.open_for_deposit(pid, cid)
        return self.fill_and_confirm(pid, cid)

    def collect(self, parcel: Waiting) -> None:
        answer = self.customer(parcel.pin)
        assert answer.status_code == 200, answer.text
        assert answer.json()["doors"][0]["compartment_id"] == parcel.cid
        self.take_out(parcel)

    def take_out(self, parcel: Waiting) -> None:
        """The customer takes the parcel from the open door and shuts it."""
        assert self.sim.is_open(parcel.cid)
        self.sim.take(parcel.cid)
        self.sim.close(parcel.cid)
        self.waiting.remove(parcel)

    def staff_open(self, cid: int) -> None:
        answer = self.staff(f"/compartments/{cid}/open", {"reason": "crash test"})
        assert answer.status_code == 200, answer.text
        self.sim.close(cid)

    # -- the world and the database agree ---------------------------------------------
    def settle_doors(self, cid: int, pulses: int) -> None:
        """Wait until the board has seen ``pulses`` unlocks of ``cid`` and none is running."""
        wait_for(
            f"compartment {cid} to have {pulses} pulse(s) and none running",
            lambda: self.sim.pulses(cid) == pulses and not self.sim.state(cid).pulsing,
        )

    def agree(self) -> dbview.Snapshot:
        """Every door shut and latched; a parcel lies exactly where one is held for
        collection; every parcel the station stores is known to the test; invariants hold."""
        snap = self.snapshot()
        assert dbview.problems(snap, settled=True) == []
        stored = {
            p["compartment_id"]: p["id"] for p in snap.parcels.values() if p["state"] == "stored"
        }
        for cid in self.compartments():
            state = self.sim.state(cid)
            assert state.latched, f"compartment {cid} is not latched"
            assert state.item == (cid in stored), f"compartment {cid}: item {state.item}"
        assert sorted(stored.values()) == sorted(w.pid for w in self.waiting)
        return snap


@contextmanager
def crash_world(
    home: Path,
    crash: dict[str, str] | None = None,
    family: str = "kerong",
    extra_env: dict[str, str] | None = None,
) -> Iterator[World]:
    """The simulator on TCP in this process, a layout pointing at it, a courier account made
    with the ``locker`` command, the station started once (armed with ``crash``, if given;
    ``extra_env``: more of its settings), staff signed in as the first admin."""
    placeholder = parse_layout(layout_text("sim", family), "crash layout")
    sim = SimStation(placeholder, every_bus=True)
    with sim.serve("tcp") as ports:
        home.mkdir(parents=True, exist_ok=True)
        layout_path = home / "layout.toml"
        layout_path.write_text(layout_text(ports["main"], family))
        station = StationProcess(
            home, layout_path, home / "var", free_port(), extra_env=dict(extra_env or {})
        )
        env = {"LOCKER_DATA_DIR": str(station.data_dir), "LOCKER_LAYOUT": str(layout_path)}
        made = run_cli(
            "courier", "add", "crash-courier", "--carrier", "Crash Parcel Co", home=home, env=env
        )
        token = re.search(r"token: (lps_\S+)", made)
        assert token is not None
        world = World(home, parse_layout(layout_path.read_text()), sim, station, token[1])
        try:
            first = "\n".join(station.start(crash))
            admin = re.search(r"one-time password (\S+)", first)
            assert admin is not None, first
            world.sign_in_staff(admin[1])
            yield world
        finally:
            if station.process is not None:  # the test failed with the station up
                station.process.kill()
                station.process.wait()
                station.process = None
