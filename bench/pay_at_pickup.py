"""Pay at pick-up: what the payment gate costs between a typed code and the door.

``locker serve`` runs in its own process on 2 CU16 boards (32 compartments) served by the
simulator in this process over a pseudo-terminal, and pays by link through the real Stripe
SDK against the fake of Stripe in this process (loopback). Timed from sending
``POST /api/v1/collect`` to the answer "door open" (the board confirmed the latch released):

(a) baseline: a parcel with nothing to pay, in the same run;
(b) a parcel paid by link whose webhook arrived: the station knows, one more lookup in its
    database;
(c) a parcel paid by link whose webhook was lost: the station asks the provider when the
    code is typed (one lookup through the SDK), then opens;
(d) an unpaid parcel: the answer "402 payment_required" (nothing opens), with its link;
(e) an unpaid parcel paid at the kiosk's card terminal: the kiosk's code typed
    (``POST /kiosk/collect``, "pay first"), "pay by card here" (``POST /kiosk/pay-card``),
    then the kiosk's progress asked for every 50 ms until it says the door is open. The
    station's own ZVT client talks TCP to the ZVT simulator in this process, with its
    modelled times (card, PIN, the card issuer: 8 s, times ``scale``); fewer runs.

The protocol's own costs (the ZVT client against the simulator, no station) are the
bench ``bench/zvt_payment.py``'s.
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import replace
from pathlib import Path

import httpx

from bench.common import (
    Row,
    against,
    courier_station,
    locker_serve,
    p50,
    scratch,
    table,
    write_layout,
)
from locker.layout import load_layout
from sim.payment_provider import FakeStripe
from sim.station import SimStation
from sim.zvt import TerminalSim, ZvtTimes, serve_zvt

KEY, SECRET = "sk_test_bench", "whsec_bench"
BOARDS = 2


def measure(runs: int, pulse_ms: int = 50, *, card_runs: int = 5, scale: float = 1.0) -> list[Row]:
    """``card_runs`` card payments with the terminal's modelled times times ``scale``."""
    with scratch("bench-pay-") as folder:
        return _measure(folder, runs, pulse_ms, card_runs, scale)


def _measure(folder: Path, runs: int, pulse_ms: int, card_runs: int, scale: float) -> list[Row]:
    wire = {"boards": BOARDS, "baud": 19200, "pulse_ms": pulse_ms}
    sim = SimStation(load_layout(write_layout(folder / "sim.toml", port="sim", **wire)))
    fake = FakeStripe(api_key=KEY, webhook_secret=SECRET).start()
    t = ZvtTimes()
    times = replace(t, card_s=t.card_s * scale, pin_s=t.pin_s * scale, host_s=t.host_s * scale)
    card = TerminalSim(times=times)
    modelled = times.card_s + times.pin_s + times.host_s
    try:
        with sim.serve("pty") as ports, serve_zvt(card, "127.0.0.1", 0) as zvt_port:
            layout = write_layout(folder / "station.toml", port=ports["main"], **wire)
            env, courier = courier_station(folder, layout)
            env.update(
                LOCKER_STRIPE_API_KEY=KEY,
                LOCKER_STRIPE_WEBHOOK_SECRET=SECRET,
                LOCKER_STRIPE_API_BASE=fake.url,
                LOCKER_ZVT_HOST="127.0.0.1",
                LOCKER_ZVT_PORT=str(zvt_port),
                LOCKER_ZVT_PASSWORD=card.password,
            )
            with (
                locker_serve(env, log=folder / "serve.log") as station,
                httpx.Client(base_url=station.base_url, timeout=30) as client,
                httpx.Client(base_url=station.base_url, timeout=30, headers=courier) as hands,
            ):
                fake.webhook_url = f"{station.base_url}/api/v1/payments/webhook"
                samples: dict[str, list[float]] = {k: [] for k in ("free", "told", "lost", "due")}
                n = 0
                while len(samples["lost"]) < runs:
                    for kind in ("free", "told", "lost"):
                        n += 1
                        cid, pin = _store(hands, sim, n, 0 if kind == "free" else 1250)
                        if kind != "free":
                            start = time.monotonic()
                            owed = client.post("/api/v1/collect", json={"code": pin})
                            samples["due"].append(time.monotonic() - start)
                            assert owed.status_code == 402, owed.text
                            _pay(
                                client, fake, owed.json()["due"][0]["pay_url"], told=kind == "told"
                            )
                        start = time.monotonic()
                        opened = client.post("/api/v1/collect", json={"code": pin})
                        samples[kind].append(time.monotonic() - start)
                        if opened.status_code != 200:
                            raise SystemExit(f"collection failed: {opened.text}")
                        sim.take(cid)
                        sim.close(cid)
                samples["card"] = []
                for _ in range(card_runs):
                    n += 1
                    cid, pin = _store(hands, sim, n, 1250)
                    samples["card"].append(_pay_at_the_kiosk(station.base_url, pin))
                    sim.take(cid)
                    sim.close(cid)
    finally:
        fake.stop()
    conditions = f"{runs} collections each, 19200 Bd, pulse {pulse_ms} ms, fake Stripe on loopback"
    base = p50(samples["free"])
    return [
        against(
            "code → 'door open', paid, webhook arrived",
            conditions,
            "nothing due",
            base,
            samples["told"],
            "nothing due",
        ),
        against(
            "code → 'door open', paid, webhook lost (asks the provider)",
            conditions,
            "nothing due",
            base,
            samples["lost"],
            "nothing due",
        ),
        against(
            "code → '402 pay first' (nothing opens)",
            conditions,
            "nothing due",
            base,
            samples["due"],
            "nothing due",
        ),
        against(
            "code → 'door open', unpaid, paid at the kiosk's card terminal (ZVT)",
            f"{card_runs} payments at the ZVT simulator over TCP, modelled card + PIN + issuer "
            f"= {modelled:.2f} s, the kiosk's progress asked every {POLL_S * 1000:.0f} ms",
            "nothing due",
            base,
            samples["card"],
            "nothing due",
        ),
    ]


