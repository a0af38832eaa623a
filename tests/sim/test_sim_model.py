"""The board model and the commands' effects, in-process on a fake clock (no I/O, no sleeping)."""

from __future__ import annotations

import pytest

from sim import codec, codec_cu12
from sim.codec import Command, Reply
from sim.codec_cu12 import Ask, Frame
from sim.model import SimBoard
from sim.server import SimBus
from tests.sim.sim_support import FakeClock


def make_bus(protocol: str = "cu16", **kwargs: object) -> tuple[SimBus, FakeClock]:
    clock = FakeClock()
    kwargs.setdefault("pulse_ms", 50)
    kwargs.setdefault("flash_write_s", 0.5)
    return SimBus(protocol, clock=clock, **kwargs), clock  # type: ignore[arg-type]


def ask16(bus: SimBus, command: Command, at: float) -> list[Reply]:
    return [Reply.from_bytes(a.data) for a in bus.respond(command, at)]


def ask12(bus: SimBus, frame: Frame, at: float) -> list[Frame]:
    return [Frame.from_bytes(a.data) for a in bus.respond(frame, at)]


def engaged(reply: Reply) -> list[int]:
    return [n for n in range(1, 17) if reply.hooks >> (n - 1) & 1]


# ---------------------------------------------------------------- the physical model


def test_board_starts_closed_latched_and_empty() -> None:
    bus, clock = make_bus()
    for lock in range(1, 17):
        state = bus.lock_state(0, lock)
        assert (state.latched, state.door_open, state.item, state.pulsing) == (
            True,
            False,
            False,
            False,
        )
    (reply,) = ask16(bus, Command.status(0), clock())
    assert reply.to_bytes() == bytes.fromhex("02 00 35 FF FF 00 00 03 38")


def test_latch_releases_at_the_end_of_the_pulse_not_before() -> None:
    bus, clock = make_bus(pulse_ms=50)
    assert bus.respond(Command.unlock(0, 3), clock()) == []  # CU16: no answer to an unlock
    clock.advance(0.049)
    state = bus.lock_state(0, 3)
    assert state.latched
    assert state.pulsing
    assert not state.door_open
    clock.advance(0.002)
    state = bus.lock_state(0, 3)
    assert not state.latched
    assert state.door_open
    assert not state.pulsing
    (reply,) = ask16(bus, Command.status(0), clock())
    assert engaged(reply) == [n for n in range(1, 17) if n != 3]
    assert bus.unlock_count(0, 3) == 1


def test_unlocking_an_open_lock_pulses_again_without_error() -> None:
    bus, clock = make_bus()
    bus.respond(Command.unlock(0, 5), clock())
    clock.advance(1)
    assert bus.respond(Command.unlock(0, 5), clock()) == []
    clock.advance(1)
    assert bus.unlock_count(0, 5) == 2
    assert bus.lock_state(0, 5).door_open


def test_closing_the_door_catches_the_latch_and_a_running_pulse_releases_it_again() -> None:
    bus, clock = make_bus(pulse_ms=100)
    bus.respond(Command.unlock(0, 1), clock())
    clock.advance(0.2)
    bus.close_door(0, 1)
    assert bus.lock_state(0, 1).latched
    bus.respond(Command.unlock(0, 1), clock())
    clock.advance(0.05)
    bus.close_door(0, 1)  # pushed shut while the coil is still energised
    assert bus.lock_state(0, 1).latched
    clock.advance(0.06)
    assert not bus.lock_state(0, 1).latched
    assert bus.lock_state(0, 1).door_open


def test_items_and_ir_sensors() -> None:
    bus, clock = make_bus(addresses=[0, 1], boards={1: {"ir_sensors": False}})
    bus.put_item(0, 2)
    bus.put_item(0, 16)
    bus.put_item(1, 2)
    assert bus.lock_state(1, 2).item  # the truth, even where no sensor sees it
    replies = ask16(bus, Command.bus_status(), clock())
    assert [r.items for r in replies] == [0b1000_0000_0000_0010, 0]
    bus.take_item(0, 2)
    (reply,) = ask16(bus, Command.status(0), clock())
    assert reply.items == 0b1000_0000_0000_0000


def test_engaged_low_polarity_inverts_the_wire_only() -> None:
    bus, clock = make_bus(hook_polarity="engaged_low")
    bus.release_latch(0, 4)
    (reply,) = ask16(bus, Command.status(0), clock())
    assert reply.hooks == 1 << 3
    assert bus.lock_state(0, 4).door_open


