"""The simulator's codecs: round trips, rejection of damaged frames, resynchronisation.

The pure codec properties are cheap, so they run 300 examples whatever the hypothesis profile;
``SIM_CODEC_EXAMPLES=5000`` runs them harder (about a minute).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from sim import codec, codec_cu12
from sim.server import SimBus
from sim.stream import DEFAULT_MAX_BUFFER_BYTES
from tests.sim.sim_support import FakeClock, feed_bus
from tests.sim.sim_support import hexbytes as hx

CODEC_SETTINGS = settings(
    max_examples=int(os.environ.get("SIM_CODEC_EXAMPLES", "300")), deadline=None
)


def _sized(n: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=n, max_size=n)


cu16_commands = st.sampled_from(list(codec.Cmd)).flatmap(
    lambda cmd: st.builds(
        codec.Command,
        st.just(cmd),
        st.integers(0, 0xFF),
        st.sampled_from(codec.DATA_LENGTHS[cmd]).flatmap(_sized),
    )
)
cu16_unlocks: st.SearchStrategy[codec.Command] = st.builds(
    codec.Command.unlock, st.integers(0, 9), st.integers(1, 16)
)
cu12_frames = st.builds(
    codec_cu12.Frame,
    addr=st.integers(0, 0xFF),
    lock=st.integers(0, 0xFF),
    cmd=st.integers(codec_cu12.CMD_FIRST, codec_cu12.CMD_LAST),
    data=st.binary(max_size=codec_cu12.MAX_DATA_LEN),
)
cu12_unlocks: st.SearchStrategy[codec_cu12.Frame] = st.builds(
    codec_cu12.Frame.unlock, st.integers(0, 15), st.integers(1, 12)
)


def _decode_all(protocol: str, data: bytes, chunks: list[int] | None = None) -> list[object]:
    decoder = codec.new_decoder() if protocol == "cu16" else codec_cu12.new_decoder()
    cuts = sorted({c % (len(data) + 1) for c in chunks or []})
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    out: list[object] = []
    for piece in pieces:
        out += [d.frame for d in decoder.feed(piece)]
        assert decoder.buffered <= DEFAULT_MAX_BUFFER_BYTES
    return out


def _is_ambiguous_set(command: codec.Command) -> bool:
    """A 0x37 set whose first five bytes are also a valid query (see sim.codec's docstring)."""
    raw = command.to_bytes()
    return command.is_set and raw[3] == codec.ETX and raw[4] == codec.checksum(raw[:4])


# ---------------------------------------------------------------- round trips


@CODEC_SETTINGS
@given(cu16_commands)
def test_cu16_command_round_trip(command: codec.Command) -> None:
    raw = command.to_bytes()
    assert codec.Command.from_bytes(raw) == command
    assert codec.decode(raw) == (len(raw), command)
    assert _decode_all("cu16", raw) == [command]


@CODEC_SETTINGS
@given(st.integers(0, 0xF), st.sampled_from(list(codec.ReplyCode)), _sized(4))
def test_cu16_reply_round_trip(board: int, code: codec.ReplyCode, data: bytes) -> None:
    reply = codec.Reply(board, code, data)
    raw = reply.to_bytes()
    assert len(raw) == codec.REPLY_LEN
    assert codec.Reply.from_bytes(raw) == reply


@CODEC_SETTINGS
@given(cu12_frames, st.integers(0, 0xFF))
def test_cu12_frame_round_trip(frame: codec_cu12.Frame, ask: int) -> None:
    raw = frame.to_bytes()
    assert codec_cu12.Frame.from_bytes(raw) == frame
    assert codec_cu12.decode(raw) == (len(raw), frame)
    assert _decode_all("cu12", raw) == [frame]
    answer = frame.reply(3, ask, b"\x01")
    assert codec_cu12.Frame.from_bytes(answer.to_bytes()) == answer


def test_from_bytes_rejects_what_is_not_one_frame() -> None:
    for bad in ["02 00 30 03 36", "02 00 30 04 35", "03 00 30 03 35", "02 00 34 03 39", "02 00"]:
        with pytest.raises(codec.FrameError):
            codec.Command.from_bytes(hx(bad))
    with pytest.raises(codec.FrameError):
        codec.Reply.from_bytes(hx("02 00 35 01 00 01 00 03 3D"))
    for bad in ["02 00 00 80 00 00 03 86", "02 00 00 80 00 01 03 85", "02 00 00 80 00 00 04 85"]:
        with pytest.raises(codec_cu12.FrameError):
            codec_cu12.Frame.from_bytes(hx(bad))


def test_decode_is_a_pure_step() -> None:
    assert codec.decode(b"") == (0, None)
    assert codec.decode(hx("02 00 30")) == (0, None)  # need more
    assert codec.decode(hx("FF 00 02 00")) == (2, None)  # garbage up to the next STX
    assert codec.decode(hx("02 00 30 03 36")) == (1, None)  # bad sum: drop the STX only
    assert codec.decode(hx("02 00 37 00 64")) == (0, None)  # a 0x37 set still arriving
    assert codec_cu12.decode(hx("02 00 00 80 00 00 03")) == (0, None)
    assert codec_cu12.decode(hx("55 02")) == (1, None)
    assert codec_cu12.decode(hx("02 00 00 80 10 02 03 99 02 00")) == (1, None)  # a reply


# ---------------------------------------------------------------- damaged frames


@CODEC_SETTINGS
@given(cu16_commands, st.data())
def test_cu16_single_corrupted_byte_never_yields_a_frame(
    command: codec.Command, data: st.DataObject
) -> None:
    raw = bytearray(command.to_bytes())
    # A data byte equal to ETX at offset 3 lets a damaged long frame pass as a 5-byte one:
    # the protocol's own weakness, shown in test_cu16_damaged_set_can_read_as_an_unlock.
    assume(not (len(raw) > 5 and raw[3] == codec.ETX))
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    value = data.draw(st.integers(0, 0xFF).filter(lambda v: v != raw[index]), label="value")
    raw[index] = value
    assert _decode_all("cu16", bytes(raw)) == []


def test_cu16_damaged_set_can_read_as_an_unlock() -> None:
    """A 0x37 set with T_hi = 0x03 whose CMD byte is hit becomes a valid unlock (no SUM helps).

    ``02 00 37 03 36 03 75`` sets 0x0336 units (8.22 s); with CMD 0x37 -> 0x31 its first five
    bytes ``02 00 31 03 36`` are a correct unlock of board 0, lock 1. A driver should never
    send pulse times of 0x0300-0x03FF units (7.68-10.23 s).
    """
    raw = bytearray(codec.Command.set_pulse(0, 8220).to_bytes())
    assert bytes(raw) == hx("02 00 37 03 36 03 75")
    raw[2] = codec.Cmd.UNLOCK
    assert _decode_all("cu16", bytes(raw)) == [codec.Command.unlock(0, 1)]


@CODEC_SETTINGS
@given(cu12_frames, st.integers(0, 100), st.integers(0, 0xFF))
@example(codec_cu12.Frame.set_pulse(0, 2540), 5, 0)  # DATALEN 2 -> 0: 0x00 + 0xFE + 2 = 0x100
@example(codec_cu12.Frame.set_pulse(0, 2550), 5, 1)  # DATALEN 2 -> 1: 0xFF + 1 = 0x100
def test_cu12_single_corrupted_byte_is_at_most_a_checksum_error(
    frame: codec_cu12.Frame, where: int, value: int
) -> None:
    """Only a smaller DATALEN can pass, exactly when the dropped DATA sums to -(bytes dropped)."""
    raw = bytearray(frame.to_bytes())
    index = where % len(raw)
    assume(raw[index] != value)
    raw[index] = value
    decoded = _decode_all("cu12", bytes(raw))
    n = len(frame.data)
    if index == 5 and value < n and (sum(frame.data[value:]) + n - value) % 256 == 0:
        shorter = codec_cu12.Frame(frame.addr, frame.lock, frame.cmd, 0, frame.data[:value])
        assert decoded[0] == shorter
    else:
        assert all(isinstance(d, codec_cu12.ChecksumError) for d in decoded)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["cu16", "cu12"]), st.data())
