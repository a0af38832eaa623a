"""Named crash points in a door operation, for the crash-safety harness (tests/crash/), and
in the hub's batched ingest (``fleet.ingest_batch``, ``fleet.worker``: tests/fleet/).

``LOCKER_CRASH_AT=<point>[:<n>]`` makes the process send itself SIGKILL the ``n``-th time
(default: the first) the named point is reached: at exactly that moment, with no clean-up.
Several specs may be given, separated by commas; ``<n>`` may be ``*`` for every time.
``LOCKER_CRASH_SIGNAL=STOP`` sends SIGSTOP instead (the process waits, frozen, until a
SIGCONT), so a harness can copy the database files at that instant. Either way the process
first writes ``crash point <point>: <signal>`` to stderr.

The environment is read once, at import. Unset, :func:`reached` is one comparison.
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass

ENV = "LOCKER_CRASH_AT"
SIGNAL_ENV = "LOCKER_CRASH_SIGNAL"

# The steps of a door operation, in the order one opening reaches them.
BEFORE_INTENT_COMMIT = "before_intent_commit"  # intent row flushed, its transaction open
AFTER_INTENT_COMMIT = "after_intent_commit"  # intent committed, nothing sent yet
AFTER_UNLOCK_FRAME = "after_unlock_frame"  # the unlock frame left; the pulse wait not begun
AFTER_BOARD_ANSWER = "after_board_answer"  # the board's read-back after the pulse arrived
AFTER_OUTCOME_COMMIT = "after_outcome_commit"  # outcome committed; the answer not yet sent
# The hub's worker, one batch: its rows written, the transaction not committed; committed,
# none of its messages acknowledged to the broker yet.
INGEST_BATCH_OPEN = "ingest_batch_open"
INGEST_BATCH_COMMITTED = "ingest_batch_committed"
# Pay, open, confirm (locker.payments): the steps of a paid collection.
AFTER_CHARGE_INTENT = "after_charge_intent"  # the payment's intent committed, nobody asked
AFTER_APPROVAL = "after_approval"  # the approval committed; no door intent yet
AFTER_DOOR_PULSE = "after_door_pulse"  # the collection's pulse returned; nothing stored
BEFORE_COMPLETION_COMMIT = "before_completion_commit"  # the outcome flushed, not committed
DOOR_POINTS = (  # every door operation reaches these
    BEFORE_INTENT_COMMIT,
    AFTER_INTENT_COMMIT,
    AFTER_UNLOCK_FRAME,
    AFTER_BOARD_ANSWER,
    AFTER_OUTCOME_COMMIT,
)
PAYMENT_POINTS = (  # a collection reaches the last two; only money due the first two
    AFTER_CHARGE_INTENT,
    AFTER_APPROVAL,
    AFTER_DOOR_PULSE,
    BEFORE_COMPLETION_COMMIT,
)
POINTS = (*DOOR_POINTS, *PAYMENT_POINTS)
HUB_POINTS = (INGEST_BATCH_OPEN, INGEST_BATCH_COMMITTED)
KNOWN = (*POINTS, *HUB_POINTS)
EVERY_TIME = 0  # the ``*`` count
SIGNALS = {"KILL": signal.SIGKILL, "STOP": signal.SIGSTOP}


@dataclass
class Armed:
    point: str
    nth: int  # 1-based; EVERY_TIME for every time
    hits: int = 0


def parse(value: str) -> list[Armed]:
    """``point[:n]`` specs, comma-separated; raises ValueError on an unknown point or count."""
    armed = []
    for spec in (s.strip() for s in value.split(",")):
        point, _, count = spec.partition(":")
        if point not in KNOWN:
            raise ValueError(f"{ENV}: unknown crash point {point!r} (one of {', '.join(KNOWN)})")
        if count == "*":
            nth = EVERY_TIME
        elif count == "":
            nth = 1
        elif count.isdigit() and int(count) >= 1:
            nth = int(count)
        else:
            raise ValueError(f"{ENV}: {spec!r}: the count must be a number from 1, or *")
        armed.append(Armed(point, nth))
    return armed


def _signal_from(value: str) -> signal.Signals:
    try:
        return SIGNALS[value.upper().removeprefix("SIG")]
    except KeyError:
        raise ValueError(f"{SIGNAL_ENV} must be KILL or STOP, not {value!r}") from None


_ARMED: list[Armed] | None = parse(os.environ[ENV]) if os.environ.get(ENV) else None
_SIGNAL = _signal_from(os.environ.get(SIGNAL_ENV) or "KILL")
_LOCK = threading.Lock()


def reached(point: str) -> None:
    """A door operation reached ``point``: die (or freeze) here if the environment says so."""
    if _ARMED is None:
        return
    _check(point)


def _check(point: str) -> None:
    assert _ARMED is not None
    if point not in KNOWN:
        raise ValueError(f"unknown crash point {point!r}")
    fire = False
    with _LOCK:
        for armed in _ARMED:
            if armed.point != point:
                continue
            armed.hits += 1
            fire = fire or armed.nth in (EVERY_TIME, armed.hits)
    if fire:
        # Said on stderr first (unbuffered), so a harness knows where the process stopped.
        os.write(2, f"crash point {point}: {_SIGNAL.name}\n".encode())
        # Sent to this thread (tgkill), not to the process: a process-directed signal may be
        # taken by another thread while this one runs on. Neither signal can be blocked, so
        # this thread takes it on its way back from the call: nothing after this line runs
        # (SIGSTOP: until SIGCONT). The other threads stop (or die) a moment later.
        signal.pthread_kill(threading.get_ident(), _SIGNAL)
