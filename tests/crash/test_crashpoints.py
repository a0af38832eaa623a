"""``LOCKER_CRASH_AT``: a child process dies by SIGKILL at exactly the named visit, freezes
on SIGSTOP when asked, and refuses a point it does not know."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from locker import crashpoints
from tests.crash.station_process import wait_for

# Reaches a point five times, saying so after each visit.
CHILD = (
    "from locker import crashpoints\n"
    "for i in range(1, 6):\n"
    "    crashpoints.reached(crashpoints.AFTER_UNLOCK_FRAME)\n"
    "    crashpoints.reached(crashpoints.AFTER_INTENT_COMMIT)\n"
    "    print(i, flush=True)\n"
)


def child(env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCKER_CRASH")}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD],
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(env: dict[str, str]) -> tuple[int, list[str], str]:
    process = child(env)
    out, err = process.communicate(timeout=60)
    return process.returncode, out.split(), err


def test_unset_nothing_happens() -> None:
    assert run({}) == (0, ["1", "2", "3", "4", "5"], "")


@pytest.mark.parametrize(("spec", "printed"), [("", []), (":1", []), (":3", ["1", "2"])])
def test_killed_at_the_nth_visit(spec: str, printed: list[str]) -> None:
    code, out, err = run({crashpoints.ENV: crashpoints.AFTER_UNLOCK_FRAME + spec})
    assert code == -signal.SIGKILL
    assert out == printed
    assert err == "crash point after_unlock_frame: SIGKILL\n"


def test_several_points_the_first_reached_wins() -> None:
    code, out, _ = run({crashpoints.ENV: "after_intent_commit:4,after_unlock_frame:2"})
    assert (code, out) == (-signal.SIGKILL, ["1"])


def test_stop_freezes_at_every_visit_until_continued() -> None:
    process = child({crashpoints.ENV: "after_intent_commit:*", crashpoints.SIGNAL_ENV: "STOP"})
    stat = Path(f"/proc/{process.pid}/stat")
    for _ in range(5):
        wait_for(
            "the child to freeze", lambda: stat.read_text().rsplit(")", 1)[1].split()[0] == "T"
        )
        process.send_signal(signal.SIGCONT)
    out, _ = process.communicate(timeout=60)
    assert (process.returncode, out.split()) == (0, ["1", "2", "3", "4", "5"])


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({crashpoints.ENV: "after_lunch"}, "unknown crash point 'after_lunch'"),
        ({crashpoints.ENV: "after_intent_commit:0"}, "the count must be a number from 1"),
        ({crashpoints.ENV: "after_intent_commit", crashpoints.SIGNAL_ENV: "HUP"}, "KILL or STOP"),
    ],
)
def test_a_mistyped_setting_stops_the_process_at_once(env: dict[str, str], words: str) -> None:
    code, out, err = run(env)
    assert code == 1
    assert out == []
    assert words in err
