"""A card payment at the kiosk's terminal (issue 28): the station's ZVT client against the
ZVT terminal simulator over loopback TCP, beside the bare TCP round trip of the same run.

(a) the payment with the simulator's modelled times (card inserted, PIN typed, the card
    issuer's answer): what a customer waits, nearly all of it the terminal's;
(b) the same payment with no modelled time: the protocol alone (the command, three
    intermediate texts, the status, the receipt block and the completion, each one
    acknowledged, on a fresh connection);
baseline: 3 bytes there and back on an open loopback TCP connection (an echo).
"""

from __future__ import annotations

import argparse
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from bench.common import Row, against, ms, p50, table, timed
from drivers.zvt import ZvtTerminal
from locker.payments.terminal import TerminalOutcome
from sim.zvt import TerminalSim, ZvtTimes, serve_zvt

AMOUNT_CENTS = 2040


@contextmanager
def _echo() -> Iterator[socket.socket]:
    """A connected socket whose peer echoes what it gets (the TCP floor)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(64):
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = socket.create_connection(("127.0.0.1", port))
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        yield client
    finally:
        client.close()
        thread.join()
        server.close()


def _round_trip(sock: socket.socket) -> None:
    sock.sendall(b"\x80\x00\x00")
    got = b""
    while len(got) < 3:
        got += sock.recv(3 - len(got))


def _payments(times: ZvtTimes, runs: int) -> list[float]:
    sim = TerminalSim(times=times)
    with serve_zvt(sim) as port:
        terminal = ZvtTerminal("127.0.0.1", port, password=sim.password)
        if not terminal.register():
            raise SystemExit("the simulated terminal refused the registration")

        def pay() -> None:
            result = terminal.authorise(AMOUNT_CENTS, lambda text: None)
            if result.outcome is not TerminalOutcome.APPROVED:
                raise SystemExit(f"a bench payment was not approved: {result}")

        return timed(runs, pay)


def measure(runs: int, bare_runs: int, scale: float = 1.0) -> list[Row]:
    """``runs`` payments with the modelled times (``scale`` shrinks them for a smoke run),
    ``bare_runs`` without, and the TCP round trip as the baseline."""
    base = ZvtTimes()
    modelled = replace(
        base, card_s=base.card_s * scale, pin_s=base.pin_s * scale, host_s=base.host_s * scale
    )
    with _echo() as sock:
        _round_trip(sock)  # the first one opens the path outside the measurement
        rtt = timed(max(100, bare_runs * 10), lambda: _round_trip(sock))
    floor = p50(rtt)
    waits = modelled.card_s + modelled.pin_s + modelled.host_s
    with_times = _payments(modelled, runs)
    protocol = _payments(ZvtTimes.zero(), bare_runs)
    return [
        against(
            "card payment at the ZVT simulator, modelled times",
            f"{runs} payments of 20.40 €, card {modelled.card_s:g} s + PIN {modelled.pin_s:g} s"
            f" + issuer {modelled.host_s:g} s = {ms(waits)} modelled; beyond them"
            f" {ms(p50(with_times) - waits)}",
            "TCP round trip",
            floor,
            with_times,
            "TCP RTT",
        ),
        against(
            "card payment at the ZVT simulator, the protocol alone",
            f"{bare_runs} payments, no modelled time: 7 terminal messages, each acknowledged,"
            " a new connection each",
            "TCP round trip",
            floor,
            protocol,
            "TCP RTT",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bare-runs", type=int, default=300)
    args = parser.parse_args()
    print(table(measure(args.runs, args.bare_runs)))


if __name__ == "__main__":
    main()
