"""The station under systemd: READY=1 after start-up, WATCHDOG=1 only while its loops go
round, STOPPING=1 at the end; and its log records in the journal's native format, with
BUS=, COMPARTMENT=, PARCEL= and no personal data.

systemd is played by real datagram sockets bound in ``tmp_path``: one at NOTIFY_SOCKET
(the sd_notify protocol), one standing in for /run/systemd/journal/socket.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from locker.runtime.journal import JournalHandler, encode, fields
from locker.runtime.systemd import Heartbeats, WatchdogPinger, notify, watchdog_period
from tests.api.live import layout_text, live_station
from tests.crash.station_process import LOCKER, free_port


class Listener:
    """A bound AF_UNIX datagram socket and every datagram that reached it, in order."""

    def __init__(self, path: Path | str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path) if isinstance(path, Path) else path)
        self.sock.settimeout(0.1)
        self.got: list[bytes] = []
        self._changed = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data = self.sock.recv(1 << 20)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._changed:
                self.got.append(data)
                self._changed.notify_all()

    def lines(self) -> list[str]:
        with self._changed:
            return [
                line for data in self.got for line in data.decode(errors="replace").splitlines()
            ]

    def wait(self, what: Callable[[list[str]], bool], timeout_s: float = 60.0) -> list[str]:
        """Wait until ``what(lines)``; a deadline against a hang, not a timing check."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not what(self.lines()):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not received; got {self.lines()}")
                self._changed.wait(left)
            return self.lines()

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    heard = Listener(tmp_path / "notify")
    yield heard
    heard.close()


def count(lines: list[str], line: str) -> int:
    return sum(1 for seen in lines if seen == line)


