"""Layout parts beyond the core tables, and example layouts for every board family.

``hardware`` holds the bus families and the ``[[sensor]]`` table (temperature sensors on a
lock bus). The ``*.toml`` files beside it are example layouts that ``locker serve --layout``
runs on the simulator: ``kerong.toml`` (CU16), ``xor8a.toml`` (the 8A/80 board),
``modbus_relay.toml`` (Waveshare Modbus RTU relay boards with a chilled sensor) and
``mixed.toml`` (a Kerong bus and a Modbus bus in one station).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLES = ("kerong", "xor8a", "modbus_relay", "mixed")


def example_path(name: str) -> Path:
    """The file of example layout ``name`` (one of :data:`EXAMPLES`)."""
    if name not in EXAMPLES:
        raise ValueError(f"no example layout {name!r} (known: {', '.join(EXAMPLES)})")
    return Path(str(resources.files("locker.layouts").joinpath(f"{name}.toml")))