def test_corrupted_unlock_pulses_no_lock(protocol: str, data: st.DataObject) -> None:
    """Any single damaged byte in an unlock: nothing is pulsed (CU12 may answer ASK 0x14)."""
    if protocol == "cu16":
        raw = bytearray(data.draw(cu16_unlocks, label="unlock").to_bytes())
    else:
        raw = bytearray(data.draw(cu12_unlocks, label="unlock").to_bytes())
    index = data.draw(st.integers(0, len(raw) - 1), label="index")
    raw[index] = data.draw(st.integers(0, 0xFF).filter(lambda v: v != raw[index]), label="value")
    clock = FakeClock()
    bus = SimBus(protocol, addresses=range(10), pulse_ms=20, clock=clock)
    answers = feed_bus(bus, bytes(raw), clock())
    clock.advance(5.0)
    n_locks = 16 if protocol == "cu16" else 12
    for board in bus.addresses:
        for lock in range(1, n_locks + 1):
            assert bus.unlock_count(board, lock) == 0
            assert bus.lock_state(board, lock).latched
    assert bus.frames_received == []
    if protocol == "cu16":
        assert answers == []
    else:
        checksum_error = codec_cu12.Ask.CHECKSUM_ERROR
        assert all(codec_cu12.Frame.from_bytes(a).ask == checksum_error for a in answers)


# ---------------------------------------------------------------- resynchronisation


