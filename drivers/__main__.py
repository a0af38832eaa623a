"""``python -m drivers``: the ``locker hw`` commissioning commands without the main CLI."""

from drivers.cli import app

app(prog_name="locker hw")
