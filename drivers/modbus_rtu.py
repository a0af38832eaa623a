"""Modbus RTU on a :class:`~drivers.bus.LockBus`, with pymodbus's PDUs and RTU framer.

pymodbus builds every request and decodes every answer (CRC-16 included); the bus moves
the bytes, so a Modbus line gets the same deadlines, retries, failure kinds, counters and
reopening after an unplugged adapter as a Kerong line. The one thing pymodbus cannot
carry is the relay boards' **flash-on** write (FC05 to 0x0200+n whose value is a delay
in 100 ms steps, modbus-relay.md §3-4): its stock coil write turns every value into
on/off, so :class:`FlashOnRequest` is a PDU class of its own, registered for FC05 in a
decoder of its own.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TypeVar

from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.bit_message import (
    ReadCoilsRequest,
    ReadDiscreteInputsRequest,
    WriteSingleCoilRequest,
)
from pymodbus.pdu.register_message import ReadInputRegistersRequest

from drivers.bus import LockBus
from drivers.errors import BadFrame, BoardRefused
from drivers.framing import NOT_A_FRAME, Verdict

P = TypeVar("P", bound=ModbusPDU)

EXCEPTION_MEANINGS = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge",
    6: "device busy",
}
MAX_ADU = 256  # a Modbus RTU frame is at most 256 bytes


class FlashOnRequest(ModbusPDU):
    """FC05 with a free 16-bit value: "relay n on, off again after value × 100 ms".

    The answer is the request echoed, so one class serves both ways.
    """

    function_code = 5
    rtu_frame_size = 8

    def __init__(self, dev_id: int = 0, address: int = 0, delay: int = 0) -> None:
        super().__init__(dev_id=dev_id, address=address)
        self.delay = delay

    def encode(self) -> bytes:
        return struct.pack(">HH", self.address, self.delay)

    def decode(self, data: bytes) -> None:
        self.address, self.delay = struct.unpack(">HH", data[:4])


_FRAMER = FramerRTU(DecodePDU(is_server=False))
_ANSWERS = DecodePDU(is_server=False)
_FLASH_ANSWERS = DecodePDU(is_server=False)
_FLASH_ANSWERS.register(FlashOnRequest)


def adu(pdu: ModbusPDU) -> bytes:
    """The RTU frame of ``pdu``: address, function, data, CRC (pymodbus's framer)."""
    return _FRAMER.buildFrame(pdu)


def read_coils(device: int, address: int, count: int) -> bytes:
    return adu(ReadCoilsRequest(address=address, count=count, dev_id=device))


def read_inputs(device: int, address: int, count: int) -> bytes:
    return adu(ReadDiscreteInputsRequest(address=address, count=count, dev_id=device))


def write_coil(device: int, address: int, on: bool) -> bytes:
    return adu(WriteSingleCoilRequest(address=address, bits=[on], dev_id=device))


def flash_on(device: int, address: int, delay: int) -> bytes:
    return adu(FlashOnRequest(dev_id=device, address=address, delay=delay))


def read_input_registers(device: int, address: int, count: int) -> bytes:
    return adu(ReadInputRegistersRequest(address=address, count=count, dev_id=device))


class AnswerRule:
    """Framing of the answers of device ``device`` (start byte: its address); the length
    comes from pymodbus's PDU class of the function code, the check from its CRC."""

    min_length = 5  # an exception answer
    max_length = MAX_ADU

    def __init__(self, device: int, decoder: DecodePDU = _ANSWERS) -> None:
        self.start_bytes = frozenset({device})
        self._decoder = decoder

    def frame_length(self, head: bytes) -> int | None:
        if len(head) < 3:
            return None
        pdu_class = self._decoder.lookupPduClass(head)
        if pdu_class is None:
            return NOT_A_FRAME
        size = pdu_class.calculateRtuFrameSize(head)
        if not size:
            return None
        return size if size <= MAX_ADU else NOT_A_FRAME

    def verify(self, frame: bytes) -> Verdict:
        crc = int.from_bytes(frame[-2:], "big")
        return Verdict.OK if FramerRTU.check_CRC(frame[:-2], crc) else Verdict.BAD_CHECKSUM


def _decode(raw: bytes, decoder: DecodePDU) -> ModbusPDU:
    pdu = decoder.decode(raw[1:-2])
    if pdu is None:
        raise BadFrame(f"pymodbus cannot decode {raw.hex(' ')}")
    pdu.dev_id = raw[0]
    return pdu


def expect(
    device: int, answer: type[P], check: Callable[[P], bool] = lambda _pdu: True
) -> Callable[[bytes], P | None]:
    """An ``accept`` for :meth:`LockBus.request`: an answer of class ``answer`` from
    ``device`` that passes ``check``; an exception answer raises :class:`BoardRefused`."""
    decoder = _FLASH_ANSWERS if answer is FlashOnRequest else _ANSWERS

    def accept(raw: bytes) -> P | None:
        pdu = _decode(raw, decoder)
        if pdu.dev_id != device:
            return None
        if isinstance(pdu, ExceptionResponse):
            code = pdu.exception_code
            meaning = EXCEPTION_MEANINGS.get(code, "unknown exception")
            raise BoardRefused(code, f"Modbus exception: {meaning}", retriable=code == 6)
        if not isinstance(pdu, answer) or not check(pdu):
            return None
        return pdu

    return accept


def rule_for(device: int, answer: type[ModbusPDU]) -> AnswerRule:
    """The framing rule for answers of class ``answer`` from ``device``."""
    return AnswerRule(device, _FLASH_ANSWERS if answer is FlashOnRequest else _ANSWERS)


def ask(
    bus: LockBus,
    frame: bytes,
    device: int,
    answer: type[P],
    check: Callable[[P], bool] = lambda _pdu: True,
    *,
    retries: int | None = None,
) -> P:
    """Send ``frame`` to ``device``; its decoded answer (reads retried, see the bus)."""
    return bus.request(
        frame, rule_for(device, answer), expect(device, answer, check), retries=retries
    )
