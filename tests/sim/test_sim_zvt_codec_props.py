"""The simulator's own codec, by property: frames and BCD round-trip, a stream cut
anywhere gives the same frames, variable-length bitmaps carry their length in F-digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.zvt.codec import FrameBuffer, FrameError, bcd, lllvar, llvar, pack, tlv, unbcd, unpack

frames = st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=700))


@given(frames)
def test_a_frame_round_trips(frame: tuple[int, int, bytes]) -> None:
    cls, ins, payload = frame
    raw = pack(cls, ins, payload)
    got = unpack(raw)
    assert (got.cls, got.ins, got.payload) == frame
    assert len(raw) == len(payload) + (3 if len(payload) < 255 else 5)


@given(st.lists(frames, max_size=6), st.integers(1, 50))
def test_a_stream_cut_anywhere_gives_the_same_frames(
    found: list[tuple[int, int, bytes]], step: int
) -> None:
    stream = b"".join(pack(*f) for f in found)
    buffer = FrameBuffer()
    got = []
    for at in range(0, len(stream), step):
        got += buffer.push(stream[at : at + step])
    assert [(g.cls, g.ins, g.payload) for g in got] == found
    assert buffer.waiting == 0


@given(st.integers(0, 10**12 - 1))
def test_an_amount_round_trips_through_the_simulators_bcd(cents: int) -> None:
    raw = bcd(cents, 6)
    assert unbcd(raw) == cents
    assert raw.hex() == f"{cents:012d}"


@given(st.integers(10**6, 10**9))
def test_a_number_too_big_for_its_width_is_refused(number: int) -> None:
    with pytest.raises(FrameError):
        bcd(number, 3)


@given(st.binary(max_size=99))
def test_llvar_carries_its_length_in_f_digits(value: bytes) -> None:
    raw = llvar(0x8B, value)
    assert raw[1:3] == bytes([0xF0 | len(value) // 10, 0xF0 | len(value) % 10])
    assert raw[3:] == value


@given(st.binary(max_size=999))
def test_lllvar_carries_its_length_in_f_digits(value: bytes) -> None:
    raw = lllvar(0x3C, value)
    assert "".join(str(b & 0x0F) for b in raw[1:4]) == f"{len(value):03d}"
    assert raw[4:] == value


@given(st.binary(max_size=600))
def test_a_tlv_length_takes_the_ber_form(value: bytes) -> None:
    raw = tlv(0x06, value)
    if len(value) < 0x80:
        assert raw[1] == len(value)
    elif len(value) < 0x100:
        assert raw[1:3] == bytes([0x81, len(value)])
    else:
        assert raw[1] == 0x82
        assert int.from_bytes(raw[2:4], "big") == len(value)
    assert raw.endswith(value)
