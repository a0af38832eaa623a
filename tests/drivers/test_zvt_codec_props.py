"""The client's codecs, by property: APDUs and BCD round-trip, a stream cut anywhere gives
the same APDUs, and bitmaps of every length form are skipped to the field after them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.zvt import bcd, bitmaps
from drivers.zvt.apdu import Apdu, ApduError, ApduReader, decode

CLASSES = st.sampled_from(sorted({0x80, 0x84, 0x04, 0x06}))
apdus = st.builds(Apdu, CLASSES, st.integers(0, 255), st.binary(max_size=700))


@given(apdus)
def test_an_apdu_round_trips(apdu: Apdu) -> None:
    raw = apdu.encode()
    assert decode(raw) == apdu
    assert (raw[2] == 0xFF) == (len(apdu.data) >= 0xFF)  # the long form only when needed


@given(st.lists(apdus, max_size=6), st.lists(st.integers(1, 40), min_size=1))
def test_a_stream_cut_anywhere_gives_the_same_apdus(found: list[Apdu], cuts: list[int]) -> None:
    stream = b"".join(a.encode() for a in found)
    reader = ApduReader()
    got: list[Apdu] = []
    at, i = 0, 0
    while at < len(stream):
        step = cuts[i % len(cuts)]
        got += reader.feed(stream[at : at + step])
        at, i = at + step, i + 1
    assert got == found
    assert reader.pending == 0


@given(st.integers(0, 255).filter(lambda c: c not in {0x80, 0x84, 0x04, 0x06}), st.binary())
def test_a_class_no_terminal_sends_is_garbage_at_once(first: int, rest: bytes) -> None:
    with pytest.raises(ApduError):
        ApduReader().feed(bytes([first]) + rest)


@given(st.integers(0, bcd.MAX_AMOUNT_CENTS))
def test_an_amount_round_trips_through_bcd(cents: int) -> None:
    raw = bcd.amount(cents)
    assert len(raw) == 6
    assert bcd.decode(raw) == cents
    assert raw.hex() == f"{cents:012d}"  # each nibble a decimal digit


@given(st.integers(max_value=-1) | st.integers(min_value=bcd.MAX_AMOUNT_CENTS + 1))
def test_an_amount_out_of_range_is_refused(cents: int) -> None:
    with pytest.raises(bcd.BcdError):
        bcd.amount(cents)


@given(st.binary(min_size=1, max_size=8).filter(lambda b: not b.hex().isdigit()))
def test_bytes_that_are_not_bcd_are_refused(raw: bytes) -> None:
    with pytest.raises(bcd.BcdError):
        bcd.decode(raw)


@given(st.integers(0, 999), st.sampled_from([2, 3]))
def test_a_variable_length_round_trips(length: int, places: int) -> None:
    if len(str(length)) > places:
        with pytest.raises(bcd.BcdError):
            bcd.var_length(length, places)
        return
    raw = bcd.var_length(length, places)
    assert all(b >> 4 == 0xF for b in raw)
    assert bcd.read_var_length(raw) == length


def _skippable() -> st.SearchStrategy[bytes]:
    """One bitmap the station does not use, of a fixed, LLVAR, LLLVAR or TLV form."""
    fixed = st.sampled_from(sorted(set(bitmaps.FIXED) - bitmaps.USED)).map(
        lambda tag: bytes([tag]) + bytes(bitmaps.FIXED[tag])
    )
    ll = st.tuples(st.sampled_from(sorted(bitmaps.LLVAR - bitmaps.USED)), st.binary(max_size=99))
    lll = st.tuples(st.sampled_from(sorted(bitmaps.LLLVAR - bitmaps.USED)), st.binary(max_size=300))
    tlv = st.binary(max_size=300).map(
        lambda v: (
            b"\x06"
            + (bytes([len(v)]) if len(v) < 0x80 else b"\x82" + len(v).to_bytes(2, "big"))
            + v
        )
    )
    return st.one_of(
        fixed,
        ll.map(lambda t: bytes([t[0]]) + bcd.var_length(len(t[1]), 2) + t[1]),
        lll.map(lambda t: bytes([t[0]]) + bcd.var_length(len(t[1]), 3) + t[1]),
        tlv,
    )


@given(st.lists(_skippable(), max_size=5), st.integers(0, 255), st.integers(0, 9999))
def test_unknown_bitmaps_are_skipped_to_the_fields_after_them(
    extra: list[bytes], result: int, receipt: int
) -> None:
    data = b"\x27" + bytes([result]) + b"".join(extra) + b"\x87" + bcd.encode(receipt, 2)
    fields = bitmaps.parse(data)
    assert fields.byte(bitmaps.RESULT) == result
    assert fields.digits(bitmaps.RECEIPT) == f"{receipt:04d}"
    assert len(fields.skipped) == len(extra)
    assert fields.unknown is None


@given(st.binary(max_size=40))
def test_a_tag_of_no_known_length_ends_the_reading_but_keeps_what_came_before(tail: bytes) -> None:
    fields = bitmaps.parse(b"\x27\x00\xf5" + tail)
    assert fields.byte(bitmaps.RESULT) == 0
    assert fields.unknown == 0xF5


@given(
    st.sampled_from([b"\x04\x00\x00", b"\x87\x00", b"\x8b\xf1", b"\x8b\xf0\xf5ab", b"\x06\x82\x01"])
)
def test_a_known_bitmap_cut_short_is_malformed(data: bytes) -> None:
    with pytest.raises(bitmaps.BitmapError):
        bitmaps.parse(data)
