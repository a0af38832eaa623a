"""Clients of the load test, each a thread with its own httpx client (keep-alive), all
against one station process on loopback.

* couriers deposit a parcel, put it in and close the door as the courier's hands would
  (the simulator's HTTP API), confirm, and hand the PIN to the customers' queue; one PIN
  in five is handed to two customers at once;
* customers collect with the PINs they are given (a pair waits for each other and sends
  at the same moment), take the parcel out and close the door; one try in eight is a
  wrong PIN;
* staff list the compartments, the stored parcels and the audit log.

Every request is recorded (what, status, seconds); what was stored and what was collected
is kept for the checks after the run.
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

SIZES = ("S", "M", "L", "XL")
TWIN_EVERY = 5  # one stored parcel in five is collected by two clients at once
WRONG_EVERY = 8  # one collection try in eight is a wrong PIN


@dataclass(frozen=True)
class Sample:
    what: str
    status: int  # 0: no answer (a transport error)
    seconds: float


@dataclass
class Pickup:
    """A PIN handed to customers; a twin is handed to two, who send it together."""

    pin: str
    parcel_id: int
    compartment_id: int
    twin: threading.Barrier | None = None


@dataclass
class Ledger:
    """What happened, shared by every client (appends under one lock)."""

    samples: list[Sample] = field(default_factory=list)
    stored: dict[int, int] = field(default_factory=dict)  # parcel -> compartment
    collected: Counter[int] = field(default_factory=Counter)  # parcel -> 200 answers
    twins: list[tuple[int, ...]] = field(default_factory=list)  # statuses of each pair
    deposits: int = 0
    collections: int = 0
    wrong_codes: int = 0
    unexpected: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self._lock:
            self.samples.append(sample)

    def note(self, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self, key, getattr(self, key) + value)

    def odd(self, text: str) -> None:
        with self._lock:
            self.unexpected.append(text)


class Client:
    def __init__(
        self, base_url: str, ledger: Ledger, token: str | None = None, *, hands: str = ""
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=60)
        self.ledger = ledger
        self.hands_headers = {"Authorization": f"Bearer {hands}"}  # staff: the sim's hands

    def call(self, what: str, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            self.ledger.add(Sample(what, 0, time.perf_counter() - t0))
            self.ledger.odd(f"{what}: {exc!r}")
            return None
        self.ledger.add(Sample(what, response.status_code, time.perf_counter() - t0))
        return response

    def hands(self, compartment_id: int, *moves: str) -> None:
        """The person at the door: the simulator's API (staff may use it)."""
        for move in moves:
            done = self.call(
                "sim",
                "POST",
                f"/api/v1/sim/doors/{compartment_id}/{move}",
                headers=self.hands_headers,
            )
            if done is None or done.status_code != 200:
                self.ledger.odd(f"sim {move} {compartment_id}: {done and done.text}")


@dataclass
class Run:
    base_url: str
    couriers: list[str]
    staff: str
    until: float
    ledger: Ledger = field(default_factory=Ledger)
    pickups: queue.Queue[Pickup] = field(default_factory=queue.Queue)

    def going(self) -> bool:
        return time.monotonic() < self.until


def courier(run: Run, token: str, seed: int) -> None:
    rng = random.Random(seed)
    me = Client(run.base_url, run.ledger, token, hands=run.staff)
    n = 0
    while run.going():
        n += 1
        parcel = {"tracking_number": f"L{seed}-{n}", "recipient_name": "Load Test"}
        parcel["size"] = rng.choice(SIZES)
        opened = me.call("deposit", "POST", "/api/v1/deposits", json={"parcel": parcel})
        if opened is None or opened.status_code != 201:
            if opened is not None and opened.status_code != 409:  # 409: no free compartment
                run.ledger.odd(f"deposit {opened.status_code}: {opened.text}")
            time.sleep(0.1)
            continue
        body = opened.json()
        pid, cid = body["parcel"]["id"], body["door"]["compartment_id"]
        me.hands(cid, "put", "close")
        confirmed = me.call("confirm", "POST", f"/api/v1/parcels/{pid}/confirm")
        if confirmed is None or confirmed.status_code != 200:
            run.ledger.odd(f"confirm {pid}: {confirmed and confirmed.text}")
            continue
        stored = confirmed.json()
        with run.ledger._lock:
            run.ledger.stored[pid] = cid
        run.ledger.note(deposits=1)
        if stored["code"] is None:  # the door watcher stored it and someone took the code
            run.ledger.odd(f"parcel {pid} stored without its code in the answer")
            continue
        pickup = Pickup(stored["code"]["pin"], pid, cid)
        if rng.randrange(TWIN_EVERY) == 0:
            pickup.twin = threading.Barrier(2)
            run.pickups.put(pickup)
        run.pickups.put(pickup)
    me.http.close()


