"""A simulated ZVT card terminal on TCP (the other end of ``drivers/zvt``, sharing no code
with it): :mod:`~sim.zvt.codec` (its own bytes), :mod:`~sim.zvt.terminal` (state, times,
faults, journal), :mod:`~sim.zvt.session` (one connection), :mod:`~sim.zvt.scripts` (what
it says to each command), :mod:`~sim.zvt.server` (the listener) and ``python -m sim.zvt``.
"""

from sim.zvt.server import serve_zvt
from sim.zvt.terminal import Payment, TerminalSim, ZvtFault, ZvtTimes

__all__ = ["Payment", "TerminalSim", "ZvtFault", "ZvtTimes", "serve_zvt"]