def _straddles(protocol: str, garbage: bytes, frame: bytes) -> bool:
    """Did a frame decode that begins in ``garbage`` and ends inside ``frame``?

    Inherent to an unescaped protocol: garbage whose tail and the frame's head happen to make
    up another valid frame. That is the one case the resync properties exclude.
    """
    decoder = codec.new_decoder() if protocol == "cu16" else codec_cu12.new_decoder()
    cut = len(garbage)
    return any(d.end - len(d.raw) < cut < d.end for d in decoder.feed(garbage + frame))


@CODEC_SETTINGS
@given(st.binary(max_size=40), cu16_commands)
def test_cu16_garbage_then_frame_yields_the_frame(garbage: bytes, command: codec.Command) -> None:
    raw = command.to_bytes()
    assume(not _straddles("cu16", garbage, raw))
    decoded = _decode_all("cu16", garbage + raw)
    assert decoded
    assert decoded[-1] == command


@CODEC_SETTINGS
@given(st.binary(max_size=40), cu12_frames)
def test_cu12_garbage_then_frame_yields_the_frame(garbage: bytes, frame: codec_cu12.Frame) -> None:
    raw = frame.to_bytes()
    assume(not _straddles("cu12", garbage, raw))
    decoded = _decode_all("cu12", garbage + raw)
    assert decoded
    assert decoded[-1] == frame


@pytest.mark.parametrize(
    "garbage",
    [
        "02 00 30",
        "02 00 31 03",
        "02 F0 32 03 27 02",
        "02 00 37 00",
        "FF 02 02 03",
        "02 00 00 80 00",
    ],
)
def test_torn_frames_before_a_good_one_do_not_swallow_it(garbage: str) -> None:
    status = codec.Command.status(3)
    assert _decode_all("cu16", hx(garbage) + status.to_bytes())[-1] == status
    unlock = codec_cu12.Frame.unlock(3, 2)
    assert _decode_all("cu12", hx(garbage) + unlock.to_bytes())[-1] == unlock


@CODEC_SETTINGS
@given(st.lists(cu16_commands, min_size=1, max_size=6), st.lists(st.integers(0, 60)))
def test_cu16_frames_split_anywhere_still_decode(
    commands: list[codec.Command], cuts: list[int]
) -> None:
    assume(not any(_is_ambiguous_set(c) for c in commands))
    stream = b"".join(c.to_bytes() for c in commands)
    assert _decode_all("cu16", stream, cuts) == commands


@CODEC_SETTINGS
@given(st.lists(cu12_frames, min_size=1, max_size=4), st.lists(st.integers(0, 200)))
def test_cu12_frames_split_anywhere_still_decode(
    frames: list[codec_cu12.Frame], cuts: list[int]
) -> None:
    stream = b"".join(f.to_bytes() for f in frames)
    assert _decode_all("cu12", stream, cuts) == frames


def test_cu16_ambiguous_set_frame_is_taken_whole_when_whole() -> None:
    """``02 00 37 03 3C 03 7B`` is a set to 0x033C units, and its head a valid query."""
    command = codec.Command(codec.Cmd.PULSE, 0x00, bytes([0x03, 0x3C]))
    raw = command.to_bytes()
    assert raw == hx("02 00 37 03 3C 03 7B")
    assert _is_ambiguous_set(command)
    assert _decode_all("cu16", raw) == [command]
    assert _decode_all("cu16", raw, [5]) == [codec.Command.query_pulse(0)]


@CODEC_SETTINGS
@given(st.lists(st.binary(min_size=1, max_size=300), max_size=8))
def test_buffer_stays_bounded_on_any_input(chunks: list[bytes]) -> None:
    for decoder in (codec.new_decoder(), codec_cu12.new_decoder()):
        for chunk in chunks:
            decoder.feed(chunk)
            assert decoder.buffered <= DEFAULT_MAX_BUFFER_BYTES
        assert decoder.position == sum(map(len, chunks))


def test_decoder_counts_garbage_and_bad_frames() -> None:
    decoder = codec.new_decoder()
    frames = decoder.feed(hx("FF FE 02 00 30 03 36 02 00 30 03 35"))
    assert [d.raw for d in frames] == [hx("02 00 30 03 35")]
    assert decoder.bad_frames == 1
    assert decoder.garbage_bytes == 2 + 4
    assert frames[0].end == 12


def test_cu12_intact_frame_with_bad_sum_is_reported() -> None:
    decoder = codec_cu12.new_decoder()
    (item,) = decoder.feed(hx("02 00 02 81 00 00 03 99"))
    assert item.frame == codec_cu12.ChecksumError(0, 2, 0x81, hx("02 00 02 81 00 00 03 99"))
    assert item.raw == hx("02 00 02 81 00 00 03 99")
    assert decoder.bad_frames == 1
    assert decoder.feed(hx("02 00 02 81 00 00 04 88")) == []  # wrong ETX: silence