def test_unlock_all_answers_first_then_pulses_one_lock_after_another() -> None:
    bus, clock = make_bus(pulse_ms=10)
    start = clock()
    (reply,) = ask16(bus, Command.unlock_all(0), start)
    assert reply.code is codec.ReplyCode.STATUS
    assert reply.hooks == 0xFFFF
    for k in range(1, 17):
        clock.now = start + k * 0.010 + 0.001
        released = [n for n in range(1, 17) if not bus.lock_state(0, n).latched]
        assert released == list(range(1, k + 1))
    assert all(bus.unlock_count(0, n) == 1 for n in range(1, 17))


def test_delayed_unlock_postpones_later_pulses() -> None:
    bus, clock = make_bus(pulse_ms=10, flash_write_s=0.0)
    (reply,) = ask16(bus, Command(codec.Cmd.DELAYED_UNLOCK, 0x00, b"\x02"), clock())
    assert reply.code is codec.ReplyCode.DELAYED_UNLOCK
    bus.respond(Command.unlock(0, 1), clock())
    clock.advance(1.5)
    assert bus.lock_state(0, 1).latched
    clock.advance(1.0)
    assert not bus.lock_state(0, 1).latched
    ask16(bus, Command(codec.Cmd.DELAYED_UNLOCK, 0x00, b"\xfb"), clock())  # > 250: ignored
    assert bus.board(0).unlock_delay_s == 2


def test_set_pulse_is_stored_and_the_board_is_deaf_while_writing_flash() -> None:
    bus, clock = make_bus(flash_write_s=0.5)
    (reply,) = ask16(bus, Command.set_pulse(0, 1000), clock())
    assert reply == Reply.pulse(0, 0xFFFF, 1000)
    assert bus.board(0).pulse_ms == 1000
    clock.advance(0.499)
    assert bus.respond(Command.status(0), clock()) == []
    assert bus.respond(Command.unlock(0, 1), clock()) == []
    assert bus.unlock_count(0, 1) == 0
    clock.advance(0.002)
    assert len(bus.respond(Command.status(0), clock())) == 1


def test_out_of_range_pulse_is_ignored_and_answered_with_the_current_value() -> None:
    bus, clock = make_bus(pulse_ms=550)
    (reply,) = ask16(bus, Command(codec.Cmd.PULSE, 0x00, b"\x17\x71"), clock())  # 0x1771 > max
    assert reply == Reply.pulse(0, 0xFFFF, 550)
    assert not bus.board(0).is_busy(clock())


def test_baud_change_makes_the_board_deaf_until_the_host_follows() -> None:
    bus, clock = make_bus(addresses=[0, 1], flash_write_s=0.0)
    replies = ask16(bus, Command(codec.Cmd.BAUD, 0xF0, b"\x03"), clock())
    assert [r.data[3] for r in replies] == [3, 3]
    assert bus.respond(Command.status(0), clock()) == []
    bus.baud = 115200
    assert len(bus.respond(Command.status(0), clock())) == 1


def test_addressing_rules() -> None:
    bus, clock = make_bus(addresses=[0, 2])
    assert bus.respond(Command(codec.Cmd.UNLOCK, 0xF2), clock()) == []  # no broadcast unlock
    assert all(bus.unlock_count(b, 3) == 0 for b in (0, 2))
    assert bus.respond(Command(codec.Cmd.STATUS, 0xF0), clock()) == []
    assert bus.respond(Command.status(1), clock()) == []  # nobody at address 1
    (reply,) = ask16(bus, Command(codec.Cmd.STATUS, 0x25), clock())  # low nibble set
    assert reply.board == 2
    assert reply.to_bytes()[1] == 0x20
    (reply,) = ask16(bus, Command(codec.Cmd.BUS_STATUS, 0x20), clock())  # 0x32 to one board
    assert reply.board == 2
    assert reply.code is codec.ReplyCode.BUS_STATUS


def test_bus_configuration_is_validated() -> None:
    with pytest.raises(ValueError, match="protocol"):
        SimBus("cu48")
    with pytest.raises(ValueError, match="addresses"):
        SimBus("cu16", addresses=[10])
    with pytest.raises(ValueError, match="overrides"):
        SimBus("cu16", addresses=[0], boards={1: {"pulse_ms": 20}})
    with pytest.raises(ValueError, match="hook_polarity"):
        SimBoard(0, 16, hook_polarity="upside_down")  # type: ignore[arg-type]
    bus = SimBus("cu12", addresses=[15], boards={15: {"pulse_ms": 20, "flash_write_s": 0.0}})
    assert bus.board(15).pulse_ms == 20
    assert bus.board(15).n_locks == 12
    with pytest.raises(ValueError, match="no board"):
        bus.board(0)


# ---------------------------------------------------------------- CU12 behaviour


