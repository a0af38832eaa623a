"""``python -m sim.cli`` as a real subprocess: read where it serves, talk to it, stop it."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import serial

from sim.codec import Reply
from tests.sim.sim_support import Host

STARTUP_TIMEOUT_S = 30.0  # generous: the first line must come, however slow the machine


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start the simulator; yield the process and its first stdout line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], STARTUP_TIMEOUT_S)
        assert ready, "the simulator printed nothing"
        yield proc, proc.stdout.readline().strip()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def stop(proc: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> str:
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=STARTUP_TIMEOUT_S)
    assert proc.returncode == 0, stderr
    return stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def talk(where: str) -> None:
    with serial.serial_for_url(where, timeout=5.0) as port:
        host = Host(port)
        host.send("02 10 30 03 45")
        assert Reply.from_bytes(host.read(9)).board == 1
        host.send("02 F0 32 03 27")
        assert [Reply.from_bytes(host.read(9)).board for _ in range(2)] == [0, 1]


def test_cli_serves_on_a_pty_until_sigterm() -> None:
    with running("--pty", "--boards", "2") as (proc, line):
        kind, _, path = line.partition(": ")
        assert kind == "pty"
        assert os.path.exists(path)
        talk(path)
        stop(proc)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_on_tcp_until_stopped(sig: signal.Signals) -> None:
    port = free_port()
    args = ("--tcp", f"127.0.0.1:{port}", "--boards", "2", "--pulse-ms", "20", "-v")
    with running(*args) as (proc, line):
        assert line == f"tcp: socket://127.0.0.1:{port}"
        talk(line.partition(": ")[2])
        stderr = stop(proc, sig)
    assert "rx 02 10 30 03 45" in stderr
    assert "tx board 1: 02 10 35 ff ff 00 00 03 48" in stderr


def test_cli_cu12_on_any_free_port() -> None:
    with running("--tcp", "127.0.0.1:0", "--protocol", "cu12", "--baud", "9600") as (proc, line):
        url = line.partition(": ")[2]
        assert url.startswith("socket://127.0.0.1:")
        with serial.serial_for_url(url, timeout=5.0) as port:
            host = Host(port)
            host.send("02 00 00 8F 00 00 03 94")
            assert host.read_cu12() == bytes.fromhex("02 00 00 8F 10 02 03 C8 10 12")
        stop(proc)


@pytest.mark.parametrize(
    "args",
    [
        ["--boards", "2"],  # neither --pty nor --tcp
        ["--pty", "--tcp", "127.0.0.1:0"],
        ["--tcp", "nonsense"],
        ["--pty", "--boards", "11"],  # CU16 addresses stop at 9
        ["--pty", "--protocol", "cu48"],
    ],
)
def test_cli_rejects_bad_usage(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""


def test_cli_serves_an_8a_bus_and_a_modbus_bus_with_a_sensor() -> None:
    from drivers.bus import LockBus
    from drivers.modbus_relay import Relay8Board
    from drivers.xor8a import Xor8aBoard
    from drivers.xy_md02 import XyMd02

    with running("--pty", "--protocol", "xor8a", "--boards", "2", "--channels", "24") as (
        proc,
        line,
    ):
        with LockBus(line.partition(": ")[2], baudrate=9600) as bus:
            assert Xor8aBoard(bus, 2, channels=24).status().address == 2
        stop(proc)
    args = ("--pty", "--protocol", "modbus-relay", "--sensor", "10=-18.5", "--pulse-ms", "100")
    with running(*args) as (proc, line):
        with LockBus(line.partition(": ")[2], baudrate=9600) as bus:
            assert XyMd02(bus, 10).read_celsius() == -18.5
            assert Relay8Board(bus, 1, pulse_ms=100).unlock(3).released is True
        stop(proc)
