"""``python -m sim``: the same as ``python -m sim.cli``."""

from sim.cli import app

app(prog_name="sim")
