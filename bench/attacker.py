"""A guessing attacker at the kiosk: how many codes a month can he try, and what are his odds?

Run: ``.venv/bin/python bench/attacker.py [--days 30] [--compartments 200]``. A whole
station runs as ``locker serve`` would (the real driver on a pty against the simulator,
a SQLite file, uvicorn on loopback), filled full: every compartment holds a stored parcel
with its own live code. Only its clock is moved by hand, by the attacker: he sends
random distinct PINs as fast as the station lets him, and when it says ``429`` he waits
exactly the ``Retry-After`` it gave (the clock moves that far; no wall time is spent).

The strongest attacker modelled here rotates his client address (``127.x.y.z`` on
loopback, a fresh one after every ``LOCKER_ATTEMPTS_FREE`` wrong codes), so the
per-client delays never bind and only the station-wide cap does. For comparison, the
same attack from one address, where the per-client delays bind as well.

Printed per scenario: guesses evaluated (answered ``code_invalid``), refused (``429``),
hits, guesses per simulated clock hour (mean and max, and the max in any sliding hour),
the share of the computed bound (the station-wide cap times the hours), the chance of
hitting any live code in the month from the measured rate, ``1 - (1 - L/10^d)^G``, and
the run's wall time beside a baseline of ``GET /healthz`` round trips in the same run.
"""

from __future__ import annotations

import argparse
import bisect
import math
import random
import ssl
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx

from bench.full_station import FullStation, full_station

Endpoint = Literal["kiosk", "api"]
Honest = Literal["paired kiosk, PIN", "network, PIN", "network, QR"]
HONEST: tuple[Honest, ...] = ("paired kiosk, PIN", "network, PIN", "network, QR")
Target = Literal["kiosk", "api", "both"]  # both: the two in turn, one request each


