"""The USB serial adapters on this computer, for ``locker service install`` to name the
station's RS485 adapter by its serial number (a udev rule gives it ``/dev/lockbus-main``)."""

from __future__ import annotations

from dataclasses import dataclass

from serial.tools import list_ports


@dataclass(frozen=True)
class Adapter:
    device: str  # e.g. /dev/ttyUSB0
    serial_number: str | None  # what the udev rule matches (ATTRS{serial})
    description: str
    vid_pid: str  # e.g. 0403:6001 (FTDI FT232R)


def usb_serial_adapters() -> list[Adapter]:
    """Every USB serial port pyserial finds, with its serial number when it has one."""
    found = []
    for port in list_ports.comports():
        if port.vid is None:  # not a USB device (the Pi's own UART, a pty)
            continue
        found.append(
            Adapter(
                device=port.device,
                serial_number=port.serial_number,
                description=port.description or port.product or "",
                vid_pid=f"{port.vid:04x}:{port.pid or 0:04x}",
            )
        )
    return sorted(found, key=lambda a: a.device)
