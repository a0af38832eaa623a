"""Run as a child process: work the outbox once and die (SIGKILL, no clean-up at all)
right after the first message went out and before it is marked sent."""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from tests.notify.outbox_station import notifier, open_station
from tests.support import FakeClock


def main() -> None:
    database, port, moment = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    station, _ = open_station(database, FakeClock(datetime.fromisoformat(moment)))

    def killed(_delivery_id: int) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    notifier(station, port, after_send=killed).run_once()
    raise SystemExit("not killed: nothing was sent")


if __name__ == "__main__":
    main()
