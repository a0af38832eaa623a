"""A settable :class:`~locker.sensors.Thermometer` for domain tests and for trying the cold
groups: the test sets the temperature (warms the fridge up, cools it again) or mutes it
(the sensor stops answering), and counts the reads."""

from __future__ import annotations

import threading


class SettableThermometer:
    """One thermometer whose reading the test sets. Thread-safe."""

    def __init__(self, celsius: float | None = 5.0) -> None:
        self._celsius = celsius
        self._muted = False
        self._reads = 0
        self._lock = threading.Lock()

    # --- Thermometer --------------------------------------------------------------------
    def read_celsius(self) -> float | None:
        with self._lock:
            self._reads += 1
            return None if self._muted else self._celsius

    # --- the test's hands ---------------------------------------------------------------
    def set(self, celsius: float | None) -> None:
        """The temperature from now on (None: the sensor answers nothing)."""
        with self._lock:
            self._celsius = celsius

    def mute(self, muted: bool = True) -> None:
        with self._lock:
            self._muted = muted

    @property
    def reads(self) -> int:
        with self._lock:
            return self._reads
