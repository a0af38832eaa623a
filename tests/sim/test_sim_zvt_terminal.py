"""The simulated terminal on its own, spoken to with raw bytes over TCP (its own codec
builds nothing here): what it refuses, that it repeats an unacknowledged message and then
gives up, and that it takes the registration's currency in both forms."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sim.zvt import TerminalSim, ZvtTimes, serve_zvt

PASSWORD = "123456"
REGISTER = bytes.fromhex("06 00 07 12 34 56 BE 49 09 78")
ACK = bytes.fromhex("80 00 00")


@contextmanager
def station(**times: float) -> Iterator[tuple[TerminalSim, socket.socket]]:
    sim = TerminalSim(password=PASSWORD, times=ZvtTimes(**{**vars(ZvtTimes.zero()), **times}))
    with serve_zvt(sim) as port, socket.create_connection(("127.0.0.1", port), 5) as sock:
        yield sim, sock


def frames(sock: socket.socket, count: int) -> list[str]:
    """The next ``count`` frames the terminal sends, in hex (read by length by hand)."""
    out: list[str] = []
    buf = b""
    while len(out) < count:
        while len(buf) < 3 or len(buf) < 3 + buf[2]:
            chunk = sock.recv(4096)
            assert chunk, f"closed after {out}"
            buf += chunk
        size = 3 + buf[2]
        out.append(buf[:size].hex(" "))
        buf = buf[size:]
    return out


def test_registration_is_acknowledged_and_completed() -> None:
    with station() as (sim, sock):
        sock.sendall(REGISTER)
        got = frames(sock, 2)
        assert got[0] == "80 00 00"
        assert got[1].startswith("06 0f")
        sock.sendall(ACK)
        assert sim.registered


def test_the_currency_of_the_specification_untagged_is_taken_too() -> None:
    with station() as (sim, sock):
        sock.sendall(bytes.fromhex("06 00 06 12 34 56 BE 09 78"))
        assert frames(sock, 1) == ["80 00 00"]
        assert sim.registered


def test_another_currency_or_password_is_refused() -> None:
    with station() as (sim, sock):
        sock.sendall(bytes.fromhex("06 00 07 12 34 56 BE 49 08 40"))  # USD
        assert frames(sock, 1) == ["84 6f 00"]
        sock.sendall(bytes.fromhex("06 00 07 65 43 21 BE 49 09 78"))
        assert frames(sock, 1) == ["84 83 00"]
        assert not sim.registered


def test_no_payment_before_registration() -> None:
    with station() as (sim, sock):
        sock.sendall(bytes.fromhex("06 01 07 04 00 00 00 00 20 40"))
        assert frames(sock, 1) == ["84 83 00"]
        assert sim.journal == []


def test_an_unacknowledged_message_is_repeated_then_given_up() -> None:
    with station(ack_timeout_s=0.05) as (sim, sock):
        sim.registered = True
        sock.sendall(bytes.fromhex("06 01 07 04 00 00 00 00 20 40"))
        got = frames(sock, 4)
        assert got[0] == "80 00 00"
        assert got[1:] == ["04 ff 02 0a 3c"] * 3  # once and two repeats
        deadline = time.monotonic() + 5
        while not sim.unacknowledged and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sim.unacknowledged == 1
        assert sim.journal == []  # gave up before any card


def test_an_abort_with_nothing_running_and_an_unknown_command_are_refused() -> None:
    with station() as (_, sock):
        sock.sendall(bytes.fromhex("06 B0 00"))
        assert frames(sock, 1) == ["84 83 00"]
        sock.sendall(bytes.fromhex("06 77 00"))
        assert frames(sock, 1) == ["84 83 00"]


def test_log_off_ends_the_registration() -> None:
    with station() as (sim, sock):
        sim.registered = True
        sock.sendall(bytes.fromhex("06 02 00"))
        assert frames(sock, 1) == ["80 00 00"]
        assert not sim.registered