@dataclass
class AttackReport:
    endpoint: Target
    rotate: bool
    hours: float
    cap_per_hour: int
    live_codes: int
    digits: int
    evaluated: int = 0  # guesses the station checked (answered code_invalid, or a hit)
    refused: int = 0  # 429 too_many_attempts
    hits: int = 0
    bad_refusals: list[str] = field(default_factory=list)  # a 429 not as documented
    unexpected: list[str] = field(default_factory=list)  # any other answer
    addresses: int = 0
    refused_in_a_row: int = 0  # most 429s before a guess got through (1: Retry-After sufficed)
    by_endpoint: Counter[str] = field(default_factory=Counter)  # guesses evaluated at each
    guesses: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # simulated seconds of each guess
    wall_s: float = 0.0
    paired: bool = False  # the guesser stands at the paired kiosk (one device, no rotation)
    honest_waits: dict[str, list[int]] = field(default_factory=dict)  # kind -> seconds told

    def per_clock_hour(self) -> list[int]:
        counts = Counter(int(t // 3600) for t in self.times)
        return [counts.get(h, 0) for h in range(math.ceil(self.hours))]

    @property
    def mean_per_hour(self) -> float:
        return statistics.fmean(self.per_clock_hour())

    @property
    def max_per_hour(self) -> int:
        return max(self.per_clock_hour())

    @property
    def max_sliding_hour(self) -> int:
        """The most guesses in any 3600 s, wherever it starts."""
        ordered = sorted(self.times)
        return max(
            (bisect.bisect_left(ordered, t + 3600) - i for i, t in enumerate(ordered)), default=0
        )

    def chance(self, hours: float = 24 * 30) -> float:
        """Chance of hitting any live code in ``hours`` at the measured mean rate."""
        guesses = self.mean_per_hour * hours
        p = self.live_codes / 10**self.digits
        return -math.expm1(guesses * math.log1p(-p))


def _refusal_problem(endpoint: Endpoint, answer: httpx.Response) -> str | None:
    """What is wrong with a 429, if anything."""
    retry = answer.headers.get("retry-after", "")
    if not retry.isdigit() or int(retry) < 1:
        return f"Retry-After {retry!r}"
    kind = answer.headers.get("content-type", "")
    if endpoint == "api":
        if not kind.startswith("application/problem+json"):
            return f"content-type {kind!r}"
        if answer.json().get("code") != "too_many_attempts":
            return f"problem {answer.text[:80]!r}"
    elif not kind.startswith("text/html") or f'data-countdown="{retry}"' not in answer.text:
        return f"kiosk answer {kind!r} {answer.text[:80]!r}"
    return None


def _address(n: int) -> str:
    """The n-th loopback address from 127.0.0.2 on, all distinct, none ending in .0 or .255
    (127.0.0.2 … 127.0.0.254, 127.0.1.1 …)."""
    n += 1
    return f"127.{n // (254 * 256) % 256}.{n // 254 % 256}.{n % 254 + 1}"


def attack(
    target: FullStation,
    *,
    hours: float,
    endpoint: Target = "kiosk",
    rotate: bool = True,
    seed: int | None = None,
    addresses_from: int = 0,
    paired: bool = False,
    honest_every_h: float | None = None,
) -> AttackReport:
    """Guess for ``hours`` of the station's clock, as fast as it allows, from the station's
    current time; the clock is left where the attack ended. Rotating, the attacker takes
    fresh addresses from the ``addresses_from``-th loopback one; else he is 127.0.0.1.
    ``paired``: he types at the paired kiosk (its device cookie; he cannot rotate it).
    Every ``honest_every_h`` hours of the clock, honest customers come, one of each kind
    in :data:`HONEST`, with a live code; each is told how long to wait (0: it opened at once)."""
    rng = random.Random(seed)  # noqa: S311 - a guesser's draws, not a secret
    free = target.settings.attempts_free
    report = AttackReport(
        endpoint,
        rotate and not paired,
        hours,
        target.cap_per_hour,
        len(target.pins),
        target.digits,
        paired=paired,
    )
    rotate = rotate and not paired
    waiting = sorted(target.live_pins(), reverse=True)  # honest customers' codes
    honest_rng = random.Random(seed)  # noqa: S311 - when customers come, not a secret
    every = timedelta(hours=honest_every_h or 0)

    def honest_due(k: int) -> datetime:
        """When the k-th group of honest customers comes: at a random moment of its period."""
        if honest_every_h is None:
            return datetime.max.replace(tzinfo=UTC)
        return target.clock.now + every * k + every * honest_rng.random()

    next_honest = honest_due(0)

    def honest_come() -> None:
        nonlocal next_honest
        for kind in HONEST:
            if waiting:
                told = honest_customer(target, kind, waiting.pop(), tls)
                report.honest_waits.setdefault(kind, []).append(told)
        if len(waiting) < len(HONEST):  # no live codes left for a whole group
            next_honest = datetime.max.replace(tzinfo=UTC)
            return
        next_honest = start + every * len(report.honest_waits.get(HONEST[0], []))
        next_honest += every * honest_rng.random()

    start = target.clock.now
    end = start + timedelta(hours=hours)
    tried: set[str] = set()
    used_on_address = 0
    client: httpx.Client | None = None
    tls = ssl.create_default_context()  # plain HTTP; made once, not per address (20 ms each)
    began = time.perf_counter()
    in_a_row = 0
    turns: tuple[Endpoint, ...] = ("kiosk", "api") if endpoint == "both" else (endpoint,)
    try:
        guess = ""
        while target.clock.now < end:
            if client is None or (rotate and used_on_address >= free):
                if client is not None:
                    client.close()
                address = _address(addresses_from + report.addresses) if rotate else "127.0.0.1"
                report.addresses += 1
                used_on_address = 0
                client = httpx.Client(
                    base_url=target.base_url,
                    timeout=30.0,
                    transport=httpx.HTTPTransport(local_address=address, verify=tls),
                    cookies={"locker_kiosk": target.kiosk_token} if paired else None,
                )
            if target.clock.now >= next_honest:
                honest_come()
            while not guess or guess in tried:
                guess = f"{rng.randrange(10**target.digits):0{target.digits}d}"
            sent = turns[(report.evaluated + report.refused) % len(turns)]
            if sent == "kiosk":
                answer = client.post("/kiosk/collect", data={"code": guess})
            else:
                answer = client.post("/api/v1/collect", json={"code": guess})
            if answer.status_code == 429:
                report.refused += 1
                in_a_row += 1
                report.refused_in_a_row = max(report.refused_in_a_row, in_a_row)
                wrong = _refusal_problem(sent, answer)
                if wrong is not None:
                    report.bad_refusals.append(wrong)
                    break
                wait = timedelta(seconds=int(answer.headers["retry-after"]))
                if next_honest < target.clock.now + wait:  # customers come while he waits
                    target.clock.now = next_honest
                    honest_come()
                    continue  # he tries again when told to (it may still be too early)
                target.clock.now += wait
                continue  # the same guess again, once the wait is over
            in_a_row = 0
            tried.add(guess)
            report.evaluated += 1
            report.by_endpoint[sent] += 1
            used_on_address += 1
            report.guesses.append(guess)
            report.times.append((target.clock.now - start).total_seconds())
            if answer.status_code in (200, 503):  # a live code: its door opened (or failed)
                report.hits += 1
            elif answer.status_code != 404:
                report.unexpected.append(f"{answer.status_code} {answer.text[:80]!r}")
            guess = ""
    finally:
        if client is not None:
            client.close()
    report.wall_s = time.perf_counter() - began
    return report


def honest_customer(target: FullStation, kind: Honest, pin: str, tls: ssl.SSLContext) -> int:
    """An honest customer with a live code: the wait he is told (0: his door opened at
    once). He waits exactly that long (the clock moves) and must then collect."""
    paired = kind.startswith("paired")
    code = target.qr_of[pin] if kind.endswith("QR") else pin
    with httpx.Client(
        base_url=target.base_url,
        timeout=30.0,
        transport=httpx.HTTPTransport(local_address="127.255.0.1", verify=tls),
        cookies={"locker_kiosk": target.kiosk_token} if paired else None,
    ) as client:
        told = 0
        for _ in range(3):
            if paired:
                answer = client.post("/kiosk/collect", data={"code": code})
            else:
                answer = client.post("/api/v1/collect", json={"code": code})
            if answer.status_code != 429:
                break
            wait = int(answer.headers["retry-after"])
            told += wait
            target.clock.advance(wait)
        if answer.status_code != 200:
            raise RuntimeError(f"honest {kind} customer: {answer.status_code} {answer.text[:80]}")
    target.collected.add(pin)
    return told


def healthz_baseline(base_url: str, runs: int = 200) -> float:
    """Median wall time of a GET /healthz round trip (the same run's HTTP overhead)."""
    samples = []
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for _ in range(runs):
            t0 = time.perf_counter()
            client.get("/healthz")
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def _waits(report: AttackReport) -> str:
    """Honest customers' told waits per kind: how many came, mean and longest wait."""
    parts = []
    for kind in HONEST:
        waits = report.honest_waits.get(kind, [])
        if waits:
            parts.append(
                f"{kind}: {len(waits)}, mean {statistics.fmean(waits):.0f} s, max {max(waits)} s"
            )
    return "; ".join(parts) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--compartments", type=int, default=200)
    parser.add_argument(
        "--scenarios",
        default="kiosk,api,kiosk-one-address,paired-kiosk",
        help="comma-separated: kiosk (the screen's form, unpaired), api, both (in turn), each "
        "with -one-address; paired-kiosk (at the paired screen, which he cannot rotate)",
    )
    parser.add_argument("--honest-every-h", type=float, default=12.0)  # 3 codes each time
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    hours = args.days * 24
    rows = []
    for scenario in args.scenarios.split(","):
        parts = [scenario]
        with tempfile.TemporaryDirectory(prefix="attacker-") as folder:
            t0 = time.perf_counter()
            with full_station(Path(folder), compartments=args.compartments, days=args.days) as st:
                filled_s = time.perf_counter() - t0
                base = healthz_baseline(st.base_url)
                reports = []
                for n, part in enumerate(parts):
                    endpoint: Target = "api" if part.startswith("api") else "kiosk"
                    if part.startswith("both"):
                        endpoint = "both"
                    reports.append(
                        attack(
                            st,
                            hours=hours,
                            endpoint=endpoint,
                            rotate=not part.endswith("one-address"),
                            paired=part.startswith("paired"),
                            seed=args.seed,
                            honest_every_h=args.honest_every_h,
                            addresses_from=n * 10**6,
                        )
                    )
        for report in reports:
            if report.bad_refusals or report.unexpected:
                print(
                    f"{scenario}: bad refusals {report.bad_refusals[:3]}, "
                    f"unexpected answers {report.unexpected[:3]}"
                )
        rows.append((scenario, reports, filled_s, base))
    first = rows[0][1][0]
    print(
        f"guessing attacker, {args.days:g} simulated days ({hours:g} h), station full: "
        f"{first.live_codes} live {first.digits}-digit PINs, cap {first.cap_per_hour} wrong "
        f"codes/h station-wide for network clients; honest customers every "
        f"{args.honest_every_h:g} h"
    )
    print(
        "| scenario | addresses | guesses evaluated | refused (429) | hits | per clock hour "
        "mean / max | max in any 60 min | share of the cap bound | chance in 30 days "
        "| honest customers: waits told | wall time | per request / GET /healthz |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for scenario, reports, filled_s, base in rows:
        for r in reports:
            requests = r.evaluated + r.refused
            bound = r.cap_per_hour * r.hours
            per_request = r.wall_s / max(1, requests)
            label = scenario if len(reports) == 1 else f"{scenario}: {r.endpoint}"
            print(
                f"| {label} | {r.addresses} | {r.evaluated:,} | {r.refused:,} | {r.hits} | "
                f"{r.mean_per_hour:.2f} / {r.max_per_hour} | {r.max_sliding_hour} | "
                f"{r.evaluated / bound:.4f} | {r.chance() * 100:.4f} % | {_waits(r)} | "
                f"{r.wall_s:.1f} s (+ {filled_s:.1f} s filling) | "
                f"{per_request * 1000:.2f} ms / {base * 1000:.2f} ms = {per_request / base:.1f} |"
            )
    chances = {scenario: reports[0].chance() for scenario, reports, _, _ in rows}
    if "paired-kiosk" in chances and "kiosk" in chances:
        # the network's cap and the paired kiosk's own waits are separate limits, so one
        # guesser at the kiosk and one on the network at once get at most both figures
        both = chances["paired-kiosk"] + max(v for k, v in chances.items() if k != "paired-kiosk")
        print(
            f"a guesser at the paired kiosk and one on the network together: ≤ {both * 100:.4f} %"
        )


if __name__ == "__main__":
    main()