def test_cu12_status_unlock_and_release() -> None:
    bus, clock = make_bus("cu12", pulse_ms=20)
    (ok,) = ask12(bus, Frame.unlock(0, 12), clock())
    assert (ok.ask, ok.lock, ok.cmd, ok.data) == (Ask.OK, 11, codec_cu12.Cmd.UNLOCK, b"")
    clock.advance(0.03)
    (status,) = ask12(bus, Frame.status(0), clock())
    assert status.data == (0x0FFF & ~(1 << 11)).to_bytes(2, "little")


def test_cu12_unlock_all_and_broadcast_unlock() -> None:
    bus, clock = make_bus("cu12", addresses=[0, 1], pulse_ms=10)
    answers = ask12(bus, Frame(codec_cu12.ALL_BOARDS, 4, codec_cu12.Cmd.UNLOCK), clock())
    assert [(a.addr, a.ask) for a in answers] == [(0, Ask.OK), (1, Ask.OK)]
    assert bus.unlock_count(0, 5) == bus.unlock_count(1, 5) == 1
    ask12(bus, Frame.unlock_all(1), clock())
    clock.advance(1)
    assert not any(bus.lock_state(1, n).latched for n in range(1, 13))


@pytest.mark.parametrize(
    ("frame", "ask"),
    [
        (Frame(0, 0x0D, codec_cu12.Cmd.UNLOCK), Ask.FAILED),  # no lock 14
        (Frame(0, 0, codec_cu12.Cmd.UNLOCK, data=b"\x01"), Ask.FAILED),  # stray DATA
        (Frame(0, 0, codec_cu12.Cmd.PULSE, data=b"\x17\x71"), Ask.FAILED),  # > 60 s
        (Frame(0, 0, codec_cu12.Cmd.PULSE, data=b"\x01"), Ask.FAILED),  # wrong DATALEN
        (Frame(0, 0, codec_cu12.Cmd.BAUD, data=b"\x04"), Ask.FAILED),
        (Frame(0, 0, codec_cu12.Cmd.DELAYED_UNLOCK, data=b"\xc9"), Ask.FAILED),  # > 200 s
        (Frame(0, 0, 0x86), Ask.UNKNOWN_COMMAND),
        (Frame(0, 0, 0x8D), Ask.UNKNOWN_COMMAND),
    ],
)
def test_cu12_refusals_change_nothing(frame: Frame, ask: Ask) -> None:
    bus, clock = make_bus("cu12")
    (answer,) = ask12(bus, frame, clock())
    assert (answer.ask, answer.cmd, answer.data) == (ask, frame.cmd, b"")
    board = bus.board(0)
    assert (board.pulse_ms, board.baud, board.unlock_delay_s) == (50, 19200, 0)
    assert not board.is_busy(clock())
    assert bus.unlock_count(0, 1) == 0


def test_cu12_settings_round_trip_and_initialise() -> None:
    bus, clock = make_bus("cu12", flash_write_s=0.0)

    def query(cmd: int) -> bytes:
        (answer,) = ask12(bus, Frame(0, 0, cmd), clock())
        assert answer.ask == Ask.OK
        return answer.data

    def set_(cmd: int, data: bytes) -> None:
        (answer,) = ask12(bus, Frame(0, 0, cmd, data=data), clock())
        assert (answer.ask, answer.data) == (Ask.OK, b"")

    set_(codec_cu12.Cmd.PULSE, b"\x00\x64")
    assert query(codec_cu12.Cmd.PULSE) == b"\x00\x64"
    set_(codec_cu12.Cmd.DELAYED_UNLOCK, b"\x05")
    assert query(codec_cu12.Cmd.DELAYED_UNLOCK) == b"\x05"
    set_(codec_cu12.Cmd.PUSH_DOOR, b"\x07")
    assert query(codec_cu12.Cmd.PUSH_DOOR) == b"\x07"
    assert query(codec_cu12.Cmd.DELAYED_UNLOCK) == b"\x00"  # push-door switched it off
    assert query(codec_cu12.Cmd.BAUD) == b"\x01"
    assert query(codec_cu12.Cmd.VERSION) == bytes(codec_cu12.DEFAULT_VERSION)
    set_(codec_cu12.Cmd.INITIALISE, b"")
    assert query(codec_cu12.Cmd.PULSE) == b"\x00\x37"
    assert query(codec_cu12.Cmd.PUSH_DOOR) == b"\x00"


def test_cu12_checksum_error_is_answered_and_not_acted_on() -> None:
    bus, clock = make_bus("cu12", addresses=[0, 1])
    (item,) = bus.new_decoder().feed(bytes.fromhex("02 01 02 81 00 00 03 99"))
    (answer,) = ask12(bus, item.frame, clock())
    assert answer == Frame(1, 2, codec_cu12.Cmd.UNLOCK, Ask.CHECKSUM_ERROR)
    assert answer.to_bytes() == bytes.fromhex("02 01 02 81 14 00 03 9D")
    assert bus.unlock_count(1, 3) == 0
