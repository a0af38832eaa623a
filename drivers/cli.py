"""``locker hw``: commissioning commands for an installer at the station.

Output is meant for people *and* programs, so its shape is fixed:

* ``status`` prints a header line ``board lock hook item`` and then one line per lock,
  fields separated by one space: board address, lock number, ``engaged``/``released``,
  ``present``/``empty``/``-`` (``-``: no IR strip).
* ``open`` prints ``board lock hook pulses`` and one line: address, lock,
  ``released``/``engaged``/``unknown`` (the hook after the pulse), pulses sent.
* ``pulse`` prints ``board pulse_ms`` and one line.
* Errors go to stderr as one line starting with ``error: ``. A board that gave no answer
  is reported with how the tries ended, for the installer to tell wiring from noise:
  ``error: board 0: no answer — bad checksum (3 of 3 tries) on /dev/ttyUSB0``; the kinds
  are ``silence`` (not a byte: address, power, A/B swapped), ``torn frame`` (bytes but no
  whole frame: baud, termination, a second master) and ``bad checksum`` (a whole frame
  with a wrong sum: noise, ground).

Exit status: 0 success; 1 no answer (port missing, board silent, only bad frames);
3 the board answered but the lock stayed engaged or the board refused; 2 usage error.
"""

from __future__ import annotations

import logging
from typing import Annotated, NoReturn

import typer

from drivers.base import BoardBase
from drivers.board import POLARITIES, BoardStatus
from drivers.bus import DEFAULT_BAUD, LockBus
from drivers.errors import BadFrame, BoardRefused, BusError, NoAnswer, PortUnavailable
from drivers.registry import BOARD_TYPES, board_class
from drivers.scan import DEFAULT_ADDRESSES, HEADER, scan
from locker.layouts.hardware import DEFAULT_BAUD as FAMILY_BAUD
from locker.layouts.hardware import family_of_type

EXIT_NO_ANSWER = 1
EXIT_REFUSED = 3

app = typer.Typer(
    name="hw",
    help="Talk to lock boards directly (commissioning). Exit status: 0 ok, 1 no answer, "
    "2 usage error, 3 lock stayed engaged or board refused.",
    no_args_is_help=True,
    add_completion=False,
)

