"""``LOCKER_CRASH_AT``: a child process dies by SIGKILL at exactly the named visit, freezes
on SIGSTOP when asked, and refuses a point it does not know."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from locker.testkit import crashpoints
from tests.crash.station_process import frozen, wait_for

# Reaches two points five times, saying so after each round.
LOOP = (
    "from locker.testkit import crashpoints\n"
    "for i in range(1, 6):\n"
    "    crashpoints.reached(crashpoints.AFTER_UNLOCK_FRAME)\n"
    "    crashpoints.reached(crashpoints.AFTER_INTENT_COMMIT)\n"
    "    print(i, flush=True)\n"
)


def child(env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCKER_CRASH")}
    return subprocess.Popen(
        [sys.executable, "-c", LOOP],
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


def test_stop_freezes_the_thread_at_the_point_until_continued(tmp_path: Path) -> None:
    """From a worker thread, as in the station: at the k-th freeze the thread has said
    exactly k - 1 numbers (a signal to the whole process could let it run on)."""
    out_path, err_path = tmp_path / "out", tmp_path / "err"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCKER_CRASH")}
    code = f"import threading\ndef work():\n{textwrap.indent(LOOP, '    ')}\n" + (
        "t = threading.Thread(target=work)\nt.start()\nt.join()\n"
    )
    env = {crashpoints.ENV: "after_intent_commit:*", crashpoints.SIGNAL_ENV: "STOP"}
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-c", code], env={**clean, **env}, stdout=out, stderr=err
        )
    for k in range(1, 6):
        wait_for("the child to freeze", lambda: frozen(process.pid))
        assert out_path.read_text().split() == [str(i) for i in range(1, k)]
        assert err_path.read_text().count("crash point after_intent_commit: SIGSTOP") == k
        process.send_signal(signal.SIGCONT)
    assert process.wait(timeout=60) == 0
    assert out_path.read_text().split() == ["1", "2", "3", "4", "5"]


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
