"""What the domain needs from a temperature sensor; ``drivers`` implements it.

A cooled compartment group (chilled or frozen) has one sensor. The door watcher's loop
reads it; the domain decides what a reading means (in band, out of band, no answer).
"""

from __future__ import annotations

from typing import Protocol


class Thermometer(Protocol):
    """One temperature sensor (for instance an XY-MD02 on a Modbus bus)."""

    def read_celsius(self) -> float | None:
        """The temperature now, in °C; None when the sensor did not answer.

        None is a fault of its own, never "in band". Never raises for a silent sensor.
        """
        ...
