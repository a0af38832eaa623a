"""``SerialLocks``: the station's doors over real lock boards (implements ``locker.locks.Locks``).

Each compartment maps to (bus, board, lock) through the layout. Every driver error is
turned into a :class:`~locker.locks.DoorOutcome` or into a compartment missing from a
reading: nothing from the serial side reaches the domain as an exception.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from types import TracebackType

from drivers.base import BoardBase
from drivers.board import BoardStatus
from drivers.bus import DEFAULT_RETRIES, LockBus
from drivers.counters import BoardFailures, BusCounters
from drivers.errors import BoardRefused, BusError
from drivers.registry import board_class, check_layout
from locker.layout import SIM_PORT, CompartmentSpec, Layout, LayoutError
from locker.locks import DoorOutcome, DoorReading
from locker.runtime.journal import fields
from locker.sensors import Thermometer
from locker.types import CompartmentId

_LOGGER = logging.getLogger(__name__)


class SerialLocks:
    """The doors of a station whose layout names real (or simulated) serial buses.

    :param layout: the station layout; checked against the board types first.
    :param ports: port URL per bus id, overriding the layout's ``port`` (required for a
        bus whose layout port is ``"sim"``).
    :param retries: extra attempts for board reads on every bus.
    :raises LayoutError: when the layout does not fit the board types, or a ``"sim"``
        bus has no port given.

    Ports open on first use; a missing adapter shows as ``NO_ANSWER`` outcomes and
    ``port_errors`` in :meth:`health`, and is reopened on later calls.
    """

    def __init__(
        self,
        layout: Layout,
        ports: Mapping[str, str] | None = None,
        *,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        check_layout(layout)
        ports = dict(ports or {})
        self.layout = layout
        self._buses: dict[str, LockBus] = {}
        problems = []
        for spec in layout.buses:
            url = ports.get(spec.id, spec.port)
            if url == SIM_PORT:
                problems.append(
                    layout.problem(
                        spec.line, f"bus '{spec.id}' is the simulator: pass its port in `ports`"
                    )
                )
                continue
            self._buses[spec.id] = LockBus(
                url, baudrate=spec.baud, timeout_s=spec.timeout_ms / 1000, retries=retries
            )
        if problems:
            raise LayoutError(problems)
        self._boards: dict[tuple[str, int], BoardBase] = {
            (b.bus, b.address): board_class(b.type).from_layout(self._buses[b.bus], b)
            for b in layout.boards
        }
        for place in layout.compartments:
            if place.input_board is not None or place.input is not None:
                board, number = place.door_input
                self._boards[(place.bus, place.board)].wire_door(
                    place.lock, self._boards[(place.bus, board)], number
                )

    def start(self) -> None:
        """Bring every board to its safe state (relay boards: all relays off); a board
        that does not hear it is logged, and relay boards say it again before a pulse."""
        for (bus_id, address), board in sorted(self._boards.items()):
            try:
                board.start()
            except BusError as exc:
                _LOGGER.warning("bus %s board %d: start-up not heard: %s", bus_id, address, exc)

    def thermometers(self) -> dict[str, Thermometer]:
        """A :class:`~locker.sensors.Thermometer` per layout ``[[sensor]]``, by sensor id,
        each read over the bus (port, retries, counters) of that sensor's bus."""
        if not self.layout.sensors:
            return {}
        from drivers.xy_md02 import XyMd02  # pymodbus is loaded only for a Modbus bus

        return {s.id: XyMd02(self._buses[s.bus], s.address, s.id) for s in self.layout.sensors}

    def __enter__(self) -> SerialLocks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def board(self, bus: str, address: int) -> BoardBase:
        """The driver of one board (for maintenance tools)."""
        return self._boards[(bus, address)]

    def open(self, compartment: CompartmentId) -> DoorOutcome:
        """Pulse the compartment's lock and report what the read-back showed.

        ``OPENED`` only when the hook was seen released; ``REFUSED`` when the board
        answered but the hook stayed engaged (or the board said no); ``NO_ANSWER`` when
        nothing could be read; ``UNKNOWN`` for an unexpected failure.
        :raises KeyError: for a compartment the layout does not have.
        """
        spec = self.layout.compartment(compartment)
        board = self._boards[(spec.bus, spec.board)]
        about = fields(bus=spec.bus, compartment=compartment)  # the journal's BUS=, COMPARTMENT=
        try:
            result = board.unlock(spec.lock)
        except BoardRefused as exc:
            _LOGGER.warning(
                "compartment %s: board refused the unlock: %s", compartment, exc, extra=about
            )
            return DoorOutcome.REFUSED
        except BusError as exc:
            _LOGGER.warning("compartment %s: unlock not sent: %s", compartment, exc, extra=about)
            return DoorOutcome.NO_ANSWER
        except Exception:  # the domain must get an outcome, whatever broke underneath
            _LOGGER.exception(
                "compartment %s: unexpected failure while opening", compartment, extra=about
            )
            return DoorOutcome.UNKNOWN
        if result.released is None:
            return DoorOutcome.NO_ANSWER
        return DoorOutcome.OPENED if result.released else DoorOutcome.REFUSED

    def read(
        self, compartments: Collection[CompartmentId] | None = None
    ) -> Mapping[CompartmentId, DoorReading]:
        """Read the given compartments (all when None); unanswered boards are left out.

        Several boards of one type on one bus are read with one whole-bus request.
        :raises KeyError: for a compartment the layout does not have.
        """
        if compartments is None:
            specs: Iterable[CompartmentSpec] = self.layout.compartments
        else:
            specs = [self.layout.compartment(c) for c in compartments]
        specs = list(specs)
        statuses = self._read_boards({(s.bus, s.board) for s in specs})
        readings: dict[CompartmentId, DoorReading] = {}
        for spec in specs:
            status = statuses.get((spec.bus, spec.board))
            if status is not None:
                state = status.lock(spec.lock)
                readings[spec.id] = DoorReading(state.hook_engaged, state.item_present)
        return readings

    def health(self) -> dict[str, BusCounters]:
        """Error and traffic counters per bus id, for the maintenance screen."""
        return {bus_id: bus.counters() for bus_id, bus in self._buses.items()}

    def board_health(self) -> dict[str, list[BoardFailures]]:
        """How the failed reads of every board ended (silence, torn frame, bad checksum),
        per bus id, boards in address order: what a technician needs when commissioning."""
        found: dict[str, list[BoardFailures]] = {bus_id: [] for bus_id in self._buses}
        for (bus_id, _address), board in sorted(self._boards.items()):
            found[bus_id].append(board.failures())
        return found

    def close(self) -> None:
        """Close every port."""
        for bus in self._buses.values():
            bus.close()

    def _read_boards(self, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], BoardStatus]:
        groups: dict[tuple[str, type[BoardBase]], list[BoardBase]] = defaultdict(list)
        for key in sorted(wanted):
            board = self._boards[key]
            groups[(key[0], type(board))].append(board)
        statuses: dict[tuple[str, int], BoardStatus] = {}
        for (bus_id, cls), boards in groups.items():
            try:
                found = cls.read_bus(self._buses[bus_id], boards)
            except Exception:  # a reading must never raise into the domain
                _LOGGER.exception(
                    "bus %s: unexpected failure while reading", bus_id, extra=fields(bus=bus_id)
                )
                continue
            statuses.update({(bus_id, address): s for address, s in found.items()})
        return statuses