POLL_S = 0.05
_JOB = re.compile(r'hx-get="/kiosk/pay-card/([A-Za-z0-9_-]+)"')


def _pay_at_the_kiosk(base_url: str, pin: str) -> float:
    """The kiosk's screen as its browser would drive it: the code, "pay by card here",
    then its progress until the door is open; seconds from the code to the open door."""
    with httpx.Client(base_url=base_url, timeout=60, headers={"HX-Request": "true"}) as kiosk:
        kiosk.get("/kiosk")
        start = time.monotonic()
        owed = kiosk.post("/kiosk/collect", data={"code": pin})
        if 'id="pay-card"' not in owed.text:
            raise SystemExit(f"the kiosk offers no card payment: {owed.text[:300]}")
        page = kiosk.post("/kiosk/pay-card", data={"code": pin}).text
        while (job := _JOB.search(page)) is not None:
            time.sleep(POLL_S)
            page = kiosk.get(f"/kiosk/pay-card/{job.group(1)}").text
        took = time.monotonic() - start
    if "is open" not in page:
        raise SystemExit(f"the card payment did not open the door: {page[:400]}")
    return took


def _store(hands: httpx.Client, sim: SimStation, n: int, amount: int) -> tuple[int, str]:
    parcel = {
        "tracking_number": f"P{n}",
        "recipient_name": f"R{n}",
        "size": "M",
        "amount_due": amount,
    }
    opened = hands.post("/api/v1/deposits", json={"parcel": parcel})
    if opened.status_code != 201:
        raise SystemExit(f"deposit failed: {opened.text}")
    cid = opened.json()["door"]["compartment_id"]
    sim.put(cid)
    sim.close(cid)
    confirmed = hands.post(f"/api/v1/parcels/{opened.json()['parcel']['id']}/confirm")
    return cid, confirmed.json()["code"]["pin"]


def _pay(client: httpx.Client, fake: FakeStripe, pay_url: str, *, told: bool) -> None:
    path = pay_url.split("/pay/", 1)[1]
    hosted = client.get(f"/pay/{path}/go").headers["location"]
    fake.faults.lose_webhooks = not told
    try:
        fake.pay(hosted.rsplit("/", 1)[1])
    finally:
        fake.faults.lose_webhooks = False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--card-runs", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="of the terminal's times")
    args = parser.parse_args()
    print(table(measure(args.runs, card_runs=args.card_runs, scale=args.scale)))


if __name__ == "__main__":
    main()
