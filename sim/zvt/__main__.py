"""``python -m sim.zvt --port 20007``: a simulated card terminal until SIGINT or SIGTERM.

The first line on stdout (flushed at once) says where it listens and its password::

    zvt: 127.0.0.1:20007 password 123456

With ``--port 0`` the system picks a free port and the line tells which. ``--fault`` (again
for several) switches a fault on; ``--fast`` sets every modelled time to zero.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from sim.zvt.server import serve_zvt
from sim.zvt.terminal import TerminalSim, ZvtFault, ZvtTimes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.zvt", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=20007, help="0: a free one")
    parser.add_argument("--password", default=None, help="6 digits (default: a fresh one)")
    parser.add_argument("--fault", action="append", default=[], choices=[f.value for f in ZvtFault])
    parser.add_argument("--fast", action="store_true", help="no modelled times")
    parser.add_argument("-v", "--verbose", action="store_true", help="every frame in hex")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        sim = TerminalSim(
            times=ZvtTimes.zero() if args.fast else ZvtTimes(),
            faults={ZvtFault(f) for f in args.fault},
            **({"password": args.password} if args.password else {}),
        )
    except ValueError as exc:
        parser.error(str(exc))
    stop = threading.Event()

    def stopping(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, stopping)
    signal.signal(signal.SIGTERM, stopping)
    with serve_zvt(sim, args.host, args.port) as port:
        print(f"zvt: {args.host}:{port} password {sim.password}", flush=True)
        while not stop.wait(0.2):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