Port = Annotated[str, typer.Option("--port", help="Serial port or URL: /dev/ttyUSB0, socket://h:p")]
BoardType = Annotated[str, typer.Option("--type", help=f"Board type: {', '.join(BOARD_TYPES)}")]
Baud = Annotated[
    int | None, typer.Option("--baud", help="Line speed in baud (default: the family's)")
]
TimeoutMs = Annotated[int, typer.Option("--timeout-ms", help="Answer deadline per request, ms")]
Polarity = Annotated[
    str, typer.Option("--hook-polarity", help=f"Meaning of a hook bit: {', '.join(POLARITIES)}")
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every frame to stderr")]
Channels = Annotated[
    int | None, typer.Option("--channels", help="Locks on the board (the 8A/80 board: 8..50)")
]


def _fail(message: str, code: int = EXIT_NO_ANSWER) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _board(
    port: str,
    board_type: str,
    address: int,
    baud: int | None,
    timeout_ms: int,
    polarity: str,
    pulse_ms: int = 550,
    channels: int | None = None,
) -> BoardBase:
    try:
        cls = board_class(board_type)
    except KeyError as exc:
        raise typer.BadParameter(str(exc.args[0]), param_hint="--type") from None
    if baud is None:
        baud = FAMILY_BAUD.get(family_of_type(board_type) or "", DEFAULT_BAUD)
    bus = LockBus(port, baudrate=baud, timeout_s=timeout_ms / 1000)
    try:
        return cls(bus, address, pulse_ms=pulse_ms, hook_polarity=polarity, channels=channels)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _logging(verbose: bool) -> None:
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    else:  # the one-line error message says it all; keep driver warnings off stderr
        logging.getLogger().addHandler(logging.NullHandler())


def _print_status(status: BoardStatus) -> None:
    for number, state in enumerate(status.locks, start=1):
        hook = "engaged" if state.hook_engaged else "released"
        item = "-" if state.item_present is None else "present" if state.item_present else "empty"
        typer.echo(f"{status.address} {number} {hook} {item}")


@app.command()
def status(
    port: Port,
    board: Annotated[
        int | None, typer.Option("--board", help="Board address; omitted: every board that answers")
    ] = None,
    board_type: BoardType = "cu16",
    baud: Baud = None,
    timeout_ms: TimeoutMs = 300,
    hook_polarity: Polarity = "engaged_high",
    channels: Channels = None,
    verbose: Verbose = False,
) -> None:
    """Print every lock's hook and item state: 'board lock hook item' lines.

    Output: a header line 'board lock hook item', then one line per lock,
    fields separated by one space: board address, lock number,
    hook (engaged | released), item (present | empty | - for no IR strip).
    Boards in address order, locks from 1.

    Without --board, one whole-bus read lists every board that answers.

    Exit status: 0 ok; 1 no board answered or the port is unavailable
    (one line on stderr, starting 'error: '); 2 usage error.
    """
    _logging(verbose)
    first = board_class(board_type).ADDRESSES.start if board_type in BOARD_TYPES else 0
    probe = _board(
        port,
        board_type,
        board if board is not None else first,
        baud,
        timeout_ms,
        hook_polarity,
        channels=channels,
    )
    candidates: list[BoardBase] = []
    try:
        probe.bus.open()
        if board is not None:
            statuses = [probe.status()]
        else:
            cls = type(probe)
            candidates = [
                cls(probe.bus, a, hook_polarity=hook_polarity, channels=channels)
                for a in cls.ADDRESSES
            ]
            statuses = list(cls.read_bus(probe.bus, candidates).values())
    except PortUnavailable as exc:
        _fail(str(exc))
    except (NoAnswer, BadFrame) as exc:  # only with --board
        _fail(f"board {board}: no answer — {exc.describe()} on {port}")
    except BusError as exc:
        _fail(f"board {board} did not answer on {port}: {exc}")  # only with --board
    finally:
        probe.bus.close()
    if not statuses:
        how = candidates[0].failures().describe() if candidates else ""
        _fail(f"no {board_type} board answered on {port}" + (f" — {how}" if how else ""))
    typer.echo("board lock hook item")
    for found in sorted(statuses, key=lambda s: s.address):
        _print_status(found)


@app.command("open")
def open_lock(
    port: Port,
    board: Annotated[int, typer.Option("--board", help="Board address")],
    lock: Annotated[int, typer.Option("--lock", help="Lock number, from 1")],
    pulse_ms: Annotated[
        int,
        typer.Option(
            "--pulse-ms",
            help="The board's pulse time: wait this long before "
            "reading the hook (the board is not changed)",
        ),
    ] = 550,
    board_type: BoardType = "cu16",
    baud: Baud = None,
    timeout_ms: TimeoutMs = 300,
    hook_polarity: Polarity = "engaged_high",
    channels: Channels = None,
    verbose: Verbose = False,
) -> None:
    """Open one lock and print what its hook read after the pulse: 'board lock hook pulses'.

    Output: the header 'board lock hook pulses' and one line: board address,
    lock, hook after the pulse (released | engaged | unknown), pulses sent.
    A second pulse is sent only when a fresh read showed the hook engaged.

    Exit status: 0 released; 1 no answer (hook unknown, or nothing sent);
    2 usage error; 3 still engaged or the board refused.
    Errors: one line on stderr starting 'error: '.
    """
    _logging(verbose)
    driver = _board(port, board_type, board, baud, timeout_ms, hook_polarity, pulse_ms, channels)
    if not 1 <= lock <= driver.lock_count:
        raise typer.BadParameter(f"locks are 1..{driver.lock_count}", param_hint="--lock")
    try:
        result = driver.unlock(lock)
    except BoardRefused as exc:
        _fail(f"board {board} refused to open lock {lock}: {exc}", EXIT_REFUSED)
    except PortUnavailable as exc:
        _fail(str(exc))
    except BusError as exc:
        _fail(f"board {board} on {port}: unlock not sent: {exc}")
    finally:
        driver.bus.close()
    hook = {True: "released", False: "engaged", None: "unknown"}[result.released]
    typer.echo("board lock hook pulses")
    typer.echo(f"{board} {lock} {hook} {result.pulses}")
    if result.released is None:
        how = driver.failures().describe() or "no answer"
        _fail(f"board {board}: no answer to the read-back after the pulse — {how} on {port}")
    if not result.released:
        _fail(f"lock {lock} of board {board} still reads engaged", EXIT_REFUSED)


@app.command()
def pulse(
    port: Port,
    board: Annotated[int, typer.Option("--board", help="Board address")],
    set_ms: Annotated[
        int | None, typer.Option("--set", help="Store this pulse time (ms) on the board")
    ] = None,
    board_type: BoardType = "cu16",
    baud: Baud = None,
    timeout_ms: TimeoutMs = 300,
    verbose: Verbose = False,
) -> None:
    """Print (or, with --set, store) the board's unlock pulse time: 'board pulse_ms'.

    Output: the header 'board pulse_ms' and one line: address, pulse time in ms.
    Exit status: 0 ok; 1 no answer; 2 usage error; 3 the board refused.
    """
    _logging(verbose)
    driver = _board(port, board_type, board, baud, timeout_ms, "engaged_high")
    try:
        ms = driver.query_pulse() if set_ms is None else driver.set_pulse(set_ms)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--set") from None
    except BoardRefused as exc:
        _fail(f"board {board} refused: {exc}", EXIT_REFUSED)
    except PortUnavailable as exc:
        _fail(str(exc))
    except (NoAnswer, BadFrame) as exc:
        _fail(f"board {board}: no answer — {exc.describe()} on {port}")
    except BusError as exc:
        _fail(f"board {board} did not answer on {port}: {exc}")
    finally:
        driver.bus.close()
    typer.echo("board pulse_ms")
    typer.echo(f"{board} {ms}")


@app.command("scan")
def scan_bus(
    port: Port,
    family: Annotated[
        str, typer.Option("--family", help=f"Board family: {', '.join(DEFAULT_ADDRESSES)}")
    ] = "kerong",
    first: Annotated[int | None, typer.Option("--from", help="First address asked")] = None,
    last: Annotated[int | None, typer.Option("--to", help="Last address asked")] = None,
    baud: Baud = None,
    timeout_ms: TimeoutMs = 60,
    verbose: Verbose = False,
) -> None:
    """Find the boards (and sensors) of a family on a bus: one line per device found.

    Output: the header 'family type address channels inputs firmware reading', then one
    line per device in address order ('-' where the device does not tell).
    Exit status: 0 something answered; 1 nothing answered or the port is unavailable.
    """
    _logging(verbose)
    if family not in DEFAULT_ADDRESSES:
        raise typer.BadParameter(f"one of {', '.join(DEFAULT_ADDRESSES)}", param_hint="--family")
    span = DEFAULT_ADDRESSES[family]
    addresses = range(
        span.start if first is None else first, (span.stop - 1 if last is None else last) + 1
    )
    bus = LockBus(
        port, baudrate=baud or FAMILY_BAUD[family], timeout_s=timeout_ms / 1000, retries=0
    )
    try:
        bus.open()
        found = scan(bus, family, addresses)
    except PortUnavailable as exc:
        _fail(str(exc))
    finally:
        bus.close()
    if not found:
        _fail(
            f"no {family} device answered on {port} "
            f"(addresses {addresses.start}..{addresses.stop - 1})"
        )
    typer.echo(HEADER)
    for device in found:
        typer.echo(device.line())


if __name__ == "__main__":
    app()