def test_locker_serve_is_ready_after_start_up_and_pings_while_healthy(
    tmp_path: Path, listener: Listener
) -> None:
    layout = tmp_path / "layout.toml"
    layout.write_text(layout_text())
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("LOCKER_", "WATCHDOG"))},
        "LOCKER_DATA_DIR": str(tmp_path / "var"),
        "LOCKER_LAYOUT": str(layout),
        "LOCKER_POLL_S": "0.05",
        "PYTHONUNBUFFERED": "1",
        "NOTIFY_SOCKET": str(tmp_path / "notify"),
        "WATCHDOG_USEC": "1000000",
    }
    out = tmp_path / "out.txt"
    with out.open("wb") as sink:
        station = subprocess.Popen(  # noqa: S603
            [*LOCKER, "serve", "--port", str(port)],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        lines = listener.wait(lambda got: "READY=1" in got)
        # the moment systemd hears READY=1 the station answers, its first try
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        ready = lines.index("READY=1")
        assert lines[0].startswith("STATUS=starting")  # told before anything was opened
        assert f"STATUS=serving on 127.0.0.1:{port}" in lines[ready:]
        # database, buses and the start-up reconciliation were done before: the whole
        # start-up report is out (it follows the reconciliation's lines)
        assert "screens: http://" in out.read_text()
        got = listener.wait(lambda got: count(got, "WATCHDOG=1") >= 3)
        assert not [line for line in got if line.startswith("STATUS=watchdog withheld")]
    finally:
        station.send_signal(signal.SIGTERM)
        code = station.wait(timeout=60)
    assert code == 0, out.read_text()
    assert "STOPPING=1" in listener.lines()


def test_no_watchdog_pings_while_the_door_watcher_hangs(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The door watcher stuck on its serial line (the bus held, as a wedged adapter would
    hold it): the pings stop, systemd is told why, and they come back when it moves."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    with live_station(tmp_path) as live:
        listener.wait(lambda got: count(got, "WATCHDOG=1") >= 2)
        line = live.runtime.locks._buses["main"]._line  # the real bus's one-at-a-time lock
        with line:
            got = listener.wait(lambda got: any("withheld" in seen for seen in got))
            withheld = [i for i, seen in enumerate(got) if "withheld" in seen][0]
            assert "door watcher silent" in got[withheld]
            assert "event loop" not in got[withheld]  # the event loop still goes round
            time.sleep(3 * 0.5)  # three of the pinger's rounds
            assert "WATCHDOG=1" not in listener.lines()[withheld:]
        got = listener.wait(lambda got: "WATCHDOG=1" in got[withheld:])
        assert "STATUS=serving (every loop answers again)" in got[withheld:]


def test_a_stuck_event_loop_stops_the_pings() -> None:
    """A loop that stops beating (here the event loop's) withholds the ping."""
    now = [0.0]
    sent: list[str] = []
    beats = Heartbeats(clock=lambda: now[0])
    beats.expect("door watcher")
    beats.expect("event loop")
    pinger = WatchdogPinger(beats, 10.0, send=lambda m: sent.append(m) or True)
    now[0] = 5.0
    beats.beat("door watcher")
    assert pinger.tick()
    assert sent == ["WATCHDOG=1"]
    now[0] = 12.0  # the event loop last beat at 0
    assert not pinger.tick()
    assert sent[-1] == "STATUS=watchdog withheld: event loop silent for 12 s"
    assert not pinger.tick()
    assert len(sent) == 2


def test_notify_does_nothing_without_a_socket_and_speaks_to_an_abstract_one() -> None:
    assert notify("READY=1", {}) is False
    assert watchdog_period({"WATCHDOG_USEC": "30000000"}) is None  # no NOTIFY_SOCKET
    name = f"@locker-test-{os.getpid()}"
    heard = Listener("\0" + name[1:])
    try:
        assert notify("READY=1\nSTATUS=x", {"NOTIFY_SOCKET": name})
        assert heard.wait(lambda got: got == ["READY=1", "STATUS=x"])
    finally:
        heard.close()
    env = {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "30000000"}
    assert watchdog_period(env) == 30.0
    assert watchdog_period({**env, "WATCHDOG_PID": str(os.getpid())}) == 30.0
    assert watchdog_period({**env, "WATCHDOG_PID": str(os.getpid() + 1)}) is None


def parse_entry(data: bytes) -> dict[str, str]:
    """The journal's native format, read back as systemd-journald reads it."""
    entry: dict[str, str] = {}
    at = 0
    while at < len(data):
        end = data.index(b"\n", at)
        line = data[at:end]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            at = end + 1
        else:
            key = line
            (size,) = struct.unpack("<Q", data[end + 1 : end + 9])
            value = data[end + 9 : end + 9 + size]
            assert data[end + 9 + size : end + 10 + size] == b"\n"
            at = end + 10 + size
        entry[key.decode()] = value.decode()
    return entry


def test_journal_fields_and_the_binary_form_of_a_multi_line_message(tmp_path: Path) -> None:
    journal = Listener(tmp_path / "journal")
    handler = JournalHandler(str(tmp_path / "journal"))
    log = logging.getLogger("tests.journal")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.warning("door left open", extra=fields(bus="main", compartment=7, parcel=42))
        try:
            raise RuntimeError("line one")
        except RuntimeError:
            log.exception("a failure\nover two lines")
        journal.wait(lambda got: len(journal.got) >= 2)
    finally:
        log.removeHandler(handler)
        handler.close()
        journal.close()
    first, second = (parse_entry(data) for data in journal.got)
    assert first["MESSAGE"] == "door left open"
    assert (first["PRIORITY"], first["BUS"], first["COMPARTMENT"], first["PARCEL"]) == (
        "4",
        "main",
        "7",
        "42",
    )
    assert first["SYSLOG_IDENTIFIER"] == "locker"
    assert first["LOGGER"] == "tests.journal"
    assert second["PRIORITY"] == "3"
    assert "RuntimeError: line one" in second["MESSAGE"]
    assert second["MESSAGE"].startswith("a failure\nover two lines\nTraceback")
    assert "PARCEL" not in second
    assert encode({"A": "x\ny"}) == b"A\n" + struct.pack("<Q", 3) + b"x\ny\n"


def test_a_record_too_big_for_one_datagram_goes_in_a_sealed_memfd(tmp_path: Path) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(tmp_path / "journal"))
    handler = JournalHandler(str(tmp_path / "journal"))
    try:
        big = "x" * (8 << 20)  # past any datagram's size
        handler.emit(logging.makeLogRecord({"msg": big, "levelno": logging.INFO}))
        _, ancillary, _, _ = socket.recv_fds(server, 16, 1)
    finally:
        handler.close()
        server.close()
    (fd,) = ancillary
    with os.fdopen(fd, "rb") as memfd:  # journald reads it from its start, as here
        memfd.seek(0)
        entry = parse_entry(memfd.read())
    assert entry["PRIORITY"] == "6"
    assert entry["MESSAGE"] == big


def test_a_journal_handler_whose_socket_was_closed_under_it_opens_a_new_one(
    tmp_path: Path,
) -> None:
    journal = Listener(tmp_path / "journal")
    handler = JournalHandler(str(tmp_path / "journal"))
    log = logging.getLogger("tests.journal.reopened")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        handler._sock.close()  # as a reconfiguration of logging closes every handler's
        log.info("compartment stored", extra=fields(compartment=3))
        journal.wait(lambda got: len(got) >= 1)
    finally:
        log.removeHandler(handler)
        handler.close()
        journal.close()
    (entry,) = (parse_entry(data) for data in journal.got)
    assert (entry["MESSAGE"], entry["COMPARTMENT"]) == ("compartment stored", "3")