def customer(run: Run, seed: int) -> None:
    rng = random.Random(seed)
    me = Client(run.base_url, run.ledger, hands=run.staff)
    while run.going():
        if rng.randrange(WRONG_EVERY) == 0:
            wrong = "".join(rng.choice("0123456789") for _ in range(10))
            answer = me.call("wrong code", "POST", "/api/v1/collect", json={"code": wrong})
            run.ledger.note(wrong_codes=1)
            if answer is not None and answer.status_code != 404:
                run.ledger.odd(f"wrong code answered {answer.status_code}: {answer.text}")
            continue
        try:
            pickup = run.pickups.get(timeout=0.2)
        except queue.Empty:
            continue
        _collect(run, me, pickup)
    me.http.close()


def _collect(run: Run, me: Client, pickup: Pickup) -> None:
    if pickup.twin is not None:
        with contextlib.suppress(threading.BrokenBarrierError):  # the run ended first
            pickup.twin.wait(timeout=10)  # both send at the same moment
    answer = me.call("collect", "POST", "/api/v1/collect", json={"code": pickup.pin})
    status = answer.status_code if answer is not None else 0
    if pickup.twin is not None:
        with run.ledger._lock:
            run.ledger.twins.append((pickup.parcel_id, status))
    if answer is None or status != 200:
        if pickup.twin is None or status not in (404, 409):  # the twin that came second
            run.ledger.odd(f"collect {pickup.parcel_id}: {status} {answer and answer.text}")
        return
    for door in answer.json()["doors"]:
        if door["opened"]:
            with run.ledger._lock:
                run.ledger.collected.update(door["parcel_ids"])
            me.hands(door["compartment_id"], "take", "close")
    run.ledger.note(collections=1)


STAFF_LISTS = (
    ("staff: compartments", "/api/v1/compartments", {}),
    ("staff: parcels", "/api/v1/parcels", {"state": "stored", "limit": 50}),
    ("staff: audit", "/api/v1/audit", {"limit": 20}),
)


def staff(run: Run, seed: int) -> None:
    me = Client(run.base_url, run.ledger, run.staff)
    n = seed
    while run.going():
        what, url, params = STAFF_LISTS[n % len(STAFF_LISTS)]
        answer = me.call(what, "GET", url, params=params)
        if answer is not None and answer.status_code != 200:
            run.ledger.odd(f"{what}: {answer.status_code} {answer.text}")
        n += 1
        time.sleep(0.05)
    me.http.close()


def run_clients(
    base_url: str, couriers: list[str], staff_token: str, *, clients: int, seconds: float
) -> Ledger:
    """``clients`` threads for ``seconds``: 40 % couriers, 48 % customers, the rest staff.
    Each finishes what it began (a courier its parcel), then stops."""
    run = Run(base_url, couriers, staff_token, time.monotonic() + seconds)
    n_couriers = max(1, clients * 2 // 5)
    n_customers = max(2, clients * 12 // 25)
    n_staff = max(1, clients - n_couriers - n_customers)
    threads = [
        threading.Thread(target=courier, args=(run, couriers[i % len(couriers)], i), name=f"c{i}")
        for i in range(n_couriers)
    ]
    threads += [
        threading.Thread(target=customer, args=(run, 1000 + i), name=f"k{i}")
        for i in range(n_customers)
    ]
    threads += [threading.Thread(target=staff, args=(run, i), name=f"s{i}") for i in range(n_staff)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    assert not any(t.is_alive() for t in threads), "a client never finished"
    return run.ledger
