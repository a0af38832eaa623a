"""Pickup codes: random, keyed, normalised, and a key that lives outside the database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locker.codes import (
    CodeHasher,
    load_or_create_key,
    new_pin,
    new_qr_token,
    normalize_pin,
)


def test_pin_has_the_asked_number_of_digits() -> None:
    for digits in (6, 8, 10, 12):
        pin = new_pin(digits)
        assert len(pin) == digits
        assert pin.isdigit()


def test_pins_are_not_repeated_in_practice() -> None:
    assert len({new_pin(10) for _ in range(2000)}) == 2000


def test_too_short_pin_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        new_pin(3)


def test_qr_token_carries_at_least_128_random_bits() -> None:
    token = new_qr_token()
    assert len(token) * 6 >= 128  # url-safe base64: 6 bits a character
    assert len({new_qr_token() for _ in range(1000)}) == 1000


def test_hash_depends_on_the_key_and_the_kind_of_code() -> None:
    one, other = CodeHasher(b"a" * 32), CodeHasher(b"b" * 32)
    assert one.pin("12345678") != other.pin("12345678")
    assert one.pin("12345678") != one.qr("12345678")
    assert one.pin("12345678") == one.pin("1234 5678") == one.pin("1234-5678")
    assert "12345678" not in one.pin("12345678")


def test_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        CodeHasher(b"short")


@given(st.text(alphabet="0123456789 -", max_size=20))
def test_normalised_pin_has_only_digits(text: str) -> None:
    assert normalize_pin(text).isdigit() or normalize_pin(text) == ""


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "code.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_truncated_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    path = tmp_path / "code.key"
    path.write_bytes(b"abc")
    with pytest.raises(ValueError, match="restore it"):
        load_or_create_key(path)
    assert path.read_bytes() == b"abc"


def test_a_pin_reads_in_groups_and_is_taken_back_without_them() -> None:
    from locker.codes import group_pin

    assert group_pin("0635858597") == "063 585 8597"
    assert group_pin("12345678") == "123 456 78"
    assert group_pin("123456") == "123 456"
    assert group_pin("1234") == "1234"
    assert group_pin("hLgr-token") == "hLgr-token"  # a QR token stays as it is
    assert normalize_pin(group_pin("0635858597")) == "0635858597"
